"""A KGQA evaluation is a run folder like every other: `eval list`, `eval show` and the report read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FILMS

from localrag.cli import run
from localrag.embed import HashEmbedder
from localrag.evaluate.kgqa import SUMMARY_FILE, KGQAConfig, run_kgqa_eval
from localrag.evaluate.report import list_runs, markdown, runs_root, summarise
from localrag.evaluate.runner import EvalRunError, read_records

QUESTIONS = [
    {"question": "who directed the films Tom_Hanks starred in?", "answers": ["Penny_Marshall"],
     "topic_entity": "Tom_Hanks", "triples": "kb.tsv", "gold_path": ["starred_in", "directed_by"]},
    {"question": "where was Tom_Hanks born?", "answers": ["Concord"], "topic_entity": "Tom_Hanks",
     "triples": "kb.tsv"},
]


def films(folder: Path) -> Path:
    (folder / "kb.tsv").write_text(FILMS, encoding="utf-8")
    source = folder / "films.jsonl"
    source.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return source


def test_kgqa_run_is_listed_summarised_and_resumed(tmp_path: Path) -> None:
    source = films(tmp_path)
    root = tmp_path / "evals"
    embedder = HashEmbedder(dim=64)
    first = run_kgqa_eval(source, root / "films", KGQAConfig(), embedder=embedder)
    assert first.skipped == 0 and [r.id for r in first.records] == ["films-1", "films-2"]
    assert first.figures["path accuracy"].n == 1  # only the first question has a gold path
    summary_file = json.loads((root / "films" / SUMMARY_FILE).read_text())
    assert summary_file["questions"] == 2 and summary_file["figures"]["Hits@1"]["n"] == 2

    [listed] = list_runs(root)
    assert (listed.dataset, listed.status, listed.questions) == ("kgqa-films", "done", 2)
    assert (listed.models, listed.modes) == (["embedding planner"], ["graph"])
    summary = summarise(root / "films")
    assert summary.n_questions == 2 and summary.headline == "hits@1"
    [row] = summary.rows
    assert (row.model, row.mode) == ("embedding planner", "graph")
    assert row.figures["hits@1"].value == first.figures["Hits@1"].value
    text = markdown(summary)
    assert "Graph mode: embedding planner" in text and "| Hits@1 | answer F1 | path accuracy |" in text

    again = run_kgqa_eval(source, root / "films", KGQAConfig(), embedder=embedder)
    assert again.skipped == 2 and len(read_records(root / "films")) == 2
    with pytest.raises(EvalRunError, match=r"holds a run of other options \(max_hops\)"):
        run_kgqa_eval(source, root / "films", KGQAConfig(max_hops=1), embedder=embedder)


def test_a_kgqa_run_cut_short_keeps_each_answer_made(tmp_path: Path) -> None:
    source, run_dir, embedder = films(tmp_path), tmp_path / "evals" / "films", HashEmbedder(dim=64)

    def cut_after_one(done: int, _total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt  # Ctrl-C while the second question is next

    with pytest.raises(KeyboardInterrupt):
        run_kgqa_eval(source, run_dir, KGQAConfig(), embedder=embedder, progress=cut_after_one)
    assert [r["qid"] for r in read_records(run_dir)] == ["films-1"]
    assert [r.status for r in list_runs(tmp_path / "evals")] == ["stopped"]
    resumed = run_kgqa_eval(source, run_dir, KGQAConfig(), embedder=embedder)
    assert resumed.skipped == 1 and [r.id for r in resumed.records] == ["films-1", "films-2"]


def test_eval_list_and_show_read_a_kgqa_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_kgqa_eval(films(tmp_path), runs_root() / "kg1", KGQAConfig(), embedder=HashEmbedder(dim=64))
    assert run(["eval", "list"]) == 0
    assert "kg1" in capsys.readouterr().out
    assert run(["eval", "show", "kg1"]) == 0
    assert "Hits@1" in capsys.readouterr().out


def test_a_kgqa_run_is_known_by_its_questions_not_by_their_path(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Given as `films.jsonl` from its folder and by its whole path elsewhere, it was two runs: a stopped one was
    # started anew.
    source = films(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = KGQAConfig()
    assert config.fingerprints(Path("films.jsonl"))[0] == config.fingerprints(source)[0]
    # The same questions beside other triples (a pruned graph) are another run.
    (tmp_path / "pruned").mkdir()
    pruned = films(tmp_path / "pruned")
    assert config.fingerprints(pruned)[0] == config.fingerprints(source)[0]
    (tmp_path / "pruned" / "kb.tsv").write_text("Tom_Hanks\tstarred_in\tBig\n", encoding="utf-8")
    assert config.fingerprints(pruned)[0] != config.fingerprints(source)[0]
    # A run an older localrag named by the path as written is resumed, not refused.
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text(json.dumps({"fingerprint": config.fingerprints(source)[-1],
                                                           "status": "stopped"}))
    run = run_kgqa_eval(source, tmp_path / "run", config, embedder=HashEmbedder(dim=64))
    assert len(run.records) == 2
    assert json.loads((tmp_path / "run" / "run.json").read_text())["fingerprint"] == config.fingerprints(source)[0]
