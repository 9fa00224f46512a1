"""`localrag retrieval tune-fusion`: choose now how this index fuses its vector and BM25 legs.

Without it an index keeps the default fusion; after it, the choice is made again whenever an ingest
has grown the index by half (localrag/fusion.py, which also says how far the measure is trusted).
It prints each candidate's hit@5 and MRR on the pseudo-queries, or with `--questions` on the
questions a RAFT build wrote per chunk of this index (then a fusion is taken over the better leg only
when it wins by more than one standard error; see benchmarks/README.md for what either measure is worth).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import integer, path_arg
from localrag.cli.collections import add_collection_flag
from localrag.cli.common import print_json
from localrag.cli.tables import Rows

if TYPE_CHECKING:
    from localrag.fusion import FusionChoice


def add_commands(sub: argparse._SubParsersAction) -> None:
    retrieval = sub.add_parser("retrieval", help="tune how retrieval works on this index")
    actions = retrieval.add_subparsers(dest="retrieval_command", metavar="ACTION", required=True)
    tune = actions.add_parser(
        "tune-fusion", help="choose the fusion of the vector and BM25 legs from pseudo-queries made from the index"
    )
    tune.add_argument("--queries", type=integer, help="pseudo-queries to measure on (default 200)")
    tune.add_argument("--questions", type=path_arg, metavar="RAFT_DIR",
                      help="measure on the questions of this RAFT build (its qa.jsonl) instead of pseudo-queries")
    tune.add_argument("--json", action="store_true", help="print the choice and every candidate's figures as JSON")
    add_collection_flag(tune)
    tune.set_defaults(handler=_tune_fusion)


def choice_to_json(choice: FusionChoice) -> dict[str, object]:
    data = dataclasses.asdict(choice)
    data["fusion"]["label"] = choice.fusion.label
    return data


def _tune_fusion(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.errors import LocalRagError

    if args.queries is not None and args.queries < 10:
        raise LocalRagError(f"--queries {args.queries}: too few to compare fusions", "pass 10 or more")
    choice = engine_from_args(args).tune_fusion(n_queries=args.queries, questions=args.questions)
    if args.json:
        print_json(choice_to_json(choice))
        return 0
    if choice.queries:
        table = Rows("fusion", "hit@5", "MRR", title=f"{choice.queries} {choice.source}, {choice.chunks} chunks")
        for label, hit in sorted(choice.hit_at_5.items(), key=lambda kv: (-kv[1], -choice.mrr.get(kv[0], 0.0))):
            style = "bold" if label == choice.fusion.label else ""
            table.add(Text(label, style=style), f"{hit:.3f}", f"{choice.mrr.get(label, 0.0):.3f}")
        table.print(out)
    if choice.note:
        out.print(Text(f"{choice.note}; using the default, {choice.fusion.label}"), soft_wrap=True)
    else:
        out.print(Text(f"chosen: {choice.fusion.label} ({choice.seconds:.1f}s)", style="bold"), soft_wrap=True)
    return 0
