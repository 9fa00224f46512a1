"""`localrag graph training`: RoG examples on the user's imported graph, in the chat format finetune reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag.cli import run

pytestmark = pytest.mark.integration


def test_training_examples_plan_on_the_users_graph(tmp_path: Path) -> None:
    (tmp_path / "films.tsv").write_text(
        "Tom Hanks\tstarred_in\tBig\nBig\tdirected_by\tPenny Marshall\n", encoding="utf-8"
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({
        "question": "Who directed the films Tom Hanks starred in?", "answers": ["Penny Marshall"],
        "topic_entity": "Tom Hanks", "triples": "films.tsv",
    }) + "\n", encoding="utf-8")
    out = tmp_path / "rog"

    assert run(["graph", "training", str(questions), "--out", str(out)]) == 2  # empty graph: told to build first
    assert run(["graph", "import", str(tmp_path / "films.tsv")]) == 0
    assert run(["graph", "training", str(questions), "--out", str(out)]) == 0

    records = [json.loads(line) for line in (out / "train.chat.jsonl").read_text().splitlines()]
    replies = [r["messages"][-1]["content"] for r in records]
    assert "starred_in -> directed_by" in replies
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in records)
