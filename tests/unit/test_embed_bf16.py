"""Torch embedder runtimes: bf16 vectors close to float32's under their own name (refused where bf16 is
emulated), and token counts that never truncate."""

from __future__ import annotations

import numpy as np
import pytest

from localrag import embed_onnx
from localrag.cpu import cpu_has_native_bf16
from localrag.embed import SentenceTransformerEmbedder, load_embedder
from localrag.errors import ConfigError
from localrag.models import bundled_embedder_path

TEXTS = [
    "Hollow Brook Beekeepers Association was founded in 1962.",
    "The lantern gallery of Kestrel Point Lighthouse is reached by 142 steps.",
    "Quillpad formatting codes can be nested up to eight levels deep.",
]


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bf16 arithmetic")
def test_bf16_vectors_are_unit_length_close_to_float_and_named_apart() -> None:
    folder = bundled_embedder_path()
    bf16 = load_embedder(folder, "torch-bf16")
    reference = SentenceTransformerEmbedder(folder)
    vectors = bf16.embed(TEXTS)
    assert bf16.name == reference.name + "+bf16" == embed_onnx.variant_name(folder, "torch-bf16")
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert float((vectors * reference.embed(TEXTS)).sum(axis=1).min()) > 0.999


def test_a_cpu_without_native_bf16_is_told_to_use_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed_onnx, "cpu_has_native_bf16", lambda: False)
    with pytest.raises(ConfigError, match="no native bfloat16") as error:
        load_embedder(bundled_embedder_path(), "torch-bf16")
    assert error.value.hint == 'use embed_backend = "openvino"'


def test_counting_after_encoding_still_counts_past_the_maximum() -> None:
    """sentence-transformers' `encode` sets truncation on its tokenizer; counting must not inherit it."""
    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    long_text = " ".join(["word"] * 400)
    before = embedder.token_counts([long_text, TEXTS[0]])
    embedder.embed(TEXTS)
    assert embedder.token_counts([long_text, TEXTS[0]]) == before
    assert before[0] == 402 > embedder.max_tokens
