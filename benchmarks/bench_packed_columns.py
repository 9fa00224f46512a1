"""What a hybrid search's two legs cost at 100k chunks when a hit's metadata is one packed column.

    LOCALRAG_N_THREADS=1 .venv/bin/python benchmarks/bench_packed_columns.py [--db DIR] [--summary S.json]

Asks whether the chunks table should keep a hit's metadata (path, file type, index, character span,
page, heading, token count) in one packed column beside its own columns, which stay for the filters:
LanceDB materialises every selected column of the top hits on its own, and a leg of a hybrid search
selects twelve. The store is bench_retrieval.py's (same rows and vectors, its cache), built once in a
temp folder or reused from `--db`; the packed column is added to it with `add_columns` (a SQL
`concat_ws` of the metadata columns: the same bytes per row a JSON list would take, near enough). Both
legs of a search run as the store runs them (one coroutine each on LanceDB's async API, gathered), top 20
each, with three column sets; the variants alternate per question, twice over the 200 COVID-QA
questions, and the first 20 timings of each are dropped. CPU seconds are the process's, LanceDB's threads
included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_retrieval  # noqa: E402

from localrag.store_reader import HNSW_EF_MIN  # noqa: E402
from localrag.store_schema import CHUNK_COLUMNS, CHUNKS, FTS_COLUMN  # noqa: E402

PACKED = ["path", "file_type", "idx", "char_start", "char_end", "page", "heading", "n_tokens"]
VARIANTS = {
    "all 12 columns (today)": list(CHUNK_COLUMNS),
    "id, doc, commit, text + packed": ["chunk_id", "doc_id", "commit_id", "text", "packed"],
    "id, doc, commit + packed (no text)": ["chunk_id", "doc_id", "commit_id", "packed"],
}


def add_packed(db_dir: Path) -> None:
    import lancedb

    table = lancedb.connect(str(db_dir)).open_table(CHUNKS)
    if "packed" not in table.schema.names:
        parts = ", ".join(f"cast({c} as string)" if c not in ("path", "file_type", "heading") else c for c in PACKED)
        table.add_columns({"packed": f"concat_ws('|', {parts})"})


async def timings(db_dir: Path, questions: list[str], vectors: np.ndarray) -> dict[str, dict[str, float]]:
    import lancedb

    table = await (await lancedb.connect_async(str(db_dir))).open_table(CHUNKS)

    async def both(i: int, columns: list[str]) -> None:
        vector = table.query().nearest_to(vectors[i]).distance_type("cosine").ef(max(4 * 20, HNSW_EF_MIN))
        text = table.query().nearest_to_text(questions[i], columns=FTS_COLUMN)
        await asyncio.gather(
            vector.select([*columns, "_distance"]).limit(20).to_arrow(),
            text.select([*columns, "_score"]).limit(20).to_arrow(),
        )

    wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpu: dict[str, float] = dict.fromkeys(VARIANTS, 0.0)
    for _ in range(2):
        for i in range(len(questions)):
            for name, columns in VARIANTS.items():
                began_cpu, began = time.process_time(), time.perf_counter()
                await both(i, columns)
                if i >= 20:
                    wall[name].append((time.perf_counter() - began) * 1000)
                    cpu[name] += time.process_time() - began_cpu
    return {
        name: {
            "p50_ms": round(statistics.median(wall[name]), 2),
            "p95_ms": round(float(np.percentile(wall[name], 95)), 2),
            "cpu_ms_per_search": round(cpu[name] * 1000 / len(wall[name]), 2),
        }
        for name in VARIANTS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a store bench_retrieval.py built (a copy gets the packed column)")
    parser.add_argument("--summary", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args()

    texts, vectors, _ = bench_retrieval.corpus_vectors(bench_retrieval.FULL, "onnx-int8")
    questions = _corpus.covid_questions(bench_retrieval.QUERIES)
    query_vectors = _corpus.cached_vectors(questions, "covid_questions-int8", _corpus.onnx_embedder("onnx-int8"))
    with tempfile.TemporaryDirectory(prefix="localrag-packed-") as tmp:
        db_dir = Path(tmp) / "db"
        if args.db is None:
            bench_retrieval.build_store(db_dir, texts, vectors)
        else:
            shutil.copytree(args.db, db_dir)
        add_packed(db_dir)
        load_before = os.getloadavg()
        figures = asyncio.run(timings(db_dir, questions, query_vectors))
    for name, row in figures.items():
        print(f"both legs, {name:36s} p50 {row['p50_ms']:6.2f} ms  CPU {row['cpu_ms_per_search']:6.2f} ms per search")
    if args.summary:
        summary = {
            "command": "benchmarks/bench_packed_columns.py " + " ".join(sys.argv[1:]),
            "chunks": len(texts),
            "threads": os.environ.get("LOCALRAG_N_THREADS", "default"),
            "both_legs": figures,
            "loadavg_start": [round(x, 2) for x in load_before],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        }
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
