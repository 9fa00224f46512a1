"""Sequence packing on a tiny llama built in the test: the packed row computes what separate passes do."""

from __future__ import annotations

from typing import Any

import pytest

from localrag.tune.data import IGNORE, TokenizedExample
from localrag.tune.finetune import _answer_loss_sum, _row_loss_sum, _weights
from localrag.tune.packing import ATTENTION, pack, pack_rows, packed_attention

torch = pytest.importorskip("torch")


def example(ids: list[int], prompt: int) -> TokenizedExample:
    return TokenizedExample(ids, [IGNORE] * prompt + ids[prompt:])


EXAMPLES = [example([1, 5, 9, 13, 17, 21, 25], 3), example([2, 6, 10, 14], 2), example([3, 7, 11, 15, 19], 4)]


@pytest.fixture(scope="module")
def model() -> Any:
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    config._attn_implementation = "sdpa"
    base = LlamaForCausalLM(config)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
    peft.eval()
    return peft


def hidden(model: Any, ids: Any, **kw: Any) -> Any:
    return model.get_base_model().get_decoder()(input_ids=ids, **kw).last_hidden_state


def test_pack_restarts_positions_and_masks_each_examples_first_token() -> None:
    row = pack(EXAMPLES)
    assert row.input_ids[0].tolist() == [1, 5, 9, 13, 17, 21, 25, 2, 6, 10, 14, 3, 7, 11, 15, 19]
    assert row.position_ids[0].tolist() == [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 0, 1, 2, 3, 4]
    assert row.bounds.tolist() == [0, 7, 11, 16] and row.examples == 3
    labels = row.labels[0].tolist()
    # Only answer tokens are targets; an example's first token never is (it would be guessed from the last one).
    assert labels == [IGNORE] * 3 + [13, 17, 21, 25] + [IGNORE] * 2 + [10, 14] + [IGNORE] * 4 + [19]


def test_the_packed_row_equals_separate_passes(model: Any) -> None:
    row = pack(EXAMPLES)
    with torch.no_grad(), packed_attention(model):
        packed = hidden(model, row.input_ids, position_ids=row.position_ids, cu_seq_lens_q=row.bounds)
    with torch.no_grad():
        alone = [hidden(model, torch.tensor([e.input_ids])) for e in EXAMPLES]
    bounds = row.bounds.tolist()
    for (a, b), single in zip(zip(bounds, bounds[1:], strict=False), alone, strict=True):
        torch.testing.assert_close(packed[:, a:b], single, atol=1e-5, rtol=1e-4)


def test_no_example_attends_to_another(model: Any) -> None:
    changed = [example([4, 8, 12, 16, 20, 24, 28], 3), *EXAMPLES[1:]]
    with torch.no_grad(), packed_attention(model):
        outs = []
        for examples in (EXAMPLES, changed):
            row = pack(examples)
            outs.append(hidden(model, row.input_ids, position_ids=row.position_ids, cu_seq_lens_q=row.bounds))
    assert not torch.allclose(outs[0][:, :7], outs[1][:, :7])
    torch.testing.assert_close(outs[0][:, 7:], outs[1][:, 7:])
    # Without the per-example attention the same row would leak: the control that makes the test mean something.
    with torch.no_grad():
        leaky = [hidden(model, pack(x).input_ids, position_ids=pack(x).position_ids) for x in (EXAMPLES, changed)]
    assert not torch.allclose(leaky[0][:, 7:], leaky[1][:, 7:])


def test_packed_loss_and_gradients_match_separate_passes(model: Any) -> None:
    trainable = [p for p in model.parameters() if p.requires_grad]
    model.zero_grad()
    with packed_attention(model):
        packed_loss = _row_loss_sum(model, pack(EXAMPLES))
    packed_loss.backward()
    packed_grads = [p.grad.clone() for p in trainable]
    model.zero_grad()
    separate = sum(_answer_loss_sum(model, torch.tensor([e.input_ids]), torch.tensor([e.labels])) for e in EXAMPLES)
    separate.backward()
    torch.testing.assert_close(packed_loss, separate, atol=1e-4, rtol=1e-5)
    for got, want in zip(packed_grads, (p.grad for p in trainable), strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)
    model.zero_grad()


def test_the_models_own_attention_is_back_after_training(model: Any) -> None:
    config = model.get_base_model().config
    before = config._attn_implementation
    with packed_attention(model):
        assert config._attn_implementation == ATTENTION
    assert config._attn_implementation == before == "sdpa"


def test_rows_are_filled_longest_first_within_the_budget() -> None:
    sizes = [500, 120, 300, 480, 90, 700]
    examples = [TokenizedExample(list(range(n)), [IGNORE] * n) for n in sizes]
    rows = pack_rows(examples, 1024)
    assert sorted(len(e.input_ids) for r in rows for e in r) == sorted(sizes)
    assert all(sum(len(e.input_ids) for e in r) <= 1024 for r in rows)
    assert [[len(e.input_ids) for e in r] for r in rows] == [[700, 300], [500, 480], [120, 90]]
    assert [len(r) for r in pack_rows(examples[:1], 100)] == [1]  # longer than the budget: a row of its own


def test_precision_and_pack_settings_are_checked_and_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    from localrag.tune import finetune
    from localrag.tune.config import FinetuneConfig, FinetuneError

    with pytest.raises(FinetuneError, match="unknown training precision 'fp16'"):
        FinetuneConfig(precision="fp16")
    with pytest.raises(FinetuneError, match="pack_tokens=-1"):
        FinetuneConfig(pack_tokens=-1)
    monkeypatch.setattr(finetune, "cpu_has_native_bf16", lambda: False)
    assert not finetune.use_bf16("auto") and finetune.use_bf16("bf16") and not finetune.use_bf16("fp32")
    monkeypatch.setattr(finetune, "cpu_has_native_bf16", lambda: True)
    assert finetune.use_bf16("auto") and not finetune.use_bf16("fp32")


def test_weighted_loss_weighs_each_answer_position(model: Any) -> None:
    tagged = [TokenizedExample(e.input_ids, e.labels, final_start=len(e.input_ids) - 2) for e in EXAMPLES]
    with torch.no_grad():
        for e in tagged:
            ids, labels = torch.tensor([e.input_ids]), torch.tensor([e.labels])
            plain = _answer_loss_sum(model, ids, labels)
            assert torch.allclose(_answer_loss_sum(model, ids, labels, weights=_weights([e], 1.5, "cpu", len(ids[0]))),
                                  _by_hand(model, e, 1.5))
            assert _weights([e], 1.0, "cpu", len(ids[0])) is None
            torch.testing.assert_close(_by_hand(model, e, 1.0), plain)
        row = pack(tagged)
        with packed_attention(model):
            packed = _row_loss_sum(model, row, _weights(tagged, 2.0, "cpu"))
        torch.testing.assert_close(packed, sum(_by_hand(model, e, 2.0) for e in tagged), atol=1e-5, rtol=1e-4)


def _by_hand(model: Any, e: TokenizedExample, weight: float) -> Any:
    """Per-position cross-entropy of the full forward, times each target's weight."""
    logits = model(input_ids=torch.tensor([e.input_ids])).logits[0, :-1].float()
    losses = torch.nn.functional.cross_entropy(logits, torch.tensor(e.labels[1:]), reduction="none",
                                               ignore_index=IGNORE)
    return (losses * torch.tensor(e.label_weights(weight)[1:])).sum()
