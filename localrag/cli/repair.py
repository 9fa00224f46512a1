"""`localrag repair [--check] [--json]`: check the store and put back what is damaged (store_repair.py).

One line per damaged thing and per thing done, on stdout, plain text (paths come from the file
system). Exit code 0 when the store is whole (nothing found, or all of it put back), 1 when
`--check` found damage or a file could not be read again, 2 on an error as everywhere.
"""

from __future__ import annotations

import argparse
import dataclasses

from rich.console import Console
from rich.text import Text


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    repair = sub.add_parser("repair", help="check the index for damage and rebuild what is damaged")
    repair.add_argument("--check", action="store_true", help="only check and report; change nothing")
    repair.add_argument("--embedder", help="the embedder folder the index was built with (default: the configured one)")
    repair.add_argument("--json", action="store_true", help="print the report as JSON")
    add_collection_flag(repair)
    repair.set_defaults(handler=_repair)


def _repair(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args, print_json
    from localrag.safe_text import path_text

    overrides = {"embedder": args.embedder} if args.embedder else {}
    report = engine_from_args(args, **overrides).repair(dry_run=args.check)
    if args.json:
        print_json({**dataclasses.asdict(report), "whole": report.whole})
    else:
        out.print(Text(f"{report.rows_checked} chunk rows checked"))
        for line in report.damage:
            out.print(Text(f"damaged: {line}"))
        for line in report.fixed:
            out.print(Text(f"fixed: {line}"))
        for path in report.reingest:
            lost = path in report.lost
            out.print(Text(f"{'lost (not on disk)' if lost else 'read again'}: {path_text(path)}"))
        for path in report.reimport:
            lost = path in report.lost
            out.print(Text(f"{'lost (not on disk)' if lost else 'triples imported again'}: {path_text(path)}"))
        for path in report.refresh:
            out.print(Text(f"details read again: {path_text(path)}"))
        for path in report.not_on_disk:
            out.print(Text(f"kept, not on disk: {path_text(path)}"))
        if report.not_on_disk_note:
            out.print(Text(report.not_on_disk_note))
        for line in report.reingest_errors:
            out.print(Text(f"could not be read again: {line}"))
        if not report.damage:
            out.print(Text("no damage found"))
    return 0 if report.whole else 1
