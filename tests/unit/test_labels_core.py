"""The one home of front-end wording in the core: quote-status labels, graph-path order, planner, step source."""

from __future__ import annotations

from localrag.graph.paths import ReasoningPath, Step
from localrag.graph.plan import PlannedPath
from localrag.graph.reason import Candidate, GraphAnswer
from localrag.shapes import graph_answer_json, step_source
from localrag.types import Chunk, QuoteStatus, quote_label


def test_quote_status_marks_and_labels() -> None:
    assert [(s.mark, s.label) for s in QuoteStatus] == [
        ("✓", "verified"), ("≈", "close match"), ("✗", "not in source")
    ]
    assert quote_label("not_found") == "not in source"
    assert quote_label("made-up") == "made-up"  # a status saved by some other version stays readable


def _step(head: str, tail: str, source: str) -> Step:
    return Step(head, "r", tail, source)


def test_graph_answer_orders_supporting_paths_first_and_names_planners() -> None:
    other = ReasoningPath((_step("a", "b", "prices.tsv:3"),))
    support = ReasoningPath((_step("a", "c", "c1"), Step("c", "s", "d", "c1")))
    unplanned = ReasoningPath((Step("a", "x", "e", "prices.tsv:4"),))
    answer = GraphAnswer(
        "q", [], [PlannedPath(("r",), 1.0, "grammar"), PlannedPath(("r", "s"), 0.5, "embedding")],
        [other, support, unplanned], [Candidate("d", "D", 1.0, [support])], "paths",
    )
    assert answer.ordered_paths() == [support, other, unplanned]
    assert [answer.supports(p) for p in (support, other)] == [True, False]
    assert [answer.planner_of(p) for p in (support, other, unplanned)] == ["embedding", "grammar", ""]
    data = graph_answer_json(answer, {}, {})
    assert [(p["planner"], p["supports_answer"]) for p in data["paths"]] == [
        ("grammar", False), ("embedding", True), ("", False)
    ]


def test_step_source_long_and_short() -> None:
    chunk = Chunk("c1", "d1", "/docs/kettle-manual.pdf", 0, "text", 0, 4, page=3)
    assert step_source("c1", {"c1": chunk}) == "/docs/kettle-manual.pdf, page 3"
    assert step_source("c1", {"c1": chunk}, short=True) == "kettle-manual.pdf · p. 3"
    assert step_source("prices.tsv:3", {}) == "prices.tsv:3"
    assert step_source("prices.tsv:3", {}, short=True) == "imported · prices.tsv:3"
