"""GraphColumns: saved beside the tables, never read when stale, and kept current by the store's own writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from localrag.embed import HashEmbedder
from localrag.graph.columns import GraphColumns, ranges
from localrag.graph.paths import GraphIndex
from localrag.graph.store import INDEX_FILE, GraphStore
from localrag.graph.triples import Triple

ROWS = [
    Triple("Ann", "plays_in_club", "Reds", "a:1", "a"),
    Triple("Reds", "is_in_country", "Spain", "a:2", "a"),
    Triple("Bob", "plays_in_club", "Reds", "b:1", "b"),
    Triple("Bob", "born_in", "Lyon", "b:2", "b"),
    Triple("Lyon", "located_in", "France", "c:1", "c"),
]


def rebuilt(store: GraphStore) -> GraphColumns:
    entities = store.entity_rows().select(["entity_id", "name", "aliases"])
    return GraphColumns.from_tables(entities, store.triple_rows(), store.index_key())


def same(a: GraphColumns, b: GraphColumns) -> None:
    for name in ("entity_ids", "names", "aliases", "relations", "key", "max_ngram"):
        assert getattr(a, name) == getattr(b, name), name
    docs_a = [a.doc_ids[d] for d in a.doc]
    assert docs_a == [b.doc_ids[d] for d in b.doc]
    for name in ("head", "rel", "tail", "src_off", "src_data", "out_key", "out_edge", "in_key", "in_edge"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.fixture
def store(tmp_path: Path) -> GraphStore:
    return GraphStore(tmp_path / "db", HashEmbedder(dim=16))


def test_ranges_concatenates_aranges() -> None:
    got = ranges(np.array([5, 0, 9, 2]), np.array([7, 0, 10, 1]))
    assert got.tolist() == [5, 6, 9]


def test_writes_update_the_columns_in_place_of_a_rebuild(store: GraphStore) -> None:
    store.add_triples(ROWS[:2], aliases={"Ann": ["Annie"]})
    store.columns()
    store.add_triples(ROWS[2:])
    same(store.columns(), rebuilt(store))
    assert store.delete_for_documents(["a"]) == 2
    same(store.columns(), rebuilt(store))
    index = GraphIndex.load(store)
    assert "ann" not in index.names and "annie" not in index.aliases
    assert index.follow(["bob"], ["born_in", "located_in"])[0].end == "france"


def test_a_new_store_reads_the_saved_file(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.add_triples(ROWS)
    store.columns()
    assert (store.path / INDEX_FILE).is_file()

    def no_rebuild(*_: object, **__: object) -> GraphColumns:
        raise AssertionError("built from the tables although the saved file is current")

    monkeypatch.setattr(GraphColumns, "from_tables", no_rebuild)
    again = GraphStore(store.path, HashEmbedder(dim=16))
    index = GraphIndex.load(again)
    assert [p.end for p in index.follow(["ann"], ["plays_in_club", "is_in_country"])] == ["spain"]
    assert index.tails("reds", "is_in_country") == [("spain", "a:2")]


def test_a_stale_or_broken_file_is_not_read(store: GraphStore) -> None:
    store.add_triples(ROWS[:2])
    store.columns()
    GraphStore(store.path, HashEmbedder(dim=16)).add_triples(ROWS[2:])  # another process; the file is now stale
    later = GraphStore(store.path, HashEmbedder(dim=16))
    same(later.columns(), rebuilt(later))
    assert GraphIndex.load(later).n_triples == 5
    (store.path / INDEX_FILE).write_bytes(b"not a zip file")
    fresh = GraphStore(store.path, HashEmbedder(dim=16))
    same(fresh.columns(), rebuilt(fresh))


def test_vectors_are_read_on_first_embedding_link(store: GraphStore) -> None:
    store.add_triples(ROWS)
    index = GraphIndex.load(store)
    assert index._vectors is None
    assert [e.entity_id for e in index.link("who plays for reds")] == ["reds"]
    assert index._vectors is None  # an exact match needs no vectors
    assert index.link("who is zzz", store.embedder, threshold=2.0) == []
    assert index.vectors.shape == (len(index.entity_ids), 16)
