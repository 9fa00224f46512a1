"""Engine construction is cheap and settings changes rebuild only the parts they concern."""

from __future__ import annotations

import subprocess
import sys

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine


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
