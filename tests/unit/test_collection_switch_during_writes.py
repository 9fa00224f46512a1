"""A switch of collection in one thread (the chat app's Library picker) while another thread writes (an ingest, a
watched folder's round) waits for the write: the write ends in the collection it began in (engine_writes.py).
Real LanceDB, HashEmbedder; the switch is made to land mid-write by a hook in the ingest."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import localrag.ingest.pipeline as pipeline
from localrag.config import load_settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.graph.triples import Triple
from localrag.types import IngestReport


def _graph_of_one_triple(engine: Engine, folder: Path, head: str) -> None:
    engine.ingest([folder])
    doc = engine.store.documents()[0]
    chunk = engine.store.doc_chunks(doc.doc_id)[0]
    engine.graph.add_triples([Triple(head, "is", "Greek", chunk.chunk_id, doc.doc_id)])
    engine.graph.mark_built([(chunk.chunk_id, doc.doc_id, doc.content_hash, 1)])


def test_a_switch_during_an_ingest_waits_and_leaves_the_other_collections_graph_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    for folder in (alpha, beta):
        folder.mkdir()
        (folder / "one.txt").write_text(f"{folder.name} one. " * 50, encoding="utf-8")
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.create_collection("b")
    engine.update_settings(engine.settings.replace(collection="b"))
    _graph_of_one_triple(engine, beta, "Beta")
    engine.update_settings(engine.settings.replace(collection="default"))
    _graph_of_one_triple(engine, alpha, "Alpha")
    (alpha / "one.txt").write_text("alpha changed. " * 50, encoding="utf-8")

    switch = threading.Thread(target=lambda: engine.update_settings(engine.settings.replace(collection="b")))
    real = pipeline.run_ingest

    def switched_meanwhile(*args: object, **kwargs: object) -> IngestReport:
        report = real(*args, **kwargs)  # type: ignore[arg-type]
        switch.start()
        switch.join(timeout=1.0)
        assert switch.is_alive()  # the picker waits for the ingest under way
        return report

    monkeypatch.setattr(pipeline, "run_ingest", switched_meanwhile)
    report = engine.ingest([alpha])
    switch.join(timeout=10)
    assert report.updated == 1 and engine.settings.collection == "b"
    # The ingest took the changed document's triple out of its own collection's graph, not b's.
    assert engine.graph.stats().triples == 1
    engine.update_settings(engine.settings.replace(collection="default"))
    assert engine.graph.stats().triples == 0


def test_a_watch_stopped_for_a_switch_writes_nothing_into_the_collection_switched_to(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "first.txt").write_text("first note. " * 20, encoding="utf-8")
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.create_collection("b")
    stop, ready = threading.Event(), threading.Event()
    ingest, cancels = engine.ingest, []

    def ingest_told(*args: Any, **kwargs: Any) -> Any:
        cancels.append(kwargs.get("cancel"))
        return ingest(*args, **kwargs)

    engine.ingest = ingest_told  # type: ignore[method-assign]
    watcher = threading.Thread(target=engine.watch, args=([folder],),
                               kwargs={"settle": 0.1, "stop": stop, "ready": ready}, daemon=True)
    watcher.start()
    assert ready.wait(60)
    with engine.writing():  # as an ingest under way holds it: the watch's round waits
        (folder / "second.txt").write_text("second note. " * 20, encoding="utf-8")
        time.sleep(1.5)  # the file settles; the round is waiting
        stop.set()  # what the Library does, before its switch
        engine.update_settings(engine.settings.replace(collection="b"))
    watcher.join(10)
    assert not watcher.is_alive() and engine.documents() == []
    engine.update_settings(engine.settings.replace(collection="default"))
    assert [Path(d.path).name for d in engine.documents()] == ["first.txt"]
    # Its ingests stop with it: a switch waited for a whole folder's first ingest (20-30 s), in silence.
    assert cancels and all(cancel is stop for cancel in cancels)
