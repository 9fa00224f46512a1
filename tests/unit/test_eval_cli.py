"""`localrag eval` argument handling without models: list, show, and errors as one line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.evaluate.report import runs_root


def test_list_without_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["eval", "list"]) == 0
    assert "no evaluation runs" in capsys.readouterr().out


def test_malformed_dataset_line_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "set.jsonl"
    bad.write_text('{"question": "A?", "answers": ["x"]}\n{"question": 3}\n')
    assert run(["eval", str(bad), "--modes", "model"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err.replace("\n", "") and "Traceback" not in err


def test_an_empty_csv_and_an_unknown_mode_are_told_before_any_run_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("question,answer,path\n")
    assert run(["eval", str(empty)]) == 2
    assert "no questions (a row under the header question, answer, path)" in capsys.readouterr().err
    one = tmp_path / "one.csv"
    one.write_text("question,answer,path\nWhen?,1871,notes.md\n")
    assert run(["eval", str(one), "--modes", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown mode bogus" in err and "Evaluating" not in err and not runs_root().exists()
    # --limit -1 scored all but the last question (a slice); --limit 0 blamed the --side.
    for limit in ("0", "-1"):
        with pytest.raises(SystemExit) as refused:
            run(["eval", str(one), "--limit", limit])
        assert refused.value.code == 2
        assert f"argument --limit: {limit} is not a positive number" in capsys.readouterr().err


def test_show_a_run_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    folder = runs_root() / "r1"
    folder.mkdir(parents=True)
    info = {"dataset": {"name": "toy", "kind": "extractive"}, "config": {"models": ["bundled"], "modes": ["model"]},
            "questions": ["q1"], "status": "done", "started": "2026-01-01T00:00:00", "split": "by document"}
    (folder / "run.json").write_text(json.dumps(info))
    record = {"spec": "bundled", "mode": "model", "qid": "q1", "gold_label": None, "label": None,
              "scores": {"em": 1.0, "f1": 1.0, "hit": 1.0}}
    (folder / "records.jsonl").write_text(json.dumps(record) + "\n")
    assert run(["eval", "list"]) == 0
    assert "r1\ttoy\tdone\t2026-01-01T00:00:00\t1\tbundled\tmodel" in capsys.readouterr().out.splitlines()
    assert run(["eval", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["run_dir"] == str(folder)
    assert run(["eval", "show", "r1"]) == 0
    out = capsys.readouterr().out
    assert "100.0" in out and (folder / "report.md").is_file() and (folder / "plot.png").is_file()
    assert run(["eval", "show", "r1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_dir"] == str(folder) and shown["rows"][0]["figures"]["f1"]["value"] == 1.0
    assert run(["eval", "show"]) == 2
    assert "eval show takes one run: `localrag eval show RUN`" in capsys.readouterr().err


def test_two_datasets_are_refused_with_the_reason_and_the_usage_names_one(capsys: pytest.CaptureFixture[str]) -> None:
    """`eval q1.jsonl q2.jsonl` said only "usage: localrag eval DATASET [options]", and --help's usage read
    `DATASET [DATASET ...]` (before 2026-12-07)."""
    assert run(["eval", "q1.jsonl", "q2.jsonl", "--modes", "extract"]) == 2
    assert capsys.readouterr().err.strip() == ("eval takes one dataset: 2 were given (q1.jsonl, q2.jsonl); run eval "
                                               "once for each")
    with pytest.raises(SystemExit):
        run(["eval", "--help"])
    assert capsys.readouterr().out.splitlines()[:3] == [
        "usage: localrag eval DATASET [options]", "       localrag eval list [--json]",
        "       localrag eval show RUN [--json]"]


def test_show_says_a_run_did_not_finish(capsys: pytest.CaptureFixture[str]) -> None:
    """`eval show` of a failed or killed run printed its figures as if every question had been answered."""
    from localrag.evaluate.runner import marked_when_cut

    folder = runs_root() / "r2"
    folder.mkdir(parents=True)
    info = {"dataset": {"name": "toy", "kind": "extractive"}, "config": {"models": ["bundled"], "modes": ["model"]},
            "questions": ["q1", "q2"], "status": "running", "pid": 2**22 + 1, "started": "2026-01-01T00:00:00"}
    (folder / "run.json").write_text(json.dumps(info))
    record = {"spec": "bundled", "mode": "model", "qid": "q1", "gold_label": None, "label": None,
              "scores": {"em": 1.0, "f1": 1.0, "hit": 1.0}}
    (folder / "records.jsonl").write_text(json.dumps(record) + "\n")
    assert run(["eval", "show", "r2"]) == 0
    assert "not finished: stopped (its process is gone)" in capsys.readouterr().out
    assert run(["eval", "list"]) == 0
    assert "\tstopped\t" in capsys.readouterr().out
    with pytest.raises(OSError), marked_when_cut(folder):
        raise OSError("No space left on device")
    assert run(["eval", "show", "r2"]) == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert "not finished: failed: No space left on device; the figures cover the questions answered so far" in out
    assert "Not finished: failed" in (folder / "report.md").read_text()
    assert run(["eval", "show", "r2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["error"] == "No space left on device"


def test_a_data_sets_name_is_shown_as_named_not_as_markdown() -> None:
    """The Evals screen read `qs_[a](http:evil)_*b*` as a live link and italics; the run list showed it as named."""
    from localrag.evaluate.report import markdown, summarise

    folder = runs_root() / "r3"
    folder.mkdir(parents=True)
    info = {"dataset": {"name": "qs_[a](http:evil)_*b*", "kind": "extractive"}, "status": "done",
            "config": {"models": ["[m](x)"], "modes": ["model"]}, "questions": ["q1"]}
    (folder / "run.json").write_text(json.dumps(info))
    record = {"spec": "[m](x)", "mode": "model", "qid": "q1", "gold_label": None, "label": None,
              "scores": {"em": 1.0, "f1": 1.0, "hit": 1.0}}
    (folder / "records.jsonl").write_text(json.dumps(record) + "\n")
    text = markdown(summarise(folder), by_figure=True)
    assert text.startswith("# Evaluation: qs\\_\\[a\\](http\\:evil)\\_\\*b\\*\n")
    assert "| \\[m\\](x) model |" in text


def test_a_model_not_found_is_told_before_any_run_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`eval q.csv --models bundled,bwtypo` printed "Evaluating ... into .../evals/<id>", a folder it never made,
    before failing on the misspelt model."""
    one = tmp_path / "set.jsonl"
    one.write_text('{"question": "When?", "answers": ["1871"]}\n')
    assert run(["eval", str(one), "--modes", "model", "--models", "bundled,bwtypo"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "model 'bwtypo' not found" in err and "Evaluating" not in err and not runs_root().exists()
