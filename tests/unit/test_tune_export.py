"""The GGUF export pieces on a tiny synthetic llama: metadata copy, tensor names, permutation, quantize, card."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import gguf
import numpy as np
import pytest
from tiny_llama import FFN, HEAD_DIM, HEADS, HIDDEN, KV_HEADS, LAYERS, tiny_state_dict, write_tiny_base

from localrag.tune.card import CARD_KEYS, build_card, file_sha256, read_card, write_card
from localrag.tune.export import clean_stale_temps, install_file
from localrag.tune.gguf_writer import (
    ExportError,
    UnsupportedArchitectureError,
    gguf_architecture,
    gguf_tensor_names,
    permute_qk,
    to_gguf_tensor,
    unpermute_qk,
    write_gguf_from_gguf_base,
    write_lora_gguf,
)
from localrag.tune.quantize import QUANT_TYPES, QuantizeError, check_quant, quantize
from localrag.tune.verify import (
    TIE_LOGITS,
    Reference,
    _nll,
    _ties,
    validation_conversations,
    verification_texts,
)


@pytest.fixture
def tiny_base(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    state = tiny_state_dict()
    return write_tiny_base(tmp_path / "base.gguf", state), state


def test_permute_round_trip_and_matches_transformers_unpermute() -> None:
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    rng = np.random.default_rng(1)
    q = rng.standard_normal((HIDDEN, 5)).astype(np.float32)
    k = rng.standard_normal((KV_HEADS * HEAD_DIM, 5)).astype(np.float32)
    assert not np.array_equal(permute_qk(q, HEADS), q)
    assert np.array_equal(unpermute_qk(permute_qk(q, HEADS, HEADS), HEADS, HEADS), q)
    assert np.array_equal(unpermute_qk(permute_qk(k, HEADS, KV_HEADS), HEADS, KV_HEADS), k)
    # transformers un-permutes when loading a llama GGUF; our permute must be exactly its inverse.
    processor = LlamaTensorProcessor(config={"num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS})
    loaded_q = processor.process(permute_qk(q, HEADS, HEADS), "blk.0.attn_q.weight").weights
    loaded_k = processor.process(permute_qk(k, HEADS, KV_HEADS), "blk.0.attn_k.weight").weights
    assert np.array_equal(loaded_q, q) and np.array_equal(loaded_k, k)


def test_tensor_names_for_llama_qwen2_and_gemma() -> None:
    llama = gguf_tensor_names(tiny_state_dict(), "llama", LAYERS)
    assert llama["blk.1.attn_q.weight"] == "model.layers.1.self_attn.q_proj.weight"
    assert llama["blk.0.ffn_down.weight"] == "model.layers.0.mlp.down_proj.weight"
    assert llama["token_embd.weight"] == "model.embed_tokens.weight"
    assert llama["output_norm.weight"] == "model.norm.weight"
    assert len(llama) == len(tiny_state_dict())
    qwen = gguf_tensor_names(["model.layers.0.self_attn.q_proj.bias", "lm_head.weight"], "qwen2", 1)
    assert qwen == {"blk.0.attn_q.bias": "model.layers.0.self_attn.q_proj.bias", "output.weight": "lm_head.weight"}
    gemma = gguf_tensor_names(["model.layers.0.post_attention_layernorm.weight"], "gemma2", 1)
    assert list(gemma) == ["blk.0.post_attention_norm.weight"]


def test_fixups_and_storage_types() -> None:
    norm = np.full(4, 0.25, dtype=np.float32)
    assert np.allclose(to_gguf_tensor("blk.0.attn_norm.weight", norm, "gemma", 2, 2), 1.25)
    assert np.allclose(to_gguf_tensor("blk.0.attn_norm.weight", norm, "llama", 2, 2), 0.25)
    matrix = np.arange(32, dtype=np.float32).reshape(8, 4)
    assert to_gguf_tensor("blk.0.ffn_up.weight", matrix, "llama", 2, 2).dtype == np.float16
    assert to_gguf_tensor("blk.0.attn_norm.weight", norm, "llama", 2, 2).dtype == np.float32
    # qwen2 uses NeoX rope: q stays in transformers' row order.
    assert np.array_equal(to_gguf_tensor("blk.0.attn_q.weight", matrix, "qwen2", 2, 2), matrix.astype(np.float16))
    assert not np.array_equal(to_gguf_tensor("blk.0.attn_q.weight", matrix, "llama", 2, 2), matrix.astype(np.float16))


def test_unsupported_architecture_is_refused_by_name() -> None:
    assert gguf_architecture("mistral", Path("m")) == "llama"
    with pytest.raises(UnsupportedArchitectureError, match="phi3") as info:
        gguf_architecture("phi3", Path("/models/phi.gguf"))
    assert "qwen2" in str(info.value) and "/models/phi.gguf" in str(info.value)


def test_metadata_and_tensor_set_copied_from_gguf_base(tiny_base: tuple[Path, dict], tmp_path: Path) -> None:
    base, state = tiny_base
    tuned = {k: v + 0.5 for k, v in state.items()}
    out = write_gguf_from_gguf_base(tuned, base, tmp_path / "out.gguf", metadata_overrides={"general.name": "mine"})
    before, after = gguf.GGUFReader(base), gguf.GGUFReader(out.path)
    skipped = {"general.file_type", "general.name"}
    for key, field in before.fields.items():
        if key.startswith("GGUF.") or key in skipped:
            continue
        assert after.fields[key].contents() == field.contents(), key
    assert after.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_F16
    assert after.fields["general.name"].contents() == "mine"
    assert [(t.name, list(t.shape)) for t in after.tensors] == [(t.name, list(t.shape)) for t in before.tensors]
    written = {t.name: t for t in after.tensors}
    assert written["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.F16
    assert written["blk.0.attn_norm.weight"].tensor_type == gguf.GGMLQuantizationType.F32
    # Reading the file back the way transformers does gives the tuned weights, not the base's.
    q = unpermute_qk(np.array(written["blk.1.attn_q.weight"].data, dtype=np.float32), HEADS, HEADS)
    k = unpermute_qk(np.array(written["blk.1.attn_k.weight"].data, dtype=np.float32), HEADS, KV_HEADS)
    assert np.allclose(q, tuned["model.layers.1.self_attn.q_proj.weight"], atol=2e-3)
    assert np.allclose(k, tuned["model.layers.1.self_attn.k_proj.weight"], atol=2e-3)
    # A base tensor with no PyTorch counterpart travels unchanged.
    assert np.array_equal(written["rope_freqs.weight"].data, np.linspace(1, 2, HEAD_DIM // 2, dtype=np.float32))


def test_missing_or_misshapen_tensor_is_refused(tiny_base: tuple[Path, dict], tmp_path: Path) -> None:
    base, state = tiny_base
    partial = dict(state)
    del partial["model.layers.1.mlp.up_proj.weight"]
    with pytest.raises(ExportError, match="no counterpart"):
        write_gguf_from_gguf_base(partial, base, tmp_path / "a.gguf")
    wrong = dict(state)
    wrong["model.layers.0.mlp.up_proj.weight"] = np.zeros((FFN + 1, HIDDEN), dtype=np.float32)
    with pytest.raises(ExportError, match="blk.0.ffn_up.weight"):
        write_gguf_from_gguf_base(wrong, base, tmp_path / "b.gguf")


def test_quant_type_validation() -> None:
    assert check_quant("q8_0") == "Q8_0"
    assert set(QUANT_TYPES) == {"Q8_0", "Q4_K_M", "Q5_K_M", "F16"}
    with pytest.raises(QuantizeError, match="Q3_K") as info:
        check_quant("Q3_K")
    assert "Q4_K_M" in str(info.value)


def test_quantize_tiny_model_and_failure_leaves_no_temp(tiny_base: tuple[Path, dict], tmp_path: Path) -> None:
    base, state = tiny_base
    f16 = write_gguf_from_gguf_base(state, base, tmp_path / "f16.gguf").path
    out = quantize(f16, tmp_path / "q8.gguf", "Q8_0", threads=1)
    reader = gguf.GGUFReader(out)
    assert reader.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_Q8_0
    assert {t.name for t in reader.tensors} == {t.name for t in gguf.GGUFReader(f16).tensors}
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(QuantizeError, match="garbage.gguf"):
        quantize(garbage, tmp_path / "never.gguf", "Q8_0", threads=1)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "base.gguf",
        "f16.gguf",
        "garbage.gguf",
        "q8.gguf",
    ]


def test_lora_adapter_gguf_names_shapes_and_permutation(tiny_base: tuple[Path, dict], tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    base, _ = tiny_base
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    rank = 4
    prefix = "base_model.model.model.layers.0"
    a = torch.randn(rank, HIDDEN)
    b = torch.randn(KV_HEADS * HEAD_DIM, rank)
    save_file(
        {
            f"{prefix}.self_attn.k_proj.lora_A.weight": a,
            f"{prefix}.self_attn.k_proj.lora_B.weight": b,
            f"{prefix}.mlp.up_proj.lora_A.weight": torch.randn(rank, HIDDEN),
            f"{prefix}.mlp.up_proj.lora_B.weight": torch.randn(FFN, rank),
        },
        str(adapter / "adapter_model.safetensors"),
    )
    (adapter / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": 8}))
    out = write_lora_gguf(adapter, base, tmp_path / "lora.gguf")
    reader = gguf.GGUFReader(out.path)
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.type"].contents() == "lora"
    assert reader.fields["adapter.lora.alpha"].contents() == 8.0
    tensors = {t.name: t for t in reader.tensors}
    assert set(tensors) == {
        "blk.0.attn_k.weight.lora_a",
        "blk.0.attn_k.weight.lora_b",
        "blk.0.ffn_up.weight.lora_a",
        "blk.0.ffn_up.weight.lora_b",
    }
    assert list(tensors["blk.0.ffn_up.weight.lora_b"].shape) == [rank, FFN]
    assert np.array_equal(tensors["blk.0.attn_k.weight.lora_a"].data, a.numpy())
    assert np.array_equal(tensors["blk.0.attn_k.weight.lora_b"].data, permute_qk(b.numpy(), HEADS, KV_HEADS))


def test_card_contents_round_trip(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"weights")
    card = build_card(
        "m",
        base_path="/b.gguf",
        base_sha256="abc",
        architecture="llama",
        quant="Q8_0",
        data_hash="d1",
        data_dir="/raft",
        config={"steps": 3},
        training={"train_loss": 1.5},
        evaluation={"agreement_f16": 1.0},
        files={"m.gguf": file_sha256(model)},
    )
    assert tuple(card) == CARD_KEYS
    assert card["base"] == {"path": "/b.gguf", "sha256": "abc", "architecture": "llama", "license": ""}
    assert card["data"] == {"hash": "d1", "dir": "/raft"}
    assert card["files"] == {"m.gguf": hashlib.sha256(b"weights").hexdigest()}
    path = write_card(tmp_path / "m.json", card)
    assert read_card(path) == card
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_stale_temps_removed_only_when_their_process_is_gone(tmp_path: Path) -> None:
    dead = tmp_path / ".old.gguf.999999999.partial"
    live = tmp_path / f".busy.gguf.{os.getpid()}.partial"
    card_tmp = tmp_path / ".old.json.999999999.tmp"
    threads_card = tmp_path / ".old.md.999999999-140211.tmp"
    live_card = tmp_path / f".busy.md.{os.getpid()}-140211.tmp"
    model = tmp_path / "keep.gguf"
    for path in (dead, live, card_tmp, threads_card, live_card, model):
        path.write_bytes(b"x")
    assert sorted(p.name for p in clean_stale_temps(tmp_path)) == sorted([dead.name, card_tmp.name, threads_card.name])
    assert live.exists() and live_card.exists() and model.exists() and not dead.exists()


def test_install_file_replaces_atomically(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(1000))
    dst = tmp_path / "models" / "x.gguf"
    dst.parent.mkdir()
    dst.write_bytes(b"old")
    stages: list[tuple[str, float]] = []
    install_file(src, dst, lambda stage, fraction: stages.append((stage, fraction)))
    assert dst.read_bytes() == src.read_bytes()
    assert [p.name for p in dst.parent.iterdir()] == ["x.gguf"]
    assert stages[-1] == ("install", 1.0)


class _ChatTokenizer:
    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = False) -> str:
        return "".join(f"<{m['role']}>{m['content']}" for m in messages)


def test_verification_texts_from_validation_split_else_fixed(tmp_path: Path) -> None:
    records = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]} for i in range(3)
    ]
    (tmp_path / "validation.chat.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert verification_texts(tmp_path, _ChatTokenizer(), limit=2) == ["<user>q0<assistant>a", "<user>q1<assistant>a"]
    fixed = verification_texts(None, _ChatTokenizer(), limit=3)
    assert len(fixed) == 3 and all(t.startswith("<user>") for t in fixed)
    # A set too small to hold any question out writes an empty split: the card then says the fixed chats were used.
    empty = tmp_path / "small"
    empty.mkdir()
    (empty / "validation.chat.jsonl").write_text("")
    assert validation_conversations(empty) == [] and verification_texts(empty, _ChatTokenizer(), limit=3) == fixed


def test_a_tie_in_the_reference_is_not_a_disagreement() -> None:
    logits = np.array([[5.0, 1.0, 0.0], [2.0, 2.0 - TIE_LOGITS / 10, 0.0], [0.0, 1.0, 1.0 - 2 * TIE_LOGITS]])
    ties = _ties(logits)
    assert ties == {1: frozenset({0, 1})}  # only the near-tie; 0.1 apart is a choice, not a tie
    reference = Reference("t", [1, 2, 3], logits.argmax(-1), 0.0, ties=ties)
    assert reference.agreeing(np.array([0, 1, 1])) == 3
    assert reference.agreeing(np.array([0, 1, 2])) == 2  # the third position's second best is no tie
    assert reference.agreeing(np.array([1, 2, 2])) == 0


def test_nll_of_certain_and_uniform_predictions() -> None:
    ids = [0, 1, 2]
    certain = np.full((3, 4), -100.0)
    certain[0, 1] = certain[1, 2] = 100.0
    assert _nll(certain, ids) == pytest.approx(0.0, abs=1e-6)
    assert _nll(np.zeros((3, 4)), ids) == pytest.approx(2 * np.log(4))


def test_chat_template_must_survive_the_export(tiny_base: tuple[Path, dict], tmp_path: Path) -> None:
    from types import SimpleNamespace

    from localrag.tune.verify import ExportVerificationError, check_chat_template

    base, state = tiny_base
    out = write_gguf_from_gguf_base(state, base, tmp_path / "out.gguf").path
    template = gguf.GGUFReader(base).fields["tokenizer.chat_template"].contents()
    check_chat_template(out, SimpleNamespace(chat_template=template))
    with pytest.raises(ExportVerificationError, match="chat template"):
        check_chat_template(out, SimpleNamespace(chat_template=template + " "))




def test_the_hint_for_an_unfinished_run_is_a_command_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said `localrag finetune --run` "on that folder", which argparse refused: --data is required."""
    import json

    from localrag.cli import run
    from localrag.tune.checkpoint import finetune_command

    bare = tmp_path / "run1"
    bare.mkdir()
    assert run(["export", "--run", str(bare), "--name", "mymodel"]) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert f"finish its training first: `localrag finetune --data RAFT_DIR --run {bare}`" in err
    (bare / "run.json").write_text(json.dumps({"status": "stopped", "data": {"dir": "/work/raft set"}}))
    assert finetune_command(bare) == f"`localrag finetune --data '/work/raft set' --run {bare}`"


def test_an_adapter_without_its_weights_is_named_incomplete(tmp_path: Path) -> None:
    # The weights left behind in a copy: peft looked for them on the hub, and the message blamed the base model
    # and spoke of downloads.
    from localrag.tune.export import _load_merged

    adapter = tmp_path / "run" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ExportError, match=r"adapter is incomplete.*adapter_model\.safetensors") as info:
        _load_merged(tmp_path / "base.gguf", adapter, lambda stage, fraction: None)
    assert "download" not in str(info.value) and "copy the whole run folder" in str(info.value)
