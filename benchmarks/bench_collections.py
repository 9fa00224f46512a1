"""Collections: a table set per collection vs one table with a partition column, on real LanceDB.

    nice -n 10 .venv/bin/python benchmarks/bench_collections.py [--chunks N] [--collections C] [--queries Q]

COVID-QA paragraphs are cut into ~1,000-character chunks and embedded once with the bundled MiniLM;
the same rows then go into two layouts in temp folders, indexed as localrag's store indexes them
(BM25 without positions, BTREE on the keys, no ANN index: too few rows for one):
- tables: `chunks__<id>` per collection; a query searches its collection's table alone.
- column: one `chunks` table with a `collection` column (BTREE-indexed); every query is prefiltered
  with `collection = '<name>'`.
Reported per layout: p50 of a vector top-10 and a BM25 top-10 query in one collection, and the time
to forget one document, rename a collection and delete a collection (tables: the registry is one
meta row, so rename is one merge; delete drops the tables; column: both rewrite or delete rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COVID = Path(__file__).resolve().parents[2] / "shared/data/covidqa/data/question-answering/200423_covidQA.json"


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=4000)
    parser.add_argument("--collections", type=int, default=4)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--summary", type=Path, default=Path("benchmarks/summaries/collections.json"))
    args = parser.parse_args()
    summary_path = args.summary.resolve()

    import lancedb
    import pyarrow as pa
    from lancedb.index import FTS, BTree

    from localrag.embed import load_embedder
    from localrag.models import resolve_embedder

    data = json.loads(COVID.read_text())["data"]
    texts: list[str] = []
    doc_of: list[str] = []
    for article in data:
        for number, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for start in range(0, len(context), 1000):
                texts.append(context[start : start + 1000])
                doc_of.append(f"{article.get('title', '')}-{number}")
    texts, doc_of = texts[: args.chunks], doc_of[: args.chunks]
    questions = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]][: args.queries]
    embedder = load_embedder(resolve_embedder(""), "onnx")
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    embed_s = time.perf_counter() - started
    query_vectors = embedder.embed(questions)
    names = [f"c{i}" for i in range(args.collections)]
    collection_of = [names[i % len(names)] for i in range(len(texts))]

    def rows(indexes: list[int], with_collection: bool) -> pa.Table:
        columns: dict[str, Any] = {
            "chunk_id": [f"k{i}" for i in indexes],
            "doc_id": [doc_of[i] for i in indexes],
            "text": [texts[i] for i in indexes],
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors[indexes].reshape(-1), type=pa.float32()), vectors.shape[1]
            ),
        }
        if with_collection:
            columns["collection"] = [collection_of[i] for i in indexes]
        return pa.table(columns)

    def index(table: Any, with_collection: bool) -> None:
        table.create_index("text", config=FTS(with_position=False), replace=True)
        for key in ("doc_id", "chunk_id", *(("collection",) if with_collection else ())):
            table.create_index(key, config=BTree(), replace=True)

    target = names[1]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tables_db = lancedb.connect(os.path.join(folder, "tables"))
        for name in names:
            table = tables_db.create_table(f"chunks__{name}", rows(
                [i for i, c in enumerate(collection_of) if c == name], False))
            index(table, False)
        meta = tables_db.create_table("meta", pa.table({"key": ["collections"], "value": ["{}"]}))
        column_db = lancedb.connect(os.path.join(folder, "column"))
        shared = column_db.create_table("chunks", rows(list(range(len(texts))), True))
        index(shared, True)

        own = tables_db.open_table(f"chunks__{target}")
        where = f"collection = '{target}'"

        def vector_tables(v: Any) -> Any:
            return own.search(v).distance_type("cosine").limit(10).to_arrow()  # type: ignore[attr-defined]

        def vector_column(v: Any) -> Any:
            query = shared.search(v).distance_type("cosine")  # type: ignore[attr-defined]
            return query.where(where, prefilter=True).limit(10).to_arrow()

        def text_tables(q: str) -> Any:
            return own.search(q.replace('"', " "), query_type="fts").limit(10).to_arrow()

        def text_column(q: str) -> Any:
            return (shared.search(q.replace('"', " "), query_type="fts")
                    .where(where, prefilter=True).limit(10).to_arrow())

        for warm in (vector_tables, vector_column):  # warm the caches before timing
            warm(query_vectors[0])
        for warm_text in (text_tables, text_column):
            warm_text(questions[0])
        # Interleaved rounds, so both layouts see the same machine load.
        vt, vc, tt, tc = [], [], [], []
        for v, q in zip(query_vectors, questions, strict=True):
            vt.append(timed(partial(vector_tables, v)))
            vc.append(timed(partial(vector_column, v)))
            tt.append(timed(partial(text_tables, q)))
            tc.append(timed(partial(text_column, q)))
        # Isolation check: the column layout's answers must all be from the target collection.
        assert set(vector_column(query_vectors[0])["collection"].to_pylist()) == {target}

        doc = next(d for d, c in zip(doc_of, collection_of, strict=True) if c == target)
        forget_tables = timed(lambda: own.delete(f"doc_id = '{doc}'"))
        forget_column = timed(lambda: shared.delete(f"doc_id = '{doc}' AND {where}"))
        rename_tables = timed(lambda: meta.merge_insert("key").when_matched_update_all().when_not_matched_insert_all()
                              .execute(pa.table({"key": ["collections"], "value": ['{"renamed": "c1"}']})))
        rename_column = timed(lambda: shared.update(where=where, values={"collection": "renamed"}))
        delete_tables = timed(lambda: tables_db.drop_table(f"chunks__{names[2]}"))
        delete_column = timed(lambda: shared.delete(f"collection = '{names[2]}'"))

        def ms(values: list[float]) -> float:
            return round(1000 * statistics.median(values), 2)

        results = {
            "tables": {"vector_p50_ms": ms(vt), "text_p50_ms": ms(tt), "forget_ms": round(1000 * forget_tables, 1),
                       "rename_ms": round(1000 * rename_tables, 1), "delete_ms": round(1000 * delete_tables, 1)},
            "column": {"vector_p50_ms": ms(vc), "text_p50_ms": ms(tc), "forget_ms": round(1000 * forget_column, 1),
                       "rename_ms": round(1000 * rename_column, 1), "delete_ms": round(1000 * delete_column, 1)},
        }
    load = Path("/proc/loadavg").read_text().split()[:3]
    summary = {"command": " ".join(sys.argv), "cpus": os.cpu_count(), "loadavg_end": load, "chunks": len(texts),
               "collections": len(names), "queries": len(questions), "embed_s": round(embed_s, 1), **results}
    for layout, figures in results.items():
        print(f"{layout:7s} " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print(f"{len(texts)} chunks in {len(names)} collections, {len(questions)} queries; load average {' '.join(load)}")
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
