"""What `localrag forget --purge` costs beside a plain forget, by index size.

    .venv/bin/python benchmarks/bench_forget_purge.py [--sizes 10000 100000] [--summary S]

For each size a store of that many chunks (real sentences from the shared data, `_corpus.benchmark_pieces`;
ten chunks a document; 384 dimensions as MiniLM's) is written in 2,000-chunk commits and given its indexes
as an ingest leaves them (full text always, the vector index from 20,000 rows). One document whose chunks
hold a marker word is then forgotten: the plain forget (the rows deleted) and the purge after it
(`Store.drop_old_versions`: the tables written anew, their indexes made again, no old version kept) are
timed. Every file of the store is searched for the marker before and after the purge (found only where Lance
did not compress the text), and the data, index and version files of before the purge still there after it
are listed (none should be).

The vectors are random (seeded): they time the vector index's build as well as real ones would, but say
nothing about its recall, which the purge does not change (the same rows, the same build). The graph's
tables, small beside the chunks, are left out.
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

from _corpus import benchmark_pieces  # noqa: E402
from _summary import load_at_start, write_summary  # noqa: E402

DIM, PER_DOCUMENT, COMMIT = 384, 10, 2_000
MARKER = "Quillfeathervault"


def _build(folder: Path, size: int, pieces: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    from localrag.store import Store
    from localrag.types import Chunk, Document

    store = Store(folder, embedder_name="bench", dim=DIM)
    rng = np.random.default_rng(0)
    for first in range(0, size, COMMIT):
        numbers = range(first // PER_DOCUMENT, (first + COMMIT) // PER_DOCUMENT)
        docs = [Document(f"d{d}", f"/home/user/docs/document-{d}.txt", "txt", f"h{d}", 1, 0.0, n_chunks=PER_DOCUMENT)
                for d in numbers]
        chunks = []
        for doc in docs:
            d = int(doc.doc_id[1:])
            for i in range(PER_DOCUMENT):
                text = pieces[(d * PER_DOCUMENT + i) % len(pieces)][1]
                if d == 7:
                    text = f"{MARKER} {text}"
                chunks.append(Chunk(f"{doc.doc_id}:{i}", doc.doc_id, doc.path, i, text, 0, len(text), file_type="txt"))
        vectors = rng.normal(size=(len(chunks), DIM)).astype(np.float32)
        store.write_batch(docs, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    store.refresh_indexes()
    return store


def _files_holding(folder: Path, word: str) -> int:
    needle = word.encode("utf-8")
    return sum(1 for path in folder.rglob("*") if path.is_file() and needle in path.read_bytes())


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def _size_mb(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def run(size: int, pieces: list[tuple[str, str]]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="purge-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        store = _build(folder, size, pieces)
        built = time.perf_counter() - started
        vector_index = store._vector_index() is not None
        before = _files_holding(folder, MARKER)
        started = time.perf_counter()
        removed = store.delete_documents(["d7"])
        forget_s = time.perf_counter() - started
        after_forget = _files_holding(folder, MARKER)
        files = _files(folder)
        started = time.perf_counter()
        store.drop_old_versions()
        purge_s = time.perf_counter() - started
        # Lance compresses the text of larger pages, so a word search misses it there: what shows that no
        # file of before the purge holds the deleted rows is that none is left (but the lock and version hint).
        kept = sorted(str(p.relative_to(folder)) for p in files & _files(folder)
                      if p.suffix in {".lance", ".manifest", ".txn", ".arrow", ".idx"})
        row = {
            "chunks": size, "vector_index": vector_index, "chunks_forgotten": removed,
            "build_s": round(built, 1), "forget_s": round(forget_s, 3), "purge_s": round(purge_s, 2),
            "files_holding_marker": {"before": before, "after_forget": after_forget,
                                     "after_purge": _files_holding(folder, MARKER)},
            "files_before_purge": len(files), "data_files_kept_by_purge": kept,
            "store_mb_after": round(_size_mb(folder), 1),
        }
        print(json.dumps(row), flush=True)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    pieces = benchmark_pieces(min(max(args.sizes), 120_000))
    load = load_at_start()
    rows = [run(size, pieces) for size in args.sizes]
    write_summary("bench_forget_purge.py", load, rows, args.summary)


if __name__ == "__main__":
    main()
