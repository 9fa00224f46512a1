"""OpenVINO over the embedder's ONNX export: float32 keeps torch's vectors and name, bf16 shares torch-bf16's.

The export is the one tests/integration/test_embed_onnx.py makes (LOCALRAG_CACHE_DIR is shared by
tests/conftest.py); conftest's socket guard also shows that loading OpenVINO reaches no network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from localrag import embed_onnx
from localrag.config import load_settings
from localrag.cpu import cpu_has_native_bf16
from localrag.embed import SentenceTransformerEmbedder, load_embedder
from localrag.embed_onnx import OnnxEmbedder
from localrag.engine import Engine
from localrag.errors import ConfigError
from localrag.models import bundled_embedder_path
from localrag.store import Store

TEXTS = [
    "How do bees keep the hive warm in winter?",
    "The lighthouse at Kestrel Point was automated in 1987 and its lens moved to the museum. " * 3,
    "x",
    " ".join(["A long chunk is truncated at the model's maximum length."] * 60),
]


def test_openvino_float_reproduces_torch_under_its_name(real_embedder: SentenceTransformerEmbedder) -> None:
    openvino = load_embedder(bundled_embedder_path(), "openvino", threads=1)
    assert isinstance(openvino, OnnxEmbedder)
    vectors = openvino.embed(TEXTS)
    assert vectors.dtype == np.float32
    assert np.abs(vectors - real_embedder.embed(TEXTS)).max() < 1e-4
    assert openvino.name == real_embedder.name and openvino.dim == real_embedder.dim
    assert openvino.token_counts(TEXTS) == real_embedder.token_counts(TEXTS)
    assert openvino.session_threads == 1
    # Batched by length, rows come back in the caller's order.
    single = np.vstack([openvino.embed([t]) for t in TEXTS])
    assert np.abs(single - vectors).max() < 1e-4
    assert openvino.embed([]).shape == (0, openvino.dim)


def test_openvino_embeds_questions_on_onnx_runtime_with_the_same_vectors() -> None:
    """One short text on one thread runs faster on ONNX Runtime; an ingest's batches stay on OpenVINO."""
    openvino = load_embedder(bundled_embedder_path(), "openvino", threads=1)
    assert isinstance(openvino, OnnxEmbedder)
    questions = openvino.embed_queries(TEXTS)
    assert isinstance(openvino._question_runtime(), embed_onnx._OrtRuntime)
    assert openvino._question_runtime().threads == 1
    assert np.abs(questions - openvino.embed(TEXTS)).max() < 1e-4
    assert openvino.embed_queries([]).shape == (0, openvino.dim)
    # The bf16 variant's questions must share its documents' precision, and ONNX Runtime has no bf16.
    if cpu_has_native_bf16():
        bf16 = load_embedder(bundled_embedder_path(), "openvino-bf16", threads=1)
        assert isinstance(bf16, OnnxEmbedder)
        assert bf16._question_runtime() is bf16._load()[0]


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bf16 arithmetic")
def test_openvino_bf16_is_close_to_float_and_shares_torch_bf16_s_index(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    folder = bundled_embedder_path()
    openvino = load_embedder(folder, "openvino-bf16")
    torch_bf16 = load_embedder(folder, "torch-bf16")
    vectors = openvino.embed(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float((vectors * real_embedder.embed(TEXTS)).sum(axis=1).min()) > 0.999
    assert float((vectors * torch_bf16.embed(TEXTS)).sum(axis=1).min()) > 0.999
    assert openvino.name == torch_bf16.name == real_embedder.name + "+bf16"
    # An index built by either bf16 runtime opens with the other.
    Store(tmp_path / "db", embedder_name=torch_bf16.name, dim=torch_bf16.dim)
    Store(tmp_path / "db", embedder_name=openvino.name, dim=openvino.dim)


def test_openvino_bf16_is_refused_without_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed_onnx, "cpu_has_native_bf16", lambda: False)
    with pytest.raises(ConfigError, match="'openvino-bf16': this CPU has no native bfloat16"):
        load_embedder(bundled_embedder_path(), "openvino-bf16")


def test_an_engine_on_openvino_ingests_and_finds(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bees.md").write_text("# Bees\n\nIn winter the bees cluster and shiver to keep the queen warm.\n")
    (docs / "light.md").write_text("# Lighthouse\n\nKestrel Point's lamp was automated in 1987.\n")
    engine = Engine(load_settings(embed_backend="openvino"))
    report = engine.ingest([docs])
    assert report.chunks_written == 2 and not report.errors
    hits = engine.search("When was the lighthouse automated?", k=1)
    assert "1987" in hits[0].chunk.text
    assert engine.status().embed_backend == "openvino"
