"""A tuned embedder is judged by the generator gate's rule (a paired interval above zero), and its
verdict is on its card and in `localrag models`. The ranks are given, so no embedder is trained here;
tests/integration/test_tune_retriever.py runs the whole stage with a real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag import paths
from localrag.cli import run
from localrag.models import gate_summary, list_embedders
from localrag.tune.retriever import CARD_MD, commit_embedder, embedders_dir, gate_section


def test_better_only_when_the_paired_interval_of_hit_at_5_is_above_zero() -> None:
    # 40 held-out questions: the tuned embedder finds 30 more of them in its top 5.
    won = gate_section([9] * 30 + [0] * 10, [0] * 40, current="minilm", tuned="mine")
    assert won["verdict"] == "better" and won["better"] and won["low"] > 0
    assert won["current"] == {"hit_at_5": 0.25, "mrr": 0.325, "questions": 40}
    assert won["tuned"]["hit_at_5"] == 1.0
    assert gate_summary({"gate": won}) == (
        "better than the current embedder: +75.0 [+62.5, +87.5] held-out hit@5 points, 40 held-out questions")
    # One question more is inside the noise: higher hit@5, and still not better (the old rule said better).
    close = gate_section([9] + [0] * 39, [0] * 40, current="minilm", tuned="mine")
    assert close["tuned"]["hit_at_5"] > close["current"]["hit_at_5"]
    assert close["verdict"] == "not better" and not close["better"] and close["low"] <= 0
    assert gate_summary({"gate": close}).startswith("not better than the current embedder: +2.5 [")
    worse = gate_section([0] * 40, [9] * 40, current="minilm", tuned="mine")
    assert worse["verdict"] == "not better" and worse["high"] < 0
    old_card = {"gate": {"metric": "held-out vector-leg hit@5, then MRR", "better": True}}
    assert gate_summary(old_card) == "better than the current embedder (older card, no interval)"


def _save(tmp_path: Path, name: str, gate: dict[str, object]) -> Path:
    staging = tmp_path / f"staging-{name}"
    staging.mkdir()
    (staging / "modules.json").write_text("[]")
    card = {"name": name, "kind": "embedder", "base": "minilm", "gate": gate,
            "data": {"train_pairs": 120, "held_out_pairs": 40, "source": "qa.jsonl"},
            "training": {"steps": 4, "train_loss": 0.5, "train_seconds": 1.0}}
    target = embedders_dir(paths.models_dir()) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    return commit_embedder(staging, target, card)


def test_models_lists_tuned_embedders_with_their_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    won = gate_section([9] * 30 + [0] * 10, [0] * 40, current="minilm", tuned="good")
    folder = _save(tmp_path, "good", won)
    _save(tmp_path, "noisy", gate_section([9] + [0] * 39, [0] * 40, current="minilm", tuned="noisy"))
    assert "- verdict: better than the current embedder: +75.0" in (folder / CARD_MD).read_text()
    assert [e.name for e in list_embedders(paths.models_dir())] == ["good", "noisy"]

    assert run(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out) if r["kind"] == "embedder"}
    assert rows["good"]["gate"].startswith("better than the current embedder: +75.0 [+62.5, +87.5]")
    assert rows["good"]["card"]["gate"]["questions"] == 40 and rows["good"]["path"] == str(folder)
    assert rows["noisy"]["gate"].startswith("not better than the current embedder")
    assert run(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # In a pipe: one header, and an embedder's row has a model's columns, its verdict under "notes".
    header = lines[0].split("\t")
    good = next(line.split("\t") for line in lines if line.startswith("embedders/\tgood\t"))
    assert len(good) == len(header) and good[header.index("notes")] == rows["good"]["gate"]
    assert good[header.index("path")] == str(folder)
