"""What a search leg's columns cost at 100k chunks: all of a hit's columns, five light ones, the id alone.

    LOCALRAG_N_THREADS=1 .venv/bin/python benchmarks/bench_leg_columns.py --embed-backend onnx-int8

Asks whether legs that return only ids (the text and metadata fetched afterwards for the fused
top-k alone) would be faster. Each leg runs in one trip to LanceDB's event loop through the async
handle under the sync table (lancedb's private `_table`; the "one trip" store change measured in
benchmarks/README.md and not merged), `ef` as `Store.vector_search` sets it for 20 hits, with three
column sets, plus the fetch such a design adds: 10 rows by chunk id, all columns. Variants alternate
per question, twice over the 200 COVID-QA questions, so load changes hit all alike; the first 20
timings of each are dropped.
The store is bench_retrieval.py's (same rows and vectors, its cache), built once in a temp folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_retrieval  # noqa: E402
from lancedb.background_loop import LOOP  # noqa: E402

from localrag.store_schema import CHUNK_COLUMNS, FTS_COLUMN, sql_in  # noqa: E402

LIGHT = ["chunk_id", "doc_id", "commit_id", "char_start", "char_end"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-backend", default="onnx", choices=("onnx", "onnx-int8"))
    args = parser.parse_args()
    texts, vectors, _ = bench_retrieval.corpus_vectors(bench_retrieval.FULL, args.embed_backend)
    questions = _corpus.covid_questions(bench_retrieval.QUERIES)
    suffix = "-int8" if args.embed_backend == "onnx-int8" else ""
    query_vectors = _corpus.cached_vectors(questions, f"covid_questions{suffix}")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store, _ = bench_retrieval.build_store(Path(tmp) / "db", texts, vectors)
        table = store.chunks_table._table  # type: ignore[attr-defined]  # the handle the store's searches use

        def vector(columns: list[str]) -> Callable[[str, np.ndarray], Any]:
            def run(question: str, v: np.ndarray) -> Any:
                query = table.query().nearest_to(v).column("vector").distance_type("cosine")
                return LOOP.run(query.select([*columns, "_distance"]).limit(20).ef(80).to_arrow())

            return run

        def text(columns: list[str]) -> Callable[[str, np.ndarray], Any]:
            def run(question: str, v: np.ndarray) -> Any:
                query = table.query().nearest_to_text(question.replace('"', " "), columns=FTS_COLUMN)
                return LOOP.run(query.select([*columns, "_score"]).limit(20).to_arrow())

            return run

        def fetch(question: str, v: np.ndarray) -> Any:
            ids = [f"c{i}" for i in rng.integers(0, len(texts), 10)]
            return LOOP.run(table.query().where(sql_in("chunk_id", ids)).select(CHUNK_COLUMNS).to_arrow())

        variants = {
            "vector, all 12 columns": vector(list(CHUNK_COLUMNS)),
            "vector, 5 light columns": vector(LIGHT),
            "vector, chunk_id alone": vector(["chunk_id"]),
            "BM25, all 12 columns": text(list(CHUNK_COLUMNS)),
            "BM25, 5 light columns": text(LIGHT),
            "BM25, chunk_id alone": text(["chunk_id"]),
            "fetch 10 rows by id": fetch,
        }
        load_before = os.getloadavg()
        ms: dict[str, list[float]] = {name: [] for name in variants}
        for question, v in list(zip(questions, query_vectors, strict=True)) * 2:
            for name, run in variants.items():
                started = time.perf_counter()
                run(question, v)
                ms[name].append((time.perf_counter() - started) * 1000)
    for name, values in ms.items():
        print(f"{name:<26} p50 {statistics.median(values[20:]):6.2f}  p90 {np.percentile(values[20:], 90):6.2f}")
    print(f"load average: start {[round(x, 2) for x in load_before]}, end {[round(x, 2) for x in os.getloadavg()]}")


if __name__ == "__main__":
    main()
