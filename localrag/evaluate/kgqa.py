"""`localrag eval --format kgqa`: graph mode over a KGQA set, as a run folder like every other evaluation.

The questions are read and answered by `localrag.graph.kgqa` (the format, the metrics and `run_kgqa`);
this module puts the outcome where `eval list`, `eval show` and the Evals screen look: run.json (the
set, the config, the question ids, status), records.jsonl (one line per question: the graph record plus
the `spec`, `mode`, `qid` and `scores` every run's records carry), and, when the run ends, the usual
report files (report.md, results.json, plot.png) and summary.json (the graph summary with Hits@1, answer
F1 and path accuracy as figures with bootstrap intervals).

The "model" of a row is the relation-path planner and the mode is "graph". A run resumes like the
others: questions whose record is present are skipped, a larger --limit extends the run, and other
settings in the same folder are refused. Records are appended once `run_kgqa` returns (graph mode answers
a question in milliseconds; building the graph store is the slow part, and it is kept under graphs/).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.atomic import write_text_atomic
from localrag.evaluate.metrics import Figure, mean_figure
from localrag.evaluate.report import write_report
from localrag.evaluate.runner import (
    RECORDS_FILE,
    append_record,
    cut_torn_tail,
    finish_run,
    marked_when_cut,
    read_records,
    start_run,
)

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.generate import Generator
    from localrag.graph.kgqa import KGQARecord

MODE = "graph"
KIND = "kgqa"
SUMMARY_FILE = "summary.json"
# summary.json's figure names (what the command prints), keyed by the score each record carries.
FIGURE_NAMES = {"hits@1": "Hits@1", "answer_f1": "answer F1", "path_accuracy": "path accuracy"}


@dataclass(frozen=True)
class KGQAConfig:
    planner: str = "embedding"
    limit: int | None = None
    seed: int = 0  # bootstrap seed
    max_hops: int = 3

    @property
    def spec(self) -> str:
        return f"{self.planner} planner"

    def fingerprints(self, source: Path, spellings: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The names a run of the questions in `source` may be found under: by what the file and the triples files
        it names hold (not how its path was written, which started a stopped run anew from another folder), then by
        its path as older runs were, written as now or as `spellings` (`runner.older_spellings`)."""
        from localrag.errors import LocalRagError
        from localrag.graph.kgqa import load_questions

        settings = [self.planner, self.seed, self.max_hops]
        try:
            digest = hashlib.sha256(Path(source).read_bytes())
            # The same questions over another graph (a pruned copy of the triples beside them) are another run.
            for triples in sorted({q.triples for q in load_questions(Path(source))}):
                digest.update(hashlib.sha256(triples.read_bytes()).digest())
            held = digest.hexdigest()
        except (OSError, LocalRagError):
            held = str(source)  # the loader says what is wrong with it
        return tuple(dict.fromkeys(hashlib.sha256(json.dumps([KIND, name, settings]).encode()).hexdigest()
                                   for name in (held, str(source), *spellings)))


@dataclass
class KGQARun:
    run_dir: Path
    records: list[KGQARecord]
    figures: dict[str, Figure]
    summary: dict[str, Any]
    skipped: int = 0


def _record(record: KGQARecord, spec: str) -> dict[str, Any]:
    scores = {"hits@1": record.hit, "answer_f1": record.f1,
              "path_accuracy": None if record.path_ok is None else float(record.path_ok)}
    return {**record.to_json(), "spec": spec, "mode": MODE, "qid": record.id, "gold_label": None,
            "refused": False, "scores": scores}


def _graph_record(data: dict[str, Any]) -> KGQARecord:
    from localrag.graph.kgqa import KGQARecord

    return KGQARecord(**{f.name: data[f.name] for f in fields(KGQARecord) if f.name in data})


def run_kgqa_eval(
    source: Path,
    run_dir: Path,
    config: KGQAConfig,
    *,
    embedder: Embedder,
    generator: Generator | None = None,
    progress: Callable[[int, int], None] | None = None,
    spellings: tuple[str, ...] = (),
) -> KGQARun:
    """Run (or finish) graph mode over `source` in `run_dir`; see the module docstring.

    `generator` is needed by the grammar planner only; `spellings`: how older runs wrote `source`.
    """
    from localrag.graph.kgqa import load_questions, run_kgqa, summarise

    source = Path(source)
    questions = load_questions(source, limit=config.limit)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    info = {
        "version": 1,
        # The graph's "documents" are its triples files.
        "dataset": {"name": f"kgqa-{source.stem}", "kind": KIND, "source": str(source),
                    "documents": len({q.triples for q in questions})},
        "config": {"models": [config.spec], "modes": [MODE], "planner": config.planner, "limit": config.limit,
                   "seed": config.seed, "max_hops": config.max_hops, "side": "all"},
        "split": "no split: every question scored",
        "questions": [q.id for q in questions],
    }
    names = config.fingerprints(source, spellings)
    start_run(run_dir, info, names[0], also=names)
    cut_torn_tail(run_dir / RECORDS_FILE)
    wanted = {q.id for q in questions}
    done = {r["qid"] for r in read_records(run_dir) if r.get("spec") == config.spec}
    todo = [q for q in questions if q.id not in done]
    skipped = len(questions) - len(todo)

    def step(n: int, _total: int) -> None:
        if progress is not None:
            progress(skipped + n, len(questions))

    started = time.perf_counter()
    if todo:
        step(0, len(todo))
        with marked_when_cut(run_dir):
            # Each answer is kept as it comes: Ctrl-C after the question in flight, and the same command resumes.
            run_kgqa(todo, embedder=embedder, work_dir=run_dir / "graphs", generator=generator,
                     planner=config.planner, max_hops=config.max_hops, progress=step,
                     on_record=lambda record: append_record(run_dir, _record(record, config.spec)))
    finish_run(run_dir, "done", time.perf_counter() - started)
    by_id = {r["qid"]: r for r in read_records(run_dir) if r.get("spec") == config.spec and r["qid"] in wanted}
    records = [_graph_record(by_id[q.id]) for q in questions if q.id in by_id]
    figures = {
        label: mean_figure([by_id[q.id]["scores"][score] for q in questions if q.id in by_id], seed=config.seed)
        for score, label in FIGURE_NAMES.items()
    }
    summary = {**summarise(records, planner=config.planner, reasoner="paths", link="topic").to_json(),
               "figures": {k: f.to_json() for k, f in figures.items()}}
    write_text_atomic(run_dir / SUMMARY_FILE, json.dumps(summary, indent=2))
    write_report(run_dir)
    return KGQARun(run_dir, records, figures, summary, skipped=skipped)
