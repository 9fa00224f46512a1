"""Graph mode on two- and three-hop questions: the beam planner against the exhaustive two-hop planner.

    .venv/bin/python benchmarks/make_wc2014_3hop.py           # writes benchmarks/results/wc2014-3hop.jsonl
    .venv/bin/python benchmarks/bench_graph_hops.py [--limit N] [--sample N] [--sets NAME ...] [--three FILE] \
        [--planners NAME ...] [--k K] [--offer N] [--threads N] [--code DIR] \
        [--summary benchmarks/summaries/graph_hops.json]

Sets: WC-P2 (two-hop), WC-C (conjunctive: two one-hop constraints) from ../shared/data/wc2014_kgqa,
and the three-hop questions `make_wc2014_3hop.py` writes from the same knowledge base. Planners, all
with the bundled MiniLM embedder, the topic entity given (as `localrag eval --format kgqa` does)
and the answer from path votes:

- `exhaustive-2`: every relation sequence of one or two hops ranked by whole-path similarity (the
  planner before beam search: `max_hops=2`, unbounded beam, no length rule, no word alignment);
- `similarity-3`: beam search up to three hops ranked by whole-path similarity alone (the planner
  before word alignment, `aligned=False`);
- `beam-3` (the default), `beam-4`: beam search up to three or four hops, scored by word alignment
  plus whole-path similarity (`localrag.graph.align`), with the length rule (a sequence must score
  better than its own prefix);
- `beam-3-no-rule`: beam-3 without the length rule, to show what the rule is for;
- `grammar-3`, `grammar-aligned-3` (only when named in `--planners`: they load the bundled GGUF):
  the bundled model chooses among relation paths under a grammar, `grammar-3` among every
  sequence of up to three hops the graph reaches from the entity (the grammar planner before),
  `grammar-aligned-3` among beam-3's best `--offer` (the default planner since). With `--k 1` one
  generation per question: the first planned path decides Hits@1 and path accuracy whenever it
  reaches an entity, which every offered path does, so `--k 1` changes neither figure here.
`--sample N` takes N evenly spaced questions of each set (the three-hop files run template by
template, so a `--limit` would drop whole templates); `--sets` picks sets.

Per set and planner: Hits@1 with a bootstrap 95 % interval, path accuracy, and the median and 95th
percentile seconds per question (planning + following + ranking). Also per set: how many questions
have their topic entity as their only answer (`own_only`: reached only round a loop, e.g. country -> player ->
club -> country) and Hits@1 over the others (`hits_at_1_others`). `--code DIR`
imports localrag from another checkout (a before/after comparison; a checkout before 2026-12-07 takes
only the planners without a `floor`: beam-3, beam-3-no-rule, beam-4). The embedder is wrapped in a
cache and the questions (as the planner sees them: entity mentions taken out, and their cue words)
are embedded in one batch first, so the four planners share one encoding of each text and the times are the planners'
own work, without MiniLM (on a loaded two-core machine one encode costs more than everything else).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (first: it chooses which localrag the imports below get)
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"
THREE = ROOT / "benchmarks" / "results" / "wc2014-3hop.jsonl"

PLANNERS = {
    "exhaustive-2": {"max_hops": 2, "beam": 10**6, "margin": -math.inf, "aligned": False, "floor": -math.inf},
    "similarity-3": {"max_hops": 3, "aligned": False, "floor": -math.inf},  # the floor is for aligned scores
    "beam-3": {"max_hops": 3},
    "beam-3-no-rule": {"max_hops": 3, "margin": -math.inf},
    "beam-4": {"max_hops": 4},
}

# The grammar planners (the bundled model chooses, held to a grammar of relation paths, up to three
# hops), by the embedding planner that picks the paths offered: None offers every reachable sequence.
GRAMMAR_PLANNERS: dict[str, str | None] = {"grammar-3": None, "grammar-aligned-3": "beam-3"}


def evenly(questions: list[Any], n: int | None) -> list[Any]:
    """`n` questions spread evenly over the list (all when None or more than there are)."""
    if n is None or n >= len(questions):
        return questions
    return [questions[i * len(questions) // n] for i in range(n)]


class CachedEmbedder:
    """The same vectors as the wrapped embedder, each text encoded once."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.token_counts = inner.token_counts
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts])


def main() -> None:
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.evaluate.metrics import mean_figure
    from localrag.graph.align import cue_words
    from localrag.graph.kgqa import (
        evaluate_graph,
        link_topics,
        load_kgqa,
        load_triples_index,
        load_wc2014,
        summarise,
    )
    from localrag.graph.plan import OFFER, EmbeddingPlanner, GrammarPlanner, strip_mentions
    from localrag.models import bundled_embedder_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="questions per set")
    parser.add_argument("--planners", nargs="*", default=list(PLANNERS),
                        help=f"of {', '.join([*PLANNERS, *GRAMMAR_PLANNERS])}")
    parser.add_argument("--sets", nargs="*", default=["WC-P2", "WC-C", "3-hop"], help="WC-P2, WC-C, 3-hop")
    parser.add_argument("--sample", type=int, default=None,
                        help="evenly spaced questions per set (after --limit), so every template is in")
    parser.add_argument("--k", type=int, default=3, help="relation paths planned per question")
    parser.add_argument("--offer", type=int, default=OFFER, help="paths a grammar planner with a ranker offers")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads for the grammar planners")
    parser.add_argument("--three", type=Path, default=THREE, help="the three-hop questions (make_wc2014_3hop.py)")
    parser.add_argument("--summary", type=Path, default=None)
    parser.add_argument("--code", type=Path, help="a checkout to import localrag from")
    args = parser.parse_args()
    loaders = {
        "WC-P2": lambda: load_wc2014(DATA / "WC-P2.txt", limit=args.limit),
        "WC-C": lambda: load_wc2014(DATA / "WC-C.txt", limit=args.limit),
        "3-hop": lambda: load_kgqa(args.three, limit=args.limit),
    }
    sets = {name: evenly(loaders[name](), args.sample) for name in args.sets}
    embedder = CachedEmbedder(SentenceTransformerEmbedder(bundled_embedder_path()))
    generator = None
    if any(name in GRAMMAR_PLANNERS for name in args.planners):
        from localrag.generate import LlamaGenerator
        from localrag.models import bundled_generator_path

        generator = LlamaGenerator(bundled_generator_path(), n_ctx=2048, n_threads=args.threads)
    out: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = load_triples_index(DATA / "WC2014.txt", embedder.inner, Path(tmp))
        texts = []
        for q in (q for questions in sets.values() for q in questions):
            linked = link_topics(index, q.topics)
            texts.extend([strip_mentions(q.question, linked) or q.question, *cue_words(q.question, linked)])
        embedder.embed(texts)
        for name in args.planners:
            planner: Any
            if name in GRAMMAR_PLANNERS:
                ranking = GRAMMAR_PLANNERS[name]
                ranker = EmbeddingPlanner(embedder, **PLANNERS[ranking]) if ranking else None  # type: ignore[arg-type]
                planner = GrammarPlanner(generator, 3, ranker=ranker, offer=args.offer)  # type: ignore[arg-type]
            else:
                planner = EmbeddingPlanner(embedder, **PLANNERS[name])  # type: ignore[arg-type]
            for set_name, questions in sets.items():
                records = evaluate_graph(questions, index, planner, embedder=embedder, k=args.k)
                summary = summarise(records, planner=name, reasoner="paths", link="topic")
                hits = mean_figure([r.hit for r in records], seed=0)
                own = [list(q.answers) == list(q.topics) for q in questions]
                others = mean_figure([r.hit for r, o in zip(records, own, strict=True) if not o], seed=0)
                seconds = sorted(r.seconds for r in records)
                row: dict[str, Any] = {
                    "questions": summary.questions,
                    "hits_at_1": hits.to_json(),
                    "path_accuracy": summary.path_accuracy,
                    "own_only": sum(own),
                    "hits_at_1_others": others.to_json(),
                    "p50_s": statistics.median(seconds),
                    "p95_s": seconds[int(0.95 * (len(seconds) - 1))],
                    "planned_lengths": {
                        str(n): sum(1 for r in records if r.planned and len(r.planned[0]) == n) for n in range(1, 5)
                    },
                }
                out.setdefault(set_name, {})[name] = row
                print(
                    f"{set_name:6} {name:15} n {summary.questions:4}  Hits@1 {hits.value:.3f} "
                    f"[{hits.low:.3f}, {hits.high:.3f}]  path acc {summary.path_accuracy}  "
                    f"others ({others.n}) {'-' if others.value is None else f'{others.value:.3f}'}  "
                    f"p50 {row['p50_s'] * 1000:.1f} ms  p95 {row['p95_s'] * 1000:.1f} ms  "
                    f"top-path lengths {row['planned_lengths']}",
                    flush=True,
                )
    if args.summary is not None:
        load = Path("/proc/loadavg").read_text().split()[:3]
        summary = {"loadavg": load, "limit": args.limit, "sample": args.sample, "k": args.k, "offer": args.offer,
                   "three": args.three.name, "code": str(args.code) if args.code else None, "sets": out}
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
