"""A re-embedding stopped half way, then the index changes: the resumed copy follows it, and a purge erases it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from numpy.typing import NDArray

from localrag import paths
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.embedder_probe import PROBE_KEY
from localrag.engine import Engine
from localrag.errors import EmbedderMismatchError, IndexReembeddedError
from localrag.graph.store import GraphStore
from localrag.reembed import next_dir, reembed_index
from localrag.serve.http import _engine_error
from localrag.store import Store


def _stopped_after_one(embedder: HashEmbedder) -> str:
    """Re-embed until one document is copied; the path of that document."""
    cancel = threading.Event()
    report = reembed_index(paths.db_dir(), embedder, commit_chunks=1, progress=lambda *_: cancel.set(), cancel=cancel)
    assert report.cancelled and report.copied == 1
    (copied,) = Store(next_dir(paths.db_dir()), embedder_name=embedder.name, dim=embedder.dim).documents()
    return copied.path


def test_a_document_forgotten_while_stopped_does_not_come_back(localrag_home: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("a", "b", "c"):
        (notes / f"{name}.md").write_text(f"# {name}\n\nNotes about the {name} pier and its keeper.\n")
    engine = Engine(Settings(commit_chunks=1), embedder=HashEmbedder(dim=32))
    engine.ingest([notes])
    new = HashEmbedder(dim=32)  # the copy logic does not care which model; the graph's vectors keep their size
    gone = _stopped_after_one(new)
    engine.forget(gone)
    assert not reembed_index(paths.db_dir(), new).cancelled
    names = sorted(Path(d.path).name for d in Store.open_existing(paths.db_dir()).documents())
    assert names == sorted({"a.md", "b.md", "c.md"} - {Path(gone).name})

    # A purge erases the text wherever it lies: a stopped copy is dropped whole, and starts over when run again.
    engine = Engine(Settings(commit_chunks=1, embedder=""), embedder=new)
    gone = _stopped_after_one(new)
    engine.forget(gone, purge=True)
    assert not next_dir(paths.db_dir()).exists()
    assert not reembed_index(paths.db_dir(), new).cancelled
    assert len(Store.open_existing(paths.db_dir()).documents()) == 1


def test_the_graph_entity_vectors_are_made_again_by_the_new_embedder(localrag_home: Path, tmp_path: Path) -> None:
    films = tmp_path / "films.tsv"
    films.write_text("Big\tdirected_by\tPenny Marshall\nTom Hanks\tstarred_in\tBig\n", encoding="utf-8")
    notes = tmp_path / "notes.md"
    notes.write_text("# Films\n\nNotes about the films on the shelf.\n", encoding="utf-8")
    engine = Engine(Settings(commit_chunks=1), embedder=HashEmbedder(dim=32))
    engine.ingest([notes])
    engine.graph_import(films)
    cancel = threading.Event()

    class StopAfterTwoNames(HashEmbedder):
        def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
            if len(texts) == 2:  # the first batch of entity names (the one chunk is embedded alone)
                cancel.set()
            return super().embed(texts)

    new = StopAfterTwoNames(dim=16)  # another size: the old vectors would not even open with it

    # Stopped in the entities, then resumed: each entity once, with the new model's vector of its name.
    with patch("localrag.graph.entity_reembed._BATCH", 2):
        stopped = reembed_index(paths.db_dir(), new, cancel=cancel)
        assert stopped.cancelled and stopped.entities == 2
        cancel.clear()
        report = reembed_index(paths.db_dir(), new)
    assert not report.cancelled and report.entities == 1

    graph = GraphStore(paths.db_dir(), new)
    rows = graph.entity_rows()
    names = rows["name"].to_pylist()
    assert sorted(names) == ["Big", "Penny Marshall", "Tom Hanks"]
    np.testing.assert_allclose(graph.vectors_of(rows["entity_id"].to_pylist()), new.embed(names))
    answer = Engine(Settings(embedder=""), embedder=new).ask_graph("Who directed the film Tom Hanks starred in?")
    assert answer.answer == "Penny Marshall"


class _OtherModel(HashEmbedder):
    """Another model of the same size: its vectors are the hash embedder's, turned round."""

    name = "other-model"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return -super().embed(texts)


def test_a_running_engine_does_not_write_its_old_model_into_an_index_re_embedded_beside_it(
    localrag_home: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# a\n\nNotes about the a pier and its keeper.\n")
    server = Engine(Settings(), embedder=HashEmbedder(dim=32))  # a server or the chat app, its store open
    server.ingest([notes])
    assert not reembed_index(paths.db_dir(), _OtherModel(dim=32)).cancelled  # `tune` in another terminal
    (notes / "b.md").write_text("# b\n\nNotes about the b pier.\n")
    # It added b.md's vectors of the old model to the new model's index, without a word; its searches found nothing
    # (the old model's query against the new model's vectors) and its status saw nothing wrong.
    refusal = "re-embedded with 'other-model' by another command since this one started"
    with pytest.raises(EmbedderMismatchError, match=refusal):
        server.ingest([notes / "b.md"])
    with pytest.raises(IndexReembeddedError, match=f"{refusal}.*start this command .* again"):
        server.search("pier keeper")
    assert refusal in server.status().embedder_refused
    with pytest.raises(IndexReembeddedError):
        server.graph  # noqa: B018 - its entity vectors were made again by the new model too
    # An engine on a store of its own (an evaluation's corpus) is not about this index.
    own_store = Store(tmp_path / "eval", embedder_name="hash-embedder", dim=32)
    own = Engine(Settings(), embedder=HashEmbedder(dim=32), store=own_store)
    assert own.retriever is not None
    assert _engine_error(IndexReembeddedError("x", "y")).status == 409  # the server's to mend, as a deleted collection
    store = Store.open_existing(paths.db_dir())
    assert [Path(d.path).name for d in store.documents()] == ["a.md"]
    # The copy keeps its model's probe, so a later model of the same name is told apart from it.
    assert store.get_meta(PROBE_KEY)
