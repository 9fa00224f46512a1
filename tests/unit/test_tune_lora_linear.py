"""The fused LoRA training pass (`localrag.tune.lora_linear`) against autograd and against peft's own layer."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from localrag.tune.lora_linear import fused_lora, lora_linear  # noqa: E402
from localrag.tune.row_workers import dropout_stream, seeded_dropout  # noqa: E402


@pytest.mark.parametrize("p", [0.0, 0.3])
def test_its_backward_is_the_derivative_of_its_forward(p: float) -> None:
    generator = torch.Generator().manual_seed(0)

    def rand(*shape: int, grad: bool = True) -> Any:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_(grad)

    weight, bias = rand(5, 6, grad=False), rand(5, grad=False)
    x, a, b = rand(2, 3, 6), rand(4, 6), rand(5, 4)
    assert torch.autograd.gradcheck(lambda x, a, b: lora_linear(x, weight, bias, a, b, 1.5, p, seed=11), (x, a, b))


def _tiny_lora_model(dropout: float) -> Any:
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=40, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=dropout, init_lora_weights=False,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(LlamaForCausalLM(config), lora)
    seeded_dropout(model)
    return model.train()


def _gradients(model: Any, ids: Any, bf16: bool) -> list[Any]:
    trainable = [p for p in model.parameters() if p.requires_grad]
    with dropout_stream(5):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, labels=ids).loss
        return list(torch.autograd.grad(loss, trainable))


@pytest.mark.parametrize("bf16", [False, True])
def test_a_model_trains_through_it_as_through_peft_with_the_same_dropout_masks(bf16: bool) -> None:
    model = _tiny_lora_model(dropout=0.2)
    ids = torch.randint(0, 40, (2, 12), generator=torch.Generator().manual_seed(1))
    reference = _gradients(model, ids, bf16)
    with fused_lora(model) as layers:
        assert layers == 14
        fused = _gradients(model, ids, bf16)
    tolerance = {"rtol": 2e-2, "atol": 2e-3} if bf16 else {"rtol": 1e-5, "atol": 1e-6}
    for expected, got in zip(reference, fused, strict=True):
        torch.testing.assert_close(got, expected, **tolerance)
    assert any(g.abs().sum() > 0 for g in fused)


def test_outside_training_and_after_the_block_peft_runs_as_before() -> None:
    model = _tiny_lora_model(dropout=0.2)
    ids = torch.randint(0, 40, (1, 8), generator=torch.Generator().manual_seed(2))
    model.eval()
    with torch.no_grad():
        before = model(input_ids=ids).logits
        with fused_lora(model):
            inside = model(input_ids=ids).logits
        after = model(input_ids=ids).logits
    assert torch.equal(before, inside) and torch.equal(before, after)
    assert all("forward" not in vars(module) for module in model.modules())
