"""Whole-ingest throughput per embedder runtime, against raw sentence-transformers encoding of the same chunks.

    .venv/bin/python benchmarks/bench_ingest_backends.py [--articles 40] [--backends torch,onnx,torch-bf16]
        [--threads N] [--raw-rounds 2] [--code DIR] [--summary benchmarks/summaries/ingest_backends.json]

Issue 13's encoder goal is about ingest: chunks/s of `Engine.ingest` >= 2x raw sentence-transformers
(float32 torch) `encode` of the same chunks. Each backend ingests the first `--articles` COVID-QA
articles (their full text, one file each) into a fresh data dir through a real Engine, timed from the
call to its return (opening the store, reading, chunking, embedding, LanceDB writes, index refresh); the
model is loaded and warmed before the clock starts. The raw reference encodes exactly the chunk texts the
ingest embedded (`embedding_text`), with a float32 SentenceTransformer of the same bundled folder,
`--raw-rounds` times after the ingests (the mean is the reference; each is reported, so a change in the
machine's load shows).

Per backend the summary also gives the seconds spent inside each step (`stages`: opening the store, token
counts, chunking, embedding, store writes, index refresh; summed over threads, so a checkout whose steps
run on two threads can add up to more than the wall time), and a digest of the stored rows (chunk ids,
texts, token counts, vectors), so two checkouts can be shown to store the same rows.

`--threads N`: torch's threads and ONNX Runtime's (through LOCALRAG_N_THREADS), for a shared machine.
`--code DIR`: import localrag from another checkout (e.g. `git archive <commit> localrag | tar -x -C DIR`),
for a before/after comparison in the same session.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (first: it chooses which localrag the imports below get)
import bench_engine
import numpy as np
from _scratch import scratch_dir

SUMMARY = Path(__file__).resolve().parent / "summaries" / "ingest_backends.json"


def write_corpus(folder: Path, articles: int) -> None:
    data = json.loads(bench_engine.DATA.read_text())["data"][:articles]
    folder.mkdir(parents=True)
    for i, article in enumerate(data):
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        (folder / f"article_{i:03d}.txt").write_text(text, encoding="utf-8")


def timed(owner: Any, name: str, stages: dict[str, float], key: str) -> None:
    """Wrap `owner.name` so the seconds spent inside it add up in `stages[key]` (from whichever thread)."""
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            stages[key] = stages.get(key, 0.0) + time.perf_counter() - began

    setattr(owner, name, wrapper)


def stored_rows_digest(store: Any) -> str:
    """sha256 over every stored chunk's file name, index, text, token count and vector bytes, in that order.

    The file name, not the chunk id: ids hash the corpus's absolute path, a fresh temp dir per run.
    """
    columns = ("path", "idx", "text", "n_tokens", "vector")
    table = store.chunks_table.search().select(list(columns)).limit(None).to_arrow()
    rows = sorted((Path(path).name, idx, text, n_tokens, vector)
                  for path, idx, text, n_tokens, vector in zip(*(table[c].to_pylist() for c in columns), strict=True))
    digest = hashlib.sha256()
    for name, idx, text, n_tokens, vector in rows:
        digest.update(f"{name}\0{idx}\0{text}\0{n_tokens}\0".encode())
        digest.update(np.asarray(vector, dtype=np.float32).tobytes())
    return digest.hexdigest()


def ingest(backend: str, corpus: Path) -> tuple[float, int, list[str], dict[str, Any]]:
    """(seconds, chunks written, the chunks' embedded texts, stage seconds and row digest) of one fresh ingest."""
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest import pipeline
    from localrag.ingest.pipeline import embedding_text
    from localrag.store import Store

    os.environ["LOCALRAG_HOME"] = scratch_dir(prefix=f"localrag-ingest-{backend}-")
    engine = Engine(load_settings(embed_backend=backend))
    engine.embedder.embed(["warm up: loads the model, makes the ONNX export if it is not cached"])
    stages: dict[str, float] = {}
    embedder_type = type(engine.embedder)
    saved = [(owner, name, getattr(owner, name)) for owner, name in
             [(embedder_type, "embed"), (embedder_type, "token_counts"), (pipeline, "chunk_document"),
              (Store, "__init__"), (Store, "write_batch"), (Store, "refresh_indexes")]]
    for owner, name, _ in saved:
        key = {"__init__": "store_open", "chunk_document": "chunking (with token counts)"}.get(name, name)
        timed(owner, name, stages, key)
    began = time.perf_counter()
    report = engine.ingest([corpus])
    seconds = time.perf_counter() - began
    for owner, name, inner in saved:
        setattr(owner, name, inner)
    docs = {d.doc_id: d for d in engine.documents()}
    texts = [embedding_text(c, docs[c.doc_id].title) for d in docs.values() for c in engine.store.doc_chunks(d.doc_id)]
    details = {"stages_s": {k: round(v, 2) for k, v in sorted(stages.items())},
               "stored_rows_sha256": stored_rows_digest(engine.store)}
    return seconds, report.chunks_written, texts, details


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
    parser.add_argument("--threads", type=int, default=0, help="torch and ONNX Runtime threads (0: their defaults)")
    parser.add_argument("--raw-rounds", type=int, default=2)
    parser.add_argument("--code", type=Path, help="a localrag checkout to import instead of this one")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        os.environ["LOCALRAG_N_THREADS"] = str(args.threads)
    corpus = Path(scratch_dir(prefix="localrag-ingest-corpus-")) / "corpus"
    write_corpus(corpus, args.articles)
    load = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    runs = {backend: ingest(backend, corpus) for backend in args.backends.split(",")}
    texts = next(iter(runs.values()))[2]
    raw = [raw_encode(texts) for _ in range(args.raw_rounds)]
    load.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    reference = len(texts) / (sum(raw) / len(raw))
    import localrag

    summary = {
        "command": " ".join(["benchmarks/bench_ingest_backends.py", *sys.argv[1:]]),
        "code": str(Path(localrag.__file__).parent.parent),
        "articles": args.articles,
        "chunks": len(texts),
        "threads": args.threads or "default",
        "load_average_start_end": load,
        "raw_encode_chunks_per_s": [round(len(texts) / s, 1) for s in raw],
        "backends": {
            backend: {"ingest_seconds": round(seconds, 1), "ingest_chunks_per_s": round(chunks / seconds, 1),
                      "vs_raw_encode": round(chunks / seconds / reference, 2), **details}
            for backend, (seconds, chunks, _, details) in runs.items()
        },
    }
    print(json.dumps(summary, indent=2))
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
