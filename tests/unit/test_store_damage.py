"""A damaged store: each table file kind cut in half, then the message and the recovery."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import StoreError


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ingested store, made once and copied for each damage."""
    home = tmp_path_factory.mktemp("home")
    corpus = tmp_path_factory.mktemp("corpus")
    for i in range(3):
        (corpus / f"note{i}.md").write_text(f"# Note {i}\n\nThe lighthouse keeper logged storm number {i}.\n")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32), store=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALRAG_HOME", str(home))
        engine.ingest([corpus])
    return home


def _damaged(clean: Path, home: Path, pattern: str) -> Engine:
    shutil.rmtree(home)
    shutil.copytree(clean, home)
    files = sorted((home / "data" / "lancedb").glob(pattern))
    assert files, pattern
    for f in files:
        with f.open("r+b") as handle:
            handle.truncate(f.stat().st_size // 2)
    return Engine(Settings(), embedder=HashEmbedder(dim=32))


@pytest.mark.parametrize(("pattern", "table"), [
    ("documents.lance/data/*.lance", "documents"),
    ("chunks.lance/data/*.lance", "chunks"),
    ("meta.lance/data/*.lance", "meta"),
])
def test_damaged_table_is_named_with_the_recovery(clean_store: Path, localrag_home: Path, pattern: str,
                                                  table: str) -> None:
    engine = _damaged(clean_store, localrag_home, pattern)
    with pytest.raises(StoreError) as info:
        engine.search("lighthouse keeper")
    message = str(info.value)
    assert f"the store is damaged, the {table} table cannot be read" in message
    assert "localrag repair" in message and "/rustc/" not in message
    assert "\n" not in message


def test_damaged_full_text_index_is_rebuilt(clean_store: Path, localrag_home: Path) -> None:
    engine = _damaged(clean_store, localrag_home, "chunks.lance/_indices/*/part_0_invert.lance")
    hits = engine.store.text_search("lighthouse keeper storm", 3)
    assert len(hits) == 3
    assert engine.status().chunks == 3
