"""The evaluation runs screen over fake run folders (no models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import wait_for
from fakes import FILMS, FakeEngine
from textual.widgets import Markdown, OptionList

from localrag.evaluate.runner import RECORDS_FILE, RUN_FILE
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.evals import EMPTY_TEXT, EvalsScreen

pytestmark = pytest.mark.anyio


def fake_run(folder: Path, name: str, started: str, answers: list[tuple[str, str]]) -> Path:
    run = folder / name
    run.mkdir(parents=True)
    info = {"dataset": {"name": name.split("-")[0], "kind": "label", "source": "/data", "documents": 3},
            "config": {"models": ["bundled"], "modes": ["rag"], "k": 4, "seed": 0, "side": "test"},
            "split": "official split", "questions": [f"q{i}" for i in range(len(answers))],
            "status": "done", "started": started}
    (run / RUN_FILE).write_text(json.dumps(info))
    records = [
        {"spec": "bundled", "mode": "rag", "qid": f"q{i}", "gold_label": gold, "label": said, "refused": False,
         "scores": {"correct": float(gold == said), "recall@4": 1.0}}
        for i, (gold, said) in enumerate(answers)
    ]
    (run / RECORDS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


async def test_lists_runs_newest_first_and_shows_the_highlighted_report(tmp_path: Path) -> None:
    fake_run(tmp_path, "pubmedqa-old", "2026-01-01T10:00:00", [("yes", "yes"), ("no", "yes")])
    fake_run(tmp_path, "pubmedqa-new", "2026-02-01T10:00:00", [("yes", "yes"), ("no", "no"), ("no", "no"),
                                                               ("maybe", "no")])
    (tmp_path / "not-a-run").mkdir()
    app = LocalRagApp(FakeEngine(), warm_up=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = EvalsScreen(root=tmp_path)
        await app.push_screen(screen)
        runs = screen.query_one("#runs", OptionList)
        await wait_for(pilot, lambda: runs.option_count == 2)
        assert [r.path.name for r in screen.runs] == ["pubmedqa-new", "pubmedqa-old"]
        report = screen.query_one("#report", Markdown)
        await wait_for(pilot, lambda: screen.shown == tmp_path / "pubmedqa-new")
        assert "Questions scored: 4" in report.source
        # A row per figure, a column per model and mode: a column per figure cut each cell to a stub there.
        assert "| figure | bundled rag |" in report.source and "| accuracy | 75.0" in report.source
        assert "Majority-class baseline" in report.source
        runs.focus()
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.shown == tmp_path / "pubmedqa-old")
        assert "Questions scored: 2" in report.source


async def test_no_runs_says_how_to_make_one(tmp_path: Path) -> None:
    app = LocalRagApp(FakeEngine(), warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = EvalsScreen(root=tmp_path / "nothing")
        await app.push_screen(screen)
        await pilot.pause(0.2)
        assert screen.query_one("#report", Markdown).source == EMPTY_TEXT


async def test_a_graph_mode_run_is_listed_with_its_report(tmp_path: Path) -> None:
    from localrag.embed import HashEmbedder
    from localrag.evaluate.kgqa import KGQAConfig, run_kgqa_eval

    (tmp_path / "kb.tsv").write_text(FILMS, encoding="utf-8")
    source = tmp_path / "films.jsonl"
    source.write_text(json.dumps({"question": "who directed Big?", "answers": ["Penny_Marshall"],
                                  "topic_entity": "Big", "triples": "kb.tsv", "gold_path": ["directed_by"]}) + "\n")
    run_kgqa_eval(source, tmp_path / "evals" / "kg", KGQAConfig(), embedder=HashEmbedder(dim=64))
    app = LocalRagApp(FakeEngine(), warm_up=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = EvalsScreen(root=tmp_path / "evals")
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.shown == tmp_path / "evals" / "kg")
        assert [r.dataset for r in screen.runs] == ["kgqa-films"]
        report = screen.query_one("#report", Markdown).source
        assert "| figure | embedding planner graph |" in report and "| path accuracy | 100.0" in report
