"""Engine construction is cheap and settings changes rebuild only the parts they concern."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localrag import paths
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError


class _Generator:
    name = "stand-in"
    n_ctx = 512


def test_construction_loads_nothing() -> None:
    code = (
        "import sys; from localrag.engine import Engine; Engine()\n"
        "print([m for m in ('torch', 'llama_cpp', 'lancedb', 'sentence_transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_update_settings_drops_only_what_changed() -> None:
    embedder, generator = HashEmbedder(), _Generator()
    engine = Engine(Settings(), embedder=embedder, generator=generator)  # type: ignore[arg-type]
    engine.update_settings(engine.settings.replace(top_k=9, temperature=0.5))
    assert engine.settings.top_k == 9
    assert engine._generator is generator and engine._embedder is embedder
    engine.update_settings(engine.settings.replace(n_ctx=4096))
    assert engine._generator is None and engine._embedder is embedder
    engine.update_settings(engine.settings.replace(embedder="/elsewhere"))
    assert engine._embedder is None and engine._store is None and engine._retriever is None


class _NameOnly(HashEmbedder):
    """The index's embedder by name; its dimension is what loading the real model would cost."""

    @property
    def dim(self) -> int:
        raise AssertionError("status loaded the embedder to learn its dimension")


class _Other(HashEmbedder):
    name = "other-embedder"


def test_status_of_an_index_reads_the_dimension_it_records(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text("The lighthouse was first lit in 1871.\n", encoding="utf-8")
    Engine(Settings(), embedder=HashEmbedder(), generator=_Generator()).ingest([folder])  # type: ignore[arg-type]

    status = Engine(Settings(), embedder=_NameOnly(), generator=_Generator()).status()  # type: ignore[arg-type]
    assert (status.documents, status.chunks) == (1, 1)
    assert status.fusion.endswith("(default; `localrag retrieval tune-fusion` measures others)")
    # Another embedder's index is still shown, with why a search refuses this one.
    other = Engine(Settings(), embedder=_Other(), generator=_Generator()).status()  # type: ignore[arg-type]
    assert other.documents == 1 and "built with embedder 'hash-embedder'" in other.embedder_refused
    # The price: a model of the same name with another width is refused at its first search, not by status.
    resized = Engine(Settings(), embedder=HashEmbedder(dim=32), generator=_Generator())  # type: ignore[arg-type]
    assert resized.status().documents == 1
    with pytest.raises(LocalRagError):
        resized.search("lighthouse")


def test_status_before_the_first_ingest_is_an_empty_index_and_creates_nothing(localrag_home: Path) -> None:
    status = Engine(Settings(), embedder=_NameOnly(), generator=_Generator()).status()  # type: ignore[arg-type]
    assert (status.documents, status.chunks, status.size_bytes) == (0, 0, 0)
    assert (status.fts_index, status.vector_index) == ("none", "none (exact search)")
    assert status.fusion.endswith("(default; `localrag retrieval tune-fusion` measures others)")
    assert not paths.db_dir().exists()
    # A collection that does not exist is still refused, by name.
    with pytest.raises(LocalRagError, match="notes"):
        Engine(Settings(collection="notes"), embedder=HashEmbedder(), generator=_Generator()).status()  # type: ignore[arg-type]
