"""Planning grammars, the embedding and grammar planners, and answers from paths, with fakes for models."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from localrag.embed import HashEmbedder
from localrag.graph.paths import GraphIndex, LinkedEntity
from localrag.graph.plan import (
    EmbeddingPlanner,
    GrammarPlanner,
    PlannedPath,
    parse_path,
    path_choice_grammar,
    relation_path_grammar,
    strip_mentions,
)
from localrag.graph.reason import ModelReasoner, answer_question, path_number_grammar, rank_candidates

TRIPLES = [
    ("tom hanks", "starred_in", "big", "f:1"),
    ("tom hanks", "starred_in", "cast away", "f:2"),
    ("big", "directed_by", "penny marshall", "f:3"),
    ("cast away", "directed_by", "robert zemeckis", "f:4"),
    ("tom hanks", "born_in", "concord", "f:5"),
    ("concord", "located_in", "california", "f:6"),
]


@pytest.fixture
def index() -> GraphIndex:
    names = {e: e.title() for t in TRIPLES for e in (t[0], t[2])}
    embedder = HashEmbedder(dim=32)
    return GraphIndex.from_triples(names, {}, embedder.embed(list(names)), TRIPLES)


def hanks() -> list[LinkedEntity]:
    return [LinkedEntity("tom hanks", "Tom Hanks", 1.0, "exact", "tom hanks")]


class FakeGenerator:
    """Answers from a script and records the grammars it was held to."""

    name = "fake"
    n_ctx = 2048

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.grammars: list[str | None] = []
        self.messages: list[list[dict[str, str]]] = []

    def complete(self, messages: list[dict[str, str]], *, grammar: str | None = None, **_: Any) -> str:
        self.grammars.append(grammar)
        self.messages.append(messages)
        return self.replies.pop(0)


def test_relation_path_grammar_nests_optional_hops() -> None:
    grammar = relation_path_grammar(["starred_in", "directed_by", "starred_in"], max_hops=2)
    assert grammar == 'root ::= rel (" -> " rel)?\nrel ::= "directed_by" | "starred_in"\n'
    three = relation_path_grammar(["a"], max_hops=3)
    assert three.startswith('root ::= rel (" -> " rel (" -> " rel)?)?\n')
    with pytest.raises(ValueError):
        relation_path_grammar([], 2)


def test_path_choice_grammar_lists_each_path_once() -> None:
    grammar = path_choice_grammar([("starred_in", "directed_by"), ("born_in",), ("born_in",)])
    assert grammar == 'root ::= "starred_in -> directed_by" | "born_in"\n'
    assert parse_path(" starred_in -> directed_by") == ("starred_in", "directed_by")


def test_path_number_grammar() -> None:
    assert path_number_grammar(3) == 'root ::= "3" | "2" | "1"\n'


def test_strip_mentions_removes_the_entity() -> None:
    assert (
        strip_mentions("Who directed the films Tom_Hanks starred in?", hanks()) == "who directed the films starred in"
    )


def test_embedding_planner_ranks_only_reachable_sequences(index: GraphIndex) -> None:
    planned = EmbeddingPlanner(HashEmbedder(dim=256), floor=-math.inf).plan(
        "who directed the films tom hanks starred in", index, hanks()
    )
    assert planned[0] == PlannedPath(("starred_in", "directed_by"), planned[0].score, "embedding")
    reachable = set(index.relation_sequences(["tom hanks"]))
    assert all(p.relations in reachable for p in planned)
    assert len(planned) == 3


def test_grammar_planner_takes_each_answer_out_of_the_next_grammar(index: GraphIndex) -> None:
    generator = FakeGenerator(["starred_in -> directed_by", "born_in -> located_in", "starred_in"])
    planned = GrammarPlanner(generator).plan("who directed tom hanks films", index, hanks(), k=3)
    assert [p.relations for p in planned] == [("starred_in", "directed_by"), ("born_in", "located_in"), ("starred_in",)]
    assert {p.planner for p in planned} == {"grammar"}
    assert '"starred_in -> directed_by"' in str(generator.grammars[0])
    assert '"starred_in -> directed_by"' not in str(generator.grammars[1])
    assert "Relations: born_in, directed_by, located_in, starred_in" in generator.messages[0][1]["content"]


def test_grammar_planner_with_a_ranker_offers_only_the_rankers_best_paths(index: GraphIndex) -> None:
    question = "who directed the films tom hanks starred in"
    ranker = EmbeddingPlanner(HashEmbedder(dim=256), floor=-math.inf)  # hash vectors score under MiniLM's floor
    best = [p.relations for p in ranker.plan(question, index, hanks(), k=2)]
    generator = FakeGenerator([" -> ".join(best[1]), " -> ".join(best[0])])
    planner = GrammarPlanner(generator, ranker=ranker, offer=2)  # type: ignore[arg-type]
    assert planner.candidates(question, index, hanks()) == best
    planned = planner.plan(question, index, hanks(), k=3)
    assert [p.relations for p in planned] == [best[1], best[0]]  # the model's order; nothing left after two
    assert generator.grammars[0] == path_choice_grammar(best)
    assert generator.grammars[1] == path_choice_grammar([best[0]])
    reachable = index.relation_sequences(["tom hanks"], 3)
    assert len(reachable) > 2 and GrammarPlanner(generator).candidates(question, index, hanks()) == reachable  # type: ignore[arg-type]


def test_grammar_planner_without_linked_entities_uses_relation_grammar(index: GraphIndex) -> None:
    generator = FakeGenerator(["born_in"])
    planned = GrammarPlanner(generator).plan("where was he born", index, [], k=3)
    assert [p.relations for p in planned] == [("born_in",)]
    assert str(generator.grammars[0]).startswith('root ::= rel (" -> " rel (" -> " rel)?)?')  # max_hops 3


def test_answer_from_paths_names_the_supporting_path(index: GraphIndex) -> None:
    planned = [PlannedPath(("starred_in", "directed_by"), 0.9, "embedding")]
    result = answer_question("who directed the films Tom Hanks starred in?", index, _Fixed(planned))
    assert sorted(c.entity_id for c in result.candidates) == ["penny marshall", "robert zemeckis"]
    assert result.reasoner == "paths"
    assert result.supporting[0].relations == ("starred_in", "directed_by")
    assert result.supporting[0].end == result.candidates[0].entity_id


def test_candidates_reached_by_more_planned_paths_rank_first(index: GraphIndex) -> None:
    planned = [PlannedPath(("born_in",), 0.9, "embedding"), PlannedPath(("born_in", "located_in"), 0.5, "embedding")]
    paths = index.follow(["tom hanks"], ["born_in"]) + index.follow(["tom hanks"], ["born_in", "located_in"])
    ranked = rank_candidates(index, planned, paths)
    assert [c.entity_id for c in ranked] == ["concord", "california"]
    assert ranked[0].score == 1.0 and ranked[1].score == 0.5


def test_model_reasoner_moves_its_chosen_path_to_the_top(index: GraphIndex) -> None:
    planned = [PlannedPath(("starred_in", "directed_by"), 0.9, "embedding")]
    paths = index.follow(["tom hanks"], ["starred_in", "directed_by"])
    generator = FakeGenerator(["2"])
    ranked = ModelReasoner(generator).rank("who directed cast away?", index, paths, planned)
    assert ranked[0].entity_id == paths[1].end
    assert ranked[0].paths[0] is paths[1]
    assert generator.grammars == ['root ::= "2" | "1"\n']
    assert "1. Tom Hanks -> starred_in -> Big -> directed_by -> Penny Marshall" in generator.messages[0][1]["content"]


def test_no_linked_entity_gives_no_answer(index: GraphIndex) -> None:
    result = answer_question("what is the weather", index, _Fixed([]))
    assert (result.answer, result.paths, result.planned) == ("", [], [])


class _Fixed:
    name = "fixed"

    def __init__(self, planned: list[PlannedPath]) -> None:
        self.planned = planned

    def plan(self, question: str, index: GraphIndex, linked: Sequence[LinkedEntity], k: int = 3) -> list[PlannedPath]:
        return self.planned[:k]
