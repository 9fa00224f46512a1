"""Sequence packing for the training loop: several examples in one row, none of them seeing another.

How it works. The examples of one optimizer step are sorted by length and laid first-fit into rows of
at most `pack_tokens` tokens (`pack_rows`), so a row is mostly one long sequence and nothing is padded.
In a row (`pack`), the position ids restart at 0 at every example, so rotary embeddings see each
example exactly as they would alone, and the labels of an example's first token stay IGNORE, so no
example is trained to predict its neighbour's first token. Attention is computed per example: an
attention function registered with transformers' `AttentionInterface` cuts the queries, keys and
values at the example boundaries (handed down the model's forward as `cu_seq_lens_q`, the name
transformers' own varlen kernels use) and runs causal scaled-dot-product attention on each piece.
The result equals separate forward passes (tests/unit/test_tune_packing.py compares them on a tiny
llama), while the linear layers, most of the arithmetic, run once over the long row.

Why not a block-diagonal mask: with a 4D mask SDPA computes every query-key pair of the whole row and
throws most of them away (four 512-token examples: four times the attention arithmetic of separate
runs), and it cannot use PyTorch's fused causal kernel. Per-piece causal SDPA computes only what is kept.

The attention function replaces the model's own only while the loop trains (`packed_attention`), so
a model saved or exported afterwards carries its usual attention setting.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from localrag.tune.data import IGNORE, TokenizedExample

ATTENTION = "localrag_packed"


@dataclass
class PackedRow:
    """One row of packed examples as tensors of shape (1, L); `bounds` the examples' start offsets and L."""

    input_ids: Any
    labels: Any
    position_ids: Any
    bounds: Any

    @property
    def examples(self) -> int:
        return int(self.bounds.numel()) - 1


def pack_rows(examples: Sequence[TokenizedExample], pack_tokens: int) -> list[list[TokenizedExample]]:
    """First-fit decreasing by length into rows of at most `pack_tokens` tokens (a longer example gets its own)."""
    rows: list[list[TokenizedExample]] = []
    room: list[int] = []
    for example in sorted(examples, key=lambda e: len(e.input_ids), reverse=True):
        size = len(example.input_ids)
        slot = next((i for i, free in enumerate(room) if size <= free), None)
        if slot is None:
            rows.append([example])
            room.append(pack_tokens - size)
        else:
            rows[slot].append(example)
            room[slot] -= size
    return rows


def pack(examples: Sequence[TokenizedExample], device: str = "cpu") -> PackedRow:
    """The examples as one row: ids and labels concatenated, position ids restarting per example."""
    import torch

    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    bounds = [0]
    for example in examples:
        ids += example.input_ids
        # The first token of an example is never a target: it would be predicted from the previous example.
        labels += [IGNORE, *example.labels[1:]]
        positions += range(len(example.input_ids))
        bounds.append(len(ids))

    def row(values: list[int]) -> Any:
        return torch.tensor([values], dtype=torch.long, device=device)

    return PackedRow(row(ids), row(labels), row(positions),
                     torch.tensor(bounds, dtype=torch.int32, device=device))


def _attention(
    module: Any, query: Any, key: Any, value: Any, attention_mask: Any, dropout: float = 0.0,
    scaling: float | None = None, cu_seq_lens_q: Any = None, **_: Any,
) -> tuple[Any, None]:
    """Causal SDPA on each example's piece of the row; the `AttentionInterface` signature of transformers."""
    import torch
    import torch.nn.functional as F

    groups = query.shape[1] // key.shape[1]
    if groups > 1:  # grouped-query attention: each key/value head serves `groups` query heads
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
    length = query.shape[2]
    bounds = [0, length] if cu_seq_lens_q is None else [int(b) for b in cu_seq_lens_q.tolist()]
    p = dropout if module.training else 0.0
    pieces = [
        F.scaled_dot_product_attention(query[:, :, a:b], key[:, :, a:b], value[:, :, a:b], dropout_p=p,
                                       scale=scaling, is_causal=True)
        for a, b in zip(bounds, bounds[1:], strict=False)
        if b > a
    ]
    out = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=2)
    return out.transpose(1, 2).contiguous(), None


def _no_mask(*_: Any, **__: Any) -> None:
    # The attention function is causal per piece by itself; a mask would only cost memory.
    return None


def register() -> str:
    """Register the attention (and its no-op mask) with transformers once; returns its name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(ATTENTION, _attention)
    AttentionMaskInterface.register(ATTENTION, _no_mask)
    return ATTENTION


@contextmanager
def packed_attention(model: Any) -> Iterator[None]:
    """Use the per-example attention in `model` (and its sub-configs) inside the block, the old one after."""
    name = register()
    configs = [m.config for m in model.modules() if hasattr(m, "config") and hasattr(m.config, "_attn_implementation")]
    previous = [c._attn_implementation for c in configs]
    for config in configs:
        config._attn_implementation = name
    try:
        yield
    finally:
        for config, old in zip(configs, previous, strict=True):
            config._attn_implementation = old
