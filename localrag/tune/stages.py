"""The stages of `localrag tune` (localrag/tune/chain.py): what each is given, what it runs, what it records.

Each stage function takes the engine's parts it needs (`TuneEngine`), the plan, the run's folders
(`TuneResult`) and the progress hooks (`ChainHooks`), runs its step and returns the figures the
chain records in chain.json, or None when it was stopped. The fine-tune, export, verify and gate
steps are injected (`StageFunctions`) so the chain's bookkeeping is tested with fakes; `real_stages`
imports the library's only when a stage runs. Apart from the chain, which decides only which stages
run, skip or resume.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from localrag.raft.qa import ProgressCallback
from localrag.tune.runs import TuneError

if TYPE_CHECKING:
    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.evaluate.runner import EvalProgress
    from localrag.generate import Generator
    from localrag.retrieve import Retriever
    from localrag.store import Store
    from localrag.tune.plan import TunePlan
    from localrag.types import Chunk

GATE_DIR = "gate"


class TuneEngine(Protocol):
    """What the chain needs from `localrag.engine.Engine` (lazy parts: loaded when a stage uses them)."""

    @property
    def store(self) -> Store: ...

    @property
    def retriever(self) -> Retriever: ...

    @property
    def generator(self) -> Generator: ...

    @property
    def embedder(self) -> Embedder: ...

    @property
    def models_dir(self) -> Path: ...

    @property
    def settings(self) -> Settings: ...


class RetrieverEngine(TuneEngine, Protocol):
    """What the retriever stage needs besides: the embedder and the index switch."""

    @property
    def embedder(self) -> Embedder: ...

    def switch_embedder(self, folder: Path, *, progress: Any = None, cancel: threading.Event | None = None) -> Any: ...


@dataclass
class ChainHooks:
    """Progress callbacks; `stage(name, state, detail)` with state "started", "skipped", "done" or "stopped"."""

    stage: Callable[[str, str, str], None] | None = None
    raft: ProgressCallback | None = None
    train: Callable[[Any], None] | None = None
    export: Callable[[str, float], None] | None = None
    # ("train" | "gate" | "reembed", done, total) from the retriever stage.
    retriever: Callable[[str, int, int], None] | None = None
    gate: Callable[[EvalProgress], None] | None = None
    # A warning about the stages to come, said as soon as it is known (`held_out_note`).
    note: Callable[[str], None] | None = None


@dataclass
class StageFunctions:
    """The stage implementations: `finetune` and `export_model` per tune_api.md, `verify` as `smoke_test`,
    `gate` as `localrag.tune.gate.run_gate` (model, base, raft dir, gate dir, chunks, settings, progress, cancel)."""

    finetune: Callable[..., Any]
    export: Callable[..., Any]
    verify: Callable[[Path, Path, Path], dict[str, Any]]
    gate: Callable[..., Any]


def real_stages(n_threads: int = 0) -> StageFunctions:
    """The library's stages; `n_threads` for the verify stage's llama.cpp (0: one per core)."""
    from localrag.tune.export import export_model
    from localrag.tune.finetune import finetune
    from localrag.tune.gate import run_gate
    from localrag.tune.smoke import smoke_test

    def verify(model_path: Path, raft_dir: Path, models_dir: Path) -> dict[str, Any]:
        return smoke_test(model_path, raft_dir, models_dir, n_threads=n_threads)

    return StageFunctions(finetune=finetune, export=export_model, verify=verify, gate=run_gate)


@dataclass
class TuneResult:
    name: str
    directory: Path
    model_path: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stopped: str | None = None
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def raft_dir(self) -> Path:
        return self.directory / "raft"

    @property
    def run_dir(self) -> Path:
        return self.directory / "run"

    @property
    def gate_dir(self) -> Path:
        return self.directory / GATE_DIR


def file_stamp(path: Path) -> list[int]:
    """Size and modification time: how the chain tells the model this run exported from a copy put there since."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def ingested_chunks(store: Store) -> list[Chunk]:
    """Every chunk of the index; TuneError saying to ingest first when there are none."""
    from localrag.raft.qa import store_chunks

    chunks = store_chunks(store)
    if not chunks:
        raise TuneError(
            "nothing is ingested yet, so there is nothing to learn from",
            "run `localrag ingest PATH` on your documents first",
        )
    return chunks


def raft_stage(
    engine: TuneEngine, plan: TunePlan, result: TuneResult, hooks: ChainHooks, cancel: threading.Event
) -> dict[str, Any] | None:
    from localrag.raft.build import build_raft

    chunks = ingested_chunks(engine.store)
    generate = plan.generate or not plan.qa_files
    generator = engine.generator if generate else None
    search = engine.retriever.search if plan.raft.distractors == "hard" else None
    report = build_raft(
        result.raft_dir,
        chunks,
        generator=generator,
        qa_files=plan.qa_files,
        search=search,
        embedder=engine.embedder if plan.raft.prompt_sentences else None,
        config=plan.raft,
        count_tokens=generator.count_tokens if generator is not None else None,
        max_chunks=plan.max_chunks,
        progress=hooks.raft,
        cancel=cancel,
    )
    if report.cancelled:
        return None
    return raft_summary(report, qa_files=bool(plan.qa_files), generated=generate)


def retriever_stage(
    engine: RetrieverEngine,
    plan: TunePlan,
    result: TuneResult,
    hooks: ChainHooks,
    cancel: threading.Event,
    force: bool,
) -> dict[str, Any] | None:
    """Train and judge the embedder; switch the index to it only when it won. Resumes a stopped switch."""
    from localrag.embed import load_embedder
    from localrag.models import gate_summary, resolve_embedder
    from localrag.tune.retriever import CARD_JSON, embedders_dir, tune_retriever

    target = embedders_dir(Path(engine.models_dir)) / result.name
    card_file = target / CARD_JSON
    summary: dict[str, Any] | None = None
    if card_file.is_file():
        card = json.loads(card_file.read_text(encoding="utf-8"))
        # This run trained it already (a later stop was in the re-embedding): judge it by its card again.
        if card.get("run") == str(result.directory):
            gate = card["gate"]
            summary = {"path": str(target), "better": gate["better"], "current": gate["current"],
                       "tuned": gate["tuned"], "verdict": gate_summary(card),
                       "train_pairs": card["data"]["train_pairs"],
                       "held_out_pairs": card["data"]["held_out_pairs"], "steps": card["training"]["steps"],
                       "train_loss": card["training"]["train_loss"]}
    if summary is None:
        assert plan.retriever is not None
        summary = tune_retriever(
            name=result.name,
            raft_dir=result.raft_dir,
            store=engine.store,
            embedder=engine.embedder,
            base=resolve_embedder(engine.settings.embedder),
            models_dir=Path(engine.models_dir),
            work_dir=result.directory / "retriever",
            config=plan.retriever,
            run=str(result.directory),
            load=lambda folder: load_embedder(folder, engine.settings.embed_backend),
            force=force,
            progress=hooks.retriever,
            cancel=cancel,
        )
        if summary is None:
            return None
    summary["switched"] = False
    if summary["better"]:
        def on_progress(done: int, total: int) -> None:
            if hooks.retriever is not None:
                hooks.retriever("reembed", done, total)

        report = engine.switch_embedder(target, progress=on_progress, cancel=cancel)
        if report.cancelled:
            return None
        # `report.already`: switched by a run killed before the chain recorded it; the switch stands.
        summary.update(
            switched=True, reembedded_chunks=report.chunks, reembedded_entities=report.entities,
            reembed_seconds=round(report.seconds, 1), fusion=report.fusion,
        )
    return summary


# How many of the skipped lines' reasons (`file:line: why`) a summary keeps and a front end shows.
SHOWN_QA_ERRORS = 5


def raft_summary(report: Any, *, qa_files: bool, generated: bool) -> dict[str, Any]:
    """The figures of a `RaftBuildReport` worth keeping; raises TuneError when there is nothing to train on, with the
    reasons lines of the Q&A files were skipped and advice that fits the sources used (`qa_files`: the user's Q&A
    files were read; `generated`: the model wrote questions)."""
    splits = {s: int(report.stats.get(s, {}).get("examples", 0)) for s in ("train", "validation", "test")}
    summary = {
        "qa_made": report.qa.made,
        "qa_skipped": dict(report.qa.skipped),
        "qa_errors": len(report.qa.errors),
        "qa_error_lines": list(report.qa.errors[:SHOWN_QA_ERRORS]),
        "examples": report.dataset.examples,
        "examples_dropped": dict(report.dataset.dropped),
        "splits": splits,
        "resumed_chunks": report.resumed_chunks,
    }
    if splits["train"] == 0:
        skipped = ", ".join(f"{n} {why}" for why, n in report.qa.skipped.items()) or "none skipped"
        shown = report.qa.errors[:3]
        reasons = ": " + "; ".join(shown) + ("; …" if len(report.qa.errors) > len(shown) else "") if shown else ""
        fix = "fix the Q&A lines named"
        if not qa_files:
            hint = "ingest more documents, raise --max-chunks, pass --qa-file, or write questions with a larger --model"
        elif generated:
            hint = f"{fix}, ingest more documents, raise --max-chunks, or write questions with a larger --model"
        else:
            hint = f"{fix}, or add --generate to have the model write questions from your documents too"
        raise TuneError(
            f"the RAFT set in {report.out_dir} has no training examples ({report.qa.made} Q&A pairs made; {skipped}"
            f"{reasons})",
            hint,
        )
    return summary


def held_out_note(summary: dict[str, Any], plan: TunePlan, limit: int) -> str:
    """Said after the Q&A stage when the gate will ask fewer than MIN_QUESTIONS held-out questions, "" otherwise:
    its verdict is then "too few to judge", and that was learnt only after training and comparing (150 pairs gave
    24 held-out questions, a fifth of the pairs by whole documents, less those dropped on the way to examples).
    With how many pairs, at this set's rate, would give a verdict, and how to get them."""
    import math

    from localrag.evaluate.metrics import MIN_QUESTIONS

    splits, made = summary["splits"], int(summary["qa_made"])
    held = splits["validation"] + splits["test"]
    if min(held, limit) >= MIN_QUESTIONS:
        return ""
    said = (f"the comparison with the base model will ask {min(held, limit)} held-out questions, too few for a "
            f"verdict (it needs {MIN_QUESTIONS}), so it will say \"too few to judge\"")
    if held >= MIN_QUESTIONS:
        return f"{said}: raise --gate-questions to {MIN_QUESTIONS} or more (the set holds {held})"
    # Held-out questions per pair, this set's or (none held out) the split's share of its examples.
    shares = plan.raft.split
    per_pair = held / made if held else (shares[1] + shares[2]) / sum(shares) * sum(splits.values()) / made
    needed = math.ceil(MIN_QUESTIONS / per_pair)
    if plan.generate and plan.max_chunks is not None and not plan.qa_files:
        asked = made + sum(summary["qa_skipped"].values())
        how = f"--max-chunks {math.ceil(asked * needed / made)} (the model wrote {made} from {asked} chunks)"
    elif plan.generate and plan.qa_files:
        # The counts mix the file's pairs and lines with the model's pairs and chunks: no --max-chunks figure
        # follows from them (before 2026-12-08 100 file pairs and 50 of 80 chunks advised --max-chunks 239).
        how = "more lines in your --qa-file, or more chunks for the model (a larger --max-chunks)"
    elif plan.generate:
        how = "more ingested documents, or --qa-file with questions of your own"
    else:
        how = "more lines in your --qa-file"
    return f"{said}; one needs about {needed} Q&A pairs at this set's rate (it has {made}): {how}, with --restart"


def finetune_stage(
    functions: StageFunctions, plan: TunePlan, result: TuneResult, hooks: ChainHooks, cancel: threading.Event
) -> dict[str, Any] | None:
    outcome = functions.finetune(
        result.raft_dir, result.run_dir, Path(plan.base), plan.finetune, progress=hooks.train, cancel=cancel
    )
    if outcome.stopped:
        return None
    return {
        "steps": outcome.steps,
        "train_loss": outcome.train_loss,
        "val_loss": outcome.val_loss,
        "backend": outcome.backend,
        "train_seconds": round(outcome.seconds, 2),
        "resumed_from": outcome.resumed_from,
    }


def export_stage(
    functions: StageFunctions, plan: TunePlan, result: TuneResult, models_dir: Path, hooks: ChainHooks
) -> dict[str, Any]:
    outcome = functions.export(
        result.run_dir,
        result.name,
        models_dir=models_dir,
        quant=plan.quant,
        lora_gguf=plan.lora_gguf,
        progress=hooks.export,
        # A run trained on another machine recorded that machine's path to the same base.
        base=Path(plan.base),
    )
    return {
        "path": str(outcome.path),
        "card": str(outcome.card_path),
        "quant": outcome.quant,
        "agreement_f16": outcome.agreement_f16,
        "agreement_quant": outcome.agreement_quant,
        "perplexity_f16": outcome.perplexity_f16,
        "perplexity_quant": outcome.perplexity_quant,
        "lora_path": str(outcome.lora_path) if outcome.lora_path else None,
        "stamp": file_stamp(Path(outcome.path)),
    }


def gate_stage(
    functions: StageFunctions, engine: TuneEngine, plan: TunePlan, result: TuneResult, hooks: ChainHooks,
    cancel: threading.Event, limit: int,
) -> dict[str, Any] | None:
    # The eval run resumes by question, keyed by the model's path: answers of a model this run replaced
    # by a new export must not count for the new one.
    if "export" in result.ran and result.gate_dir.exists():
        shutil.rmtree(result.gate_dir)
    outcome = functions.gate(
        result.model_path, Path(plan.base), result.raft_dir, result.gate_dir, ingested_chunks(engine.store),
        settings=engine.settings, limit=limit, progress=hooks.gate, cancel=cancel,
    )
    return None if outcome is None else dict(outcome.to_json())
