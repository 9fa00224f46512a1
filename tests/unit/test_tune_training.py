"""Fine-tuning machinery without a model: config checks, run folders and checkpoints, the learning-rate
schedule, the resumable example order, and backend selection.

The Unsloth path is tested with a fake `unsloth` module put into sys.modules, because this machine has
neither a CUDA GPU nor the unsloth package: these tests check which backend is chosen and that the
documented FastLanguageModel calls are made with our LoRA settings, not that Unsloth trains.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from localrag.errors import MissingExtraError
from localrag.tune import backends
from localrag.tune.base import SUPPORTED_ARCHITECTURES, UnsupportedModelError, base_architecture, base_sha256
from localrag.tune.checkpoint import check_same_run, checkpoints, latest_checkpoint, publish_adapter, save_checkpoint
from localrag.tune.config import FinetuneConfig, FinetuneError
from localrag.tune.finetune import _lr_factor, _Order


def test_config_round_trips_and_refuses_bad_values() -> None:
    config = FinetuneConfig(steps=7, target_modules=("q_proj",))
    data = json.loads(json.dumps(config.to_json()))
    assert FinetuneConfig.from_json({**data, "from_a_newer_version": 1}) == config
    for bad in ({"steps": 0}, {"learning_rate": 0.0}, {"lora_dropout": 1.0}, {"backend": "tpu"},
                {"target_modules": ()}):
        with pytest.raises(FinetuneError):
            FinetuneConfig(**bad)  # type: ignore[arg-type]


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    factor = _lr_factor(FinetuneConfig(steps=20, warmup_steps=4))
    warm = [factor(s) for s in range(5)]
    assert warm == sorted(warm) and warm[0] > 0
    assert factor(4) == pytest.approx(1.0)
    decay = [factor(s) for s in range(4, 21)]
    assert decay == sorted(decay, reverse=True)
    assert factor(20) == 0.0


def test_example_order_is_a_fixed_shuffle_per_epoch() -> None:
    order = _Order(5, seed=3)
    first_epoch = [order.batch(m, 1)[0] for m in range(5)]
    assert sorted(first_epoch) == [0, 1, 2, 3, 4]
    # A fresh object (a resumed run) gives the same examples for the same micro-batch numbers.
    again = _Order(5, seed=3)
    assert [again.batch(m, 1)[0] for m in range(7, 10)] == [order.batch(m, 1)[0] for m in range(7, 10)]
    assert order.batch(1, 2) == [order.batch(2, 1)[0], order.batch(3, 1)[0]]
    assert [_Order(5, seed=4).batch(m, 1)[0] for m in range(5)] != first_epoch


def _fill(folder: Path) -> None:
    (folder / "adapter_model.safetensors").write_bytes(b"weights")


def test_checkpoints_are_atomic_and_only_the_last_two_stay(tmp_path: Path) -> None:
    for step in (5, 10, 15):
        save_checkpoint(tmp_path, step, _fill, {"seconds": 1.0})
    assert [s for s, _ in checkpoints(tmp_path)] == [10, 15]
    # A checkpoint killed half-way is a hidden temporary folder, and one without state.json is not complete.
    (tmp_path / "checkpoints" / ".step-000020.123.tmp").mkdir()
    (tmp_path / "checkpoints" / "step-000025").mkdir()
    latest = latest_checkpoint(tmp_path)
    assert latest is not None and latest[0] == 15
    assert json.loads((latest[1] / "state.json").read_text())["step"] == 15
    save_checkpoint(tmp_path, 20, _fill, {})
    assert not list((tmp_path / "checkpoints").glob(".step-*"))


def test_adapter_is_published_by_rename(tmp_path: Path) -> None:
    def failing(folder: Path) -> None:
        _fill(folder)
        raise RuntimeError("killed while writing")

    with pytest.raises(RuntimeError):
        publish_adapter(tmp_path, failing)
    assert not (tmp_path / "adapter").exists()
    assert (publish_adapter(tmp_path, _fill) / "adapter_model.safetensors").read_bytes() == b"weights"


def test_a_run_folder_with_other_settings_is_refused(tmp_path: Path) -> None:
    config = FinetuneConfig()
    record: dict[str, Any] = {"base": {"sha256": "b"}, "config": config.to_json(), "data": {"hash": "d"}}
    check_same_run(tmp_path, record, "b", config, "d")
    with pytest.raises(FinetuneError, match=r"another configuration \(steps 200 then, 3 now\).*pick a new run folder"):
        check_same_run(tmp_path, record, "b", FinetuneConfig(steps=3), "d")
    with pytest.raises(FinetuneError, match="another base model and training data"):
        check_same_run(tmp_path, record, "x", config, "y")


def test_architecture_check_reads_the_folder_and_refuses_others(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    assert base_architecture(tmp_path) == "qwen2"
    first = base_sha256(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    assert base_sha256(tmp_path) != first
    with pytest.raises(UnsupportedModelError) as caught:
        base_architecture(tmp_path)
    assert str(tmp_path) in str(caught.value) and all(a in str(caught.value) for a in SUPPORTED_ARCHITECTURES)
    with pytest.raises(Exception, match="neither a GGUF file nor"):
        base_architecture(tmp_path / "missing")


@pytest.mark.parametrize(
    ("requested", "cuda", "installed", "expected"),
    [
        ("auto", False, False, "peft"),
        ("auto", True, False, "peft"),
        ("auto", False, True, "peft"),
        ("auto", True, True, "unsloth"),
        ("peft", True, True, "peft"),
        ("unsloth", True, True, "unsloth"),
    ],
)
def test_backend_selection(monkeypatch: pytest.MonkeyPatch, requested: str, cuda: bool, installed: bool,
                           expected: str) -> None:
    monkeypatch.setattr(backends, "cuda_available", lambda: cuda)
    monkeypatch.setattr(backends, "unsloth_installed", lambda: installed)
    assert backends.select_backend(requested) == expected


def test_unsloth_asked_for_without_it_or_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "cuda_available", lambda: True)
    monkeypatch.setattr(backends, "unsloth_installed", lambda: False)
    with pytest.raises(MissingExtraError, match=r"localrag\[gpu\]"):
        backends.select_backend("unsloth")
    monkeypatch.setattr(backends, "cuda_available", lambda: False)
    monkeypatch.setattr(backends, "unsloth_installed", lambda: True)
    with pytest.raises(FinetuneError, match="CUDA"):
        backends.select_backend("unsloth")


def test_unsloth_path_makes_the_documented_calls_with_our_lora_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """MOCK: a fake `unsloth` module (no GPU or unsloth here) records the FastLanguageModel calls."""
    calls: list[tuple[str, dict[str, Any]]] = []

    class FastLanguageModel:
        @staticmethod
        def from_pretrained(**kwargs: Any) -> tuple[str, str]:
            calls.append(("from_pretrained", kwargs))
            return "model", "tokenizer"

        @staticmethod
        def get_peft_model(model: str, **kwargs: Any) -> str:
            calls.append(("get_peft_model", {"model": model, **kwargs}))
            return "peft-model"

        @staticmethod
        def for_training(model: str) -> None:
            calls.append(("for_training", {"model": model}))

    fake = types.ModuleType("unsloth")
    fake.FastLanguageModel = FastLanguageModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "unsloth", fake)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    config = FinetuneConfig(lora_r=8, lora_alpha=16, lora_dropout=0.0, max_tokens=777, seed=5,
                            target_modules=("q_proj", "v_proj"))

    model, tokenizer, device = backends.load_for_training(tmp_path, config, "unsloth")

    assert (model, tokenizer, device) == ("peft-model", "tokenizer", "cuda")
    assert [name for name, _ in calls] == ["from_pretrained", "get_peft_model", "for_training"]
    loaded = calls[0][1]
    assert loaded["model_name"] == str(tmp_path) and loaded["max_seq_length"] == 777
    assert loaded["load_in_4bit"] is False
    peft = calls[1][1]
    assert peft["model"] == "model"
    assert (peft["r"], peft["lora_alpha"], peft["lora_dropout"], peft["random_state"]) == (8, 16, 0.0, 5)
    assert peft["target_modules"] == ["q_proj", "v_proj"] and peft["bias"] == "none"
    assert calls[2][1]["model"] == "peft-model"
