"""Embedding runtimes side by side: torch (sentence-transformers) vs ONNX Runtime float32 vs int8.

    .venv/bin/python benchmarks/bench_embed_backends.py [--sets hotpotqa,musique] [--speed-chunks 300] [--rounds 3]

For each set, every corpus paragraph is one chunk ("title\\ntext", what ingest embeds). Speed: the
three runtimes embed the same first `--speed-chunks` chunks in alternating rounds (torch, onnx,
onnx-int8, then again on the next slice), so a change in the machine's load hits all three alike;
chunks/s is chunks over the summed seconds of each runtime. Query p50: each question embedded
alone. Quality: every chunk embedded by each ONNX runtime goes into a real Store; recall@5 / MRR of
the dense leg and of the engine's hybrid search (bench_recall.py's gold and scoring). Torch's
quality is the float ONNX one: their vectors agree to the `onnx_vs_torch_max_abs_diff` measured on
the speed chunks. The ONNX export is made (or found) before timing starts. Writes
benchmarks/summaries/embed_backends.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_recall  # noqa: E402

from localrag.embed import load_embedder  # noqa: E402
from localrag.models import bundled_embedder_path  # noqa: E402
from localrag.retrieve import Retriever  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document  # noqa: E402

BACKENDS = ("torch", "onnx", "onnx-int8")
SUMMARY = Path(__file__).resolve().parent / "summaries" / "embed_backends.json"
LOADERS = {"hotpotqa": bench_recall.hotpot, "musique": bench_recall.musique}


def timed_embedding(embedders: dict, texts: list[str], rounds: int) -> tuple[dict, dict]:  # type: ignore[type-arg]
    seconds = dict.fromkeys(embedders, 0.0)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in embedders}
    bounds = np.linspace(0, len(texts), rounds + 1).astype(int)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        for name, embedder in embedders.items():
            began = time.perf_counter()
            parts[name].append(embedder.embed(texts[start:end]))
            seconds[name] += time.perf_counter() - began
    return seconds, {name: np.concatenate(p) for name, p in parts.items()}


def query_p50(embedder, questions: list[str]) -> float:  # type: ignore[no-untyped-def]
    times = []
    for question in questions:
        began = time.perf_counter()
        embedder.embed([question])
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def quality(name: str, embedder, paragraphs, questions, vectors: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name=embedder.name, dim=vectors.shape[1])
        docs = [Document(str(i), f"/{name}/{i}.txt", "txt", str(i), len(t), 0.0, title)
                for i, (title, t) in enumerate(paragraphs)]
        chunks = [Chunk(f"{i}:0", str(i), f"/{name}/{i}.txt", 0, t, 0, len(t), heading=title, file_type="txt")
                  for i, (title, t) in enumerate(paragraphs)]
        for start in range(0, len(docs), 256):
            store.write_batch(docs[start : start + 256], chunks[start : start + 256], vectors[start : start + 256])
        store.refresh_indexes()
        retriever = Retriever(store, embedder)
        dense, hybrid = [], []
        query_vectors = embedder.embed([q for q, _ in questions])
        for (question, gold), vector in zip(questions, query_vectors, strict=True):
            dense.append(bench_recall.score([c.doc_id for c, _ in store.vector_search(vector, 20)], gold))
            top = [h.chunk.doc_id for h in retriever.search(question, 5)]
            deep = [h.chunk.doc_id for h in retriever.search(question, 20)]
            hybrid.append((bench_recall.score(top, gold)[0], bench_recall.score(deep, gold)[1]))
    return {
        "dense_recall@5": round(float(np.mean([r for r, _ in dense])), 4),
        "dense_mrr": round(float(np.mean([m for _, m in dense])), 4),
        "hybrid_recall@5": round(float(np.mean([r for r, _ in hybrid])), 4),
        "hybrid_mrr": round(float(np.mean([m for _, m in hybrid])), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="hotpotqa", help="comma-separated: hotpotqa, musique")
    parser.add_argument("--speed-chunks", type=int, default=300, help="chunks timed with every runtime")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    args = parser.parse_args()
    folder = bundled_embedder_path()
    embedders = {name: load_embedder(folder, name, batch_size=32) for name in BACKENDS}
    for embedder in embedders.values():
        embedder.embed(["warm up: loads the model, makes the ONNX export if it is not cached"])
    summary: dict[str, object] = {"command": " ".join(["benchmarks/bench_embed_backends.py", *sys.argv[1:]]),
                                  "sets": {}}
    for set_name in args.sets.split(","):
        paragraphs, questions = LOADERS[set_name]()
        texts = [f"{title}\n{text}" for title, text in paragraphs]
        sample = texts[: args.speed_chunks]
        seconds, vectors = timed_embedding(embedders, sample, args.rounds)
        load = Path("/proc/loadavg").read_text().split()[:3]
        float_gap = float(np.abs(vectors["onnx"] - vectors["torch"]).max())
        int8_cos = (vectors["onnx-int8"] * vectors["torch"]).sum(axis=1)
        row: dict[str, object] = {
            "chunks": len(texts),
            "speed_chunks": len(sample),
            "questions": len(questions),
            "load_average": " ".join(load),
            "onnx_vs_torch_max_abs_diff": float_gap,
            "int8_vs_torch_cosine_mean": round(float(int8_cos.mean()), 4),
            "int8_vs_torch_cosine_min": round(float(int8_cos.min()), 4),
            "backends": {},
        }
        for name, embedder in embedders.items():
            row["backends"][name] = {  # type: ignore[index]
                "chunks_per_s": round(len(sample) / seconds[name], 1),
                "speedup_vs_torch": round(seconds["torch"] / seconds[name], 2),
                "query_p50_ms": round(query_p50(embedder, [q for q, _ in questions]), 2),
            }
        for name in ("onnx", "onnx-int8"):
            everything = np.concatenate([vectors[name], embedders[name].embed(texts[len(sample) :])])
            row["backends"][name].update(quality(set_name, embedders[name], paragraphs, questions, everything))  # type: ignore[index]
        summary["sets"][set_name] = row  # type: ignore[index]
        print(json.dumps({set_name: row}, indent=2), flush=True)
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
