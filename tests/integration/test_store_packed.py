"""A hit's metadata read from the packed column equals the chunk read from its separate columns.

Covers a store written before the column (the migration adds and fills it, and finishes a fill killed
half-way) and rows whose packed value is missing (read whole instead).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from localrag.store import Store
from localrag.store_schema import PACKED_COLUMN
from localrag.types import Chunk, Document

DIM = 8
MIGRATION = "migration:0005_packed_hits"
# Metadata a separator-joined format would break: the packed value must carry any character.
HEADINGS = ['Results | "Table 2"', "Ünïcödé — ✓", "line\nbreak", "", "a, b; c\\d"]


def _write(store: Store, n: int = 20) -> np.ndarray:
    rng = np.random.default_rng(1)
    docs = [Document(f"d{j}", f"/docs/{j} | odd 'name'.md", "md", f"h{j}", 0, 0.0) for j in range(2)]
    chunks = [
        Chunk(
            f"d{i % 2}:{i}", f"d{i % 2}", f"/docs/{i % 2} | odd 'name'.md", i, f"river stone cloud row{i}",
            i * 10, i * 10 + 9, page=None if i % 3 else i, heading=HEADINGS[i % len(HEADINGS)], file_type="md",
            n_tokens=5 + i,
        )
        for i in range(n)
    ]
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.write_batch(docs, chunks, vectors)
    return vectors


def _open(path: Path) -> Store:
    return Store(path, embedder_name="e", dim=DIM)


def _assert_hits_are_whole_chunks(store: Store, vectors: np.ndarray) -> None:
    for i in (0, 7, 13):
        hits = store.vector_search(vectors[i], 10) + store.text_search(f"river row{i}", 10)
        assert hits
        assert [c for c, _ in hits] == store.chunks([c.chunk_id for c, _ in hits])


def test_hits_read_through_the_packed_column_equal_the_stored_chunks(tmp_path: Path) -> None:
    store = _open(tmp_path / "db")
    vectors = _write(store)
    assert PACKED_COLUMN in store.chunks_table.schema.names
    _assert_hits_are_whole_chunks(store, vectors)
    headings = {c.heading for c, _ in store.vector_search(vectors[0], 20)}
    assert headings == set(HEADINGS)


def test_a_store_written_before_the_column_gets_it_filled_on_opening(tmp_path: Path) -> None:
    store = _open(tmp_path / "db")
    vectors = _write(store)
    store.chunks_table.drop_columns([PACKED_COLUMN])
    store._meta.delete(f"key = '{MIGRATION}'")
    old = _open(tmp_path / "db")
    column = old.chunks_table.to_arrow()[PACKED_COLUMN]
    assert column.null_count == 0 and len(column) == 20
    _assert_hits_are_whole_chunks(old, vectors)


def test_a_fill_killed_half_way_is_finished_by_the_next_opening(tmp_path: Path) -> None:
    store = _open(tmp_path / "db")
    vectors = _write(store)
    # What a kill during the migration leaves: some rows filled, the rest not, no mark in meta.
    store.chunks_table.update(where="idx >= 10", values_sql={PACKED_COLUMN: "NULL"})
    store._meta.delete(f"key = '{MIGRATION}'")
    reopened = _open(tmp_path / "db")
    assert reopened.chunks_table.to_arrow()[PACKED_COLUMN].null_count == 0
    _assert_hits_are_whole_chunks(reopened, vectors)


def test_rows_without_a_packed_value_are_read_whole(tmp_path: Path) -> None:
    store = _open(tmp_path / "db")
    vectors = _write(store)
    store.chunks_table.update(where="idx % 2 = 0", values_sql={PACKED_COLUMN: "NULL"})
    _assert_hits_are_whole_chunks(store, vectors)


def test_equal_scores_come_in_chunk_id_order(tmp_path: Path) -> None:
    store = _open(tmp_path / "db")
    # The same chunk in eight files (one file copied around): equal vectors and equal BM25 scores.
    docs = [Document(f"copy{j}", f"/docs/copy{j}.md", "md", "h", 0, 0.0) for j in (5, 2, 7, 0, 3, 6, 1, 4)]
    chunks = [Chunk(f"{d.doc_id}:0", d.doc_id, d.path, 0, "the same disclaimer text", 0, 24) for d in docs]
    vector = np.ones((1, DIM), dtype=np.float32) / np.sqrt(DIM)
    store.write_batch(docs, chunks, np.repeat(vector, len(docs), axis=0))
    expected = sorted(c.chunk_id for c in chunks)
    for hits in (store.vector_search(vector[0], 8), store.text_search("disclaimer", 8)):
        assert [c.chunk_id for c, _ in hits] == expected
