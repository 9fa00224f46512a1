"""`localrag documents`: what the index holds, one document a line, and which are stale.

A document is stale when an older localrag or other settings read it (`ingest/readings.py`); `--stale`
lists only those, with why, and `localrag ingest --stale` reads them again. A document its loader left something out
of (an attachment not read, formulas without stored values) is marked "yes" under "left out", and `--json` says
what (`left_out`), as the ingest said it once. `--path` and `--type` are `search`'s
filters and `--limit` keeps the first N; the count of those that passed ends the list on stderr, where `search`
says its fusion, so that a pipe still gets one line a document. `--json` has the shape of the MCP tool
`list_documents` (`Engine.document_list` is the rule of all three).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Column
from rich.text import Text

from localrag.cli.common import print_json
from localrag.ingest.readings import not_held
from localrag.safe_text import printable
from localrag.shapes import documents_json, listed_size

NOT_ON_DISK = "not on disk"
LEFT_OUT_MARK = "yes"


def left_out_hint(collection_option: str) -> str:
    """Where `documents` and `status` send a user to read what the documents they count left out."""
    return f"`localrag documents --json{collection_option}` says what"


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag
    from localrag.cli.common import add_filter_flags

    documents = sub.add_parser("documents", help="the indexed documents: path, type, chunks, size, title, stale or not")
    documents.add_argument("--stale", action="store_true",
                           help="only those an older localrag or other settings read, with why")
    add_filter_flags(documents)
    documents.add_argument("--limit", type=int, metavar="N",
                           help="only the first N, in path order (the count at the end says how many there are)")
    documents.add_argument("--offset", type=int, default=0, metavar="N",
                           help="skip the first N, in path order (with --limit, a later page)")
    documents.add_argument("--json", action="store_true", help="print them as JSON")
    add_collection_flag(documents)
    documents.set_defaults(handler=_documents)


def _documents(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args, filters_from_args
    from localrag.cli.tables import Rows

    engine = engine_from_args(args)
    filters = filters_from_args(args)
    listed = engine.document_list(filters, only_stale=args.stale, limit=args.limit, offset=args.offset)
    if args.json:
        print_json(documents_json(listed))
        return 0
    stale = listed.stale
    # Marked as `status` counts them (one stat a listed document that is there), so a user sees which of the
    # documents `status` says are not on disk are which: before, nothing in the listing told them apart.
    missing = set(not_held(d.path for d in listed.documents))
    if listed.documents or not out.is_terminal:  # a pipe's header line comes first whatever follows
        # The path folds rather than being cut: at 80 columns every one was "/home/me/docs…", and `forget` needs it
        # whole.
        # "left out" last, after "stale": a script reading a pipe's columns by position reads the same ones.
        rows = Rows(Column("document", overflow="fold"), "type", "chunks", "size", "title", "stale", "left out")
        for d in listed.documents:
            # A line break in a file name shows as ␊, as `search` shows it: a table's own rule made it a space (in
            # a pipe) or a second line, and "new⏎line.md" read as "new line.md", another file `forget` would take.
            rows.add(printable(d.path, multiline=False), d.file_type, str(d.n_chunks), listed_size(d),
                     printable(d.title, multiline=False), Text(_mark(stale.get(d.path, ""), d.path in missing),
                                                               style="yellow"),
                     Text(LEFT_OUT_MARK if d.left_out else "", style="yellow"))
        rows.print(out)
    count = _count_line(len(listed.documents), listed.total, len(stale), listed.left_out, args)
    if not listed.total and filters is not None:
        count += engine.wildcards_hint(filters)
    if stale:
        from localrag.cli.everyday import stale_hint

        count += f": {stale_hint(engine)}"
    if listed.left_out:
        count += f"{'; ' if stale else ': '}{left_out_hint(engine.collection_option())}"
        count += " they left out" if stale else ""
    if missing:
        them = "it" if len(missing) == 1 else "them"
        count += (f"; {len(missing):,} {NOT_ON_DISK}: `localrag status{engine.collection_option()}` names the forget "
                  f"that takes {them} out")
    err.print(Text(count, style="dim"), soft_wrap=True)
    return 0


def _mark(why_stale: str, not_on_disk: bool) -> str:
    """The listing's "stale" column: why the document is stale, and whether its file is not on disk."""
    return "; ".join(part for part in (why_stale, NOT_ON_DISK if not_on_disk else "") if part)


def _count_line(shown: int, total: int, stale: int, left_out: int, args: argparse.Namespace) -> str:
    """"5,338 documents, 12 stale: …", "20 of 5,338 documents", "0 documents pass the filters (type pdf)": the
    table of thousands ended with no total, and a listing cut by --limit must say what it left out. The filters
    as typed, as `search` words a search they leave empty (`Engine.why_nothing_found`)."""
    line = f"{shown:,} of {total:,} documents" if shown < total else f"{total:,} document{'s' if total != 1 else ''}"
    if args.offset:
        line += f" after the first {args.offset:,}"
    parts = [f"type {', '.join(args.file_types)}"] if args.file_types else []
    parts += [f"path {printable(', '.join(args.path_glob), multiline=False)}"] if args.path_glob else []
    if parts:
        line += f" pass{'es' if total == 1 else ''} the filters ({'; '.join(parts)})"
    if stale:
        line += f", {stale:,} stale"
    if left_out:
        line += f", {left_out:,} left something out"
    return line
