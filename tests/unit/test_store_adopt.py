"""An index that holds nothing yet takes the embedder that opens it; one that holds a row keeps refusing another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.embedder_probe import PROBE_KEY
from localrag.engine import Engine
from localrag.errors import StoreError
from localrag.graph.store import GraphStore
from localrag.store import Store


class _Other(HashEmbedder):
    name = "other-embedder"


def test_an_empty_index_takes_the_embedder_that_opens_it(tmp_path: Path) -> None:
    old = Store(tmp_path / "db", embedder_name="hash-embedder", dim=32)
    ident = old.create_collection("papers")
    GraphStore(tmp_path / "db", HashEmbedder(dim=32))  # a graph opened (its tables made) but never written

    new = Store(tmp_path / "db", embedder_name="other-embedder", dim=16, collection="papers")
    assert new.registry()["papers"] == ident and new.chunk_count() == 0
    assert new.chunks_table.schema.field("vector").type.list_size == 16
    GraphStore(tmp_path / "db", _Other(dim=16))  # opens: its entities table was made again at the new size
    again = Store.open_existing(tmp_path / "db")
    assert (again.embedder_name, again.dim) == ("other-embedder", 16)


def test_a_search_before_the_first_ingest_does_not_bind_the_index(localrag_home: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    assert Engine(Settings(), embedder=HashEmbedder(dim=32)).search("pier") == []
    engine = Engine(Settings(), embedder=_Other(dim=16))  # as after `config set embed_backend` or `embedder`
    assert engine.ingest([notes]).added == 1
    assert engine.search("pier")[0].chunk.path.endswith("a.md")
    assert '"vector"' in (engine.store.get_meta(PROBE_KEY) or "")  # recorded again, for the model that wrote

    # Once it holds a chunk the index is bound: the first embedder is refused, by name and by probe.
    with pytest.raises(StoreError, match="built with embedder 'other-embedder'"):
        Engine(Settings(), embedder=HashEmbedder(dim=32)).search("pier")

    class _SameNameOtherVectors(_Other):
        def embed(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
            return np.roll(super().embed(texts), 1, axis=1)

    with pytest.raises(StoreError, match="also named 'other-embedder'"):
        Engine(Settings(), embedder=_SameNameOtherVectors(dim=16)).search("pier")
