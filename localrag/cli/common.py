"""What every command module shares: the Engine from the arguments, the filter flags, the progress bar,
JSON output and the usage-error exit.

Command modules import from here (never from the `localrag.cli` package, which imports them), so the
package and its modules import in one direction. Only argparse and rich at import.
"""

from __future__ import annotations

import argparse
import codecs
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from localrag.config import load_settings

if TYPE_CHECKING:
    from localrag.engine import Engine
    from localrag.retrieve import SearchFilters

USAGE_EXIT = 2  # argparse's own code for a bad command line; LocalRagError exits with it too


def print_query_note(query: str, err: Console) -> None:
    """What a query's search operators did (`-word`, "a phrase", `word*`), dim on stderr, for `search` and `ask`: a
    quoted answer names no filter, and --json's stdout stays one document."""
    from localrag.query_syntax import parse

    if note := parse(query).note():
        err.print(Text(f"search: {note}", style="dim"), soft_wrap=True)


def engine_from_args(args: argparse.Namespace, **overrides: Any) -> Engine:
    """The Engine for a command: settings from --config, --model and --collection where the command has them,
    then `overrides`."""
    from localrag.engine import Engine

    settings = load_settings(args.config, model=getattr(args, "model", None),
                             collection=getattr(args, "collection", None), **overrides)
    return Engine(settings, config_file=args.config)


def answering_mode(args: argparse.Namespace) -> str | None:
    """A model named for a command that answers (ask, chat, serve, mcp) is asked to answer, whatever
    `answer_mode` the file or the environment holds: `ask` had this rule alone, and `serve`, `mcp` and `chat`
    with --model extracted in silence. Not for tune or graph build, whose --model writes questions or triples."""
    return "generate" if getattr(args, "model", None) else None


def add_model_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="GGUF file, model name under models/, or one `localrag models` lists "
                        "(e.g. ollama:llama3.2:3b); default: the model setting (the bundled SmolLM2 when unset)")


class GivenOnce(argparse.Action):
    """An option a command takes once, refused when given twice: argparse keeps the last, and the first was
    dropped in silence, as if it had not been typed. `why` says why once, and what to do instead."""

    why = "give it once"

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        before = getattr(namespace, self.dest, None)
        if before is not None:
            parser.exit(USAGE_EXIT, f"localrag: {option_string} given twice ({before!r}, then {values!r}): "
                                    f"{self.why}\n")
        setattr(namespace, self.dest, values)


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    """--path and --type: the filters `ask`, `search` and `documents` share."""
    # Repeatable, any of them: `ask "Compare Anna and Brian" --path '*smith_anna*' --path '*jones_brian*'` (before
    # 2026-12-08 a second --path was refused: the filter was one pattern).
    parser.add_argument("--path", dest="path_glob", metavar="GLOB", action="append",
                        help="only documents whose path matches: a file or folder (relative: at any depth, as "
                        "notes or notes/a.md; ./x and ../x from the current folder), or a pattern with * and ?; "
                        "repeatable (any of them)")
    parser.add_argument("--type", dest="file_types", action="append", default=[], metavar="EXT",
                        help="only documents of this type: an extension (pdf, md, py, ...), a type as `documents` "
                        "lists it (code:python), or code for every language; repeatable")


def confirmed(prompt: str, refusal: str, fix: str) -> bool:
    """Whether the person at the terminal answers yes to `prompt`; with no terminal to ask on, a one-line
    error (`refusal`, `fix`: say --yes), since a script must say what it wants destroyed."""
    from localrag.errors import LocalRagError

    if not sys.stdin.isatty():
        raise LocalRagError(refusal, fix)
    return input(f"{prompt} [y/N] ").strip().lower() in ("y", "yes")


def text_or_stdin(text: str) -> str:
    """A question or query argument; `-` reads it from stdin, so a script need not quote or escape it."""
    return sys.stdin.read().strip() if text == "-" else text


def filters_from_args(args: argparse.Namespace) -> SearchFilters | None:
    from localrag.retrieve import SearchFilters

    globs = getattr(args, "path_glob", None)
    if globs or getattr(args, "file_types", None):
        path_glob = tuple(_from_here(glob) for glob in globs) if globs else None
        return SearchFilters(path_glob=path_glob, file_types=tuple(args.file_types or ()))
    return None


def _from_here(path_glob: str) -> str:
    """On the command line a path that starts from the current folder (`.`, `..`, `./x`, `../x`) means that
    folder's: `--path ../notes` looked for a folder named ".." at any depth and found nothing, in silence. Any
    other relative path matches at any depth, as over the API (`retrieve.SearchFilters`)."""
    if not path_glob or path_glob.replace("\\", "/").split("/", 1)[0] not in (".", ".."):
        return path_glob
    parts = Path(path_glob).parts
    fixed = next((i for i, part in enumerate(parts) if any(ch in part for ch in "*?")), len(parts))
    # The folders before the first wildcard, resolved as an ingest names documents; the pattern after them kept.
    return str(Path(*parts[:fixed]).resolve().joinpath(*parts[fixed:]))


def progress_bar(err: Console, detail: str = "", *, download: bool = False) -> Progress:
    """The house progress bar on stderr: what it is doing, the bar, done/total (or bytes and speed), `detail`
    (a format string over the task's fields), time left.

    Descriptions and details are shown as typed, never as markup: they carry file names and questions.
    In a pipe or a dumb terminal the bar is off (it is noise there and left an empty line); it disappears when done.
    """
    columns: list[ProgressColumn] = [
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
    ]
    columns += [DownloadColumn(), TransferSpeedColumn()] if download else [MofNCompleteColumn()]
    if detail:
        columns.append(TextColumn(detail, markup=False))
    columns.append(TimeRemainingColumn())
    # A dumb terminal (an Emacs shell, some screen readers) draws no bar, so it gets a pipe's lines: it got nothing.
    bar = err.is_terminal and not err.is_dumb_terminal
    return _PipeProgress(*columns, console=err, transient=True, disable=not bar, detail=detail,
                         download=download)


# How often a pipe or a log file gets a progress line: often enough that a long ingest under cron or `tee` shows
# how far it got, seldom enough that a log stays readable.
PIPE_PROGRESS_SECONDS = 10.0


class _PipeProgress(Progress):
    """In a terminal, rich's bar; in a pipe (the bar off), one plain line per task at most every
    PIPE_PROGRESS_SECONDS: "Ingesting: 1200/3974 files 2750 chunks, 190s". The line comes on time when no update
    does (a ticking thread): one large file read and chunked for a minute left a log silent, like a hang."""

    def __init__(self, *columns: ProgressColumn, detail: str, download: bool, **options: Any) -> None:
        super().__init__(*columns, **options)
        self._detail, self._download = detail, download
        self._last_line = time.monotonic()
        self._last_task: TaskID | None = None
        self._line_lock = threading.Lock()
        self._ticking = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        super().start()
        if self.disable:
            self._ticker = threading.Thread(target=self._tick, daemon=True, name="pipe-progress")
            self._ticker.start()

    def stop(self) -> None:
        # Under the lock, and the thread waited for: a line it was printing must not land after the bar's end, in
        # the command's own output.
        with self._line_lock:
            self._ticking.set()
        if self._ticker is not None:
            self._ticker.join()
        super().stop()

    def _tick(self) -> None:
        while not self._ticking.wait(1.0):
            if self._last_task is not None:
                self._line(self._last_task)

    def update(self, task_id: TaskID, **changes: Any) -> None:
        super().update(task_id, **changes)
        # The line follows the last visible task moved. Hiding or showing one is no progress: `tune` hides every
        # other stage's task as one starts, and the line named the last task hidden ("Comparing: 0, 81s" through
        # the embedder's training). A task hidden stops its line; a stage with no bar prints none.
        if not self._tasks[task_id].visible:
            if self._last_task == task_id:
                self._last_task = None
            return
        self._last_task = task_id
        if self.disable and changes.keys() != {"visible"}:
            self._line(task_id)

    def _line(self, task_id: TaskID) -> None:
        from localrag.sizes import size_text

        with self._line_lock:
            now = time.monotonic()
            if now - self._last_line < PIPE_PROGRESS_SECONDS or self._ticking.is_set():
                return
            self._last_line = now
            task = self._tasks[task_id]
            if not task.visible:  # hidden since the ticking thread read it
                return
            done = size_text(int(task.completed)) if self._download else str(int(task.completed))
            if task.total is not None:
                done += f"/{size_text(int(task.total))}" if self._download else f"/{int(task.total)}"
            # An empty detail adds nothing: it left "Writing Q&A: 0 , 10s".
            detail = " ".join(self._detail.format(task=task).split()) if self._detail else ""
            detail = f" {detail}" if detail else ""
            self.console.print(Text(f"{task.description}: {done}{detail}, {int(task.elapsed or 0)}s"),
                               soft_wrap=True)


def print_json(data: Any, *, indent: int | None = 2) -> None:
    """`--json` output: `safe_text.json_text` (the API's rule too), one document per call, flushed for a pipe. To a
    stream that is not UTF-8 (a Latin-1 locale) every other character is escaped too: printed as `?`, a path came
    out as one no file has, and a script's `forget` of it failed."""
    from localrag.safe_text import json_text

    utf8 = codecs.lookup(getattr(sys.stdout, "encoding", None) or "utf-8").name == "utf-8"
    sys.stdout.write(json_text(data, indent=indent, ensure_ascii=not utf8) + "\n")
    sys.stdout.flush()


def usage_error(err: Console, message: str) -> int:
    """A command line that parsed but cannot run: one red line on stderr and the usage exit code."""
    err.print(Text(message, style="red"), soft_wrap=True)
    return USAGE_EXIT
