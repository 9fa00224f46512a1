"""LoRA supervised fine-tuning on a RAFT folder: a plain torch loop, resumable, cancellable.

    from localrag.tune.finetune import finetune
    result = finetune(Path("raft"), Path("runs/first"), bundled_generator_path(), FinetuneConfig(steps=50))

How it runs:
- The base (GGUF or Hugging Face folder) is loaded and wrapped with LoRA by the chosen backend
  (`localrag.tune.backends`: transformers + peft, or Unsloth on CUDA); the train and validation
  chats are rendered and tokenized as llama.cpp will see them, with the loss on answer tokens only (`data`).
- One optimizer step = `grad_accum` x `batch_size` examples. The loss of a step is the mean over all of
  its answer tokens (each forward pass's summed loss is divided by the step's total answer-token count
  before backward), so a long answer weighs what its tokens weigh however the examples are grouped.
  With `answer_weight` != 1 it is the weighted mean: the final answer's tokens count that much each.
  AdamW, linear warm-up then linear decay to zero, gradient clipping.
- With transformers + peft the step's examples are packed (`packing`): sorted by length, laid into
  rows of at most `pack_tokens` tokens without padding, position ids restarting per example and
  attention computed per example, so the result is that of separate passes with fewer, larger matrix
  products. Unsloth brings its own attention kernels, so there each micro-batch is padded as before.
- Threads: the loop gets the cores that are not already busy (`cpu.worker_threads`); on a shared
  2-core machine two spinning threads against other work are slower than one. With several cores a
  step's packed rows train side by side, the cores shared out among them (`row_workers`): two rows
  of one thread each keep two cores busier than one row on two threads. The adapter is the same
  bit for bit whatever the number of workers (per-row gradients summed in row order, dropout masks
  seeded per row and layer).
- Memory (CPU): each LoRA projection trains as one autograd function (`lora_linear`) that keeps only
  references and a rank-r product for the backward, not peft's copies and dropout masks, and after each
  step the freed pages go back to the system (`arenas.release_free_memory`), so two rows side by side
  fit in the memory one row took.
- Precision (`precision`, CPU only): on a CPU with native bfloat16 arithmetic the training passes run
  under bf16 autocast (matrix products in bf16; weights, LoRA matrices, optimizer and loss in float32),
  1.3x faster per pass here; elsewhere float32, since emulated bf16 is slower than float32. On a GPU
  the base keeps the dtype its backend loads it in (Unsloth: bf16, peft: float32); run.json records which.
- Why not transformers' Trainer: the loop is short, and it computes the LM head only on answer
  positions. RAFT prompts are mostly documents, and the head (vocabulary x hidden) is the largest
  matrix in a small model, so skipping it on prompt positions saves a good part of each step.
- Example order is a fixed function of (seed, epoch), so step N always sees the same examples; with
  the optimizer, scheduler and RNG states in each checkpoint, a resumed run continues the same run.
- Every `save_every` steps a checkpoint is written atomically (`checkpoint`); re-running `finetune` on
  the same run folder resumes from the newest complete one (after a `kill -9` too). A cancel event, or
  Ctrl-C (KeyboardInterrupt), stops after the current step, saves a checkpoint and marks the run
  "stopped". When all steps are done the adapter is written to run_dir/adapter atomically and the run
  is "done"; calling `finetune` again then returns at once.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.cpu import cpu_has_native_bf16, worker_threads
from localrag.paths import typed_path
from localrag.tune.arenas import release_free_memory
from localrag.tune.backends import load_for_training, select_backend
from localrag.tune.base import base_architecture, base_sha256, is_gguf
from localrag.tune.checkpoint import (
    ADAPTER,
    check_same_run,
    latest_checkpoint,
    publish_adapter,
    read_run,
    save_checkpoint,
    write_run,
)
from localrag.tune.config import FinetuneConfig, FinetuneError
from localrag.tune.data import IGNORE, DataReport, TokenizedExample, data_hash, gguf_encoder, load_split
from localrag.tune.packing import PackedRow, pack, pack_rows, packed_attention

if TYPE_CHECKING:
    from localrag.tune.row_workers import RowWorkers

# Steps whose losses make up the reported training loss: one step's loss is too noisy at batch 1.
_LOSS_WINDOW = 10


@dataclass
class TrainProgress:
    step: int
    total: int
    loss: float | None
    val_loss: float | None
    steps_per_second: float
    eta_seconds: float | None
    message: str = ""


@dataclass
class FinetuneResult:
    """`seconds` is the run's training time over all sessions; `resumed_from` the checkpoint step used."""

    run_dir: Path
    adapter_dir: Path
    steps: int
    train_loss: float | None
    val_loss: float | None
    backend: str
    seconds: float
    resumed_from: int | None
    stopped: bool


ProgressCallback = Callable[[TrainProgress], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _lr_factor(config: FinetuneConfig) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / (config.warmup_steps + 1)
        remaining = config.steps - step
        return max(0.0, remaining / max(1, config.steps - config.warmup_steps))

    return factor


class _Order:
    """Examples for micro-batch m: a fixed shuffle per epoch from the seed, so resuming needs only the step."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed = n, seed
        self._epochs: dict[int, list[int]] = {}

    def _epoch(self, epoch: int) -> list[int]:
        if epoch not in self._epochs:
            order = list(range(self.n))
            random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
            self._epochs = {epoch: order}
        return self._epochs[epoch]

    def batch(self, micro: int, size: int) -> list[int]:
        positions = range(micro * size, (micro + 1) * size)
        return [self._epoch(p // self.n)[p % self.n] for p in positions]


def _collate(examples: Sequence[TokenizedExample], pad_id: int, device: str) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return ids.to(device), labels.to(device), mask.to(device)


def _answer_loss_sum(model: Any, ids: Any, labels: Any, mask: Any = None, weights: Any = None, **packed: Any) -> Any:
    """Summed next-token cross-entropy over answer positions, the LM head applied only there.

    `weights` (shaped like `labels`): each position's loss weight (FinetuneConfig.answer_weight); None: all 1.
    `packed`: `position_ids` and `cu_seq_lens_q` of a packed row (see `localrag.tune.packing`).
    """
    import torch
    import torch.nn.functional as F

    causal = model.get_base_model()
    hidden = causal.get_decoder()(input_ids=ids, attention_mask=mask, **packed).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE
    # The head in its weight's own dtype even under autocast: a bf16 copy of the weight (vocabulary x
    # hidden, the largest matrix of a small model) would be kept for the backward, per row, for a few positions.
    head = causal.get_output_embeddings()
    with torch.autocast(ids.device.type, enabled=False):
        logits = head(hidden[:, :-1][keep].to(head.weight.dtype)).float()
    # Gemma 2 squashes its logits; the full forward would, so this shortcut must too.
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = (logits / cap).tanh() * cap
    if weights is None:
        return F.cross_entropy(logits, targets[keep], reduction="sum")
    return (F.cross_entropy(logits, targets[keep], reduction="none") * weights[:, 1:][keep]).sum()


def _weights(examples: Sequence[TokenizedExample], answer_weight: float, device: str, width: int | None = None) -> Any:
    """Loss weights for a batch (one row per example, padded with 0 to `width`) or, without `width`, for
    the packed row of `examples` (concatenated, as `pack` lays out ids and labels); None at weight 1."""
    import torch

    if answer_weight == 1.0:
        return None
    rows = [e.label_weights(answer_weight) for e in examples]
    if width is None:
        return torch.tensor([[w for row in rows for w in row]], device=device)
    return torch.tensor([row + [0.0] * (width - len(row)) for row in rows], device=device)


def use_bf16(precision: str) -> bool:
    return precision == "bf16" or (precision == "auto" and cpu_has_native_bf16())


def _autocast(losses: Iterator[Any], bf16: bool) -> Iterator[Any]:
    """Each forward of `losses` under bf16 autocast when asked; the backward runs outside, as autocast wants."""
    import torch

    while True:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = next(losses, None)
        if loss is None:
            return
        yield loss


def _row_loss_sum(model: Any, row: PackedRow, weights: Any = None) -> Any:
    return _answer_loss_sum(model, row.input_ids, row.labels, weights=weights, position_ids=row.position_ids,
                            cu_seq_lens_q=row.bounds)


def _row_gradients(model: Any, trainable: Sequence[Any], weight: float, tokens: float, bf16: bool, device: str,
                   seeded_row: tuple[int, Sequence[TokenizedExample]]) -> tuple[float, tuple[Any, ...]]:
    """One packed row's summed loss and its share of the step's gradients (`row_workers`); the seed is its
    dropout stream's."""
    import torch

    from localrag.tune.row_workers import dropout_stream

    seed, row = seeded_row
    with dropout_stream(seed), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = _row_loss_sum(model, pack(row, device), _weights(row, weight, device))
    grads = torch.autograd.grad(loss / max(1, tokens), trainable, allow_unused=True)
    return float(loss.detach()), grads


def _validation_loss(model: Any, examples: Sequence[TokenizedExample], pad_id: int, device: str,
                     workers: RowWorkers) -> float | None:
    import torch

    tokens = sum(e.answer_tokens for e in examples)
    if not tokens:
        return None

    def loss(example: TokenizedExample) -> float:
        with torch.no_grad():
            return float(_answer_loss_sum(model, *_collate([example], pad_id, device)))

    model.eval()
    total = sum(workers.map(loss, examples))
    model.train()
    return total / tokens


def _emit(progress: ProgressCallback | None, value: TrainProgress) -> None:
    if progress is not None:
        progress(value)


def _done_result(run_dir: Path, record: dict[str, Any]) -> FinetuneResult:
    metrics = record.get("metrics", [])
    return FinetuneResult(
        run_dir=run_dir,
        adapter_dir=run_dir / ADAPTER,
        steps=int(record.get("steps_done", 0)),
        train_loss=record.get("train_loss"),
        val_loss=_last_val(metrics),
        backend=str(record.get("backend", "")),
        seconds=float(record.get("seconds", 0.0)),
        resumed_from=int(record.get("steps_done", 0)),
        stopped=False,
    )


def _last_val(metrics: Sequence[dict[str, Any]]) -> float | None:
    values = [m["val_loss"] for m in metrics if m.get("val_loss") is not None]
    return values[-1] if values else None


def _train_loss(metrics: Sequence[dict[str, Any]]) -> float | None:
    losses = [m["loss"] for m in metrics[-_LOSS_WINDOW:] if m.get("loss") is not None]
    return sum(losses) / len(losses) if losses else None


def _report_json(report: DataReport) -> dict[str, Any]:
    return {"examples": report.examples, "trimmed": report.trimmed, "skipped": dict(report.skipped)}


def finetune(
    data_dir: Path,
    run_dir: Path,
    base: Path,
    config: FinetuneConfig | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> FinetuneResult:
    """Train (or resume, or return the finished) LoRA run in `run_dir`; see the module docstring."""
    config = config or FinetuneConfig()
    data_dir, run_dir, base = Path(data_dir), Path(run_dir), typed_path(base).resolve()
    architecture = base_architecture(base)
    dhash = data_hash(data_dir)
    bsha = base_sha256(base)
    record = read_run(run_dir)
    if record is not None:
        check_same_run(run_dir, record, bsha, config, dhash)
        if record.get("status") == "done" and (run_dir / ADAPTER / "adapter_config.json").is_file():
            return _done_result(run_dir, record)
    backend = select_backend(config.backend)
    _emit(progress, TrainProgress(0, config.steps, None, None, 0.0, None, "loading the base model"))

    import torch

    from localrag.tune.lora_linear import fused_lora
    from localrag.tune.row_workers import RowWorkers, row_seed, seeded_dropout, summed_gradients

    threads = 1 if torch.cuda.is_available() else worker_threads()
    if not torch.cuda.is_available():
        torch.set_num_threads(threads)
    model, tokenizer, device = load_for_training(base, config, backend, bsha)
    _emit(progress, TrainProgress(0, config.steps, None, None, 0.0, None, "tokenizing the training data"))
    encode = gguf_encoder(base) if is_gguf(base) else None
    train, train_report = load_split(data_dir, "train", tokenizer, config.max_tokens, encode)
    validation, validation_report = load_split(data_dir, "validation", tokenizer, config.max_tokens, encode)
    validation = validation[: config.eval_examples]
    if not train:
        raise FinetuneError(
            f"{data_dir / 'train.chat.jsonl'}: no training example fits in {config.max_tokens} tokens",
            "raise max_tokens, or rebuild the RAFT set with shorter chunks",
        )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_factor(config))

    step, resumed_from, seconds_before = 0, None, 0.0
    metrics: list[dict[str, Any]] = []
    latest = latest_checkpoint(run_dir)
    if latest is not None:
        step, folder = latest
        state = _load_checkpoint(folder, model, optimizer, scheduler, device)
        resumed_from, seconds_before = step, float(state.get("seconds", 0.0))
        metrics = [m for m in state.get("metrics", []) if m["step"] <= step]
    record = {
        "version": 1,
        "status": "running",
        "created": (record or {}).get("created", _now()),
        "updated": _now(),
        "base": {"path": str(base), "sha256": bsha, "architecture": architecture},
        "config": config.to_json(),
        "data": {
            "dir": str(data_dir.resolve()),
            "hash": dhash,
            "train": _report_json(train_report),
            "validation": _report_json(validation_report),
        },
        "backend": backend,
        "device": device,
        "steps_done": step,
        "metrics": metrics,
        "train_loss": _train_loss(metrics),
        "seconds": seconds_before,
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    write_run(run_dir, record)

    order = _Order(len(train), config.seed)
    session_start = time.perf_counter()
    session_steps = 0
    saved_step = step if latest is not None else -1
    stopped = False
    updating = False

    def elapsed() -> float:
        return seconds_before + time.perf_counter() - session_start

    def checkpoint() -> None:
        nonlocal saved_step
        record.update(
            steps_done=step, metrics=metrics, train_loss=_train_loss(metrics), seconds=elapsed(), updated=_now()
        )
        save_checkpoint(
            run_dir,
            step,
            lambda folder: _write_checkpoint(folder, model, optimizer, scheduler, device),
            {"seconds": elapsed(), "metrics": metrics},
        )
        saved_step = step
        write_run(run_dir, record)

    model.train()
    packing = backend != "unsloth"
    pack_tokens = config.pack_tokens or config.max_tokens
    attention = packed_attention(model) if packing else contextlib.nullcontext()
    bf16 = device == "cpu" and use_bf16(config.precision)
    # Autocast on a CPU; on a GPU the dtype the backend loaded the base in (Unsloth: bf16 where the GPU has it).
    frozen = next((p.dtype for p in model.parameters() if not p.requires_grad), torch.float32)
    record["precision"] = "bf16" if bf16 or frozen == torch.bfloat16 else "fp32"
    if packing:
        seeded_dropout(model)
    # A step's packed rows train side by side (row_workers), the cores shared out among them: on 2 cores
    # two rows of one thread each, not one row at a time on two threads.
    workers = RowWorkers(min(threads, config.grad_accum * config.batch_size) if packing and device == "cpu" else 1,
                         threads)
    record["row_workers"] = workers.count
    # On the CPU each LoRA projection trains as one function that keeps little for the backward
    # (`lora_linear`): two rows side by side fit where peft's chain of small operations did not.
    fused = fused_lora(model) if packing and device == "cpu" else contextlib.nullcontext()
    with attention, workers, fused:
        try:
            while step < config.steps:
                if cancel is not None and cancel.is_set():
                    stopped = True
                    break
                micro_batches = [
                    [train[i] for i in order.batch(step * config.grad_accum + j, config.batch_size)]
                    for j in range(config.grad_accum)
                ]
                weight = config.answer_weight
                tokens = sum(e.weighted_tokens(weight) for batch in micro_batches for e in batch)
                loss_sum = 0.0
                if packing:
                    rows = pack_rows([e for batch in micro_batches for e in batch], pack_tokens)
                    passes = workers.map(
                        functools.partial(_row_gradients, model, trainable, weight, tokens, bf16, device),
                        [(row_seed(config.seed, step, i), row) for i, row in enumerate(rows)],
                    )
                    loss_sum = sum(loss for loss, _ in passes)
                    for parameter, grad in zip(trainable, summed_gradients([g for _, g in passes], trainable),
                                               strict=True):
                        parameter.grad = grad
                else:
                    # Lazy, so each pass's activations are freed by its backward before the next forward.
                    losses = (_answer_loss_sum(model, *_collate(batch, pad_id, device),
                                               _weights(batch, weight, device, max(len(e.input_ids) for e in batch)))
                              for batch in micro_batches)
                    for loss in _autocast(losses, bf16):
                        (loss / max(1, tokens)).backward()
                        loss_sum += float(loss.detach())
                if device == "cpu":
                    # The rows' activations are free now; glibc keeps such pages in each worker's arena,
                    # and a later step's differently shaped tensors fill them badly: the peak then
                    # drifted from step to step (2.7-3.3 GB) where handing them back held it at ~2.7.
                    release_free_memory()
                updating = True
                torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                updating = False
                session_steps += 1
                entry: dict[str, Any] = {
                    "step": step,
                    "loss": loss_sum / max(1, tokens),
                    "lr": scheduler.get_last_lr()[0],
                    "seconds": round(elapsed(), 2),
                }
                if step % config.eval_every == 0 or step == config.steps:
                    entry["val_loss"] = _validation_loss(model, validation, pad_id, device, workers)
                metrics.append(entry)
                if not math.isfinite(entry["loss"]):
                    # The weights are NaN from here on: a run that went on said "done" with "train loss nan" and
                    # pointed at `export`, whose model could only write garbage.
                    record.update(status="diverged", steps_done=step, metrics=metrics, seconds=elapsed(),
                                  updated=_now())
                    write_run(run_dir, record)
                    raise FinetuneError(
                        f"training diverged at step {step} (loss {entry['loss']}); {run_dir} holds no usable adapter",
                        f"lower the learning rate (--lr; the default is {FinetuneConfig.learning_rate:g}) and train "
                        "into a new --run folder",
                    )
                rate = session_steps / max(1e-9, time.perf_counter() - session_start)
                _emit(
                    progress,
                    TrainProgress(
                        step,
                        config.steps,
                        entry["loss"],
                        _last_val(metrics),
                        rate,
                        (config.steps - step) / rate if rate > 0 else None,
                        f"validation loss {entry['val_loss']:.4f}" if entry.get("val_loss") else "",
                    ),
                )
                if step % config.save_every == 0 and step < config.steps:
                    checkpoint()
                elif "val_loss" in entry:
                    record.update(steps_done=step, metrics=metrics, train_loss=_train_loss(metrics),
                                  seconds=elapsed(), updated=_now())
                    write_run(run_dir, record)
        except KeyboardInterrupt:
            stopped = True
            optimizer.zero_grad(set_to_none=True)
            if updating:
                # Interrupted inside the update: the weights may be half-stepped, so keep the last checkpoint.
                record.update(status="stopped", updated=_now())
                write_run(run_dir, record)
                raise

    if stopped:
        if saved_step != step and step > 0:
            checkpoint()
        record.update(status="stopped", steps_done=step, seconds=elapsed(), updated=_now())
        write_run(run_dir, record)
        _emit(
            progress,
            TrainProgress(
                step,
                config.steps,
                _train_loss(metrics),
                _last_val(metrics),
                0.0,
                None,
                f"stopped at step {step}; run again to resume",
            ),
        )
        return FinetuneResult(
            run_dir,
            run_dir / ADAPTER,
            step,
            _train_loss(metrics),
            _last_val(metrics),
            backend,
            elapsed(),
            resumed_from,
            True,
        )

    adapter_dir = publish_adapter(run_dir, model.save_pretrained)
    record.update(
        status="done",
        steps_done=step,
        metrics=metrics,
        train_loss=_train_loss(metrics),
        seconds=elapsed(),
        updated=_now(),
        adapter=ADAPTER,
    )
    write_run(run_dir, record)
    return FinetuneResult(
        run_dir, adapter_dir, step, _train_loss(metrics), _last_val(metrics), backend, elapsed(), resumed_from, False
    )


def _write_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any, device: str) -> None:
    import torch

    model.save_pretrained(folder)
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if device == "cuda" else None,
        },
        folder / "trainer.pt",
    )


def _load_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any, device: str) -> dict[str, Any]:
    import json
    import pickle

    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    try:
        set_peft_model_state_dict(model, load_file(str(folder / "adapter_model.safetensors"), device=device))
        trainer = torch.load(folder / "trainer.pt", map_location=device, weights_only=True)
        optimizer.load_state_dict(trainer["optimizer"])
        scheduler.load_state_dict(trainer["scheduler"])
        torch.set_rng_state(trainer["torch_rng"].cpu())
        if trainer.get("cuda_rng") is not None and device == "cuda":
            torch.cuda.set_rng_state_all(trainer["cuda_rng"])
        state: dict[str, Any] = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, RuntimeError, pickle.UnpicklingError) as exc:
        raise FinetuneError(
            f"{folder}: the checkpoint cannot be read ({exc})",
            "delete that checkpoint folder to resume from the one before, or pick a new run folder",
        ) from exc
    return state
