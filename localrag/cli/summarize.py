"""`localrag summarize PATH`: the sentences that sum one indexed document up, found without the model.

Each key sentence is printed in reading order, quoted word for word, with its page or heading
(`localrag/answer/summary.py` holds the rule and what it was measured on); `--json` gives the same to
scripts. Document text is printed as plain rich `Text`, never markup.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.text import Text

from localrag.cli.common import print_json
from localrag.shapes import summary_json


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    summarize = sub.add_parser("summarize", help="the key sentences of one indexed document, quoted; no model")
    summarize.add_argument("path", type=Path, help="the document, as ingested")
    summarize.add_argument("-n", "--sentences", type=int, default=5, help="how many sentences (default 5)")
    summarize.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_collection_flag(summarize)
    summarize.set_defaults(handler=_summarize)


def _summarize(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args

    document, summary = engine_from_args(args).summarize(args.path, args.sentences)
    if args.json:
        print_json(summary_json(document, summary))
        return 0
    if not summary.sentences:
        from localrag.answer.summary import NOTHING_TO_QUOTE

        err.print(Text(f"{document.path}: {NOTHING_TO_QUOTE}", style="yellow"))
        return 0
    out.print(Text(document.path, style="bold"))
    for sentence in summary.sentences:
        line = Text(f"“{sentence.text}”")
        if sentence.where:
            line.append(f"  ({sentence.where})", style="dim")
        out.print(line)
    if summary.read < summary.total:
        err.print(Text(f"read {summary.read} of its {summary.total} sentences, evenly spaced: a long document",
                       style="dim"))
    return 0
