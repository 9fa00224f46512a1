"""Real parts for integration tests: the bundled MiniLM and SmolLM2, a real LanceDB per test.

The models are the session-wide fixtures of tests/conftest.py; each test gets its own LOCALRAG_HOME
and so its own store.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.generate import LlamaGenerator
from localrag.ingest.discover import sample_corpus_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def engine(localrag_home: Path, real_embedder: SentenceTransformerEmbedder,
           real_generator: LlamaGenerator) -> Iterator[Engine]:
    yield Engine(load_settings(), embedder=real_embedder, generator=real_generator)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(sample_corpus_dir(), target)
    return target
