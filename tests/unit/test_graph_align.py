"""Aligning relation paths with the question's words: cue order, the monotone alignment, landings, the planner."""

from __future__ import annotations

import numpy as np
import pytest

from localrag.embed import HashEmbedder, SentenceTransformerEmbedder
from localrag.graph.align import Landings, alignment_scores, cue_words, shared_stems, stem
from localrag.graph.paths import GraphIndex, LinkedEntity
from localrag.graph.plan import EmbeddingPlanner

# A small football graph with both directions of every relation, as imported knowledge bases have.
FACTS = [
    ("ann", "plays_in_club", "reds"),
    ("bob", "plays_in_club", "blues"),
    ("cid", "plays_in_club", "reds"),
    ("reds", "is_in_country", "spain"),
    ("blues", "is_in_country", "italy"),
    ("ann", "plays_for_country", "italy"),
    ("bob", "plays_for_country", "spain"),
    ("cid", "plays_for_country", "spain"),
    ("ann", "plays_position", "forward"),
    ("bob", "plays_position", "forward"),
]
TRIPLES = [
    triple
    for n, (h, r, t) in enumerate(FACTS)
    for triple in ((h, r, t, f"kb:{n}"), (t, f"{r}_inverse", h, f"kb:{n}"))
]


@pytest.fixture
def index() -> GraphIndex:
    names = {e: e.title() for t in TRIPLES for e in (t[0], t[2])}
    return GraphIndex.from_triples(names, {}, HashEmbedder(dim=64).embed(list(names)), TRIPLES)


def linked(name: str) -> list[LinkedEntity]:
    return [LinkedEntity(name, name.title(), 1.0, "topic", name)]


def test_cue_words_nearest_the_mention_come_first() -> None:
    question = "Name a player from the country where the club of Ann is?"
    assert cue_words(question, linked("ann")) == ["club", "where", "country", "player"]
    assert cue_words("which club does he play for?", []) == ["club", "play"]  # no mention: left to right
    assert cue_words("who plays for Ann's club?", linked("ann")) == ["club", "plays", "who"]  # a possessive mention


def test_a_stem_most_relation_names_share_is_flat_for_every_hop(index: GraphIndex) -> None:
    assert [stem(w) for w in ("plays", "playing", "played", "player", "class", "is")] == \
        ["play", "play", "play", "player", "class", "is"]
    assert shared_stems(index.relations) == {"play"}  # in three of the four relation names
    assert shared_stems(["born_in", "located_in"]) == set()  # "in" in two names: too few to tell


def test_alignment_is_monotone_and_every_relation_gets_a_word() -> None:
    # words (nearest first) x relations: word 0 fits relation 0, words 1 and 2 fit relation 1
    sims = np.array([[[0.9, 0.1], [0.2, 0.8], [0.1, 0.7]]], dtype=np.float32)
    assert alignment_scores(sims)[0] == pytest.approx((0.9 + 0.8 + 0.7) / 3)
    swapped = sims[:, :, ::-1]  # the same relations in the other order must take the words out of order
    assert alignment_scores(np.ascontiguousarray(swapped))[0] < alignment_scores(sims)[0]
    assert alignment_scores(np.zeros((2, 1, 2), dtype=np.float32)).tolist() == [0.0, 0.0]  # more hops than words


def test_an_inverse_relation_lands_where_a_forward_one_names(index: GraphIndex) -> None:
    landings = Landings(index)
    assert landings.of("is_in_country_inverse") == "plays_in_club"  # clubs: what plays_in_club's tails are
    assert landings.of("plays_in_club_inverse") == "plays_in_club_inverse"  # players: no forward relation ends there
    assert landings.of("plays_in_club") == "plays_in_club"


def test_order_and_length_come_from_the_question(index: GraphIndex, real_embedder: SentenceTransformerEmbedder) -> None:
    planner = EmbeddingPlanner(real_embedder, max_hops=3)
    # From a country two three-hop paths come back to a country; the words nearest Spain say which.
    club_first = planner.plan("name the country of a player whose club is in spain?", index, linked("spain"))
    assert club_first[0].relations == ("is_in_country_inverse", "plays_in_club_inverse", "plays_for_country")
    player_first = planner.plan("in which country is the club of a player from spain?", index, linked("spain"))
    assert player_first[0].relations == ("plays_for_country_inverse", "plays_in_club", "is_in_country")
    two = planner.plan("where is the football club that ann plays for?", index, linked("ann"))
    assert two[0].relations == ("plays_in_club", "is_in_country")


def test_a_shared_verb_next_to_the_answer_word_does_not_pick_the_last_hop(
    index: GraphIndex, real_embedder: SentenceTransformerEmbedder
) -> None:
    # MiniLM puts "play" nearest plays_position; a word every plays_* relation has must not decide.
    planner = EmbeddingPlanner(real_embedder, max_hops=3)
    plan = planner.plan("which professional football team do players from spain play for?", index, linked("spain"))
    assert plan[0].relations == ("plays_for_country_inverse", "plays_in_club")
