"""`localrag collections`: list, create, rename and delete collections; the `--collection` option.

A collection is a separate index in the same store folder (localrag/collection.py). Every command
that reads or writes the index takes `--collection NAME` (default: the `collection` setting, which
LOCALRAG_COLLECTION or the config file can set once for a script). Deleting asks first on a
terminal; `--yes` skips the question, and a delete with no terminal to ask on needs it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Column
from rich.text import Text

from localrag.cli.common import GivenOnce
from localrag.cli.tables import Rows

if TYPE_CHECKING:
    from localrag.engine import Engine


class _OneCollection(GivenOnce):
    """`--collection NAME`, refused when given twice: `search "lease" --collection job --collection private` searched
    `private` alone, as if the first had not been typed."""

    why = "localrag works in one collection at a time; give it once"


def add_collection_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", metavar="NAME", action=_OneCollection,
                        help="the collection to use (default: the `collection` setting, normally `default`)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("collections", help="list collections with their sizes (also: create, rename, delete)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the list, or what an action did, as JSON")
    # Before the action too, as `conversations --yes delete ID` takes it: `collections --yes delete work2` was refused
    # (before 2026-12-07).
    p.add_argument("--yes", action="store_true", help="delete without asking for confirmation")
    actions = p.add_subparsers(dest="collections_command", metavar="ACTION")
    create = actions.add_parser("create", help="make an empty collection")
    create.add_argument("name")
    rename = actions.add_parser("rename", help="rename a collection (its documents stay)")
    rename.add_argument("old")
    rename.add_argument("new")
    delete = actions.add_parser("delete", help="delete a collection with its documents, chunks and graph")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", default=argparse.SUPPRESS, help="do not ask for confirmation")
    for action in (create, rename, delete):
        # After the action too, where `ingest` and `forget` take it; SUPPRESS keeps a `--json` given before it.
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                            help="print what was done as JSON")
    p.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args, print_json

    engine = engine_from_args(args)
    command = args.collections_command
    if command == "create":
        said = engine.create_collection(args.name)
        done = {"created": args.name}
    elif command == "rename":
        engine.rename_collection(args.old, args.new)
        done, said = {"renamed": args.old, "to": args.new}, f"renamed collection {args.old} to {args.new}"
    elif command == "delete":
        if not _delete(engine, args.name, args.yes, err):
            return 1
        done, said = {"deleted": args.name}, f"deleted collection {args.name}"
    else:
        return _list(engine, args.json, out)
    if args.json:
        print_json(done)
    else:
        err.print(Text(said))
    return 0


def _list(engine: Engine, as_json: bool, out: Console) -> int:
    from localrag.cli.common import print_json

    current = engine.settings.collection
    found = engine.collections()
    if as_json:
        rows = [{"name": c.name, "documents": c.documents, "chunks": c.chunks, "current": c.name == current}
                for c in found]
        print_json(rows)
        return 0
    table = Rows("", "collection", Column("documents", justify="right"), Column("chunks", justify="right"),
                 boxed=False)
    for c in found:
        table.add("*" if c.name == current else "", c.name, str(c.documents), str(c.chunks))
    table.print(out)
    return 0


def _delete(engine: Engine, name: str, yes: bool, err: Console) -> bool:
    """Whether it was deleted (asked first on a terminal, without `yes`)."""
    from localrag.cli.common import confirmed

    sizes = {c.name: c for c in engine.collections()} if not yes else {}
    if name in sizes and not confirmed(
            f"Delete collection '{name}' with {sizes[name].documents} documents and {sizes[name].chunks} chunks?",
            f"collection '{name}': not deleted without confirmation", "pass --yes to delete it without being asked"):
        err.print("nothing deleted")
        return False
    engine.delete_collection(name)
    return True

