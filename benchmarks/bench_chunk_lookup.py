"""`Store.chunks(ids)` for many ids at once, by how many ids one `IN` query holds.

    .venv/bin/python benchmarks/bench_chunk_lookup.py [--home /tmp/chunks100k] [--summary S]

A store of 100,000 chunks (2,000 documents of 50, random unit vectors: the lookups never touch them) is written
once into `--home` and reused; its keys are indexed as an ingest leaves them (`refresh_indexes`). Then the same
random draws of 500, 5,000 and 39,000 chunk ids (a graph hub's listing reads 39,000 sources) are looked up with
`Store.chunks`, its `LOOKUP_BATCH` set to 500 (the size before) and to 5,000; each twice, both times kept.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DOCUMENTS, PER_DOCUMENT, DIM = 2000, 50, 384


def _store(home: Path):  # type: ignore[no-untyped-def]
    from localrag.store import Store
    from localrag.types import Chunk, Document

    new = not home.exists()
    store = Store(home, embedder_name="hash", dim=DIM)
    if new:
        rng = np.random.default_rng(0)
        for first in range(0, DOCUMENTS, 200):
            numbers = range(first, first + 200)
            docs = [Document(f"d{d}", f"/docs/{d}.txt", "txt", f"h{d}", 1, 0.0) for d in numbers]
            chunks = [Chunk(f"d{d}:{i}", f"d{d}", f"/docs/{d}.txt", i, f"text of chunk {i} of document {d} " * 30,
                            0, 10, file_type="txt") for d in numbers for i in range(PER_DOCUMENT)]
            vectors = rng.standard_normal((len(chunks), DIM)).astype(np.float32)
            store.write_batch(docs, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        store.refresh_indexes(vector_index_min_rows=10**9)
    return store


def main() -> None:
    import localrag.store as store_module

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/chunks100k"))
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    store = _store(args.home)
    ids = [f"d{d}:{i}" for d in range(DOCUMENTS) for i in range(PER_DOCUMENT)]
    draw = random.Random(0)
    kept = store_module.LOOKUP_BATCH
    rows = []
    for n in (500, 5000, 39000):
        wanted = draw.sample(ids, n)
        for size in (500, 5000):
            store_module.LOOKUP_BATCH = size
            times = []
            for _ in range(2):
                started = time.perf_counter()
                found = store.chunks(wanted)
                times.append(round(time.perf_counter() - started, 3))
            store_module.LOOKUP_BATCH = kept
            assert len(found) == n
            rows.append({"ids": n, "in_list": size, "seconds": times})
            print(n, size, times, flush=True)
    result = {"command": " ".join(sys.argv), "chunks": store.chunk_count(), "load_average": os.getloadavg(),
              "lookups": rows}
    if args.summary:
        args.summary.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
