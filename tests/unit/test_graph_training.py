"""RoG training examples: gold and searched plans, reasoning listings, the split by topic entity, the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localrag.embed import HashEmbedder
from localrag.graph.kgqa import KGQAQuestion
from localrag.graph.paths import GraphIndex
from localrag.graph.plan import GrammarPlanner
from localrag.graph.training import (
    GraphTrainingConfig,
    answer_paths,
    assign_splits,
    build_graph_examples,
    write_graph_dataset,
)

TRIPLES = [
    ("tom hanks", "starred_in", "big", "f:1"),
    ("tom hanks", "starred_in", "cast away", "f:2"),
    ("big", "directed_by", "penny marshall", "f:3"),
    ("cast away", "directed_by", "robert zemeckis", "f:4"),
    ("tom hanks", "born_in", "concord", "f:5"),
    ("concord", "located_in", "california", "f:6"),
    ("tom hanks", "married_to", "rita wilson", "f:7"),
]
KB = Path("kb.tsv")


@pytest.fixture
def index() -> GraphIndex:
    names = {e: e.title().replace(" ", "_") for t in TRIPLES for e in (t[0], t[2])}
    return GraphIndex.from_triples(names, {}, HashEmbedder(dim=32).embed(list(names)), TRIPLES)


def question(text: str, answers: tuple[str, ...], gold: tuple[tuple[str, ...], ...] = (), topic: str = "Tom_Hanks",
             qid: str = "") -> KGQAQuestion:
    return KGQAQuestion(text, answers, (topic,), KB, gold, qid or text)


def test_gold_path_is_the_planning_target_in_the_run_time_prompt(index: GraphIndex) -> None:
    q = question("who directed the films Tom_Hanks starred in?", ("Penny_Marshall", "Robert_Zemeckis"),
                 (("starred_in", "directed_by"),))
    examples, report = build_graph_examples([q], index, GraphTrainingConfig(kinds=("plan",)))
    (plan,) = examples
    assert plan.kind == "plan" and plan.origin == "gold" and plan.path == ["starred_in", "directed_by"]
    assert plan.messages[-1] == {"role": "assistant", "content": "starred_in -> directed_by"}

    class Recorder:
        name, n_ctx = "fake", 2048
        seen: list[list[dict[str, str]]] = []

        def complete(self, messages: list[dict[str, str]], **_: Any) -> str:
            self.seen.append(messages)
            return "starred_in -> directed_by"

    recorder = Recorder()
    GrammarPlanner(recorder).plan(q.question, index, index.link(q.question), k=1)  # type: ignore[arg-type]
    assert plan.messages[:-1] == recorder.seen[0]  # the grammar planner's own prompt, word for word
    assert report.origins == {"gold": 1}


def test_without_a_gold_path_the_shortest_answer_path_is_searched(index: GraphIndex) -> None:
    q = question("which state was Tom_Hanks born in?", ("California",))
    examples, report = build_graph_examples([q], index, GraphTrainingConfig(kinds=("plan",)))
    assert [e.path for e in examples] == [["born_in", "located_in"]]
    assert examples[0].origin == "search"
    assert answer_paths(index, ["tom hanks"], {"concord", "california"}, GraphTrainingConfig()) == [("born_in",)]


def test_a_wrong_gold_path_falls_back_to_search_and_is_counted(index: GraphIndex) -> None:
    q = question("who is Tom_Hanks married to?", ("Rita_Wilson",), (("born_in",),))
    examples, report = build_graph_examples([q], index, GraphTrainingConfig(kinds=("plan",)))
    assert [e.path for e in examples] == [["married_to"]]
    assert report.dropped["gold path reaches no answer (searched instead)"] == 1


def test_unanswerable_unknown_and_duplicate_questions_are_dropped(index: GraphIndex) -> None:
    questions = [
        question("who is Tom_Hanks' agent?", ("Nobody",)),
        question("who is Zed's friend?", ("Big",), topic="Zed"),
        question("who is Tom_Hanks married to?", ("Rita_Wilson",)),
        question("who is  Tom_Hanks married to?", ("Rita_Wilson",), qid="again"),
    ]
    examples, report = build_graph_examples(questions, index)
    assert report.dropped == {"no path reaches an answer": 1, "topic entity not in the graph": 1, "duplicate": 1}
    assert {e.question for e in examples} == {"who is Tom_Hanks married to?"}
    assert report.examples == {"train.plan": 1, "train.reason": 1}


def test_reasoning_example_answers_with_the_number_of_an_answer_path(index: GraphIndex) -> None:
    q = question("who directed Big, starring Tom_Hanks?", ("Penny_Marshall",), (("starred_in", "directed_by"),))
    config = GraphTrainingConfig(kinds=("reason",), distractor_plans=5)
    (example,) = build_graph_examples([q], index, config)[0]
    user, answer = example.messages[1]["content"], example.messages[2]["content"]
    listing = [line for line in user.splitlines() if line[:1].isdigit()]
    chosen = listing[int(answer) - 1]
    assert chosen.endswith("-> directed_by -> Penny_Marshall")
    assert any("Robert_Zemeckis" in line for line in listing)  # the planned path's wrong end is listed
    assert any("married_to" in line or "born_in" in line for line in listing)  # other relations too
    assert example.path == ["starred_in", "directed_by"]
    again = build_graph_examples([q], index, config)[0][0]
    assert again.messages == example.messages  # seeded: the same listing every run
    few = build_graph_examples([q], index, GraphTrainingConfig(kinds=("reason",), distractor_plans=5, max_paths=2))
    few_listing = [line for line in few[0][0].messages[1]["content"].splitlines() if line[:1].isdigit()]
    assert len(few_listing) == 2 and any(line.endswith("Penny_Marshall") for line in few_listing)


def test_split_keeps_each_topic_on_one_side() -> None:
    groups = [f"person {i % 40}" for i in range(200)]
    splits = assign_splits(groups, GraphTrainingConfig(split=(0.8, 0.1, 0.1)))
    assert set(splits) == set(groups)
    counts = {s: sum(splits[g] == s for g in groups) for s in ("train", "validation", "test")}
    assert counts["train"] == 160 and counts["validation"] == 20 and counts["test"] == 20
    assert assign_splits(groups, GraphTrainingConfig(seed=1)) != splits


def test_examples_about_one_topic_share_a_split() -> None:
    triples = [(f"p{i}", "born_in", f"c{i % 5}", "") for i in range(30)]
    names = {e: e for t in triples for e in (t[0], t[2])}
    index = GraphIndex.from_triples(names, {}, HashEmbedder(dim=16).embed(list(names)), triples)
    questions = [question(f"where was p{i} born {v}?", (f"c{i % 5}",), topic=f"p{i}") for i in range(30) for v in "ab"]
    examples, _ = build_graph_examples(questions, index)
    by_topic: dict[str, set[str]] = {}
    for e in examples:
        by_topic.setdefault(e.topic, set()).add(e.split)
    assert all(len(s) == 1 for s in by_topic.values())
    assert {e.split for e in examples} == {"train", "validation", "test"}


def test_write_graph_dataset_writes_chat_files_the_fine_tune_reads(index: GraphIndex, tmp_path: Path) -> None:
    q = question("who is Tom_Hanks married to?", ("Rita_Wilson",))
    examples, report = build_graph_examples([q], index)
    counts = write_graph_dataset(examples, report, tmp_path / "out")
    assert counts == {"train": 2, "validation": 0, "test": 0}
    lines = (tmp_path / "out" / "train.chat.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        record = json.loads(line)
        assert list(record) == ["messages"]
        assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
    assert (tmp_path / "out" / "validation.chat.jsonl").read_text(encoding="utf-8") == ""
    full = [json.loads(line) for line in (tmp_path / "out" / "graph_examples.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in full] == ["plan", "reason"]
    assert json.loads((tmp_path / "out" / "graph_report.json").read_text())["origins"] == {"search": 1}


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        GraphTrainingConfig(kinds=("plan", "chat"))
    with pytest.raises(ValueError):
        GraphTrainingConfig(max_hops=0)
    with pytest.raises(ValueError):
        GraphTrainingConfig(split=(0.0, 0.0, 0.0))
