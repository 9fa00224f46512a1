"""Embedding a changed file ahead of its ingest (ingest/prefetch.py) with the real MiniLM and LanceDB."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.ingest.pipeline import embedding_texts
from localrag.ingest.prefetch import PrefetchingEmbedder


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def embed(self, texts: Sequence[str]) -> Any:
        self.texts += len(texts)
        return self.inner.embed(texts)


def settled(prefetcher: PrefetchingEmbedder) -> None:
    deadline = time.monotonic() + 60
    while prefetcher._in_flight and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_ingest_uses_the_vectors_made_while_the_file_settled(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    note = tmp_path / "note.md"
    more = " ".join(f"Line {i} of the tide notes." for i in range(60))
    note.write_text(f"# Tides\n\nThe Wrenfield tide table is posted at the harbour office.\n\n{more}\n")
    counting = Counting(real_embedder)
    engine = Engine(load_settings(), embedder=counting)  # type: ignore[arg-type]
    assert engine.prefetch(note)
    settled(engine._prefetcher)  # type: ignore[arg-type]
    prefetched = counting.texts
    texts = embedding_texts(note, real_embedder, engine.settings)
    assert prefetched == len(texts) >= 2

    report = engine.ingest([note], refresh=False)
    assert report.added == 1
    assert counting.texts == prefetched + 1  # nothing embedded twice; the one more is the new index's probe text
    hits = engine.search("Wrenfield tide table", k=1)
    assert hits and hits[0].chunk.path == str(note)
    # The kept vectors are the ones the embedder makes for those texts.
    stored = dict(zip(*engine.store.vectors(), strict=True))
    assert np.allclose(stored[hits[0].chunk.chunk_id], real_embedder.embed([texts[0]])[0], atol=1e-5)


def test_a_file_changed_again_is_embedded_again(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Draft\n\nThe first version mentions lighthouses.\n")
    prefetcher = PrefetchingEmbedder(real_embedder, load_settings())
    prefetcher.prefetch(note)
    settled(prefetcher)
    note.write_text("# Draft\n\nThe second version mentions kilns.\n")
    texts = embedding_texts(note, real_embedder, load_settings())
    vectors = prefetcher.embed(texts)  # the first version's vectors do not answer for the second
    assert np.allclose(vectors, real_embedder.embed(texts), atol=1e-5)


def test_a_file_read_again_has_only_its_new_text_embedded_ahead(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # The ingest takes the unchanged chunks' stored vectors again: embedded ahead too, a whole mailbox was embedded
    # for one mail appended, and the ingest waited for it.
    note = tmp_path / "log.md"
    days = [f"## Day {i}\n\nThe ferry left at {6 + i}:40 with {i * 3} passengers aboard." for i in range(8)]
    note.write_text("# Ferry log\n\n" + "\n\n".join(days) + "\n")
    counting = Counting(real_embedder)
    engine = Engine(load_settings(), embedder=counting)  # type: ignore[arg-type]
    first = engine.ingest([note], refresh=False)
    assert first.chunks_written >= 8
    note.write_text(note.read_text() + "\n## Day 8\n\nThe ferry stayed in port: a gale.\n")
    before = counting.texts
    assert engine.prefetch(note)
    settled(engine._prefetcher)  # type: ignore[arg-type]
    assert counting.texts - before == 1  # the new day alone
    report = engine.ingest([note], refresh=False)
    # Nothing embedded again; the one more is the probe each ingest checks the embedder with.
    assert counting.texts - before == 2 and report.chunks_reused == first.chunks_written
    assert engine.search("ferry stayed in port in a gale", k=1)[0].chunk.text.endswith("a gale.")
