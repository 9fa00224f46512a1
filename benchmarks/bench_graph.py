"""Graph mode on WC-P2 (two-hop football questions): Hits@1, path accuracy, path-retrieval latency.

    .venv/bin/python benchmarks/bench_graph.py [--limit 300] [--planners embedding,grammar] [--link text|gold]
        [--reasoner paths|model] [--quick]

Imports WC2014.txt (6,482 triples) into a fresh LanceDB folder in a temp dir, then for each of the
first `--limit` questions of WC-P2.txt: links the topic entity (`--link text`, the default, links
from the question text with `GraphIndex.link`; `--link gold` uses the head of the gold path, as the
KGQA format gives it), plans relation paths with each planner, follows them and answers.

Questions are read with `localrag.graph.kgqa.load_wc2014` and scored by `kgqa.evaluate_graph`:
Hits@1 (the top answer is in the question's answer set), answer F1 (the predicted set, i.e. the
candidates tied at the top score, against the answer set) and path accuracy (the planned top-1
relation path equals the gold one). Latency: p50/p95 of `GraphIndex.follow` for the gold 2-hop relation path
from the gold head (the path retrieval step alone, index already in memory). `--quick` = 50 questions.
The data stays in ../shared/data; nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localrag.graph.kgqa import evaluate_graph, load_wc2014, summarise  # noqa: E402
from localrag.graph.paths import GraphIndex  # noqa: E402
from localrag.graph.plan import EmbeddingPlanner, GrammarPlanner, Planner  # noqa: E402
from localrag.graph.reason import ModelReasoner  # noqa: E402
from localrag.graph.store import GraphStore  # noqa: E402
from localrag.graph.triples import normalise_entity  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--planners", default="embedding,grammar")
    parser.add_argument("--link", choices=["text", "gold"], default="text")
    parser.add_argument("--reasoner", choices=["paths", "model"], default="paths")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    limit = 50 if args.quick else args.limit

    from localrag.embed import SentenceTransformerEmbedder
    from localrag.models import bundled_embedder_path, bundled_generator_path

    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    generator = None
    needs_model = "grammar" in args.planners or args.reasoner == "model"
    if needs_model:
        from localrag.generate import LlamaGenerator

        generator = LlamaGenerator(bundled_generator_path(), n_ctx=2048)
    questions = load_wc2014(DATA / "WC-P2.txt", limit=limit)
    with tempfile.TemporaryDirectory() as tmp:
        store = GraphStore(Path(tmp) / "db", embedder)
        started = time.perf_counter()
        report = store.import_triples(DATA / "WC2014.txt")
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        index = GraphIndex.load(store)
        load_s = time.perf_counter() - started
        print(
            f"import: {report.triples} triples, {report.entities} entities, {len(report.errors)} bad lines, "
            f"{import_s:.1f} s (with entity embeddings); index load {load_s * 1000:.0f} ms"
        )

        latencies = []
        for q in questions:
            t0 = time.perf_counter()
            index.follow([normalise_entity(q.topics[0])], q.gold_paths[0])
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        print(
            f"2-hop path retrieval: p50 {statistics.median(latencies):.3f} ms, "
            f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.3f} ms over {len(latencies)} questions"
        )

        linked_ok = sum(
            any(e.entity_id == normalise_entity(q.topics[0]) for e in index.link(q.question)) for q in questions
        )
        print(f"linking from question text: topic entity found for {linked_ok}/{len(questions)}")

        reasoner = ModelReasoner(generator) if args.reasoner == "model" and generator is not None else None
        for name in args.planners.split(","):
            planner: Planner = EmbeddingPlanner(embedder) if name == "embedding" else GrammarPlanner(generator)  # type: ignore[arg-type]
            started = time.perf_counter()
            records = evaluate_graph(questions, index, planner, embedder=embedder, reasoner=reasoner,
                                     link="topic" if args.link == "gold" else "text")
            seconds = time.perf_counter() - started
            summary = summarise(records, planner=name, reasoner=args.reasoner, link=args.link)
            print(
                f"planner={name} link={args.link} reasoner={args.reasoner}: Hits@1 {summary.hits_at_1:.3f}, "
                f"answer F1 {summary.answer_f1:.3f}, path accuracy {summary.path_accuracy:.3f} over "
                f"{summary.questions} questions, {seconds / len(questions) * 1000:.0f} ms/question"
            )


if __name__ == "__main__":
    main()
