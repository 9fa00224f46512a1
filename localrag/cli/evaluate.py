"""`localrag eval`: run an evaluation, list past runs, show one.

    localrag eval DATASET [--format covidqa|pubmedqa|hotpotqa|musique|jsonl] [--modes model,rag,extract]
                  [--models bundled,NAME] [--limit N] [--k 4] [--side test] [--out DIR] [--json]
    localrag eval list [--json]
    localrag eval show RUN [--json]

    localrag eval QUESTIONS --format kgqa [--planner embedding|grammar] [--limit N]

DATASET is a JSONL or CSV file, one of the data set folders, or a set name (covidqa, pubmedqa,
hotpotqa, musique) looked up under $LOCALRAG_EVAL_DATA. Questions without a corpus (no --corpus, no
NAME.corpus.jsonl) are asked of your own index, the --collection one: a question's `path` names the
document that answers it, so recall@k and citation precision are measured on what you indexed.
`list` and `show` are words in the DATASET position (a file named so can be given as ./list).
Ctrl-C stops after the question in flight; the same command resumes the run. `--format kgqa` runs
graph mode over a KGQA set (JSONL: question, answers, topic_entity, triples, gold_path; or a WC2014
question file such as WC-P2.txt) and reports Hits@1, answer F1 and path accuracy; its run folder is
listed and shown like any other. `--json` prints the figures (results.json without its records, and
where the run folder is) for a script.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from localrag.cli import common
from localrag.cli.argtypes import count, integer, path_arg, positive
from localrag.cli.collections import add_collection_flag
from localrag.cli.common import print_json, progress_bar, usage_error
from localrag.cli.tables import Rows
from localrag.safe_text import line_text

if TYPE_CHECKING:
    from localrag.engine import Engine
    from localrag.evaluate.datasets import EvalDataset
    from localrag.evaluate.report import Summary


def add_commands(sub: argparse._SubParsersAction) -> None:
    # The usage says the three forms: argparse's own, "DATASET [DATASET ...]", read as if several sets were taken.
    p = sub.add_parser("eval", help="measure answers and retrieval on a question set (also: eval list, eval show RUN)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       usage="%(prog)s DATASET [options]\n       %(prog)s list [--json]\n"
                             "       %(prog)s show RUN [--json]")
    p.add_argument("target", nargs="+", metavar="DATASET", help="question set, or `list`, or `show RUN`")
    p.add_argument("--format", choices=("covidqa", "pubmedqa", "hotpotqa", "musique", "jsonl", "kgqa"),
                   help="data set format (default: detected)")
    p.add_argument("--corpus", type=path_arg, help="JSONL corpus {id, text, title} for a --format jsonl set")
    p.add_argument("--modes", default="model,rag",
                   help="comma-separated: model (no retrieval), rag, extract (the sources' best sentence, no model); "
                   "default model,rag")
    p.add_argument("--models", default="bundled",
                   help="comma-separated: bundled and names from `localrag models` (default bundled)")
    p.add_argument("--limit", type=positive, help="score only the first N questions")
    p.add_argument("--k", type=integer, default=4, help="sources in the RAG prompt and the k of recall@k (default 4, "
                   "not the top_k setting: runs of one data set compare)")
    p.add_argument("--prompt-sentences", type=count, metavar="N",
                   help="the RAG prompt holds the sources' N best sentences; 0: the sources whole "
                        "(default: the prompt_sentences setting)")
    p.add_argument("--side", choices=("test", "train", "all"),
                   help="which side of the document split to score (default: test for the shared sets, all for jsonl)")
    p.add_argument("--max-documents", type=integer, help="cut the corpus to the gold documents plus others, up to N")
    p.add_argument("--seed", type=integer, default=0, help="split and bootstrap seed")
    p.add_argument("--out", type=path_arg, help="run folder (default: a new folder under the data dir's evals/)")
    p.add_argument("--planner", choices=("embedding", "grammar"),
                   help="graph mode's relation-path planner (--format kgqa; default: the graph_planner setting, as "
                   "`ask --graph` plans)")
    p.add_argument("--json", action="store_true",
                   help="print the run's figures (or, with list, the runs) as JSON on stdout; progress stays on stderr")
    add_collection_flag(p)
    p.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace, out: Console, err: Console) -> int:
    first = args.target[0]
    if first == "list":
        if len(args.target) != 1:
            return usage_error(err, "eval list takes nothing more: `localrag eval list` (a data set named list: "
                                    "`localrag eval ./list`)")
        return _list(out, args.json)
    if first == "show":
        if len(args.target) != 2:
            return usage_error(err, "eval show takes one run: `localrag eval show RUN` (`localrag eval list` lists "
                                    "them)")
        return _show(args.target[1], out, args.json)
    if len(args.target) != 1:
        # Before 2026-12-07 the usage line alone, "usage: localrag eval DATASET [options]", with no reason.
        given = ", ".join(line_text(target) for target in args.target)
        return usage_error(err, f"eval takes one dataset: {len(args.target)} were given ({given}); run eval once for "
                                "each")
    if args.format == "kgqa":
        return _run_kgqa(args, out, err)
    return _run(args, out, err)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    import threading
    from dataclasses import replace

    from localrag.evaluate.datasets import load_dataset, resolve_dataset
    from localrag.evaluate.report import runs_root, write_report
    from localrag.evaluate.runner import (
        RETRIEVAL_MODES,
        EvalConfig,
        EvalProgress,
        check_modes,
        older_spellings,
        run_eval,
        run_fingerprint,
    )
    from localrag.sizes import count_text

    path, fmt = resolve_dataset(args.target[0], args.format)
    dataset = load_dataset(path, fmt, corpus=args.corpus)
    asked = {q.qid: q.question for q in dataset.questions}
    dataset = replace(dataset, spellings=older_spellings(runs_root(), path, asked))
    # Read at the call, as every command does: bound at import, a stand-in a test put there while the CLI's modules
    # were first imported served every later `eval` of that process.
    engine = common.engine_from_args(args)
    sentences = engine.settings.prompt_sentences if args.prompt_sentences is None else args.prompt_sentences
    config = EvalConfig(modes=_split(args.modes), models=_split(args.models), limit=args.limit, k=args.k,
                        side=args.side or ("all" if fmt == "jsonl" else "test"), seed=args.seed,
                        max_documents=args.max_documents, prompt_sentences=sentences)
    check_modes(config)
    for note in dataset.notes:
        err.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    store, embedder, corpus = None, None, count_text(len(dataset.documents), "document")
    if not dataset.documents and any(mode in RETRIEVAL_MODES for mode in config.modes):
        dataset, notes = _on_index(dataset, path, engine)
        store, embedder = engine.store, engine.embedder
        corpus = (f"your index: {count_text(store.document_count(), 'document')} "
                  f"in collection {engine.settings.collection}")
        for note in notes:
            err.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    run_dir, into = _run_folder(args.out, run_fingerprint(dataset, config), dataset.name)

    def announce() -> None:  # once run_eval has found every model: a misspelt one names no folder
        err.print(Text(f"Evaluating {dataset.name} ({count_text(len(dataset.questions), 'question')}, {corpus}) "
                       f"{into}", style="bold"), soft_wrap=True)

    cancel = threading.Event()
    with progress_bar(err, "{task.fields[note]}") as bar:
        task = bar.add_task("eval", total=None, note="")

        def on_progress(p: EvalProgress) -> None:
            bar.update(task, completed=p.done, total=p.total, description=f"{p.model}/{p.mode}",
                       note=p.message[:50])

        try:
            result = run_eval(dataset, run_dir, config, settings=engine.settings, embedder=embedder,
                              progress=on_progress, cancel=cancel, store=store, announce=announce)
        except KeyboardInterrupt:
            cancel.set()
            err.print(Text(f"interrupted: the same command resumes the run in {run_dir}", style="yellow"),
                      soft_wrap=True)
            return 130
    if result.skipped:
        err.print(Text(f"resumed: {result.skipped} answers were already in the run", style="dim"))
    unasked = [r for r in result.records if r.get("not_asked")]
    if unasked:
        first = unasked[0]
        err.print(Text(line_text(
            f"note: {count_text(len(unasked), 'answer')} could not be asked and count as refused; "
            f"{_question(dataset, first['qid'])}: {first['not_asked']}"), style="yellow"), soft_wrap=True)
    summary = write_report(run_dir)
    if args.json:
        print_json(_summary_json(summary, run_dir))
        return 0
    _print_summary(summary, out)
    out.print(Text(f"report: {run_dir / 'report.md'}  plot: {run_dir / 'plot.png'}", style="dim"), soft_wrap=True)
    return 0


def _question(dataset: EvalDataset, qid: str) -> str:
    """A question of `dataset` by its id, as a note names it (`EvalQuestion.where`)."""
    found = next((q for q in dataset.questions if q.qid == qid), None)
    return found.where(dataset.source) if found is not None else f"{dataset.source}, question {qid}"


def _on_index(dataset: EvalDataset, path: Path, engine: Engine) -> tuple[EvalDataset, list[str]]:
    """`dataset` asked of the engine's collection, with the notes on `path`s that name no ingested document."""
    import hashlib

    from localrag import paths
    from localrag.evaluate.datasets import on_index
    from localrag.evaluate.runner import EvalRunError

    # Before the first ingest there is no index folder, and only a writer makes one.
    store = engine.store if paths.db_dir().exists() else None
    if store is None or not store.document_count():
        raise EvalRunError(f"{dataset.source}: the set has no corpus and collection {engine.settings.collection} "
                           "holds no documents", "ingest your documents first, or give a corpus with --corpus")
    documents = store.documents()
    # What the index holds is part of the run's name, so a run resumed after an ingest or a forget is refused
    # (answers from two states of the index would be scored as one run); so is one resumed after the same files
    # were read again another way (`ingest --stale`). An unrecorded reading adds nothing, so the runs made
    # before readings were recorded keep their names.
    state = hashlib.sha256("".join(sorted(f"{d.path}\0{d.content_hash}" + (f"\0{d.read_with}" if d.read_with else "")
                                          + "\n" for d in documents)).encode())
    index = f"collection {engine.settings.collection}; contents {state.hexdigest()[:12]}"
    # So is how it is searched, the embedder and the fusion chosen for it: after `tune --retriever` switched the
    # embedder, the same command "resumed" the finished run and showed the old embedder's figures as the new one's.
    chosen = engine.fusion_choice()
    fusion = f"; fusion {chosen.fusion.label}" if chosen is not None and chosen.queries else ""
    retrieval = f"embedder {engine.embedder.name}{fusion}"
    return on_index(dataset, (d.path for d in documents), index, path.parent, retrieval, str(paths.db_dir()))


def _run_folder(out: Path | None, fingerprints: str | tuple[str, ...], name: str) -> tuple[Path, str]:
    """Where a run goes, and how to say so: `--out`, else the newest unfinished run of the same data set and
    options (the same command resumes it; `fingerprints`: the names it may have), else a new folder named by the
    time."""
    import time

    from localrag.evaluate.report import runs_root
    from localrag.evaluate.runner import unfinished_run

    if out is not None:
        return out, f"into {out}"
    stopped = unfinished_run(runs_root(), fingerprints)
    if stopped is not None:
        return stopped, f"resuming the unfinished run in {stopped}"
    fresh = runs_root() / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    return fresh, f"into {fresh}"


def _run_kgqa(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.evaluate.kgqa import SUMMARY_FILE, KGQAConfig, run_kgqa_eval
    from localrag.evaluate.report import REPORT_FILE, runs_root
    from localrag.evaluate.runner import older_spellings
    from localrag.graph.kgqa import load_questions
    from localrag.sizes import count_text

    source = Path(args.target[0])
    engine = common.engine_from_args(args)
    planner = args.planner or engine.settings.graph_planner
    config = KGQAConfig(planner=planner, limit=args.limit, seed=args.seed,
                        max_hops=engine.settings.graph_max_hops)
    spellings = older_spellings(runs_root(), source, {q.id: q.question for q in load_questions(source)})
    run_dir, into = _run_folder(args.out, config.fingerprints(source, spellings), f"kgqa-{source.stem}")
    err.print(Text(f"Graph mode over {source} {into}", style="bold"), soft_wrap=True)
    with progress_bar(err) as bar:
        task = bar.add_task("graph mode", total=None)
        result = run_kgqa_eval(source, run_dir, config, embedder=engine.embedder, spellings=spellings,
                               generator=engine.generator if planner == "grammar" else None,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    if result.skipped:
        err.print(Text(f"resumed: {result.skipped} answers were already in the run", style="dim"))
    # A topic or an answer the triples file does not hold is a miss whatever graph mode does: said, not hidden.
    # Linked from the question's words instead (graph mode's fallback) still means the topic was not found.
    unlinked = [r.id for r in result.records if "topic" not in r.linked_how]
    unanswerable = [r.id for r in result.records if not r.answers_in_graph]
    for ids, what in ((unlinked, "named no entity of its triples file (`topic_entity` misspelt?)"),
                      (unanswerable, "has no answer that is an entity of its triples file")):
        if ids:
            err.print(Text(f"note: {count_text(len(ids), 'question')} of {len(result.records)} {what}, counted as "
                           f"a miss: {', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}", style="yellow"),
                      soft_wrap=True)
    if args.json:
        from localrag.evaluate.report import summarise

        # What `eval show RUN --json` prints, as for every other format (a script written against one read the
        # other in vain), with graph mode's own figures beside it.
        print_json({**_summary_json(summarise(run_dir), run_dir), **result.summary, "unlinked": unlinked,
                    "answers_not_in_graph": unanswerable})
        return 0
    table = Rows("metric", "value (95 % CI)", "n", title=f"{source.name}: graph mode, {planner} planner")
    for label, f in result.figures.items():
        value = "n/a"
        if f.value is not None and f.low is not None and f.high is not None:
            value = f"{100 * f.value:.1f} [{100 * f.low:.1f}, {100 * f.high:.1f}]"
        table.add(label, value, str(f.n))
    table.print(out)
    out.print(Text(f"records: {run_dir / 'records.jsonl'}  summary: {run_dir / SUMMARY_FILE}  "
                   f"report: {run_dir / REPORT_FILE}", style="dim"), soft_wrap=True)
    return 0


def _print_summary(summary: Summary, out: Console) -> None:
    from localrag.evaluate.report import METRIC_LABELS, columns, difference_text, format_figure, unfinished

    cols = columns(summary)
    table = Rows("model", "mode", *[METRIC_LABELS[c] for c in cols],
                 title=f"{summary.info.get('dataset', {}).get('name', '')}: {summary.n_questions} questions "
                       "(% with 95 % CI)", turned=True)
    for row in summary.rows:
        table.add(row.model, row.mode, *[format_figure(row.figures.get(c), c) for c in cols])
    table.print(out)
    if summary.baseline:
        b = summary.baseline
        out.print(Text(f"majority baseline (\"{b['label']}\"): accuracy {100 * b['accuracy']:.1f}, "
                       f"macro-F1 {100 * b['macro_f1']:.1f}"))
    for d in summary.differences:
        if d["value"] is not None:
            out.print(Text(f"{d['b']} - {d['a']} ({d['metric']}): {difference_text(d)}"))
    out.print(Text(f"split: {summary.info.get('split', '?')}", style="dim"))
    if state := unfinished(summary.info):
        out.print(Text(f"not finished: {state}"))


def _summary_json(summary: Summary, run_dir: Path) -> dict[str, object]:
    """`--json`: the figures as results.json holds them (without the records), and where the run is."""
    from localrag.evaluate.report import REPORT_FILE, RESULTS_FILE, summary_json

    return {"run_dir": str(run_dir), "results": str(run_dir / RESULTS_FILE), "report": str(run_dir / REPORT_FILE),
            **summary_json(summary)}


def _list(out: Console, as_json: bool = False) -> int:
    from localrag.evaluate.report import list_runs, runs_root

    runs = list_runs()
    if as_json:
        print_json([{"run": r.path.name, "run_dir": str(r.path), "dataset": r.dataset, "status": r.status,
                     "started": r.started, "questions": r.questions, "models": r.models, "modes": r.modes}
                    for r in runs])
        return 0
    if not runs:
        out.print(Text(f"no evaluation runs in {runs_root()}"))
        return 0
    table = Rows("run", "data set", "status", "started", "questions", "models", "modes", whole=(0,))
    for r in runs:
        table.add(r.path.name, r.dataset, r.status, r.started, str(r.questions), ", ".join(r.models),
                  ", ".join(r.modes))
    table.print(out)
    return 0


def _show(spec: str, out: Console, as_json: bool = False) -> int:
    from localrag.evaluate.report import find_run, write_report

    run_dir = find_run(spec)
    summary = write_report(run_dir)
    if as_json:
        print_json(_summary_json(summary, run_dir))
        return 0
    _print_summary(summary, out)
    out.print(Text(f"report: {run_dir / 'report.md'}", style="dim"), soft_wrap=True)  # the terminal folds a path
    return 0
