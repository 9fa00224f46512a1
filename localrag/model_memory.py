"""Will this model fit? Estimate its memory at the configured context before llama.cpp loads it.

llama.cpp maps the weights (about the file size) and allocates a KV cache of
`2 (K and V) x layers x n_ctx x KV heads x head size x 2 bytes` (f16, its default), plus compute
buffers. Being killed by the OOM killer halfway through loading a 5 GB model tells the user nothing,
so the engine checks this sum against MemAvailable in /proc/meminfo first and refuses with the
figures and a way out: the largest `n_ctx` that fits, or else a smaller quantization that would.

The compute-buffer allowance is a rule of thumb (10 % of the weights plus 256 MiB), not a measurement;
the check can be switched off with the `memory_check` setting for a machine that swaps on purpose.
Where /proc/meminfo does not exist (macOS, Windows) there is no figure to compare with and nothing is
refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from localrag.errors import ModelError
from localrag.models import GGUFHeader

GIB = 1024**3
_OVERHEAD_FIXED = 256 * 1024**2
_OVERHEAD_SHARE = 0.10
_KV_BYTES = 2  # f16 cache entries
_CTX_STEP = 512
# Approximate bits per weight of common quantizations, largest first, to suggest one that fits.
BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.6, "Q5_K_M": 5.7, "Q5_0": 5.5,
    "Q4_K_M": 4.9, "Q4_1": 5.0, "Q4_0": 4.5, "Q3_K_M": 3.9, "Q2_K": 2.6,
}
_SUGGESTABLE = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")


@dataclass(frozen=True)
class ModelShape:
    """The header fields the estimate needs; a model listing caches these instead of the header."""

    file_size: int
    quantization: str = ""
    n_layer: int = 0
    n_embd: int = 0
    n_head: int = 0
    n_head_kv: int = 0
    key_length: int = 0
    value_length: int = 0

    @classmethod
    def from_header(cls, header: GGUFHeader) -> ModelShape:
        return cls(
            file_size=header.file_size,
            quantization=header.quantization,
            n_layer=header.arch_int("block_count"),
            n_embd=header.arch_int("embedding_length"),
            n_head=header.arch_int("attention.head_count"),
            n_head_kv=header.arch_int("attention.head_count_kv"),
            key_length=header.arch_int("attention.key_length"),
            value_length=header.arch_int("attention.value_length"),
        )

    def kv_bytes(self, n_ctx: int) -> int:
        """0 when the header lacks the attention shape (then only the weights are counted)."""
        head_dim = self.n_embd // self.n_head if self.n_head else 0
        k = self.key_length or head_dim
        v = self.value_length or head_dim
        kv_heads = self.n_head_kv or self.n_head
        return self.n_layer * n_ctx * kv_heads * (k + v) * _KV_BYTES


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int
    kv_cache: int
    overhead: int
    n_ctx: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead


def _overhead(weights: int) -> int:
    return int(weights * _OVERHEAD_SHARE) + _OVERHEAD_FIXED


def estimate(shape: ModelShape, n_ctx: int) -> MemoryEstimate:
    return MemoryEstimate(shape.file_size, shape.kv_bytes(n_ctx), _overhead(shape.file_size), n_ctx)


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in bytes (what the kernel can hand out without swapping), or None if unknown."""
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def largest_fitting_ctx(shape: ModelShape, available: int, limit: int) -> int:
    """The largest multiple of 512 below `limit` whose estimate fits, or 0 if not even 512 does."""
    room = available - shape.file_size - _overhead(shape.file_size)
    per_token = shape.kv_bytes(1)
    if room < 0 or per_token == 0:
        return 0
    best = min(limit - 1, room // per_token) // _CTX_STEP * _CTX_STEP
    return int(best) if best >= _CTX_STEP else 0


def fitting_quantization(shape: ModelShape, available: int) -> str:
    """A smaller quantization whose weights would fit with a 512-token context, or "" if none would."""
    bits = BITS_PER_WEIGHT.get(shape.quantization)
    if bits is None:
        return ""
    for quant in _SUGGESTABLE:
        if BITS_PER_WEIGHT[quant] >= bits:
            continue
        weights = int(shape.file_size * BITS_PER_WEIGHT[quant] / bits)
        if weights + _overhead(weights) + shape.kv_bytes(_CTX_STEP) <= available:
            return quant
    return ""


def _gb(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def check_fits(path: Path, shape: ModelShape, n_ctx: int, available: int | None = None) -> MemoryEstimate:
    """Raise ModelError with the figures and a suggestion when the model will not fit in memory."""
    need = estimate(shape, n_ctx)
    free = available if available is not None else available_memory()
    if free is None or need.total <= free:
        return need
    figures = (
        f"{path.name} needs about {_gb(need.total)} at n_ctx {n_ctx} (weights {_gb(need.weights)}, "
        f"KV cache {_gb(need.kv_cache)}, buffers {_gb(need.overhead)}) but {_gb(free)} is available"
    )
    ctx = largest_fitting_ctx(shape, free, n_ctx)
    if ctx:
        hint = f"set n_ctx to {ctx} (LOCALRAG_N_CTX={ctx}) or close other programs"
    else:
        quant = fitting_quantization(shape, free)
        hint = (f"use a {quant} (or smaller) quantization of this model" if quant
                else "use a smaller model") + "; set memory_check = false to try anyway"
    raise ModelError(figures, hint)
