"""The store's searches through LanceDB's async API agree with its sync query API, and see writes at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from localrag.store import Store
from localrag.store_reader import HNSW_EF_MIN
from localrag.store_schema import CHUNK_COLUMNS, FTS_COLUMN
from localrag.types import Chunk, Document

DIM = 16
WORDS = "apple river stone cloud ember falcon garnet harbor island juniper".split()


def _rows(n: int, seed: int = 0) -> tuple[Document, list[Chunk], np.ndarray]:
    rng = np.random.default_rng(seed)
    doc = Document("d", "/d.md", "md", "h", 0, 0.0)
    chunks = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS, size=6)) + f" row{i}"
        chunks.append(Chunk(f"d:{i}", "d", "/d.md", i, text, i * 100, i * 100 + 99, file_type="md"))
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return doc, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _sync_vector(store: Store, vector: np.ndarray, k: int, where: str | None, indexed: bool) -> list[tuple[str, float]]:
    query = store.chunks_table.search(vector, query_type="vector", vector_column_name="vector")
    query = query.distance_type("cosine").select([*CHUNK_COLUMNS, "_distance"]).limit(k)  # type: ignore[attr-defined]
    if indexed:
        query = query.ef(max(4 * k, HNSW_EF_MIN))
    if where:
        query = query.where(where, prefilter=True)
    return [(r["chunk_id"], 1.0 - r["_distance"]) for r in query.to_arrow().to_pylist()]


def _sync_text(store: Store, text: str, k: int, where: str | None) -> list[tuple[str, float]]:
    query = store.chunks_table.search(text, query_type="fts", fts_columns=FTS_COLUMN).select(
        [*CHUNK_COLUMNS, "_score"]
    )
    query = query.limit(k)
    if where:
        query = query.where(where, prefilter=True)
    return [(r["chunk_id"], r["_score"]) for r in query.to_arrow().to_pylist()]


def _same_ranking(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> bool:
    """The same scores in the same places, and the same ids for each score above the last one.

    Rows of the last score may be more than fit: which of them each side keeps is LanceDB's choice for
    its own API, and the store takes the lowest ids among those it read (store_reader._ranked).
    """
    if [s for _, s in ours] != pytest.approx([s for _, s in theirs]):
        return False
    last = ours[-1][1] if ours else None
    return all(
        {c for c, s in ours if s == score} == {c for c, s in theirs if s == score}
        for score in {s for _, s in ours}
        if score != last
    )


@pytest.mark.parametrize("indexed", [False, True])
def test_searches_agree_with_the_sync_api(tmp_path: Path, indexed: bool) -> None:
    store = Store(tmp_path / "db", embedder_name="e", dim=DIM, vector_index_min_rows=300 if indexed else 10**6)
    doc, chunks, vectors = _rows(400)
    store.write_batch([doc], chunks, vectors)
    store.refresh_indexes()
    assert ("HNSW" in store.status().vector_index) is indexed
    for where in (None, "idx < 200"):
        for i in (3, 77, 250):
            ours = [(c.chunk_id, s) for c, s in store.vector_search(vectors[i], 10, where)]
            theirs = _sync_vector(store, vectors[i], 10, where, indexed)
            assert [c for c, _ in ours] == [c for c, _ in theirs]
            assert [s for _, s in ours] == pytest.approx([s for _, s in theirs])
        for text in ("apple river", "falcon row12", "juniper ember stone"):
            ours = [(c.chunk_id, s) for c, s in store.text_search(text, 10, where)]
            assert ours and _same_ranking(ours, _sync_text(store, text, 10, where))


def test_rows_outside_the_full_text_index_are_still_found(tmp_path: Path) -> None:
    """LanceDB searches rows no index holds yet by scanning them, with or without an index."""
    store = Store(tmp_path / "db", embedder_name="e", dim=DIM)
    assert store.text_search("apple", 5) == [] and store.vector_search(np.ones(DIM), 5) == []
    doc, chunks, vectors = _rows(20)
    store.write_batch([doc], chunks, vectors)
    store.chunks_table.drop_index(store._fts_index().name)
    found = [(c.chunk_id, s) for c, s in store.text_search("row7", 5)]
    assert _same_ranking(found, _sync_text(store, "row7", 5, None)) and found[0][0] == "d:7"


def test_another_stores_writes_and_deletes_are_seen_at_once(tmp_path: Path) -> None:
    """Two Store objects on one folder, as a watcher and the chat app are: no second of staleness."""
    reader = Store(tmp_path / "db", embedder_name="e", dim=DIM)
    writer = Store(tmp_path / "db", embedder_name="e", dim=DIM)
    assert reader.text_search("apple", 5) == []
    doc, chunks, vectors = _rows(20)
    writer.write_batch([doc], chunks, vectors)
    assert reader.text_search("row7", 5)[0][0].chunk_id == "d:7"
    assert reader.vector_search(vectors[7], 1)[0][0].chunk_id == "d:7"
    writer.delete_documents(["d"])
    assert reader.text_search("row7", 5) == [] and reader.vector_search(vectors[7], 1) == []
