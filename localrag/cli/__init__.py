"""The `localrag` command: parse, call the Engine, print. Nothing else lives here.

Every command lives in a module listed in COMMAND_MODULES (the everyday ones in `cli/everyday.py`);
each has `add_commands(sub)` that registers its sub-parsers with a `handler` default, called as
`handler(args, out, err) -> exit code`. What the modules share (the Engine from the arguments, the
filter flags, the progress bar, JSON output, the usage-error exit) is in `cli/common.py`: modules
import from there, never from this package, so imports run one way.

argparse and rich only at import: `localrag --help` must not pull in torch, llama_cpp or lancedb.
User errors (LocalRagError) go to stderr as one line with exit code 2, never a traceback. Text from
documents and from the model is printed as plain text (rich `Text`, never markup), and both consoles
(`cli/console.py`) make control characters visible, so a document containing `[bold red]` or an
escape sequence cannot style or act on the terminal; in a pipe nothing is wrapped or coloured.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import importlib
import io
import os
import re
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text

from localrag import __version__, paths
from localrag.address_space import short_of_memory
from localrag.cli.argtypes import path_arg
from localrag.cli.common import USAGE_EXIT
from localrag.cli.console import make_console
from localrag.close_names import close_name
from localrag.config import unknown_settings, unknown_variables
from localrag.disk_errors import as_disk_trouble, disk_trouble, is_disk_full
from localrag.errors import ConfigError, LocalRagError
from localrag.processes import sigterm_as_ctrl_c
from localrag.safe_text import line_text
from localrag.writer_lock import tell_waits

COMMAND_MODULES: tuple[str, ...] = (
    "localrag.cli.backup",
    "localrag.cli.collections",
    "localrag.cli.config",
    "localrag.cli.conversations",
    "localrag.cli.documents",
    "localrag.cli.everyday",
    "localrag.cli.evaluate",
    "localrag.cli.forget",
    "localrag.cli.graph",
    "localrag.cli.models",
    "localrag.cli.repair",
    "localrag.cli.retrieval",
    "localrag.cli.search",
    "localrag.cli.serve",
    "localrag.cli.summarize",
    "localrag.cli.tune",
    "localrag.cli.watch",
)


class _Parser(argparse.ArgumentParser):
    """argparse, except that help and usage are not wrapped when stdout is not a terminal, and that a
    command's options may come between its positional arguments.

    argparse wraps at the terminal's width and, in a pipe, at 80 columns: a command's help cut in two
    lines cannot be grepped. It also stops taking positionals at the first option, so `ingest a.txt --force
    b.txt` and `conversations delete --yes ID` (the form the confirmation's own hint suggests) failed as
    "unrecognized arguments". Sub-parsers are made of the same class (`add_subparsers` defaults to it).
    """

    _intermixing = False  # parse_known_intermixed_args calls parse_known_args for each of its two passes
    _top = False  # the parser `parse_args` was called on: the others are sub-commands, which judge their own extras

    def _parse_optional(self, arg_string: str) -> Any:
        """A command whose text may open with a dash (`set_defaults(query_words=...)`: `search -draft`, a search
        operator) reads a word that is no option of its own as that text, not as an unknown option ("the following
        arguments are required: query", before 2026-12-07); so too a word that opens with one of its short options
        but does not read as that option with a value glued on: `-kids` (-k's "ids" is no number) and `-hostel` (-h
        takes nothing) were "argument -k/--top-k: ids is not a whole number" (before 2026-12-07). `-k3` stays -k."""
        found = super()._parse_optional(arg_string)  # type: ignore[misc]
        first = _option_of(found)
        # `-help` is --help with a dash left out, never a word to leave out of results (it searched for "-help").
        if (self.get_default("query_words") and first is not None and _DASH_WORD.fullmatch(arg_string)
                and f"-{arg_string}" not in self._option_string_actions
                and (first[0] is None or _not_glued(first))):
            return None
        return found

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        self._top = True
        try:
            parsed, extras = self.parse_known_args(args, namespace)
        finally:
            self._top = False
        if extras:
            self._refuse(parsed, extras)
        return parsed

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        # A parser of sub-commands cannot be parsed intermixed (argparse raises TypeError): its commands are.
        # After `--` everything is positional already, and Python 3.11's intermixed parsing loses what follows it.
        if self._subparsers is not None or (args is not None and "--" in args):
            parsed, extras = super().parse_known_args(args, namespace)
        else:
            self._intermixing = True
            try:
                parsed, extras = self.parse_known_intermixed_args(args, namespace)
            finally:
                self._intermixing = False
        if extras and not self._top:
            # A sub-command's own: passed up, they were refused under the top-level usage, with no word of the
            # command's options (before 2026-12-07).
            self._refuse(parsed, extras)
        return parsed, extras

    def _refuse(self, parsed: argparse.Namespace, extras: list[str]) -> None:
        """Exit with this command's usage and why its command line has `extras`: each unknown option with the one
        it likely meant, else the words past a query's first with how to quote them."""
        unknown = [extra for extra in extras if extra.startswith("-") and extra != "--"
                   and (read := _option_of(self._parse_optional(extra))) is not None and read[0] is None]
        if unknown:
            known = [name for name in self._option_string_actions if name.startswith("--")]
            said = []
            for option in unknown:
                meant = close_name(option.split("=", 1)[0], known)
                said.append(f"unknown option {option}" + (f" (did you mean {meant}?)" if meant else ""))
            self.error("; ".join(said) + "; --help lists the options")
        # `search hotel -draft` and `search -- -draft -k 3`: the words after the query's first are no argument.
        command = getattr(parsed, "query_words", None)
        hint = (f" (a query of several words, or one opening with '-', goes in quotes, the options outside them: "
                f"localrag {command} -k 3 'hotel -draft')") if command else ""
        self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")

    def _get_formatter(self) -> argparse.HelpFormatter:
        if sys.stdout.isatty():
            return super()._get_formatter()
        make: Callable[..., argparse.HelpFormatter] = self.formatter_class  # argparse's formatters all take width
        return make(prog=self.prog, width=_UNWRAPPED)


# A word after one dash, as a search leaves it out (`-draft`); `--jsn` and `-j` stay unknown options.
_DASH_WORD = re.compile(r"-[^\W\d_][\w'-]+")


def _option_of(found: Any) -> tuple[Any, ...] | None:
    """argparse's reading of an argument as an option, (action, option string, ..., glued value): None where it is
    a positional; its action None where it is no option of the parser. Python 3.12.7 made it a list of them."""
    return (found[0] if found else None) if isinstance(found, list) else found


def _not_glued(option: tuple[Any, ...]) -> bool:
    """Whether a short option read with a value glued on (`-kids`: -k, "ids") does not take that value: the
    option takes none (`-hostel`), or its type refuses a value with no digit. One with a digit is the option's, its
    value mistyped: `-k3x` is "3x is not a whole number", not a word to leave out of results."""
    action, given, glued = option[0], option[1], option[-1]
    if glued is None or given.startswith("--"):
        return False
    if action.nargs == 0:
        return True
    if action.type is None or any(char.isdigit() for char in glued):
        return False
    try:
        action.type(glued)
    except (argparse.ArgumentTypeError, TypeError, ValueError):
        return True
    return False

# Wider than any help text: in a pipe each paragraph and each option's help stays on one line.
_UNWRAPPED = 100_000


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="localrag",
        description="Offline assistant over your own documents. With no command, opens the chat app.",
    )
    parser.add_argument("--version", action="version", version=f"localrag {__version__}")
    parser.add_argument("--config", type=path_arg, help="settings file (default: the user config dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = make_console()
    err = make_console(stderr=True)
    try:
        _check_places(args)
        if getattr(args, "config_command", None) != "unset":  # the command that takes such a name out
            for line in unknown_settings(args.config) + unknown_variables():
                err.print(Text(line_text(f"localrag: {line}"), style="yellow"), soft_wrap=True)
        if getattr(args, "handler", None) is None:  # no command: the chat app
            from localrag.cli.everyday import chat_command

            return chat_command(args, out, err)
        # Not in the chat app, whose screen a line on stderr would break into.
        tell_waits(lambda line: err.print(Text(line_text(f"localrag: {line}"), style="yellow"), soft_wrap=True))
        # SIGTERM (`kill`, `timeout`, a service manager) stops every command as Ctrl-C does: an `ask --conversation`
        # keeps what was written, marked as cut short, and the exit is 130. By default it ended the process at once,
        # 143 and not a word, a question saved with no answer (before 2026-12-07). Commands whose usual end it is
        # (watch, serve, mcp) and long work (cancellable.py) set handlers of their own inside this one.
        with sigterm_as_ctrl_c():
            return int(args.handler(args, out, err))
    except LocalRagError as exc:
        # One line, whatever a file name in it holds.
        err.print(Text(line_text(f"localrag: {exc}"), style="red"), soft_wrap=True)
        return USAGE_EXIT
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        # localrag's own folders and files, where LOCALRAG_HOME, LOCALRAG_CACHE_DIR or --config put them: a file
        # where a folder must be, or the other way round. Users' documents have their own one-line errors. A
        # PermissionError is `disk_trouble`'s, below: it names the folder at fault, its owner and mode.
        where = exc.filename or ""
        err.print(Text(line_text(f"localrag: {where}: {exc.strerror or exc} (check that LOCALRAG_HOME, "
                                 "LOCALRAG_CACHE_DIR and --config name places localrag can write: a folder for a "
                                 "folder, a file for a file)"), style="red"), soft_wrap=True)
        return USAGE_EXIT
    except PermissionError as exc:
        # Naming a file, it is `disk_trouble`'s (below: the folder at fault, its owner and mode); naming none, a
        # signal refused by another user's process, say, it is no folder's: one line, not a traceback.
        trouble = disk_trouble(exc)
        err.print(Text(line_text(f"localrag: {trouble or exc.strerror or exc}"), style="red"), soft_wrap=True)
        return USAGE_EXIT
    except Exception as exc:
        # The write that failed is known, whatever stdout is: a file on a full disk, the data folder's own disk, or
        # a full device (`>/dev/full` said "the disk is full (data: 74,906 MB free)", naming the data folder).
        if is_disk_full(exc) and exc is _output_failure():
            # Cron's log on a full /var/log: the work was done, and "the disk is full (data: 76,799 MB free)" sent
            # the user to move LOCALRAG_HOME. Said where it can be: stderr usually goes to the same full disk.
            with contextlib.suppress(OSError):
                err.print(Text(OUTPUT_FULL, style="red"), soft_wrap=True)
            return BROKEN_PIPE_EXIT
        # Memory that ran short past the up-front check (address_space.py): a MemoryError, or pyarrow's library
        # that could not be mapped ("failed to map segment from shared object"), ended in a traceback.
        short = short_of_memory(exc)
        if short is not None:
            err.print(Text(f"localrag: {short}", style="red"), soft_wrap=True)
            return USAGE_EXIT
        # A full or read-only disk under a writer other than ingest, which says so itself: as an OSError, as
        # LanceDB's RuntimeError, or as safetensors' own error type when a model is saved.
        err.print(Text(line_text(f"localrag: {as_disk_trouble(exc)}"), style="red"), soft_wrap=True)
        return USAGE_EXIT
    except KeyboardInterrupt:
        err.print(Text("localrag: interrupted", style="red"))
        return 130


# The commands that write the index (and the chat app, None, which can): LanceDB writes index files in TMPDIR.
_WRITERS = frozenset({None, "ingest", "forget", "watch", "repair", "graph", "collections", "retrieval", "tune",
                      "eval", "serve", "mcp"})

# Commands that only read and make nothing: no folder for them either (a first `status` made the data and config
# folders, empty). `search` opens the index, which makes its folders: private ones.
_READERS = frozenset({"status", "documents", "backup"})


def _check_places(args: argparse.Namespace) -> None:
    """localrag's folders are folders, and a --config naming no file is a mistyped path for every command
    but `config`, which makes the file: answering from the defaults would look like the settings were read."""
    paths.check_places()
    temp = os.environ.get("TMPDIR")
    if temp and args.command in _WRITERS and not Path(temp).is_dir():
        # Python's tempfile passes over it in silence; LanceDB writes its index files there and failed, which
        # read as a damaged store and sent the user to `repair`, which could not help.
        raise ConfigError(f"{temp}: the temporary folder (TMPDIR) does not exist", "create it, or unset TMPDIR")
    if args.command not in _READERS and (args.command != "config" or args.config_command in ("set", "unset")):
        paths.make_private_roots()
    path: Path | None = args.config
    if path is None or args.command == "config" or path.exists():
        return
    make = f"localrag --config {shlex.quote(str(path))} config set NAME VALUE"
    raise ConfigError(f"{path}: no such settings file", f"check the path, or make the file with `{make}`")


# The exit code when the reader closed the pipe early: rich's consoles end with it then, and so does text
# written to stdout directly (tables in a pipe, --json).
BROKEN_PIPE_EXIT = 1
OUTPUT_FULL = "localrag: cannot write the command's output: the disk it goes to is full (what the command did is done)"


def _quiet_interrupt(unraisable: Any) -> None:
    """A Ctrl-C that lands while a finaliser runs (a model freed as the command returns) is let go: it printed a
    30-line "Exception ignored in: Llama.__del__" traceback after the command had said all it had to. (One that
    lands in a finaliser mid-command is let go too: raised again in the main thread, it came back here.)"""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _output_failure() -> OSError | None:
    """The error writing stdout raised, if it did (under `main`, whose stdout is `_WholeWrites`)."""
    raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
    return raw.failure if isinstance(raw, _WholeWrites) else None


def _closed_streams_to_devnull() -> None:
    """A standard stream closed by the caller (cron's `>&- 2>&-`) becomes /dev/null, before any file is opened:
    Python left it None, and `status` died on None.isatty() (or said nothing, stderr closed, exit 1); the next
    file opened would also have taken its number, and a print would have gone into it."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one, the lower ones being open
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", encoding="utf-8", closefd=False))


class _WholeWrites(io.RawIOBase):
    """A file descriptor whose every write is written whole, or fails once.

    A write to a pipe whose reader leaves part-way (`| head -1`) comes back from the kernel with the part written,
    not an error; CPython's buffered writer then returns that short count, and its text layer drops the rest in
    silence. A table, a `--json` document or a conversation bigger than the pipe's 64 KB went out in one write:
    the command ended with exit 0, as if all of it had been read, where a smaller write's BrokenPipeError gave 1.
    Written on until done, the next write meets the closed pipe and raises.

    The first error (a closed pipe, a full disk or device) is raised and kept in `failure`, for `run` to say what
    failed; what is written after it is dropped: the output left in the buffers, raised again at the exit's flush,
    printed a traceback under the command's own one-line message."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self.failure: OSError | None = None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0 if self.failure is None else len(view)
        try:
            while done < len(view):
                done += os.write(self._fd, view[done:])
        except OSError as exc:
            self.failure = exc
            raise
        return done


def _written_whole(stream: Any) -> Any:
    """`stream` (stdout) as the same text stream over `_WholeWrites`; as it is when it is no file (a test's)."""
    if not isinstance(stream, io.TextIOWrapper):
        return stream
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return stream
    stream.flush()
    return io.TextIOWrapper(io.BufferedWriter(_WholeWrites(fd)), encoding=stream.encoding, errors=stream.errors,
                            line_buffering=stream.line_buffering, write_through=stream.write_through)


def main() -> None:
    _closed_streams_to_devnull()
    sys.unraisablehook = _quiet_interrupt
    for stream in (sys.stdout, sys.stderr):
        # Under a locale that is not UTF-8 (Latin-1), a "—" or "…" of localrag's own ended search, ask and documents
        # in a traceback; such a character prints as "?" instead.
        if isinstance(stream, io.TextIOWrapper) and codecs.lookup(stream.encoding).name != "utf-8":
            stream.reconfigure(errors="replace")
    given = sys.stdout
    sys.stdout = _written_whole(given)
    try:
        try:
            code = run()
        except SystemExit as exc:
            # argparse's --help, --version and usage errors end so, their output still in stdout's buffer: flushed
            # at the interpreter's exit, a full device printed a traceback (exit 120) instead of the line below.
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped reading (`localrag search ... | head -3`): nothing is left to say, and the
        # traceback, or the interpreter's own complaint at exit, would only clutter the terminal.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = BROKEN_PIPE_EXIT
    except OSError as exc:
        if not (is_disk_full(exc) and exc is _output_failure()):
            raise
        with contextlib.suppress(OSError):
            print(OUTPUT_FULL, file=sys.stderr)
        code = BROKEN_PIPE_EXIT
    finally:
        # A host that called main() (a test, an embedding program) keeps the stdout it had.
        sys.stdout = given
    # The work is done and said: a Ctrl-C or SIGTERM while the interpreter shuts down (freeing a loaded model takes a
    # moment) ends the process at once, with the same status.
    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, lambda *_: os._exit(code))
    sys.exit(code)
