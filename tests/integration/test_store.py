"""The LanceDB store on a real database in tmp_path, with HashEmbedder vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from localrag.embed import HashEmbedder
from localrag.errors import StoreError
from localrag.store import Store
from localrag.store_migrations import SCHEMA_VERSION
from localrag.types import Chunk, Document

EMB = HashEmbedder(dim=32)


def make_doc(path: str, texts: list[str], content_hash: str = "h1") -> tuple[Document, list[Chunk]]:
    doc_id = "id-" + path.strip("/").replace("/", "-")
    doc = Document(doc_id, path, path.rsplit(".", 1)[-1], content_hash, 100, 1.0, title=path)
    chunks, pos = [], 0
    for i, text in enumerate(texts):
        chunks.append(Chunk(f"{doc_id}:{i}", doc_id, path, i, text, pos, pos + len(text), heading="Intro"))
        pos += len(text)
    return doc, chunks


def write(store: Store, *docs: tuple[Document, list[Chunk]]) -> None:
    chunks = [c for _, cs in docs for c in cs]
    store.write_batch([d for d, _ in docs], chunks, EMB.embed([c.text for c in chunks]))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)


def test_write_read_and_status(store: Store) -> None:
    fox = make_doc("/n/fox.md", ["the quick brown fox", "jumps over the lazy dog"])
    bees = make_doc("/n/bees.txt", ["honey bees dance to point at flowers"])
    write(store, fox, bees)
    assert store.chunk_count() == 3
    assert store.document_hashes() == {"/n/fox.md": "h1", "/n/bees.txt": "h1"}
    doc = store.document("/n/fox.md")
    assert doc is not None and doc.n_chunks == 2 and doc.file_type == "md"
    assert store.document("/missing") is None
    assert [c.text for c in store.doc_chunks(fox[0].doc_id)] == ["the quick brown fox", "jumps over the lazy dog"]
    got = store.chunks(["id-n-bees.txt:0", "nope", "id-n-fox.md:1"])
    assert [c.chunk_id for c in got] == ["id-n-bees.txt:0", "id-n-fox.md:1"]
    assert got[1].heading == "Intro" and (got[1].start, got[1].end) == (19, 42)
    status = store.status()
    assert (status.documents, status.chunks, status.dim, status.schema_version) == (2, 3, 32, SCHEMA_VERSION)
    assert status.fts_index.startswith("BM25")


def test_vector_and_text_search_rank_best_first(store: Store) -> None:
    write(store, make_doc("/a.md", ["alpha beta gamma", "honey bees dance", "quantum chromodynamics lecture"]))
    hits = store.vector_search(EMB.embed(["honey bees"])[0], 2)
    assert hits[0][0].text == "honey bees dance"
    assert hits[0][1] > hits[1][1]
    assert 0.0 < hits[0][1] <= 1.0001
    text_hits = store.text_search("chromodynamics", 5)
    assert [c.text for c, _ in text_hits] == ["quantum chromodynamics lecture"]
    assert store.text_search("intro", 5), "the heading is indexed with the text"
    assert store.text_search("?!", 5) == []


def test_reingest_replaces_chunks_without_duplicates(store: Store) -> None:
    write(store, make_doc("/a.md", ["old one", "old two", "old three"]))
    write(store, make_doc("/a.md", ["new text"], content_hash="h2"))
    assert store.chunk_count() == 1
    assert store.chunks_table.count_rows() == 1
    assert store.document_hashes() == {"/a.md": "h2"}
    assert [c.text for c, _ in store.text_search("old", 5)] == []
    # the same bytes written again (forced re-ingest) must not double the chunks either
    write(store, make_doc("/a.md", ["new text"], content_hash="h2"))
    assert store.chunks_table.count_rows() == 1


def test_delete_documents(store: Store) -> None:
    a, b = make_doc("/a.md", ["one", "two"]), make_doc("/b.md", ["three"])
    write(store, a, b)
    assert store.delete_documents([a[0].doc_id]) == 2
    assert store.document_hashes() == {"/b.md": "h1"}
    assert store.chunk_count() == 1
    assert store.delete_documents(["unknown"]) == 0


def test_uncommitted_chunks_are_invisible_and_repaired(store: Store) -> None:
    """What a kill between appending chunks and committing the document row leaves behind."""
    good = make_doc("/good.md", ["committed zebra text"])
    write(store, good)
    store.refresh_indexes()
    orphan_doc, orphan_chunks = make_doc("/orphan.md", ["uncommitted zebra text", "more zebra"])
    store.write_batch([orphan_doc], orphan_chunks, EMB.embed([c.text for c in orphan_chunks]))
    store.documents_table.delete(f"doc_id = '{orphan_doc.doc_id}'")  # undo the commit marker only
    # and an old version of a committed doc whose delete did not happen
    stale, _ = make_doc("/good.md", ["stale zebra"])
    raw = store.chunks_table.search().where(f"doc_id = '{stale.doc_id}'").limit(None).to_arrow()
    store.chunks_table.add(
        raw.set_column(raw.schema.get_field_index("commit_id"), "commit_id", [["old-commit"] * raw.num_rows])
    )
    assert store.chunks_table.count_rows() == 4
    assert [c.text for c, _ in store.text_search("zebra", 10)] == ["committed zebra text"]
    assert [c.text for c, _ in store.vector_search(EMB.embed(["zebra"])[0], 10)] == ["committed zebra text"]
    assert store.chunks([c.chunk_id for c in orphan_chunks]) == []
    assert len(store.doc_chunks(good[0].doc_id)) == 1
    assert store.chunk_count() == 1
    assert store.repair() == 3
    assert store.chunks_table.count_rows() == 1
    assert store.repair() == 0


def test_text_search_finds_rows_added_after_the_index(store: Store) -> None:
    write(store, make_doc("/first.md", [f"ordinary filler sentence number {i}" for i in range(50)]))
    store.refresh_indexes()
    write(store, make_doc("/later.md", ["a xylophone arrives late"]))
    stats = store.chunks_table.index_stats(store._fts_index().name)
    assert stats is not None and stats.num_unindexed_rows == 1
    assert [c.path for c, _ in store.text_search("xylophone", 5)] == ["/later.md"]
    store.refresh_indexes()
    assert store.chunks_table.index_stats(store._fts_index().name).num_unindexed_rows == 0
    assert [c.path for c, _ in store.text_search("xylophone", 5)] == ["/later.md"]


def test_where_filter_applies_to_both_searches(store: Store) -> None:
    write(store, make_doc("/x/it's.md", ["shared words here"]), make_doc("/y/b.txt", ["shared words here"]))
    where = "path = '/x/it''s.md'"
    assert [c.path for c, _ in store.text_search("shared", 5, where)] == ["/x/it's.md"]
    assert [c.path for c, _ in store.vector_search(EMB.embed(["shared"])[0], 5, where)] == ["/x/it's.md"]


def test_embedder_mismatch_is_refused(tmp_path: Path) -> None:
    # An index that holds rows: an empty one takes whichever embedder opens it (store_adopt.py).
    write(Store(tmp_path / "db", embedder_name="mini", dim=32), make_doc("/a.md", ["text"]))
    with pytest.raises(StoreError, match="mini"):
        Store(tmp_path / "db", embedder_name="other", dim=32)
    with pytest.raises(StoreError, match="dim 32"):
        Store(tmp_path / "db", embedder_name="mini", dim=64)
    reopened = Store(tmp_path / "db", embedder_name="mini", dim=32)
    assert reopened.schema_version() == SCHEMA_VERSION


def test_unknown_migration_means_newer_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", embedder_name="mini", dim=32)
    store._meta.add([{"key": "migration:9999_future", "value": "x"}])
    with pytest.raises(StoreError, match="newer localrag"):
        Store(tmp_path / "db", embedder_name="mini", dim=32)


def test_vector_index_built_past_threshold(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim, vector_index_min_rows=300)
    rng = np.random.default_rng(0)
    doc, chunks = make_doc("/big.md", [f"row {i}" for i in range(400)])
    vectors = rng.standard_normal((400, EMB.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.write_batch([doc], chunks, vectors)
    assert store.status().vector_index.startswith("none")
    store.refresh_indexes()
    assert "HNSW" in store.status().vector_index
    best, score = store.vector_search(vectors[123], 1)[0]
    assert best.chunk_id == chunks[123].chunk_id and score == pytest.approx(1.0, abs=0.02)


def test_new_rows_folded_into_the_vector_index_print_no_log_line(tmp_path: Path, capfd: pytest.CaptureFixture[str]
                                                                 ) -> None:
    # LanceDB's Rust logger wrote a WARN line about centroid statistics to stderr under every such ingest.
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim, vector_index_min_rows=256)
    rng = np.random.default_rng(0)
    for name, rows in (("/big.md", 300), ("/more.md", 3)):
        doc, chunks = make_doc(name, [f"row {i}" for i in range(rows)])
        store.write_batch([doc], chunks, rng.standard_normal((rows, EMB.dim)).astype(np.float32))
        store.refresh_indexes()
    assert "303 rows)" in store.status().vector_index
    assert "WARN" not in capfd.readouterr().err


def test_batch_must_hold_whole_documents(store: Store) -> None:
    doc, chunks = make_doc("/a.md", ["x"])
    other_doc = make_doc("/b.md", [])[0]
    with pytest.raises(ValueError, match="not in the batch"):
        store.write_batch([other_doc], chunks, EMB.embed(["x"]))
    with pytest.raises(ValueError):
        store.write_batch([doc], chunks, np.zeros((2, EMB.dim), dtype=np.float32))
