"""Paths of one to four relations: beam-search planning, the length rule, following three hops."""

from __future__ import annotations

import pytest

from localrag.embed import HashEmbedder
from localrag.graph.paths import GraphIndex, LinkedEntity
from localrag.graph.plan import EmbeddingPlanner, GrammarPlanner
from localrag.graph.reason import answer_question
from localrag.graph.turns import answer_from_turn, turn_from_graph

TRIPLES = [
    ("ann", "plays_in_club", "reds", "kb:1"),
    ("reds", "is_in_country", "spain", "kb:2"),
    ("spain", "capital", "madrid", "kb:3"),
    ("ann", "wears_number", "9", "kb:4"),
    ("reds", "plays_in_club_inverse", "ann", "kb:5"),
    ("spain", "plays_for_country_inverse", "bob", "kb:6"),
    ("bob", "plays_in_club", "blues", "kb:7"),
]


@pytest.fixture
def index() -> GraphIndex:
    names = {e: e.title() for t in TRIPLES for e in (t[0], t[2])}
    return GraphIndex.from_triples(names, {}, HashEmbedder(dim=512).embed(list(names)), TRIPLES)


def ann() -> list[LinkedEntity]:
    return [LinkedEntity("ann", "Ann", 1.0, "topic", "ann")]


def test_three_hop_question_gets_a_three_hop_path(index: GraphIndex) -> None:
    planner = EmbeddingPlanner(HashEmbedder(dim=512))
    question = "what is the capital of the country that the club ann plays in is in?"
    result = answer_question(question, index, planner, linked=ann())
    assert result.planned[0].relations == ("plays_in_club", "is_in_country", "capital")
    assert result.answer == "Madrid"
    assert [s.source for s in result.supporting[0].steps] == ["kb:1", "kb:2", "kb:3"]


def test_two_hop_question_keeps_its_two_hop_path(index: GraphIndex) -> None:
    planner = EmbeddingPlanner(HashEmbedder(dim=512), max_hops=4)
    planned = planner.plan("in which country is the club of ann?", index, ann())
    assert planned[0].relations == ("plays_in_club", "is_in_country")
    assert all(len(p.relations) <= 2 for p in planned)  # no third hop adds what the question asks


def test_beam_extends_only_the_best_prefixes(index: GraphIndex) -> None:
    narrow = EmbeddingPlanner(HashEmbedder(dim=512), beam=1, margin=-1.0)
    planned = narrow.plan("what number does ann wear", index, ann(), k=10)
    assert {p.relations[0] for p in planned if len(p.relations) > 1} <= {"plays_in_club"}
    assert ("wears_number",) == planned[0].relations


def test_paths_never_go_straight_back(index: GraphIndex) -> None:
    seqs = index.relation_sequences(["ann"], 4)
    pairs = {(s[i], s[i + 1]) for s in seqs for i in range(len(s) - 1)}
    assert ("plays_in_club", "plays_in_club_inverse") not in pairs
    assert ("plays_in_club", "is_in_country", "plays_for_country_inverse", "plays_in_club") in seqs


def test_hops_are_bounded(index: GraphIndex) -> None:
    with pytest.raises(ValueError, match="1 to 4"):
        EmbeddingPlanner(HashEmbedder(dim=8), max_hops=5)
    with pytest.raises(ValueError, match="1 to 4"):
        GrammarPlanner(None, max_hops=0)  # type: ignore[arg-type]
    four = index.follow(["ann"], ["plays_in_club", "is_in_country", "plays_for_country_inverse", "plays_in_club"])
    assert [p.end for p in four] == ["blues"]


@pytest.mark.parametrize("reverse", [False, True])
def test_answers_tied_in_the_paths_votes_are_all_named_whatever_the_files_order(reverse: bool) -> None:
    """The films Tom Hanks starred in have two directors: one was named, the one whose lines came first."""
    triples = [("hanks", "starred_in", "big", "f:1"), ("big", "directed_by", "marshall", "f:2"),
               ("hanks", "starred_in", "cast_away", "f:3"), ("cast_away", "directed_by", "zemeckis", "f:4")]
    triples = triples[::-1] if reverse else triples
    names = {"hanks": "Tom Hanks", "big": "Big", "marshall": "Penny Marshall", "cast_away": "Cast Away",
             "zemeckis": "Robert Zemeckis"}
    index = GraphIndex.from_triples(names, {}, HashEmbedder(dim=512).embed(list(names)), triples)
    result = answer_question("Who directed the films Tom Hanks starred in?", index,
                             EmbeddingPlanner(HashEmbedder(dim=512)),
                             linked=[LinkedEntity("hanks", "Tom Hanks", 1.0, "topic", "hanks")])
    assert sorted(c.name for c in result.answers) == ["Penny Marshall", "Robert Zemeckis"]
    assert sorted(result.answer.split(", ")) == ["Penny Marshall", "Robert Zemeckis"]
    assert {p.end for p in result.supporting} == {"marshall", "zemeckis"}
    # Saved in a conversation and reopened (the chat app's paths panel, a purge rewriting it): both still named.
    reopened, _ = answer_from_turn(turn_from_graph(result, names, {}, "q"))
    assert sorted(reopened.answer.split(", ")) == ["Penny Marshall", "Robert Zemeckis"]
