"""Whole-ingest throughput per embedder runtime, against raw sentence-transformers encoding of the same chunks.

    .venv/bin/python benchmarks/bench_ingest_backends.py [--articles 40] [--backends torch,onnx,torch-bf16]
        [--summary benchmarks/summaries/ingest_backends.json]

Issue 13's encoder goal is about ingest: chunks/s of `Engine.ingest` >= 2x raw sentence-transformers
(float32 torch) `encode` of the same chunks. Each backend ingests the first `--articles` COVID-QA
articles (their full text, one file each) into a fresh data dir through a real Engine, timed from the
call to its return (reading, chunking, embedding, LanceDB writes, index refresh); the model is loaded
and warmed before the clock starts. The raw reference encodes exactly the chunk texts the ingest
embedded (`embedding_text`), with a float32 SentenceTransformer of the same bundled folder, once
before and once after the ingests (the mean is the reference, both are reported, so a change in the
machine's load shows).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_engine  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "ingest_backends.json"


def write_corpus(folder: Path, articles: int) -> None:
    data = json.loads(bench_engine.DATA.read_text())["data"][:articles]
    folder.mkdir(parents=True)
    for i, article in enumerate(data):
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        (folder / f"article_{i:03d}.txt").write_text(text, encoding="utf-8")


def ingest(backend: str, corpus: Path) -> tuple[float, int, list[str]]:
    """(seconds, chunks written, the chunks' embedded texts) of one ingest into a fresh data dir."""
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.pipeline import embedding_text

    os.environ["LOCALRAG_HOME"] = tempfile.mkdtemp(prefix=f"localrag-ingest-{backend}-")
    engine = Engine(load_settings(embed_backend=backend))
    engine.embedder.embed(["warm up: loads the model, makes the ONNX export if it is not cached"])
    began = time.perf_counter()
    report = engine.ingest([corpus])
    seconds = time.perf_counter() - began
    docs = {d.doc_id: d for d in engine.documents()}
    texts = [embedding_text(c, docs[c.doc_id].title) for d in docs.values() for c in engine.store.doc_chunks(d.doc_id)]
    return seconds, report.chunks_written, texts


def raw_encode(texts: list[str]) -> float:
    from sentence_transformers import SentenceTransformer

    from localrag.models import bundled_embedder_path

    model = SentenceTransformer(str(bundled_embedder_path()), device="cpu", local_files_only=True)
    model.encode(["warm up"])
    began = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--backends", default="torch,onnx,torch-bf16")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    corpus = Path(tempfile.mkdtemp(prefix="localrag-ingest-corpus-")) / "corpus"
    write_corpus(corpus, args.articles)
    load = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    runs = {backend: ingest(backend, corpus) for backend in args.backends.split(",")}
    texts = next(iter(runs.values()))[2]
    raw = [raw_encode(texts)]
    raw.append(raw_encode(texts))
    load.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    reference = len(texts) / (sum(raw) / len(raw))
    summary = {
        "command": " ".join(["benchmarks/bench_ingest_backends.py", *sys.argv[1:]]),
        "articles": args.articles,
        "chunks": len(texts),
        "load_average_start_end": load,
        "raw_encode_chunks_per_s": [round(len(texts) / s, 1) for s in raw],
        "backends": {
            backend: {"ingest_seconds": round(seconds, 1), "ingest_chunks_per_s": round(chunks / seconds, 1),
                      "vs_raw_encode": round(chunks / seconds / reference, 2)}
            for backend, (seconds, chunks, _) in runs.items()
        },
    }
    print(json.dumps(summary, indent=2))
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
