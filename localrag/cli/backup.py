"""`localrag backup DEST [--models] [--json]`: a copy of the index, conversations and settings that a restore can
use, taken while the writes wait (localrag/backup.py). One line on stdout naming the copy; what was left out on
stderr; `--json` for scripts."""

from __future__ import annotations

import argparse
import dataclasses

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import path_arg
from localrag.safe_text import line_text
from localrag.sizes import size_text


def add_commands(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help="copy the index, conversations and settings into a new folder in DEST, "
                            "whole (writes wait meanwhile)")
    backup.add_argument("dest", type=path_arg, metavar="DEST", help="an existing folder (an external drive's, say)")
    backup.add_argument("--models", action="store_true", help="copy the models folder too (GGUF files: large)")
    backup.add_argument("--json", action="store_true", help="print the report as JSON")
    backup.set_defaults(handler=_backup)


def _backup(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args, print_json

    report = engine_from_args(args).backup(args.dest, models=args.models)
    if args.json:
        print_json(dataclasses.asdict(report))
        return 0
    out.print(Text(line_text(report.summary())), soft_wrap=True)
    for what, where, size in report.left_out:
        err.print(Text(line_text(f"left out: {what}, {where} ({size_text(size)})")), soft_wrap=True)
    moves = ", ".join(f"{copied} as {place}" for copied, place in report.restore)
    err.print(Text(line_text(f"to read it: LOCALRAG_HOME={report.path} localrag status; to restore it, with localrag "
                             f"stopped, put {moves}, each in place of the folder there (moved aside or deleted "
                             "first, not copied into it)")), soft_wrap=True)
    return 0
