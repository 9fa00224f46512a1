"""Query speed of the store at 100k chunks: vector, BM25 and hybrid p50/p95, and ANN recall@10.

    .venv/bin/python benchmarks/bench_retrieval.py [--quick]

Chunks are 100k windows of 1-4 sentences from the shared data (COVID-QA, PubMedQA, HotpotQA,
MuSiQue) with real MiniLM vectors (cached in benchmarks/results/; embedding them on a CPU takes a
long while the first time). Queries are 200 COVID-QA questions. The store is built through
`Store.write_batch` + `refresh_indexes`, so at 100k rows it carries the IVF_HNSW_SQ index; `--quick`
uses 10k chunks, below the index threshold, so vector search is exact there. Query embedding is
timed apart from the store work: it does not depend on the corpus size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402

from localrag.retrieve import Retriever  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document  # noqa: E402

FULL = 100_000
QUERIES = 200
K = 5
PIECES_PER_DOC = 50


class _Precomputed:
    """Hands out query vectors embedded beforehand, so the timings measure the store alone."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors
        self.dim = next(iter(vectors.values())).shape[0]
        self.max_tokens = 256

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


def corpus_vectors(n: int) -> tuple[list[str], np.ndarray]:
    pieces = [t for _, t in _corpus.benchmark_pieces(FULL)]
    full = list(_corpus.RESULTS.glob(f"vectors_pieces_{FULL}_*.npy"))
    if full:
        return pieces[:n], np.load(full[0], mmap_mode="r")[:n].astype(np.float32)
    return pieces[:n], _corpus.cached_vectors(pieces[:n], "pieces")


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k chunks instead of 100k")
    args = parser.parse_args()
    n = 10_000 if args.quick else FULL
    texts, vectors = corpus_vectors(n)
    questions = _corpus.covid_questions(QUERIES)
    query_vectors = _corpus.cached_vectors(questions, "covid_questions")
    embedder = _corpus.load_embedder()
    embed_ms = timed(lambda: embedder.embed([questions[0]]), 20)

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name="all-MiniLM-L6-v2", dim=vectors.shape[1])
        started = time.perf_counter()
        batch_docs = 50  # 2,500 chunks per commit: ten pipeline-sized batches at once, for a short build
        n_docs = -(-n // PIECES_PER_DOC)
        for first in range(0, n_docs, batch_docs):
            docs, chunks, rows = [], [], []
            for d in range(first, min(first + batch_docs, n_docs)):
                path = f"/bench/doc{d:05d}.txt"
                docs.append(Document(f"d{d}", path, "txt", f"h{d}", 0, 0.0))
                for i in range(d * PIECES_PER_DOC, min((d + 1) * PIECES_PER_DOC, n)):
                    chunks.append(Chunk(f"c{i}", f"d{d}", path, i, texts[i], i * 300, i * 300 + 299, file_type="txt"))
                    rows.append(i)
            store.write_batch(docs, chunks, vectors[rows])
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        store.refresh_indexes()
        index_s = time.perf_counter() - started
        status = store.status()

        retriever = Retriever(store, _Precomputed(dict(zip(questions, query_vectors, strict=True))))
        for q, v in zip(questions[:10], query_vectors[:10], strict=True):  # warm the caches
            retriever.search(q, K)
            store.vector_search(v, 4 * K)
        vec_ms, fts_ms, hyb_ms, recall = [], [], [], []
        for q, v in zip(questions, query_vectors, strict=True):
            vec_ms += timed(lambda v=v: store.vector_search(v, 4 * K), 1)
            fts_ms += timed(lambda q=q: store.text_search(q, 4 * K), 1)
            hyb_ms += timed(lambda q=q: retriever.search(q, K), 1)
            exact = set(np.argsort(-(vectors @ v))[:10].tolist())
            found = {int(c.chunk_id[1:]) for c, _ in store.vector_search(v, 10)}
            recall.append(len(exact & found) / 10)

    print(
        f"chunks: {n}  write: {write_s:.1f}s  refresh_indexes: {index_s:.1f}s  size: {status.size_bytes / 1e6:.0f} MB"
    )
    print(f"indexes: vector={status.vector_index}; fts={status.fts_index}")
    print(f"{'query (ms)':<28} {'p50':>7} {'p95':>7}")
    for label, values in (
        (f"vector top-{4 * K}", vec_ms),
        (f"BM25 top-{4 * K}", fts_ms),
        (f"hybrid k={K} (both + RRF)", hyb_ms),
        ("query embedding (MiniLM)", embed_ms),
    ):
        print(f"{label:<28} {pct(values, 50):>7.1f} {pct(values, 95):>7.1f}")
    print(f"ANN recall@10 vs exact: {statistics.mean(recall):.3f} over {len(recall)} queries")


if __name__ == "__main__":
    main()
