"""What `localrag status` spends on naming stale documents, at 100,000 documents.

    .venv/bin/python benchmarks/bench_stale_documents.py [--home /tmp/docs100k] [--summary S]

A store of 100,000 documents of one chunk each (five kinds; the txt ones read by an older txt loader, so a
fifth are stale) is written once into `--home` and reused. Then `Store.document_readings()` (one read of
three columns) and `ingest.readings.stale_documents` are timed, five times each; the medians are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DOCUMENTS, DIM, KINDS = 100_000, 8, ("pdf", "md", "txt", "docx", "html")


def _store(home: Path):  # type: ignore[no-untyped-def]
    from localrag.store import Store
    from localrag.types import Chunk, Document

    new = not home.exists()
    store = Store(home, embedder_name="hash", dim=DIM)
    if new:
        rng = np.random.default_rng(0)
        for first in range(0, DOCUMENTS, 10_000):
            numbers = range(first, first + 10_000)
            kinds = [KINDS[d % len(KINDS)] for d in numbers]
            docs = [Document(f"d{d}", f"/home/user/docs/{d % 100}/document-{d}.{kind}", kind, f"h{d}", 1, 0.0,
                             read_with=f"{kind} 1{' ocr' if kind == 'pdf' else ''}; chunks 1 200/32")
                    for d, kind in zip(numbers, kinds, strict=True)]
            chunks = [Chunk(f"d{d}:0", f"d{d}", doc.path, 0, f"text of document {d}", 0, 4, file_type=doc.file_type)
                      for d, doc in zip(numbers, docs, strict=True)]
            vectors = rng.normal(size=(len(chunks), DIM)).astype(np.float32)
            store.write_batch(docs, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/docs100k"))
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    from localrag.config import Settings
    from localrag.ingest.readings import stale_documents

    store = _store(args.home)
    reads, checks, stale = [], [], 0
    for _ in range(5):
        started = time.perf_counter()
        readings = store.document_readings()
        read = time.perf_counter()
        stale = len(stale_documents(readings, Settings(ocr=True), 256))
        reads.append(read - started)
        checks.append(time.perf_counter() - read)
    summary = {
        "documents": len(readings), "stale": stale, "load_average": os.getloadavg()[0],
        "document_readings_s": round(statistics.median(reads), 3),
        "stale_documents_s": round(statistics.median(checks), 3),
    }
    print(json.dumps(summary, indent=1))
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
