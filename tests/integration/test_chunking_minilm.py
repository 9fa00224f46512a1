"""The chunk limit holds with the real MiniLM tokenizer, which silently drops tokens past 256."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.embed import SentenceTransformerEmbedder
from localrag.ingest.chunker import chunk_document
from localrag.ingest.discover import discover, sample_corpus_dir
from localrag.ingest.loaders import file_type, load_file
from localrag.models import bundled_embedder_path

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(bundled_embedder_path())


@pytest.mark.parametrize(("max_tokens", "overlap"), [(64, 16), (200, 32), (256, 0)])
def test_sample_corpus_chunks_fit_the_tokenizer(
    embedder: SentenceTransformerEmbedder, max_tokens: int, overlap: int
) -> None:
    for path in discover([sample_corpus_dir()]):
        loaded = load_file(path)
        chunks = chunk_document(
            loaded,
            doc_id="d",
            path=str(path),
            file_type=file_type(path),
            token_counts=embedder.token_counts,
            max_tokens=max_tokens,
            overlap=overlap,
        )
        assert chunks, path.name
        real = embedder.token_counts([c.text for c in chunks])
        for c, count in zip(chunks, real, strict=True):
            assert c.n_tokens == count <= max_tokens, (path.name, c.index)
            assert loaded.text[c.start : c.end] == c.own_text


def test_unusual_text_fits_the_tokenizer(embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    """Long unbroken strings, CJK and emoji tokenize far from word counts."""
    text = (
        "# Mixed\n\n"
        + "\u6771\u4eac\u90fd\u306e\u4eba\u53e3\u306f\u591a\u3044\u3002" * 60
        + "\n\n"
        + "deadbeef" * 300
        + "\n\n"
        + "\U0001f41d bees \U0001f36f honey. " * 120
        + "\n"
    )
    path = tmp_path / "mixed.md"
    path.write_text(text, encoding="utf-8")
    loaded = load_file(path)
    chunks = chunk_document(
        loaded, doc_id="d", path=str(path), file_type="md", token_counts=embedder.token_counts,
        max_tokens=128, overlap=16,
    )
    real = embedder.token_counts([c.text for c in chunks])
    assert max(real) <= 128
    assert all(loaded.text[c.start : c.end] == c.text for c in chunks)
