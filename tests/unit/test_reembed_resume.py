"""A re-embedding stopped half way, then the index changes: the resumed copy follows it, and a purge erases it."""

from __future__ import annotations

import threading
from pathlib import Path

from localrag import paths
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.reembed import next_dir, reembed_index
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
