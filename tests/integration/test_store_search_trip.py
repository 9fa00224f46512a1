"""Store searches run in one trip to LanceDB's event loop and return what LanceDB's sync query API returns.

The reference below is the sync query builder the store used before (the same columns, `ef`, filter):
every search must give the same chunk ids and scores, with the exact search and with the ANN index.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lancedb.background_loop import BackgroundEventLoop

from localrag.embed import HashEmbedder
from localrag.store import FTS_COLUMN, Store
from localrag.types import Chunk, Document

EMB = HashEmbedder(dim=32)
WORDS = "bees honey hive winter pollen river bridge stone lamp harbour ferry tide salt marsh heron reed".split()
QUERIES = ["bees honey", "winter hive pollen", "ferry across the harbour", "heron in the marsh reeds", "stone bridge"]


def fill(store: Store, n_docs: int, per_doc: int) -> None:
    rng = random.Random(3)
    docs, chunks = [], []
    for d in range(n_docs):
        path = f"/c/{d}.md" if d % 2 else f"/t/{d}.txt"
        docs.append(Document(f"d{d}", path, path.rsplit(".", 1)[-1], "h", 1, 1.0))
        for i in range(per_doc):
            text = " ".join(rng.choice(WORDS) for _ in range(8))
            chunks.append(Chunk(f"d{d}:{i}", f"d{d}", path, i, text, 50 * i, 50 * i + 40, file_type=docs[-1].file_type))
    store.write_batch(docs, chunks, EMB.embed([c.text for c in chunks]))


def reference_vector(store: Store, vector: np.ndarray, k: int, where: str | None) -> list[tuple[str, float]]:
    query = (
        store.chunks_table.search(vector, query_type="vector", vector_column_name="vector")
        .distance_type("cosine")  # type: ignore[attr-defined]
        .select(["chunk_id", "_distance"])
        .limit(k)
    )
    if store._vector_index() is not None:
        query = query.ef(max(4 * k, 64))
    if where:
        query = query.where(where, prefilter=True)
    return [(r["chunk_id"], 1.0 - r["_distance"]) for r in query.to_arrow().to_pylist()]


def reference_text(store: Store, text: str, k: int, where: str | None) -> list[tuple[str, float]]:
    query = store.chunks_table.search(text, query_type="fts", fts_columns=FTS_COLUMN).select(["chunk_id", "_score"])
    query = query.limit(k)
    if where:
        query = query.where(where, prefilter=True)
    return [(r["chunk_id"], r["_score"]) for r in query.to_arrow().to_pylist()]


def same(found: list[tuple[Any, float]], expected: list[tuple[str, float]]) -> None:
    assert [c.chunk_id for c, _ in found] == [i for i, _ in expected]
    assert [s for _, s in found] == pytest.approx([s for _, s in expected], abs=1e-6)


@pytest.mark.parametrize("indexed", [False, True])
def test_searches_match_the_sync_query_api(tmp_path: Path, indexed: bool) -> None:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim, vector_index_min_rows=300)
    fill(store, 40, 10)
    store.refresh_indexes(vector_index_min_rows=300 if indexed else 10_000)
    assert (store._vector_index() is not None) == indexed
    for where in (None, "file_type = 'md'"):
        for text in QUERIES:
            vector = EMB.embed([text])[0]
            for _ in range(2):  # LanceDB's first BM25 search of a term may order ties differently
                reference_text(store, text, 20, where)
            same(store.vector_search(vector, 20, where), reference_vector(store, vector, 20, where))
            same(store.text_search(text, 20, where), reference_text(store, text, 20, where))


def test_a_search_is_one_trip_to_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    fill(store, 5, 4)
    vector = EMB.embed(["bees"])[0]
    store.vector_search(vector, 5)
    store.text_search("bees", 5)  # the first search finds the BM25 index; later ones remember it
    trips: list[object] = []
    run = BackgroundEventLoop.run

    def counted(self: BackgroundEventLoop, future: Any) -> Any:
        trips.append(future)
        return run(self, future)

    monkeypatch.setattr(BackgroundEventLoop, "run", counted)
    assert store.vector_search(vector, 5) and len(trips) == 1
    assert store.text_search("bees honey", 5) and len(trips) == 2
