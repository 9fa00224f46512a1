"""`localrag eval --format kgqa`: graph mode over a KGQA file, with the bundled embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag.cli import run

pytestmark = pytest.mark.integration


def test_kgqa_eval_scores_graph_mode_and_writes_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kb.tsv").write_text(
        "Tom Hanks\tstarred_in\tBig\nBig\tdirected_by\tPenny Marshall\n"
        "Meg Ryan\tstarred_in\tSleepless in Seattle\nSleepless in Seattle\tdirected_by\tNora Ephron\n",
        encoding="utf-8",
    )
    questions = [
        {"question": "Who directed the films Tom Hanks starred in?", "answers": ["Penny Marshall"],
         "topic_entity": "Tom Hanks", "triples": "kb.tsv", "gold_path": ["starred_in", "directed_by"]},
        {"question": "Who directed the films Meg Ryan starred in?", "answers": ["Nora Ephron"],
         "topic_entity": "Meg Ryan", "triples": "kb.tsv", "gold_path": ["starred_in", "directed_by"]},
    ]
    source = tmp_path / "films.jsonl"
    source.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")

    assert run(["eval", str(source), "--format", "kgqa", "--out", str(tmp_path / "run")]) == 0

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["questions"] == 2
    assert summary["figures"]["Hits@1"]["n"] == 2
    records = [json.loads(line) for line in (tmp_path / "run" / "records.jsonl").read_text().splitlines()]
    assert [r["answers"] for r in records] == [["Penny Marshall"], ["Nora Ephron"]]
    assert all(r["hit"] == 1.0 and r["path_ok"] for r in records)
    assert "Hits@1" in capsys.readouterr().out
    # The same command again: every answer is already in the run; --json prints the summary file's figures.
    assert run(["eval", str(source), "--format", "kgqa", "--out", str(tmp_path / "run"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed.items() >= {"run_dir": str(tmp_path / "run"), **summary, "unlinked": [],
                               "answers_not_in_graph": []}.items()
    # What `eval show RUN --json` prints is there too: a script reads one shape whichever command it ran.
    assert run(["eval", "show", str(tmp_path / "run"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert printed.items() >= shown.items()


def test_a_json_lines_file_of_another_name_is_read_and_names_the_graph_lacks_are_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`q.JSONL` was read as a WC2014 file ("is this a WC2014 file?"); a misspelt topic entity or answer was
    scored a miss without a word, though no graph mode could answer it."""
    (tmp_path / "kb.tsv").write_text("Big\tdirected_by\tPenny Marshall\n", encoding="utf-8")
    good = {"question": "Who directed Big?", "answers": ["Penny Marshall"], "topic_entity": "Big", "triples": "kb.tsv"}
    # The question's own words still name Big: graph mode links it from them, but the set's topic was not found.
    typo = {"question": "Who directed Big?", "answers": ["Penny Marshal"], "topic_entity": "Bgi", "triples": "kb.tsv"}
    source = tmp_path / "q.JSONL"
    source.write_text(json.dumps(good) + "\n" + json.dumps(typo) + "\n", encoding="utf-8")
    assert run(["eval", str(source), "--format", "kgqa", "--out", str(tmp_path / "run"), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["questions"] == 2
    assert printed["unlinked"] == printed["answers_not_in_graph"] == ["q-2"]
    assert "note: 1 question of 2 named no entity of its triples file (`topic_entity` misspelt?), counted as a " \
           "miss: q-2" in captured.err
    assert "note: 1 question of 2 has no answer that is an entity of its triples file" in captured.err


def test_the_planner_is_the_graph_planner_setting_unless_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # eval planned by embedding whatever the setting said, where `ask --graph` followed it.
    (tmp_path / "kb.tsv").write_text("Big\tdirected_by\tPenny Marshall\n", encoding="utf-8")
    question = {"question": "Who directed Big?", "answers": ["Penny Marshall"], "topic_entity": "Big",
                "triples": "kb.tsv"}
    source = tmp_path / "q.jsonl"
    source.write_text(json.dumps(question) + "\n", encoding="utf-8")
    monkeypatch.setenv("LOCALRAG_GRAPH_PLANNER", "grammar")
    assert run(["eval", str(source), "--format", "kgqa", "--out", str(tmp_path / "set"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["planner"] == "grammar"
    assert run(["eval", str(source), "--format", "kgqa", "--out", str(tmp_path / "named"), "--planner",
                "embedding", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["planner"] == "embedding"
