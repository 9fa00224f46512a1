"""The plan of a `localrag tune` run: everything that decides what it makes, fixed for the life of its folder.

`make_plan` builds one from the defaults, the `--quick` sizes and what the user gave; `planned_stages`
says which stages of the chain (localrag/tune/chain.py) it runs; `plan_identity` is the plan as
recorded in chain.json, the form a re-run is compared by. Apart from the chain, which runs a plan:
what a run makes is decided here, and how it is made there and in localrag/tune/stages.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.ingest.pipeline import file_hash
from localrag.paths import typed_path
from localrag.raft.dataset import RaftConfig
from localrag.tune.runs import check_model_name

if TYPE_CHECKING:
    from localrag.tune.config import FinetuneConfig
    from localrag.tune.retriever import RetrieverConfig

STAGES = ("raft", "retriever", "finetune", "export", "verify", "gate")
# The generator's stages; a plan with `model=False` (`tune --retriever`) stops before them.
MODEL_STAGES = ("finetune", "export", "verify", "gate")

QUICK_MAX_CHUNKS = 12
# Two distractors and the oracle: three ~200-token chunks keep a prompt near 512 tokens of the bundled model.
QUICK_RAFT = RaftConfig(k=2)
QUICK_FINETUNE = {
    "steps": 10,
    "max_tokens": 512,
    "grad_accum": 1,
    "eval_every": 5,
    "save_every": 5,
    "warmup_steps": 2,
    "eval_examples": 8,
}


@dataclass(frozen=True)
class TunePlan:
    """Everything that decides what a tune run produces; fixed for the life of its folder."""

    name: str
    base: Path
    qa_files: tuple[Path, ...] = ()
    # Have the engine's generator write Q&A pairs from chunks too (always, when there are no files).
    generate: bool = True
    # The engine's model spec that writes the questions ("" = bundled); recorded, not resolved here.
    qa_model: str = ""
    max_chunks: int | None = None
    raft: RaftConfig = field(default_factory=RaftConfig)
    finetune: FinetuneConfig | None = None
    quant: str = "Q8_0"
    lora_gguf: bool = False
    quick: bool = False
    # Tune the embedder on the same questions (`tune --retriever`); None: leave it as it is.
    retriever: RetrieverConfig | None = None
    # Run the generator's stages (finetune, export, verify); `tune --retriever` alone skips them.
    model: bool = True


def planned_stages(plan: TunePlan) -> tuple[str, ...]:
    # Inverse-cloze pairs come from the chunks themselves: an embedder-only run on them has no use for the
    # written questions, the slowest stage on a laptop (5.4 s a chunk with the bundled model on one core).
    ict_only = not plan.model and plan.retriever is not None and plan.retriever.pairs == "ict"
    return tuple(
        s for s in STAGES
        if (s != "retriever" or plan.retriever is not None)
        and (plan.model or s not in MODEL_STAGES)
        and not (s == "raft" and ict_only)
    )


def make_plan(
    name: str,
    base: Path,
    *,
    quick: bool = False,
    qa_files: Sequence[Path] = (),
    generate: bool = False,
    qa_model: str = "",
    max_chunks: int | None = None,
    raft: dict[str, Any] | None = None,
    finetune: dict[str, Any] | None = None,
    quant: str = "Q8_0",
    lora_gguf: bool = False,
    retriever: dict[str, Any] | None = None,
    model: bool = True,
) -> TunePlan:
    """A plan from the defaults, then the --quick sizes, then what the user gave explicitly (`raft`, `finetune`)."""
    from localrag.tune.config import FinetuneConfig

    raft_fields: dict[str, Any] = {"k": QUICK_RAFT.k} if quick else {}
    raft_fields.update(raft or {})
    train_fields: dict[str, Any] = dict(QUICK_FINETUNE) if quick else {}
    train_fields.update(finetune or {})
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    retriever_config = None
    if retriever is not None:
        from localrag.tune.retriever import QUICK_MAX_STEPS, RetrieverConfig

        retriever_fields: dict[str, Any] = {"max_steps": QUICK_MAX_STEPS} if quick else {}
        retriever_fields.update(retriever)
        retriever_config = RetrieverConfig(**retriever_fields)
    return TunePlan(
        name=check_model_name(name),
        base=Path(base),
        qa_files=tuple(Path(f) for f in qa_files),
        generate=generate or not qa_files,
        qa_model=qa_model,
        max_chunks=max_chunks if max_chunks is not None else (QUICK_MAX_CHUNKS if quick else None),
        raft=RaftConfig(**raft_fields),
        finetune=FinetuneConfig(**{k: v for k, v in train_fields.items() if k in known}),
        quant=quant,
        lora_gguf=lora_gguf,
        quick=quick,
        retriever=retriever_config,
        model=model,
    )


def plan_identity(plan: TunePlan) -> dict[str, Any]:
    """The plan as JSON, with Q&A files identified by content, for comparing a re-run with the first run."""
    from localrag.tune.config import FinetuneConfig

    config = plan.finetune or FinetuneConfig()
    return json.loads(
        json.dumps(
            {
                "name": plan.name,
                "base": str(typed_path(plan.base).resolve()),
                "qa_files": [
                    [str(Path(f).resolve()), file_hash(Path(f)) if Path(f).is_file() else None] for f in plan.qa_files
                ],
                "generate": plan.generate or not plan.qa_files,
                "qa_model": plan.qa_model,
                "max_chunks": plan.max_chunks,
                "raft": plan.raft.fingerprint(),
                "finetune": dataclasses.asdict(config),
                "quant": plan.quant,
                "lora_gguf": plan.lora_gguf,
                "quick": plan.quick,
                # Only when set, so the runs started before the retriever stage existed still resume.
                # How often it checkpoints changes no result: a run started before the setting still resumes.
                **({"retriever": {k: v for k, v in dataclasses.asdict(plan.retriever).items() if k != "save_every"}}
                   if plan.retriever is not None else {}),
                **({} if plan.model else {"model": False}),
            },
            default=str,
        )
    )
