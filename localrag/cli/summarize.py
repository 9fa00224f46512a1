"""`localrag summarize PATH`: the sentences that sum one indexed document up, found without the model.

Each key sentence is printed in reading order, quoted word for word, with its page or heading
(`localrag/answer/summary.py` holds the rule and what it was measured on); `--json` gives the same to
scripts. Document text is printed as plain rich `Text`, never markup.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import integer, path_arg
from localrag.cli.common import print_json
from localrag.safe_text import line_text
from localrag.shapes import summary_json


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    summarize = sub.add_parser("summarize", help="the key sentences of one indexed document, quoted; no model")
    summarize.add_argument("path", type=path_arg, help="the document, as ingested")
    summarize.add_argument("-n", "--sentences", type=integer, default=5, help="how many sentences, 1 to 50 (default 5)")
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
        from localrag.answer.summary import nothing_to_quote

        err.print(Text(f"{line_text(document.path)}: {nothing_to_quote(summary)}", style="yellow"), soft_wrap=True)
        return 0
    # One line each, whatever a file name or a heading holds: a name with line breaks printed a forged key
    # sentence of its own.
    out.print(Text(line_text(document.path), style="bold"), soft_wrap=True)
    for sentence in summary.sentences:
        line = Text(f"“{line_text(' '.join(sentence.text.split()))}”")
        if sentence.where:
            line.append(f"  ({line_text(sentence.where)})", style="dim")
        out.print(line)
    if summary.read < summary.total:
        err.print(Text(f"read {summary.read} of its {summary.total} sentences, evenly spaced: a long document",
                       style="dim"))
    return 0
