"""A training step's packed rows run side by side, one core each, with a result that timing cannot change.

Why: on a small CPU one torch operation split over two threads gains little. The second thread made a
training step only 1.45x faster (benchmarks/README.md, "On an idle machine: training threads"), while
two rows, each on a core of its own with one thread, keep both cores busy on large matrix products with
no synchronisation between them. A step's examples are already packed into independent rows (`packing`),
so the rows are the natural unit of work.

What keeps the result independent of which thread finishes first:
- Each row's gradients come from `torch.autograd.grad`, not from `.backward()` accumulating into the
  shared `.grad` in whatever order the threads reach it; the caller sums them in row order.
- LoRA dropout masks are a fixed function of (seed, step, row, layer) rather than draws from torch's
  global generator, which two threads would consume in a racing order (`seeded_dropout`). A step's
  masks are then the same whichever worker trains the row, and after a resume too.
So one worker and several give the same adapter, and a resumed run still equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")

_stream = threading.local()


def row_seed(seed: int, step: int, row: int) -> int:
    """A generator seed that is a fixed function of the run's seed, the step and the row within it."""
    digest = hashlib.blake2b(f"{seed}:{step}:{row}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


@contextmanager
def dropout_stream(seed: int) -> Iterator[None]:
    """Dropout masks drawn in this thread, inside the block, are a function of `seed` and the layer."""
    previous = stream_seed()
    _stream.seed = seed
    try:
        yield
    finally:
        _stream.seed = previous


def stream_seed() -> int | None:
    """The seed of this thread's open `dropout_stream`; None outside one."""
    seed: int | None = getattr(_stream, "seed", None)
    return seed


def layer_seed(stream: int, layer: int) -> int:
    """The dropout seed of LoRA layer number `layer` in a row whose dropout stream is `stream`.

    Keyed by layer, not drawn in call order, so the mask the fused LoRA backward draws again
    (`lora_linear`) is the very mask the forward drew.
    """
    return row_seed(stream, layer, 0)


def dropout_mask(shape: torch.Size | tuple[int, ...], p: float, seed: int) -> torch.Tensor:
    """The positions that dropout keeps, each with probability 1 - p (to 1/32768): a bool tensor that is a
    fixed function of (shape, p, seed)."""
    count = math.prod(shape)
    # One 64-bit draw makes four 16-bit ones: drawing per element (bernoulli_) took a quarter of a
    # training pass on the bundled model, and the fused LoRA backward draws every mask a second time.
    words = torch.empty((count + 3) // 4, dtype=torch.int64).random_(generator=torch.Generator().manual_seed(seed))
    draws = words.view(torch.int16)[:count] & 0x7FFF
    # Bool, since autograd keeps the mask for the backward where it runs: a quarter of a float32 one.
    return (draws >= round(p * 0x8000)).view(shape)


class SeededDropout(torch.nn.Module):
    """`nn.Dropout` whose mask is `dropout_mask` of the thread's `dropout_stream` and this layer's number
    `index`, or from torch's generator outside a stream."""

    def __init__(self, p: float, index: int = 0) -> None:
        super().__init__()
        self.p = p
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seed = stream_seed()
        # The seeded masks keep CPU row workers bit-identical (drawn on the CPU, in CPU memory); a GPU
        # trains one row at a time and draws its masks where x lives, with torch's own generator.
        if not self.training or self.p == 0.0 or seed is None or x.device.type != "cpu":
            return torch.nn.functional.dropout(x, self.p, self.training)
        return x * dropout_mask(x.shape, self.p, layer_seed(seed, self.index)) / (1.0 - self.p)


def lora_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The LoRA layers of `model` (those with peft's `lora_dropout` table), in module order: a layer's
    place in this list is its number in `layer_seed`."""
    return [module for module in model.modules()
            if isinstance(getattr(module, "lora_dropout", None), torch.nn.ModuleDict)]


def seeded_dropout(model: torch.nn.Module) -> int:
    """Replace the LoRA layers' dropout modules (peft's `lora_dropout`) with `SeededDropout`; how many."""
    replaced = 0
    for index, module in enumerate(lora_modules(model)):
        table = module.lora_dropout
        assert isinstance(table, torch.nn.ModuleDict)
        for name, dropout in list(table.items()):
            if isinstance(dropout, torch.nn.Dropout):
                table[name] = SeededDropout(dropout.p, index)
                replaced += 1
    return replaced


def summed_gradients(per_row: Sequence[Sequence[torch.Tensor | None]],
                     parameters: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """The rows' gradients added up in row order (a parameter a row did not reach counts as zero)."""
    totals: list[torch.Tensor] = []
    for i, parameter in enumerate(parameters):
        total = torch.zeros_like(parameter)
        for grads in per_row:
            grad = grads[i]
            if grad is not None:
                total += grad
        totals.append(total)
    return totals


class RowWorkers:
    """`map` over rows with `count` threads (in the caller's thread when 1), results in input order.

    With several workers, torch runs each operation on `cores // count` threads while the workers are
    open, so each row has cores of its own instead of every row's threads contending for all of them;
    closing restores torch's thread count for what the process does next.
    """

    def __init__(self, count: int, cores: int) -> None:
        self.count = max(1, count)
        self._pool = ThreadPoolExecutor(self.count, thread_name_prefix="localrag-row") if self.count > 1 else None
        self._threads_before = torch.get_num_threads()
        if self.count > 1:
            # Set before the workers start: a new thread takes torch's count when it first computes.
            torch.set_num_threads(max(1, cores // self.count))

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        if self._pool is None:
            return [work(item) for item in items]
        futures: list[Future[R]] = [self._pool.submit(work, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # Ctrl-C or a failed row: let the rows still running finish before the caller saves or
            # re-raises, so nothing trains the model behind its back.
            for future in futures:
                future.cancel()
            wait(futures)
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            torch.set_num_threads(self._threads_before)

    def __enter__(self) -> RowWorkers:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
