"""Query speed of the store at 100k chunks: vector, BM25 and hybrid p50/p95, and ANN recall@10.

    .venv/bin/python benchmarks/bench_retrieval.py [--quick] [--summary FILE] [--ids FILE] [--profile] [--reads]

Chunks are 100k windows of 1-4 sentences from the shared data (COVID-QA, PubMedQA, HotpotQA,
MuSiQue) with real MiniLM vectors, embedded by the default backend (ONNX Runtime, float32; threads:
LOCALRAG_N_THREADS) and cached in benchmarks/results/ (embedding them on a CPU takes a long while
the first time; `--embed-only` just fills the cache; `--embed-backend onnx-int8` makes the rows
and the questions' vectors with the int8 export instead, about twice as fast to make, cosine ~0.995
to the float ones). Queries are 200 COVID-QA questions. The store
is built through `Store.write_batch` + `refresh_indexes`, so at 100k rows it carries the
IVF_HNSW_SQ index; `--quick` uses 10k chunks, below the index threshold, so vector search is exact
there (`--ids` of two `--quick` runs, one per code version, `--compare`d: the same answers).

Store work (the `hybrid` row) is timed with query vectors embedded beforehand; the query embedding
is timed apart (`embed_queries`, each question once, float32 MiniLM on `--query-backend`: localrag's default
runtime, OpenVINO, unless `onnx` asks for ONNX Runtime), and `hybrid + embedding` is the whole
`Retriever.search` with the real embedder, the BM25 leg running beside the embedding.
`--reads` counts, after the timings, how many LanceDB queries each leg's searches took: a leg asks
again when rows of equal score straddle its cut.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402

import localrag.config as config_module  # noqa: E402
import localrag.store_indexes as store_module  # noqa: E402
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

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)


def corpus_vectors(n: int, backend: str) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """The first n pieces, their vectors (a slice of the 100k cache when it holds them), how they were made."""
    tag = "pieces" + ("-int8" if backend == "onnx-int8" else "")
    pieces = [t for _, t in _corpus.benchmark_pieces(FULL)]
    prefix = _corpus.cached_prefix(pieces, tag, n) if n < FULL else None
    vectors = prefix if prefix is not None else _corpus.cached_vectors(pieces[:n], tag, _corpus.onnx_embedder(backend))
    made = _corpus.vectors_path(pieces if prefix is not None or n == FULL else pieces[:n], tag).with_suffix(".json")
    return pieces[:n], vectors, json.loads(made.read_text()) if made.is_file() else {}


def embed_probe(backend: str, sample: int) -> str:
    """How long embedding all 100k pieces would take: the rate on `sample` random pieces, per token."""
    import random

    pieces = [t for _, t in _corpus.benchmark_pieces(FULL)]
    embedder = _corpus.onnx_embedder(backend)
    limit = embedder.max_tokens
    tokens = sum(min(n, limit) for n in embedder.token_counts(pieces))
    drawn = random.Random(1).sample(pieces, sample)
    embedder.embed(drawn[:32])
    started = time.perf_counter()
    embedder.embed(drawn)
    rate = sum(min(n, limit) for n in embedder.token_counts(drawn)) / (time.perf_counter() - started)
    threads = embedder.session_threads or "default"
    return (
        f"{backend}, threads {threads}: {rate:,.0f} tokens/s on {sample} random pieces; "
        f"all {len(pieces):,} pieces ({tokens:,} tokens) would take {tokens / rate / 60:.1f} min"
    )


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def build_store(folder: Path, texts: list[str], vectors: np.ndarray) -> tuple[Store, dict[str, float]]:
    """The store as ingest leaves it: batched writes, then refresh_indexes (its ANN part timed apart)."""
    n = len(texts)
    store = Store(folder, embedder_name="all-MiniLM-L6-v2", dim=vectors.shape[1])
    seconds: dict[str, float] = {}
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
    seconds["write"] = time.perf_counter() - started
    build = store.build_vector_index

    def timed_build() -> None:
        begun = time.perf_counter()
        build()
        seconds["vector_index"] = time.perf_counter() - begun

    store.build_vector_index = timed_build  # type: ignore[method-assign]
    started = time.perf_counter()
    store.refresh_indexes()
    seconds["refresh_indexes"] = time.perf_counter() - started
    del store.build_vector_index  # the class's own again, for later rebuilds
    return store, seconds


def profile(label: str, calls: Sequence[Callable[[], object]], lines: int = 30) -> str:
    """cProfile of the calls (this thread only: a leg run in the pool shows as the wait for it)."""
    prof = cProfile.Profile()
    prof.enable()
    for call in calls:
        call()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(lines)
    return f"--- profile: {label} ({len(calls)} calls) ---\n{out.getvalue()}"


def ef_sweep(store: Store, vectors: np.ndarray, query_vectors: np.ndarray, efs: Sequence[int]) -> list[str]:
    """Recall@10 and p50 of the bare ANN query (chunk ids only) at several HNSW `ef`, limits 10 and 20."""
    lines = [f"{'ef':>5} {'recall@10':>10} {'recall@20':>10} {'p50 ms (k=20)':>14}"]
    exact = [np.argsort(-(vectors @ v))[:20] for v in query_vectors]
    for ef in efs:
        found: dict[int, list[float]] = {10: [], 20: []}
        ms: list[float] = []
        for v, best in zip(query_vectors, exact, strict=True):
            for k in (10, 20):
                query = (
                    store.chunks_table.search(v, query_type="vector", vector_column_name="vector")
                    .distance_type("cosine")  # type: ignore[attr-defined]
                    .select(["chunk_id"])
                    .limit(k)
                    .ef(ef)
                )
                started = time.perf_counter()
                got = query.to_arrow()["chunk_id"].to_pylist()
                if k == 20:
                    ms.append((time.perf_counter() - started) * 1000)
                found[k].append(len({int(c[1:]) for c in got} & set(best[:k].tolist())) / k)
        lines.append(
            f"{ef:>5} {statistics.mean(found[10]):>10.3f} {statistics.mean(found[20]):>10.3f} {pct(ms, 50):>14.1f}"
        )
    return lines


def build_sweep(store: Store, vectors: np.ndarray, query_vectors: np.ndarray, candidates: Sequence[int]) -> list[str]:
    """The ANN index built again with each HNSW ef_construction: build time, recall@10, vector top-20 p50."""
    lines = [f"{'ef_construction':>15} {'build s':>8} {'recall@10':>10} {'p50 ms':>7}"]
    exact = [set(np.argsort(-(vectors @ v))[:10].tolist()) for v in query_vectors]
    for ef_construction in candidates:
        store_module.HNSW_EF_CONSTRUCTION = ef_construction
        started = time.perf_counter()
        store.build_vector_index()
        build_s = time.perf_counter() - started
        for v in query_vectors[:10]:
            store.vector_search(v, 4 * K)
        ms = [timed(partial(store.vector_search, v, 4 * K), 1)[0] for v in query_vectors]
        recall = [
            len(best & {int(c.chunk_id[1:]) for c, _ in store.vector_search(v, 10)}) / 10
            for v, best in zip(query_vectors, exact, strict=True)
        ]
        lines.append(f"{ef_construction:>15} {build_s:>8.1f} {statistics.mean(recall):>10.3f} {pct(ms, 50):>7.1f}")
    return lines


def leg_reads(store: Store, questions: Sequence[str], query_vectors: np.ndarray) -> dict[str, dict[str, int]]:
    """LanceDB queries per leg search of the top 4K: more than one where equal scores straddle the cut."""
    from localrag.store_reader import StoreReader

    ranked = StoreReader._ranked
    queries = [0]

    async def counting(self: StoreReader, make_query: Any, k: int, rank: Any) -> list[dict[str, Any]]:
        def make(table: Any, limit: int) -> Any:
            queries[0] += 1
            return make_query(table, limit)

        return await ranked(self, make, k, rank)

    legs: dict[str, Callable[[str, np.ndarray], object]] = {
        "vector": lambda q, v: store.vector_search(v, 4 * K),
        "BM25": lambda q, v: store.text_search(q, 4 * K),
    }
    out = {}
    StoreReader._ranked = counting  # type: ignore[method-assign]
    try:
        for leg, search in legs.items():
            queries[0] = 0
            for q, v in zip(questions, query_vectors, strict=True):
                search(q, v)
            out[leg] = {"searches": len(questions), "lancedb_queries": queries[0]}
    finally:
        StoreReader._ranked = ranked  # type: ignore[method-assign]
    return out


def compare_ids(ours: dict[str, list[str]], other_file: Path) -> str:
    other = json.loads(other_file.read_text())["ids"]
    same = sum(1 for q, ids in ours.items() if other.get(q) == ids)
    return f"same top-{K} ids as {other_file.name}: {same}/{len(ours)} questions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k chunks instead of 100k")
    parser.add_argument("--embed-backend", default="onnx", choices=("onnx", "onnx-int8"))
    # getattr: older checkouts, which this script also times, ran ONNX Runtime by default
    parser.add_argument("--query-backend", default=getattr(config_module, "DEFAULT_EMBED_BACKEND", "onnx"),
                        choices=("openvino", "onnx"),
                        help="the float runtime that embeds each question in the timed rows (default: localrag's)")
    parser.add_argument("--embed-only", action="store_true", help="fill the vector cache and stop")
    parser.add_argument("--embed-probe", type=int, metavar="N", help="project the embedding time from N pieces, stop")
    parser.add_argument("--profile", action="store_true", help="print cProfile of each leg and of the hybrid")
    parser.add_argument("--ids", type=Path, help="write each question's hybrid top-k chunk ids here (JSON)")
    parser.add_argument("--compare", type=Path, help="an --ids file of another run: count identical answers")
    parser.add_argument("--summary", type=Path, help="write the figures here (JSON)")
    parser.add_argument("--reads", action="store_true", help="count the LanceDB queries each leg search took")
    parser.add_argument("--ef-sweep", help="comma-separated HNSW ef values: recall and speed of the bare ANN query")
    parser.add_argument("--ef-construction", type=int, help="build the HNSW graph with this candidate list")
    parser.add_argument("--build-sweep", help="comma-separated ef_construction values: rebuild the index with each")
    args = parser.parse_args()
    if args.ef_construction:
        store_module.HNSW_EF_CONSTRUCTION = args.ef_construction
    load_before = os.getloadavg()
    if args.embed_probe:
        print(embed_probe(args.embed_backend, args.embed_probe), f"(load average {load_before[0]:.2f})")
        return
    n = 10_000 if args.quick else FULL
    texts, vectors, made = corpus_vectors(n, args.embed_backend)
    if args.embed_only:
        print(f"{len(texts)} vectors cached in {_corpus.RESULTS}: {made}")
        return
    questions = _corpus.covid_questions(QUERIES)
    # The store's rows and the questions' vectors come from the same backend; the query embedding
    # and the whole search are timed with the default one (float32), whichever built the rows.
    suffix = "-int8" if args.embed_backend == "onnx-int8" else ""
    query_vectors = _corpus.cached_vectors(
        questions, f"covid_questions{suffix}", _corpus.onnx_embedder(args.embed_backend)
    )
    embedder = _corpus.onnx_embedder(args.query_backend)
    for q in questions[:10]:
        embedder.embed_queries([q])
    embed_ms = [timed(partial(embedder.embed_queries, [q]), 1)[0] for q in questions]

    with tempfile.TemporaryDirectory() as tmp:
        store, seconds = build_store(Path(tmp) / "db", texts, vectors)
        # getattr: the same script also times older checkouts, whose store has no such settings
        hnsw = {k: getattr(store_module, f"HNSW_{k.upper()}", None) for k in ("m", "ef_construction")}
        status = store.status()
        retriever = Retriever(store, _Precomputed(dict(zip(questions, query_vectors, strict=True))))
        whole = Retriever(store, embedder)
        for q, v in zip(questions[:10], query_vectors[:10], strict=True):  # warm the caches
            retriever.search(q, K)
            whole.search(q, K)
            store.vector_search(v, 4 * K)
        vec_ms, fts_ms, hyb_ms, whole_ms, recall = [], [], [], [], []
        ids: dict[str, list[str]] = {}
        for q, v in zip(questions, query_vectors, strict=True):
            vec_ms += timed(partial(store.vector_search, v, 4 * K), 1)
            fts_ms += timed(partial(store.text_search, q, 4 * K), 1)
            hyb_ms += timed(partial(retriever.search, q, K), 1)
            whole_ms += timed(partial(whole.search, q, K), 1)
            ids[q] = [h.chunk.chunk_id for h in retriever.search(q, K)]
            exact = set(np.argsort(-(vectors @ v))[:10].tolist())
            found = {int(c.chunk_id[1:]) for c, _ in store.vector_search(v, 10)}
            recall.append(len(exact & found) / 10)
        reads = leg_reads(store, questions, query_vectors) if args.reads else None
        profiles = []
        if args.ef_sweep:
            sweep = ef_sweep(store, vectors, query_vectors, [int(e) for e in args.ef_sweep.split(",")])
            profiles.append("--- ef sweep ---\n" + "\n".join(sweep))
        if args.build_sweep:
            sweep = build_sweep(store, vectors, query_vectors, [int(e) for e in args.build_sweep.split(",")])
            profiles.append("--- index build sweep (the index rebuilt on the compacted table) ---\n" + "\n".join(sweep))
        if args.profile:
            pairs = list(zip(questions, query_vectors, strict=True))
            profiles.append(profile("vector leg", [partial(store.vector_search, v, 4 * K) for _, v in pairs]))
            profiles.append(profile("BM25 leg", [partial(store.text_search, q, 4 * K) for q, _ in pairs]))
            profiles.append(profile("hybrid", [partial(retriever.search, q, K) for q, _ in pairs]))

    rows = {
        f"vector top-{4 * K}": vec_ms,
        f"BM25 top-{4 * K}": fts_ms,
        f"hybrid k={K} (store work)": hyb_ms,
        "query embedding": embed_ms,
        f"hybrid k={K} + embedding": whole_ms,
    }
    summary: dict[str, Any] = {
        "command": "benchmarks/bench_retrieval.py " + " ".join(sys.argv[1:]),
        "chunks": n,
        "rows_embedded": made,
        "query_embedder": f"{embedder.name} ({embedder.backend}, threads {embedder.session_threads or 'default'})",
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "size_mb": round(status.size_bytes / 1e6),
        "vector_index": status.vector_index,
        "hnsw": hnsw,
        "ms": {label: {"p50": round(pct(v, 50), 2), "p95": round(pct(v, 95), 2)} for label, v in rows.items()},
        "ann_recall_at_10": round(statistics.mean(recall), 4),
        "loadavg_start": [round(x, 2) for x in load_before],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"chunks: {n}  write: {seconds['write']:.1f}s  refresh_indexes: {seconds['refresh_indexes']:.1f}s "
        f"(ANN index {seconds.get('vector_index', 0.0):.1f}s)  size: {status.size_bytes / 1e6:.0f} MB"
    )
    print(f"indexes: vector={status.vector_index}; fts={status.fts_index}")
    print(f"{'query (ms)':<30} {'p50':>7} {'p95':>7}")
    for label, values in rows.items():
        print(f"{label:<30} {pct(values, 50):>7.1f} {pct(values, 95):>7.1f}")
    print(f"ANN recall@10 vs exact: {summary['ann_recall_at_10']:.3f} over {len(recall)} queries")
    print(f"load average: start {summary['loadavg_start']}, end {summary['loadavg_end']}")
    if reads:
        summary["leg_reads"] = reads
        for leg, counts in reads.items():
            print(f"{leg} leg: {counts['lancedb_queries']} LanceDB queries for {counts['searches']} searches")
    if args.compare:
        line = compare_ids(ids, args.compare)
        summary["compare"] = line
        print(line)
    if args.ids:
        args.ids.write_text(json.dumps({"command": summary["command"], "ids": ids}, indent=1) + "\n")
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    for text in profiles:
        print(text)


if __name__ == "__main__":
    main()
