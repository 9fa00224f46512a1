"""The fine-tuning configuration: one small frozen dataclass, a reason beside every default.

The same FinetuneConfig drives both backends (transformers + peft on any machine, Unsloth on CUDA), is
saved in the run's run.json, and decides whether a re-run may resume: a run folder trained with
another configuration is refused rather than silently mixed. The defaults are for LoRA on the RAFT
set with small instruct models (135M to 8B) on a CPU or one GPU.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from localrag.errors import LocalRagError

BACKENDS = ("auto", "peft", "unsloth")
PRECISIONS = ("auto", "fp32", "bf16")


class FinetuneError(LocalRagError):
    title = "Fine-tuning error"


@dataclass(frozen=True)
class FinetuneConfig:
    """LoRA supervised fine-tuning settings; see the module docstring."""

    # A few hundred optimizer steps over a few hundred RAFT examples teach the layout without wiping the
    # base model's general chat (32 steps at 2e-4 already broke the 135M model's plain answers).
    steps: int = 200
    # Half the usual LoRA 2e-4: measured here, 2e-4 wrecked the small model's general chat within 32 steps.
    learning_rate: float = 1e-4
    # RAFT prompts are long (question + 5 documents); one at a time keeps CPU memory near 3-4 GB.
    batch_size: int = 1
    # Four examples per update smooth the gradient as batch 4 would, at batch-1 memory.
    grad_accum: int = 4
    # Five ~200-token chunks and the answer fit; longer examples lose document text, never the answer.
    max_tokens: int = 1024
    # Longest packed row (transformers + peft); 0: max_tokens. Short examples then share a row, and a row
    # is never longer than one example may be, so packing never raises peak memory: activations grow
    # with the row (a 2,000-token row of the 135M model peaked at 9.4 GB, benchmarks/README.md).
    pack_tokens: int = 0
    # "auto": bfloat16 autocast on a CPU with native bf16 arithmetic (avx512_bf16 or AMX), else float32.
    # Matrix products in bf16 with float32 weights, optimizer and loss; 1.3x per pass measured here.
    precision: str = "auto"
    # Rank 16 is the common LoRA choice: enough capacity for a format and a habit, a few MB of adapter.
    lora_r: int = 16
    # alpha = 2r keeps the update scale at 2, the usual setting that needs no learning-rate retuning.
    lora_alpha: int = 32
    # A little dropout, since RAFT sets from a personal corpus are small and easy to memorise.
    lora_dropout: float = 0.05
    # Every attention and MLP projection: the QLoRA paper found all-linear LoRA matches full tuning best.
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    # A short warm-up keeps the first updates (fresh Adam moments) from jolting the base weights.
    warmup_steps: int = 10
    # Validation loss eight times over a default run: enough to see over-fitting, cheap on CPU.
    eval_every: int = 25
    # A checkpoint every ~100 s of CPU training bounds what a kill -9 can lose.
    save_every: int = 25
    # Same seed, data and config give the same LoRA init, data order and dropout, so runs compare.
    seed: int = 0
    # "auto": Unsloth when CUDA and unsloth are both there (about 2x faster), else transformers + peft.
    backend: str = "auto"
    # Validation examples per evaluation: a fixed, small sample keeps evaluation a few seconds on CPU.
    eval_examples: int = 32
    # Gradient-norm clipping at 1.0 (the transformers default) guards against a bad long example.
    max_grad_norm: float = 1.0
    # No weight decay: LoRA matrices start near zero and the run is short; decay would only slow them.
    weight_decay: float = 0.0
    # Loss weight of the final answer's tokens (after `<ANSWER>:`) against 1 for the rest of the reply
    # (mostly the copied quote). Above 1 spends more of the gradient on choosing the answer span, which
    # the 135M model did not learn at 1 (benchmarks/README.md, "RAG vs RAFT-tuned + RAG").
    answer_weight: float = 1.0

    def __post_init__(self) -> None:
        positive = (
            "steps",
            "batch_size",
            "grad_accum",
            "max_tokens",
            "lora_r",
            "lora_alpha",
            "eval_every",
            "save_every",
            "eval_examples",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise FinetuneError(
                    f"fine-tuning setting {name}={getattr(self, name)} must be at least 1", "fix the value"
                )
        # One refusal per value, named as the command line names it: all three rules in one message, by their
        # field names, did not say which was wrong; `inf` passed `> 0` and trained to a NaN loss.
        if not (math.isfinite(self.answer_weight) and self.answer_weight > 0):
            raise FinetuneError(f"the answer weight (--answer-weight) is {self.answer_weight}: it must be a finite "
                                "number above 0",
                                "use 1 for an even loss, more to weigh the final answer above the quote")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise FinetuneError(f"the learning rate (--lr) is {self.learning_rate}: it must be a finite number above 0",
                                f"the default is {FinetuneConfig.learning_rate:g}")
        if not 0 <= self.lora_dropout < 1:
            raise FinetuneError(f"the LoRA dropout (--lora-dropout) is {self.lora_dropout}: it must be from 0 up to "
                                f"(not including) 1", f"the default is {FinetuneConfig.lora_dropout:g}")
        if self.warmup_steps < 0:
            raise FinetuneError(f"the warmup steps (--warmup-steps) are {self.warmup_steps}: they must be 0 or more",
                                f"the default is {FinetuneConfig.warmup_steps}")
        if self.pack_tokens < 0:
            raise FinetuneError(f"fine-tuning setting pack_tokens={self.pack_tokens} must be 0 or more",
                                "use 0 for max_tokens")
        if self.precision not in PRECISIONS:
            raise FinetuneError(f"unknown training precision '{self.precision}'", f"use one of {', '.join(PRECISIONS)}")
        if self.backend not in BACKENDS:
            raise FinetuneError(f"unknown fine-tuning backend '{self.backend}'", f"use one of {', '.join(BACKENDS)}")
        if not self.target_modules:
            raise FinetuneError("fine-tuning setting target_modules is empty", "name the layers LoRA adapts")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FinetuneConfig:
        """A config from run.json; unknown keys (from a newer localrag) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "target_modules" in values:
            values["target_modules"] = tuple(values["target_modules"])
        return cls(**values)
