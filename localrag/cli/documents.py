"""`localrag documents`: what the index holds, one document a line, and which are stale.

A document is stale when an older localrag or other settings read it (`ingest/readings.py`); `--stale`
lists only those, with why, and `localrag ingest --stale` reads them again. `--json` has the shape of the
MCP tool `list_documents`.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Column
from rich.text import Text

from localrag.cli.common import print_json
from localrag.safe_text import printable
from localrag.shapes import documents_json


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    documents = sub.add_parser("documents", help="the indexed documents: path, type, chunks, size, title, stale or not")
    documents.add_argument("--stale", action="store_true",
                           help="only those an older localrag or other settings read, with why")
    documents.add_argument("--json", action="store_true", help="print them as JSON")
    add_collection_flag(documents)
    documents.set_defaults(handler=_documents)


def _documents(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.cli.tables import Rows
    from localrag.sizes import size_text

    engine = engine_from_args(args)
    documents = engine.documents()
    stale = engine.stale_documents(documents)
    listed = documents_json(documents, stale, only_stale=args.stale)
    if args.json:
        print_json(listed)
        return 0
    # The path folds rather than being cut: at 80 columns every one was "/home/me/docs…", and `forget` needs it whole.
    rows = Rows(Column("document", overflow="fold"), "type", "chunks", "size", "title", "stale")
    for d in listed["documents"]:
        # A line break in a file name shows as ␊, as `search` shows it: a table's own rule made it a space (in a
        # pipe) or a second line, and "new⏎line.md" read as "new line.md", another file that `forget` would take.
        rows.add(printable(d["path"], multiline=False), d["file_type"], str(d["n_chunks"]), size_text(d["size"]),
                 printable(d["title"], multiline=False), Text(d["stale"], style="yellow"))
    rows.print(out)
    if stale and out.is_terminal:
        err.print(Text(f"{len(stale)} stale: `localrag ingest --stale` reads them again", style="dim"))
    return 0
