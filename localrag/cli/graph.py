"""`localrag graph build | import | stats | triples | clear | training`, `localrag related`: graph mode.

`build` extracts triples from the indexed chunks with the local model (resumable: Ctrl-C keeps
what was committed and the next build goes on from there), `import` reads a TSV/CSV of
head, relation, tail, `stats` counts what the graph holds, `triples` lists it with where each triple
came from (in a pipe its first three columns are a file `import` reads), `clear` forgets triples (all,
or only the built or the imported ones), `training` writes RoG-style planning and
reasoning examples on this graph in the RAFT chat format (`localrag finetune --data DIR` trains on
them). Answers come from `localrag ask --graph`; `localrag related ENTITY ...` lists the entities
that share the most specific neighbours with the given ones, each with the paths that join them,
as `ask --graph` does for a question like "what else is like X?".
Names from documents are printed as rich `Text`, never as markup.
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import integer, path_arg
from localrag.cli.common import print_json, progress_bar, usage_error
from localrag.cli.tables import Rows
from localrag.graph.scorings import SCORINGS
from localrag.shapes import graph_answer_json, related_json, step_source
from localrag.sizes import count_text

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from localrag.conversations import Turn
    from localrag.engine import Engine
    from localrag.graph.extract import GraphBuildProgress, GraphBuildReport
    from localrag.graph.reason import GraphAnswer
    from localrag.graph.related import RelatedResult, RelatedView
    from localrag.types import Chunk


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag

    graph = sub.add_parser("graph", help="build, import and inspect the knowledge graph for `ask --graph`")
    actions = graph.add_subparsers(dest="graph_command", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="extract triples from the indexed documents with the local model")
    build.add_argument("--model", help="GGUF file or model name under models/ (default: the model setting, "
                       "the bundled SmolLM2 when unset)")
    build.add_argument("--relations", type=path_arg, metavar="FILE",
                       help="relation vocabulary, one `relation: synonym, ...` a line (default: a small general one)")
    build.add_argument("--strict", action="store_true",
                       help="drop triples whose relation is not in the vocabulary (default: keep them as related_to)")
    build.add_argument("--method", choices=["single", "focused"], default=None,
                       help="focused (default): the chunk's names, then for each the entity it is about and the "
                            "relation the passage words; single: one prompt for a whole list of triples")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    add_collection_flag(build)
    build.set_defaults(handler=_build)

    load = actions.add_parser("import", help="add triples from a TSV or CSV file of head, relation, tail")
    load.add_argument("file", type=path_arg)
    load.add_argument("--json", action="store_true", help="print the import report as JSON")
    add_collection_flag(load)
    load.set_defaults(handler=_import)

    stats = actions.add_parser("stats", help="entities, triples and relations in the graph")
    stats.add_argument("--json", action="store_true", help="print the counts as JSON")
    add_collection_flag(stats)
    stats.set_defaults(handler=_stats)

    triples = actions.add_parser(
        "triples", help="the graph's triples and where each came from (in a pipe: tab-separated, `cut -f1-3` "
                        "gives a file `graph import` reads)")
    triples.add_argument("entity", nargs="?", default="", metavar="ENTITY",
                         help="only triples with this entity (its name or an alias) at either end")
    triples.add_argument("--relation", action="append", default=[], metavar="R",
                         help="only triples of this relation (repeatable: of any of them, as `related` counts them)")
    triples.add_argument("--json", action="store_true", help="print the triples as JSON (the API's shape)")
    add_collection_flag(triples)
    triples.set_defaults(handler=_triples)

    clear = actions.add_parser("clear", help="forget the graph's triples (documents stay indexed): all of them, "
                                            "or only those `build` made or `import` read")
    which = clear.add_mutually_exclusive_group()
    which.add_argument("--built", action="store_true", help="only the triples `graph build` made (the next build "
                                                            "reads every chunk again)")
    which.add_argument("--imported", action="store_true", help="only the triples `graph import` read")
    clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    clear.add_argument("--json", action="store_true", help="print how many triples were removed as JSON")
    add_collection_flag(clear)
    clear.set_defaults(handler=_clear)

    training = actions.add_parser("training", help="RoG planning/reasoning examples on this graph for `finetune`")
    training.add_argument("questions", type=path_arg,
                          help="KGQA JSONL (question, answers, topic_entity[, gold_path]) or a WC2014 question file")
    training.add_argument("--out", type=path_arg, required=True, help="folder for {train,validation,test}.chat.jsonl")
    add_collection_flag(training)
    training.set_defaults(handler=_training)

    related = sub.add_parser("related", help="entities like the given ones, each with the graph paths that join them")
    related.add_argument("entities", nargs="+", metavar="ENTITY", help="one or more entity names (several: liked both)")
    related.add_argument("--relation", action="append", metavar="R", help="count only this relation (repeatable)")
    related.add_argument("-k", type=integer, default=10, help="how many entities (default 10)")
    related.add_argument("--score", choices=SCORINGS, default="shared",
                         help="shared: specific shared neighbours (default); pagerank: personalized PageRank")
    related.add_argument("--json", action="store_true", help="print the entities and their paths as JSON")
    add_collection_flag(related)
    related.set_defaults(handler=_related)


def _build(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.graph.extract import ExtractConfig, build_summary
    from localrag.graph.vocabulary import FALLBACK_RELATION, RelationVocabulary, load_vocabulary

    fallback = None if args.strict else FALLBACK_RELATION
    if args.relations is not None:
        vocabulary = load_vocabulary(args.relations, fallback=fallback)
    else:
        vocabulary = RelationVocabulary(fallback=fallback)
    engine = engine_from_args(args)
    cancel = threading.Event()
    with progress_bar(err, "chunks  {task.fields[triples]} triples") as bar:
        task = bar.add_task("Extracting", total=None, triples=0)

        def on_progress(p: GraphBuildProgress) -> None:
            bar.update(task, completed=p.chunks_done, total=p.chunks_total, triples=p.triples)

        try:
            config = ExtractConfig(vocabulary)
            if args.method:
                config.method = args.method
            report = engine.graph_build(progress=on_progress, cancel=cancel, config=config)
        except KeyboardInterrupt:
            cancel.set()
            raise
    if args.json:
        print_json(build_report_json(report))
        return 0
    for error in report.errors:
        err.print(Text(f"skipped: {error}", style="yellow"))
    err.print(Text(build_summary(report), style="bold"))
    if report.dropped:
        reasons = ", ".join(f"{n} {why}" for why, n in report.dropped.most_common())
        err.print(Text(f"proposed triples refused: {reasons}", style="dim"))
    return 0


def build_report_json(report: GraphBuildReport) -> dict[str, object]:
    data = dataclasses.asdict(report)
    data["dropped"] = dict(report.dropped)
    data["triples_per_chunk"] = report.triples_per_chunk
    return data


def _import(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args

    report = engine_from_args(args).graph_import(args.file)
    skipped = 1 if report.errors else 0  # as `ingest` when a file failed: the rest was imported
    if args.json:
        data = {"file": str(args.file), "triples": report.triples, "entities": report.entities,
                "removed": report.removed, "moved": report.moved, "errors": [str(e) for e in report.errors]}
        print_json(data)
        return skipped
    for error in report.errors:
        err.print(Text(f"skipped: {error}", style="yellow"))
    removed = f", {report.removed} no longer in it removed" if report.removed else ""
    removed += f", {report.moved} on other lines now" if report.moved else ""
    err.print(Text(f"imported {args.file}: {report.triples} new triples{removed}, {report.entities} new entities, "
                   f"{len(report.errors)} lines skipped", style="bold"), soft_wrap=True)
    return skipped


def _training(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.graph.kgqa import load_questions
    from localrag.graph.training import build_graph_examples, write_graph_dataset

    questions = load_questions(args.questions)
    engine = engine_from_args(args)
    index = engine.graph_index()
    if not index.n_triples:
        empty = engine.empty_graph()
        return usage_error(err, f"{empty.message}: {empty.hint}")
    examples, report = build_graph_examples(questions, index)
    counts = write_graph_dataset(examples, report, args.out)
    dropped = ", ".join(f"{reason} {n}" for reason, n in report.dropped.items()) or "none"
    err.print(Text(f"{len(examples)} examples from {report.questions} questions "
                   f"({', '.join(f'{k} {v}' for k, v in counts.items())}); dropped: {dropped}", style="bold"))
    out.print(Text(f"written to {args.out}; train with `localrag finetune --data {args.out}`"))
    return 0


def _related(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args

    engine = engine_from_args(args)
    show_related(engine, engine.related(args.entities, relations=args.relation, k=args.k, scoring=args.score),
                 args, out)
    return 0


def show_related(engine: Engine, result: RelatedResult, args: argparse.Namespace, out: Console,
                 question: str | None = None, extra: dict[str, str] | None = None,
                 view: RelatedView | None = None) -> None:
    """Related entities with their joining paths and sources, or as JSON (with the question, when one asked,
    and `extra`'s fields); `view` when the caller has it already."""
    view = view or engine.related_view(result)
    names, chunks, aliases = view.names, view.chunks, view.aliases
    if getattr(args, "json", False):
        print_json({**related_json(result, view, question), **(extra or {})})
        return
    for note in result.notes:
        out.print(Text(note, style="dim"))
    seeds = ", ".join(s.name + (f" (also: {', '.join(aliases[s.entity_id])})" if aliases[s.entity_id] else "")
                      for s in result.seeds)
    if not result.related:
        out.print(Text(f"Nothing in the graph shares a neighbour with {seeds}.", style="italic"))
        return
    rule = ("personalized PageRank from them" if result.scoring == "pagerank"
            else "shared neighbours, each 1/log2(1 + how many share it)")
    out.print(Text(f"Related to {seeds} (score: {rule})", style="bold"))
    shown = ".3g" if result.scoring == "pagerank" else ".2f"  # a PageRank share is small: significant digits
    for number, r in enumerate(result.related, start=1):
        out.print(Text(f"{number}. ") + Text(r.name, style="bold") + Text(f"  {r.score:{shown}}", style="dim"))
        for link in r.links[:3]:
            out.print(Text("     ") + Text(link.render(names)))
            where = [step_source(s.source, chunks) for s in (link.seed_step, link.other_step)]
            out.print(Text(f"       {link.seed_step.relation}: {where[0]}; {where[1]}", style="dim"))
        if len(r.links) > 3:
            out.print(Text(f"     … and {len(r.links) - 3} more shared neighbours (--json: all)", style="dim"))


def _stats(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args

    stats = engine_from_args(args).graph_stats()
    if args.json:
        print_json(dataclasses.asdict(stats))
        return 0
    counts = (count_text(stats.entities, "entity", "entities"), count_text(stats.triples, "triple"),
              count_text(stats.documents, "source"))
    out.print(Text("{}, {} from {}".format(*counts)))
    if stats.relations:
        table = Rows("relation", "triples")
        for relation, count in sorted(stats.relations.items(), key=lambda kv: -kv[1]):
            table.add(relation, str(count))
        table.print(out)
    return 0


def _of_relations(relations: list[str]) -> str:
    """"of relation 'a'", "of relation 'a' or 'b'", or "" for none."""
    return f"of relation {' or '.join(repr(r) for r in dict.fromkeys(relations))}" if relations else ""


def _triples(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args
    from localrag.shapes import triples_json

    engine = engine_from_args(args)
    # One listing a relation (LanceDB filters each), joined and sorted as one: a second --relation replaced the first
    # (before 2026-12-07).
    joined = {t for r in dict.fromkeys(args.relation or [""]) for t in engine.graph_triples(args.entity, r)}
    listed = sorted(joined, key=lambda t: (t.head.lower(), t.relation, t.tail.lower(), t.source))
    if args.json:
        # The shape MCP's graph_triples and `POST /triples` give, with every triple (no limit here).
        print_json(triples_json(listed, len(listed)))
        return 0
    if not listed:
        wanted = " ".join(x for x in (f"with {args.entity!r}" if args.entity else "",
                                      _of_relations(args.relation)) if x)
        option = engine.collection_option()
        err.print(Text(f"no triples{' ' + wanted if wanted else ''} in the graph (`localrag graph stats{option}` "
                       f"counts them; `graph build{option}` or `graph import FILE{option}` adds them)", style="yellow"))
        return 0
    table = Rows("head", "relation", "tail", "from")
    for triple in listed:
        table.add(triple.head, triple.relation, triple.tail, triple.where)
    table.print(out)
    return 0


def _clear(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import confirmed, engine_from_args

    engine = engine_from_args(args)
    which = "built" if args.built else "imported" if args.imported else "all"
    triples = engine.graph_stats().triples
    if triples and not args.yes and not confirmed(
            f"Forget {'the ' + which if which != 'all' else 'all ' + str(triples)} triples of the graph "
            f"(collection {engine.settings.collection})?",
            "graph: not cleared without confirmation", "pass --yes to clear it without being asked"):
        err.print("nothing removed")
        return 1
    # Even with no triples left there may be build records, which would make the next build skip chunks.
    removed = engine.graph_clear(built=which != "imported", imported=which != "built")
    if args.json:
        print_json({"removed": removed, "left": engine.graph_stats().triples})
        return 0
    err.print(Text(f"removed {count_text(removed, 'triple')}; {count_text(engine.graph_stats().triples, 'triple')} "
                   "left"))
    return 0


def print_graph_answer(
    answer: GraphAnswer, names: Mapping[str, str], chunks: dict[str, Chunk], out: Console, limit: int = 10
) -> None:
    """The answer, then each reasoning path `e0 -> r1 -> e1 ...` with its planner and sources."""
    if not answer.candidates:
        out.print(Text("No reasoning path in the knowledge graph answers this.", style="italic"))
        if not answer.linked:
            out.print(Text("No entity of the question was found in the graph.", style="dim"))
        for said in answer.note.splitlines():
            out.print(Text(said, style="dim"))
        return
    out.print(Text(answer.answer, style="bold"))
    ordered = answer.ordered_paths()
    out.print()
    chosen_by = "the model" if answer.reasoner == "model" else "the paths' votes"
    out.print(Text(f"Reasoning paths ({len(answer.paths)}; answer chosen by {chosen_by})", style="bold"))
    for number, path in enumerate(ordered[:limit], start=1):
        mark = "✓" if answer.supports(path) else " "
        line = Text(f"{mark} {number}. ", style="green" if mark == "✓" else "")
        line.append(path.render(names))
        line.append(f"   [{answer.planner_of(path) or '?'} planner]", style="dim")
        out.print(line)
        for step in path.steps:
            out.print(Text(f"      {step.relation}: ", style="dim") + Text(step_source(step.source, chunks)))
    if len(ordered) > limit:
        out.print(Text(f"  … and {len(ordered) - limit} more paths (--json lists them all)", style="dim"))


def ask_graph(engine: Engine, question: str, args: argparse.Namespace, out: Console,
              record: Callable[[Turn], None] | None = None, extra: dict[str, str] | None = None) -> int:
    """`localrag ask --graph`: the answer with its reasoning paths, or all of it as JSON (with `extra`'s
    fields). `record` gets the answer as a conversation turn (`ask --graph --conversation`), before it is shown:
    a save that fails must not raise (`_ask_in_conversation` says so after the answer).

    A question asking for entities like named ones ("what else is like X?") gets those entities
    and the paths joining them, as `localrag related` shows them.
    """
    from localrag.graph.turns import turn_from_graph, turn_from_related

    related = engine.ask_related(question)
    if related is not None:
        view = engine.related_view(related)
        if record is not None:
            record(turn_from_related(related, view, question))
        show_related(engine, related, args, out, question=question, extra=extra, view=view)
        return 0
    answer = engine.ask_graph(question, planner=getattr(args, "planner", None))
    names = engine.graph_index().names
    chunks = engine.path_chunks(answer)
    if record is not None:
        record(turn_from_graph(answer, names, chunks, question))
    if getattr(args, "json", False):
        print_json({**graph_answer_json(answer, names, chunks), **(extra or {})})
        return 0
    print_graph_answer(answer, names, chunks, out)
    return 0
