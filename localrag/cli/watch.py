"""`localrag watch [PATH...]`: keep the index in step with folders until Ctrl-C.

With paths, those folders are watched and remembered; with none, the remembered ones are resumed.
`--include`/`--exclude` are ingest's patterns, remembered with the folders until others are given;
`--forget-folders` forgets the folders named, or all of them and their patterns. `--purge` (or the `watch_purge`
setting) erases a deleted file's text as `forget --purge` does. One line per change on stderr (`--json`: one JSON
object per line on stdout, for scripts). Paths come from the file system and are printed as plain text.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import path_arg, seconds
from localrag.cli.common import print_json
from localrag.running import marked_running
from localrag.safe_text import line_text
from localrag.sizes import count_text

if TYPE_CHECKING:
    from localrag.engine import Engine
    from localrag.ingest.watch import WatchEvent


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    watch = sub.add_parser("watch", help="keep the index in step with folders as files change (Ctrl-C stops)")
    watch.add_argument("paths", nargs="*", type=path_arg, metavar="FOLDER",
                       help="folders to watch and remember (default: the remembered ones)")
    watch.add_argument("--settle", type=seconds, default=1.0, metavar="SECONDS",
                       help="quiet time before a changed file is ingested, so a double save is read once "
                       "(0 to 3600, default 1)")
    watch.add_argument("--no-ocr", dest="ocr", action="store_false", default=None,
                       help="do not OCR scanned PDF pages and images")
    watch.add_argument("--purge", action=argparse.BooleanOptionalAction, default=None,
                       help="a deleted file's text is also erased from the index's files and saved conversations, "
                       "as `forget --purge` does (default: the watch_purge setting)")
    watch.add_argument("--include", action="append", metavar="GLOB",
                       help="only matching files, as for ingest (remembered with the folders)")
    watch.add_argument("--exclude", action="append", metavar="GLOB",
                       help="skip matching files and folders, as for ingest (remembered with the folders)")
    watch.add_argument("--forget-folders", action="store_true",
                       help="forget the FOLDERs named from the remembered ones (none named: all of them and their "
                       "patterns), and exit")
    watch.add_argument("--json", action="store_true", help="one JSON object per change on stdout")
    add_collection_flag(watch)
    watch.set_defaults(handler=_watch)


def _forget_folders(engine: Engine, named: list[Path], as_json: bool, err: Console) -> int:
    """Forget the `named` remembered folders, or all of them and their patterns with none named, naming what was
    forgotten: "no folders remembered" was printed whether a folder had just been forgotten or none had ever been
    remembered, and a folder named was passed over, every remembered one forgotten (before 2026-12-07)."""
    from localrag.errors import LocalRagError
    from localrag.paths import typed_path

    remembered = engine.watched_folders()
    collection = engine.settings.collection
    # Resolved as a watch of them remembered them; not checked on the disk: a folder moved away is the one to forget.
    wanted = list(dict.fromkeys(typed_path(p).resolve() for p in named))
    unknown = [folder for folder in wanted if folder not in remembered]
    if unknown:
        listed = ", ".join(str(f) for f in remembered) or "none"
        raise LocalRagError(f"not remembered for collection {collection}: {', '.join(str(f) for f in unknown)}",
                            f"the remembered folders: {listed}; `localrag watch --forget-folders` alone forgets them "
                            "all")
    folders = wanted or remembered
    kept = [folder for folder in remembered if folder not in folders]
    # The patterns go with the last folder (`remember_folders`): they are matched below the folders still watched.
    include, exclude = engine.watch_patterns() if not kept else ([], [])
    engine.remember_watched(kept)
    if as_json:
        print_json({"collection": collection, "forgotten_folders": [str(f) for f in folders],
                    "forgotten_include": include, "forgotten_exclude": exclude,
                    "remembered_folders": [str(f) for f in kept]})
    elif folders:
        patterns = [*include, *exclude]
        said = f" and {count_text(len(patterns), 'pattern')}" if patterns else ""
        still = f"; still remembered: {', '.join(str(f) for f in kept)}" if kept else ""
        err.print(Text(line_text(f"forgot {count_text(len(folders), 'folder')}{said} of collection {collection}: "
                                 f"{', '.join(str(f) for f in folders)}{still}")), soft_wrap=True)
    else:
        err.print(Text(f"no folders were remembered for collection {collection}: nothing to forget"))
    return 0


def _watch(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.conversations import ConversationStore

    engine = engine_from_args(args, ocr=args.ocr)
    if args.forget_folders:
        return _forget_folders(engine, args.paths, args.json, err)
    folders = engine.folders_to_watch(args.paths)
    if not args.paths and (note := engine.missing_watched_note()):
        err.print(Text(note, style="yellow"), soft_wrap=True)
    if args.paths or args.include is not None or args.exclude is not None:
        engine.remember_watched(folders, add=True, include=args.include, exclude=args.exclude)
    include, exclude = engine.watch_patterns()
    purge = engine.settings.watch_purge if args.purge is None else args.purge
    said = [f"only {', '.join(include)}"] if include else []
    said += [f"leaving out {', '.join(exclude)}"] if exclude else []
    said += ["a deleted file's text is erased"] if purge else []
    err.print(Text(line_text("; ".join([f"watching {', '.join(str(f) for f in folders)} (Ctrl-C stops)", *said]))),
              soft_wrap=True)

    def show(event: WatchEvent) -> None:
        report = event.report
        if args.json:
            print_json({
                "ingested": event.ingested, "forgotten": event.forgotten, "erased": event.erased,
                "conversations": [kept.conversation_id for kept in event.conversations],
                "added": report.added if report else 0, "updated": report.updated if report else 0,
                "errors": [e.reason for e in report.errors] if report else [], "notes": event.notes,
            }, indent=None)
            return
        for note in event.notes:
            err.print(Text(line_text(note), style="yellow"), soft_wrap=True)
        for path in event.forgotten:
            erased = " and erased its text" if path in event.erased else ""
            err.print(Text(f"forgot {line_text(path)}{erased}"), soft_wrap=True)
        if event.conversations:
            err.print(Text(f"erased its text from {count_text(len(event.conversations), 'saved conversation')}: "
                           + ", ".join(kept.conversation_id for kept in event.conversations)), soft_wrap=True)
        if report is not None:
            # Named, as a forgotten file is: the counts alone do not say which file a save reached.
            for verb, done in (("added", report.added_paths), ("updated", report.updated_paths)):
                for path in done:
                    err.print(Text(f"{verb} {line_text(path)}"), soft_wrap=True)
            err.print(Text(report.summary()))
            for error in report.errors:
                err.print(Text(f"failed: {line_text(error.reason)}", style="yellow"), soft_wrap=True)

    # SIGTERM (a service manager, `kill`) and Ctrl-C ask the watch to stop: the batch under way ends at its next
    # step and is reported, what it did not take in is said, the indexes are refreshed. Raised where the main
    # thread happened to be, a stop cut a batch between its forget and its report: documents left the index with no
    # line saying so. A second signal stops at once.
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    before = signal.signal(signal.SIGTERM, stopping), signal.signal(signal.SIGINT, stopping)
    try:
        with marked_running("watch " + " ".join(str(folder) for folder in folders)):
            engine.watch(folders, settle=args.settle, on_event=show, purge=purge, conversations=ConversationStore(),
                         stop=stop)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
    err.print("stopped")
    return 0
