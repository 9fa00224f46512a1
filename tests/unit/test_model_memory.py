"""The memory estimate: weights + KV cache at n_ctx against MemAvailable, refused with a way out."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_stores import write_gguf

from localrag import model_memory
from localrag.config import Settings
from localrag.discover_models import shape_of
from localrag.engine import Engine
from localrag.errors import ModelError
from localrag.model_memory import (
    GIB,
    ModelShape,
    available_memory,
    check_fits,
    estimate,
    fitting_quantization,
    largest_fitting_ctx,
)
from localrag.models import bundled_generator_path

# Llama-3.1-8B's shape: 32 layers, 4096 wide, 32 heads, 8 KV heads; Q4_K_M is about 4.9 GB.
LLAMA_8B = ModelShape(file_size=4_920_000_000, quantization="Q4_K_M", n_layer=32, n_embd=4096, n_head=32,
                      n_head_kv=8)


def test_kv_cache_formula() -> None:
    # 2 (K, V) x 32 layers x 8 KV heads x 128 head size x 2 bytes = 128 KiB per token.
    assert LLAMA_8B.kv_bytes(1) == 131072
    need = estimate(LLAMA_8B, 8192)
    assert need.kv_cache == GIB
    assert need.total == need.weights + need.kv_cache + need.overhead


def test_fits_passes_and_unknown_memory_never_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_fits(tmp_path / "m.gguf", LLAMA_8B, 8192, available=16 * GIB).n_ctx == 8192
    monkeypatch.setattr(model_memory, "available_memory", lambda: None)  # no /proc/meminfo (macOS)
    assert check_fits(tmp_path / "m.gguf", LLAMA_8B, 131072).n_ctx == 131072


def test_too_long_context_suggests_a_smaller_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        check_fits(tmp_path / "llama-8b.gguf", LLAMA_8B, 131072, available=8 * GIB)
    text = str(info.value)
    ctx = largest_fitting_ctx(LLAMA_8B, 8 * GIB, 131072)
    assert "llama-8b.gguf needs about 21.3 GiB at n_ctx 131072" in text
    assert "8.0 GiB is available" in text and f"set n_ctx to {ctx}" in text
    assert ctx % 512 == 0 and estimate(LLAMA_8B, ctx).total <= 8 * GIB < estimate(LLAMA_8B, ctx + 512).total


def test_too_big_weights_suggest_a_smaller_quantization(tmp_path: Path) -> None:
    f16 = ModelShape(file_size=16_000_000_000, quantization="F16", n_layer=32, n_embd=4096, n_head=32, n_head_kv=8)
    assert fitting_quantization(f16, 8 * GIB) == "Q6_K"
    with pytest.raises(ModelError, match=r"use a Q6_K \(or smaller\) quantization"):
        check_fits(tmp_path / "f16.gguf", f16, 2048, available=8 * GIB)
    with pytest.raises(ModelError, match="use a smaller model"):
        check_fits(tmp_path / "f16.gguf", f16, 2048, available=GIB)


def test_meminfo_is_read(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:    8000000 kB\n")
    assert available_memory(meminfo) == 8_000_000 * 1024
    assert available_memory(tmp_path / "absent") is None


def test_shape_comes_from_the_header(tmp_path: Path) -> None:
    shape = shape_of(write_gguf(tmp_path / "m.gguf", layers=4, embd=256, heads=8, kv_heads=2))
    assert (shape.n_layer, shape.n_embd, shape.n_head, shape.n_head_kv, shape.quantization) == (4, 256, 8, 2, "Q4_K_M")
    assert shape.kv_bytes(10) == 4 * 10 * 2 * (32 + 32) * 2


def test_engine_refuses_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    # The bundled model at the largest context Settings allows needs ~3 GiB of KV cache; on a machine
    # with 1 GiB free it is refused, not killed. (Settings refuses a context past 131,072 itself.)
    from localrag import model_memory

    monkeypatch.setattr(model_memory, "available_memory", lambda: 1 << 30)
    engine = Engine(Settings(n_ctx=131_072))
    with pytest.raises(ModelError) as info:
        _ = engine.generator
    assert bundled_generator_path().name in str(info.value) and "set n_ctx to" in str(info.value)
    assert engine._generator is None
    # The setting switches the check off for a machine that swaps on purpose.
    engine.update_settings(engine.settings.replace(memory_check=False, n_ctx=131_072))
    assert engine.check_model("") == bundled_generator_path()
