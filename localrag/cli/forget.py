"""`localrag forget PATH... [--purge]`: documents (or a folder's) out of the index, and where their text still is.

Without `--purge` the report names what still holds the text (the index's files, saved conversations);
with it, both are erased (localrag/forget.py). `--json` gives the report to scripts.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from localrag.cli import common
from localrag.cli.argtypes import path_arg
from localrag.cli.common import print_json
from localrag.forget import LISTED, forget_command, text_stays
from localrag.safe_text import printable
from localrag.shapes import forgotten_json
from localrag.sizes import count_text, some_of

if TYPE_CHECKING:
    from localrag.forget import Forgotten


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    forget = sub.add_parser("forget", help="remove documents (or every document under a folder)")
    forget.add_argument("paths", nargs="+", type=path_arg, metavar="PATH",
                        help="documents or folders (every path is checked before anything is removed)")
    forget.add_argument("--purge", action="store_true",
                        help="also erase its text from the index's files and from saved conversations")
    forget.add_argument("--json", action="store_true", help="print what was removed as JSON")
    add_collection_flag(forget)
    forget.set_defaults(handler=_forget_command)


def _forget_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.conversations import ConversationStore

    engine = common.engine_from_args(args)
    engine.store  # noqa: B018  # opened first: an index it cannot open is refused before "erasing" is said
    if args.purge and not args.json:
        err.print(Text("erasing: the index is written anew without its old versions (a large one takes a minute)…"))
    done = engine.forget(*args.paths, purge=args.purge, conversations=ConversationStore())
    if args.json:
        print_json(forgotten_json(done), indent=None)
    else:
        # What stays indexed, where a folder may stand in the purge command for the many paths forgotten.
        indexed = [d.path for d in engine.documents()] if len(done.paths) > LISTED and not done.purged else None
        for line in report_lines(done, indexed):
            err.print(Text(printable(line, multiline=False)), soft_wrap=True)
    return 0


def report_lines(done: Forgotten, indexed: Sequence[str] | None = None) -> list[str]:
    """The report in words, one line each: what was removed and where the text is still, or was erased from.
    `indexed`: the paths the collection still indexes, where a folder holding none of them may stand for more than
    LISTED paths forgotten in the purge command (None: not known, and the command is described instead)."""
    named = some_of(done.paths, LISTED)
    if done.documents:
        removed = f"{count_text(done.documents, 'document')}, {count_text(done.chunks, 'chunk')}"
        lines = [f"forgot {named}: {removed} removed"]
    elif done.purged:
        # A purge is how what an earlier removal left is erased: the file deleted, an ingest took it out already.
        lines = [f"nothing under {named} is in the index now: erased what removing it left"]
    else:
        lines = [f"nothing under {named} is in the index"]
    held = [f"  {kept.conversation_id}  {kept.title}  ({_held_text(kept.passages, kept.answers)})"
            for kept in done.conversations]
    if done.watched:
        lines.append(f"note: {named} is still on disk in a folder `localrag watch` follows for this collection "
                     f"({', '.join(done.watched)}): the watch reads it again; move it out of the folder to keep "
                     "it out of the index")
    for other, spared in done.spared_in.items():
        # Named with the command that erases it there: "another collection" left the user to find which.
        command = _purge_command(spared, other, done.configured, None)
        lines.append(f"saved conversations keep the text of {count_text(len(spared), 'document')} collection "
                     f"'{other}' still indexes: {some_of(spared, LISTED)} ({command} erases it there too)")
    if done.purged:
        lines.append("the index keeps no old version: the text of what it forgot lies in no file of it")
        if held:
            lines += [f"erased from {count_text(len(held), 'saved conversation')}:", *held,
                      "answers a model wrote stay as they are, quotes and all "
                      "(`localrag conversations delete ID` removes a conversation)"]
        if done.not_erased:
            lines += ["not erased: what you made from your documents, which may hold its text (delete what it went "
                      "into, or make that again without it; a model tuned on it has learned from it):",
                      *(f"  {path}  ({what})" for path, what in done.not_erased)]
        return lines + _on_disk(done)
    lines.append(text_stays(len(held)) + (":" if held else ""))
    lines += held + _on_disk(done)
    lines.append(f"{_purge_command(done.paths, done.collection, done.configured, indexed)} erases it now")
    return lines


def _purge_command(paths: Sequence[str], collection: str, configured: str | None,
                   indexed: Sequence[str] | None) -> str:
    """The `forget --purge` that erases what forgetting `paths` left, short enough to read and still a command that
    works: past LISTED paths, their common folder where the collection indexes nothing under it (so the purge takes
    no other document out), else the words that say which command."""
    if len(paths) <= LISTED:
        return forget_command(paths, collection, purge=True, configured=configured)
    try:
        folder = Path(os.path.commonpath(paths))
    except ValueError:  # relative and absolute paths, which share no folder
        folder = None
    if (indexed is not None and folder is not None and folder != Path(folder.anchor)
            and not any(Path(p).is_relative_to(folder) for p in indexed)):
        return forget_command([str(folder)], collection, purge=True, configured=configured)
    command = forget_command(["PATH..."], collection, purge=True, configured=configured)
    return f"{command}, naming these {len(paths)} paths,"


def _on_disk(done: Forgotten) -> list[str]:
    """A line, unless a watch's note said it: what was forgotten is still on disk, and comes back."""
    if done.watched or not done.still_on_disk:
        return []
    return [f"note: still on disk: {some_of(done.still_on_disk, LISTED)}; an ingest of its folder (of its file, "
            "once that changes) reads it again: delete it (a mail: from its mailbox), or name a file or folder in a "
            ".localragignore, to keep it out"]


def _held_text(passages: int, answers: int) -> str:
    if not answers:
        return count_text(passages, "passage")
    return f"{count_text(passages, 'passage')}, {count_text(answers, 'answer')} drawn from it"
