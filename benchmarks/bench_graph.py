"""Graph mode on WC-P2 (two-hop football questions): Hits@1, path accuracy, path-retrieval latency.

    .venv/bin/python benchmarks/bench_graph.py [--limit 300] [--planners embedding,grammar] [--link text|gold]
        [--reasoner paths|model] [--quick]

Imports WC2014.txt (6,482 triples) into a fresh LanceDB folder in a temp dir, then for each of the
first `--limit` questions of WC-P2.txt: links the topic entity (`--link text`, the default, links
from the question text with `GraphIndex.link`; `--link gold` uses the head of the gold path, as the
KGQA format gives it), plans relation paths with each planner, follows them and answers.

Hits@1: the top answer is in the question's answer set. Path accuracy: the planned top-1 relation
path equals the gold one. Latency: p50/p95 of `GraphIndex.follow` for the gold 2-hop relation path
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

from localrag.graph.paths import GraphIndex, LinkedEntity  # noqa: E402
from localrag.graph.plan import EmbeddingPlanner, GrammarPlanner, Planner  # noqa: E402
from localrag.graph.reason import ModelReasoner, answer_question  # noqa: E402
from localrag.graph.store import GraphStore, normalise_entity  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"


def load_questions(limit: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for line in (DATA / "WC-P2.txt").read_text(encoding="utf-8").splitlines()[:limit]:
        fields = line.split("\t")
        gold = fields[2].split("#")
        out.append(
            {
                "question": fields[0],
                "answers": {normalise_entity(a) for a in fields[3].split("/") if a},
                "head": normalise_entity(gold[0]),
                "path": (gold[1], gold[3]),
            }
        )
    return out


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
    questions = load_questions(limit)
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
            index.follow([str(q["head"])], list(q["path"]))  # type: ignore[arg-type]
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        print(
            f"2-hop path retrieval: p50 {statistics.median(latencies):.3f} ms, "
            f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.3f} ms over {len(latencies)} questions"
        )

        linked_ok = sum(1 for q in questions if any(e.entity_id == q["head"] for e in index.link(str(q["question"]))))
        print(f"linking from question text: topic entity found for {linked_ok}/{len(questions)}")

        reasoner = ModelReasoner(generator) if args.reasoner == "model" and generator is not None else None
        for name in args.planners.split(","):
            planner: Planner = EmbeddingPlanner(embedder) if name == "embedding" else GrammarPlanner(generator)  # type: ignore[arg-type]
            hits = path_ok = 0
            started = time.perf_counter()
            for q in questions:
                gold_link = [LinkedEntity(str(q["head"]), index.names[str(q["head"])], 1.0, "gold", "")]
                linked = gold_link if args.link == "gold" else None
                result = answer_question(
                    str(q["question"]), index, planner, embedder=embedder, linked=linked, reasoner=reasoner
                )
                hits += bool(result.candidates) and result.candidates[0].entity_id in q["answers"]  # type: ignore[operator]
                path_ok += bool(result.planned) and result.planned[0].relations == q["path"]
            seconds = time.perf_counter() - started
            n = len(questions)
            print(
                f"planner={name} link={args.link} reasoner={args.reasoner}: Hits@1 {hits / n:.3f}, "
                f"path accuracy {path_ok / n:.3f} over {n} questions, {seconds / n * 1000:.0f} ms/question"
            )


if __name__ == "__main__":
    main()
