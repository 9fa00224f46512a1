"""A LoRA linear layer's training pass as one autograd function, which keeps far less for the backward.

Why: peft's LoRA layer is a chain of small operations, and autograd keeps what each of them needs for
the backward. On the bundled 135M model under bf16 autocast, one 500-token row kept ~860 MB: per LoRA
projection a bf16 copy of the frozen weight, a bf16 copy of the input, a bf16 copy of the dropped-out
input and a bool dropout mask (`benchmarks/README.md`, "Training rows side by side in 2.6 GB"). With
two rows training side by side that made the peak 3.7 GB on a 3 GB budget.

This function computes the same thing, `base(x) + B(A(dropout(x))) * scaling`, in the same precision
(the autocast dtype, bf16 on a CPU that has it), and keeps only references to what already exists (the
input, shared by the q/k/v and gate/up projections; the weights) plus the small rank-r product `A(...)`.
The backward casts the frozen weight again and draws the dropout mask again from its seed: the mask is
a fixed function of the row's dropout stream and the layer (`row_workers.layer_seed`), so the same
one comes back.

Only for what it reproduces exactly: a plain LoRA adapter (no DoRA or other variant), not merged, one
active adapter, a dropout stream open (`row_workers.dropout_stream`) when dropout is on, and gradients
being recorded. Anything else goes through peft's own forward.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from localrag.tune.row_workers import dropout_mask, layer_seed, lora_modules, stream_seed


class _LoraLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, a: torch.Tensor,
                b: torch.Tensor, scaling: float, p: float, seed: int, dtype: torch.dtype) -> torch.Tensor:
        out = F.linear(x.to(dtype), weight.to(dtype), None if bias is None else bias.to(dtype))
        dropped, _ = _dropped(x, p, seed, dtype)
        h = F.linear(dropped, a.to(dtype))
        out = out + F.linear(h, b.to(dtype)) * scaling
        ctx.save_for_backward(x, weight, a, b, h)
        ctx.scaling, ctx.p, ctx.seed, ctx.dtype = scaling, p, seed, dtype
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        x, weight, a, b, h = ctx.saved_tensors
        dtype, p = ctx.dtype, ctx.p
        g = grad.to(dtype)
        grad_x = g @ weight.to(dtype)
        scaled = g * ctx.scaling
        flat = scaled.reshape(-1, scaled.shape[-1])
        grad_b = (flat.t() @ h.reshape(-1, h.shape[-1])).to(b.dtype)
        grad_h = scaled @ b.to(dtype)
        dropped, keep = _dropped(x, p, ctx.seed, dtype)
        grad_a = (grad_h.reshape(-1, grad_h.shape[-1]).t() @ dropped.reshape(-1, dropped.shape[-1])).to(a.dtype)
        grad_lora = grad_h @ a.to(dtype)
        if keep is not None:
            grad_lora = grad_lora * keep / (1.0 - p)
        return (grad_x + grad_lora).to(x.dtype), None, None, grad_a, grad_b, None, None, None, None


def _dropped(x: torch.Tensor, p: float, seed: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`x` after dropout, in `dtype`, and the mask it kept (None without dropout)."""
    if not p:
        return x.to(dtype), None
    keep = dropout_mask(x.shape, p, seed)
    return (x * keep / (1.0 - p)).to(dtype), keep


def lora_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, a: torch.Tensor, b: torch.Tensor,
                scaling: float, p: float = 0.0, seed: int = 0, dtype: torch.dtype | None = None) -> torch.Tensor:
    """`F.linear(x, weight, bias) + F.linear(F.linear(dropout(x), a), b) * scaling`, computed in `dtype`
    (default: x's), the dropout mask `dropout_mask(x.shape, p, seed)`; gradients for `x`, `a` and `b` only."""
    with torch.autocast(x.device.type, enabled=False):
        out: torch.Tensor = _LoraLinear.apply(x, weight, bias, a, b, scaling, p, seed, dtype or x.dtype)
    return out


def _forward(module: Any, index: int, peft_forward: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    adapters = module.active_adapters
    dropout = module.lora_dropout[adapters[0]] if len(adapters) == 1 else None
    p = float(getattr(dropout, "p", 0.0))
    seed = stream_seed()
    if (args or kwargs or dropout is None or module.merged or module.disable_adapters or module.lora_variant
            or not module.training or not torch.is_grad_enabled() or (p and seed is None)):
        return peft_forward(x, *args, **kwargs)
    adapter = adapters[0]
    device = x.device.type
    dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else x.dtype
    base = module.get_base_layer()
    return lora_linear(x, base.weight, base.bias, module.lora_A[adapter].weight, module.lora_B[adapter].weight,
                       float(module.scaling[adapter]), p, layer_seed(seed or 0, index), dtype)


@contextmanager
def fused_lora(model: torch.nn.Module) -> Iterator[int]:
    """Inside the block, each LoRA linear of `model` trains through `lora_linear`; yields how many."""
    from peft.tuners.lora.layer import Linear

    layers: list[tuple[int, Any]] = [(index, module) for index, module in enumerate(lora_modules(model))
                                     if isinstance(module, Linear)]
    for index, module in layers:
        # An instance attribute over the class's method, removed again on the way out.
        module.forward = partial(_forward, module, index, module.forward)
    try:
        yield len(layers)
    finally:
        for _, module in layers:
            del module.forward
