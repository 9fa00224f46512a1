"""The relation matcher: a pair's joining words matched to the vocabulary by meaning, and the object's kind.

With the bundled MiniLM (the embedder the build uses), on wordings and relations outside the WC2014
sets the matcher's settings were chosen on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.embed import SentenceTransformerEmbedder
from localrag.graph.extract import (
    RelationVocabulary,
    VocabularyError,
    after_other_names,
    focused_entities,
    load_vocabulary,
    subject_triples,
    worded_relation,
)
from localrag.graph.focused import nearest_names, number_context
from localrag.graph.relate import RelationMatcher, relation_kind
from localrag.types import Chunk

VOCABULARY = RelationVocabulary(
    {
        "works_for_company": ("works for", "employed by"),
        "lives_in_city": ("lives in", "resident of"),
        "studied_at_university": ("studied at", "graduate of"),
        "married_to": ("married to", "wife of", "husband of"),
    },
    fallback=None,
)


def test_a_relation_name_says_its_objects_kind_when_its_last_word_is_not_a_function_word() -> None:
    assert relation_kind("plays_for_country") == "country"
    assert relation_kind("works_for_company") == "company"
    assert relation_kind("located_in") == "" and relation_kind("is_a") == "" and relation_kind("date") == ""


def test_words_the_vocabulary_does_not_list_are_matched_by_meaning(real_embedder: SentenceTransformerEmbedder) -> None:
    matcher = RelationMatcher(real_embedder, VOCABULARY)
    assert matcher.match(["made", "her", "home", "in"], "Lisbon") == "lives_in_city"
    assert matcher.match(["moved", "to"], "Porto") == "lives_in_city"
    assert matcher.match(["holds", "a", "degree", "from"], "Kestrel University") == "studied_at_university"
    assert matcher.match(["and", "then"], "Tuesday") is None  # nothing the vocabulary means: no triple
    assert matcher.match(["met"], "Ana Reis") is None
    assert matcher.match([], "Lisbon") is None


def test_the_objects_kind_can_overrule_a_phrasing_found_verbatim(real_embedder: SentenceTransformerEmbedder) -> None:
    vocabulary = RelationVocabulary({"plays_in_club": ("plays for",), "plays_for_country": ("represents",)},
                                    fallback=None)
    matcher = RelationMatcher(real_embedder, vocabulary)
    assert vocabulary.find(["plays", "for"]) == "plays_in_club"
    verbatim = vocabulary.worded_by("plays_for")  # its own relation, and the one whose name holds the phrase
    assert verbatim == ["plays_in_club", "plays_for_country"]
    assert matcher.match(["plays", "for"], "Brazil", verbatim) == "plays_for_country"
    assert matcher.match(["plays", "for"], "Norway", verbatim) == "plays_for_country"
    assert matcher.match(["plays", "for"], "Ajax", verbatim) == "plays_in_club"
    assert matcher.match(["plays", "for"], "Feyenoord", verbatim) == "plays_in_club"


def test_extraction_relates_unlisted_wordings_and_offers_predicate_nouns(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    text = "Ines Moreau is a chemist. She graduated from Kestrel University and moved to Porto."
    chunk = Chunk("c", "d", "/docs/people.md", 0, text, 0, len(text), heading="People > Ines Moreau")
    matcher = RelationMatcher(real_embedder, VOCABULARY)
    passage = "Ines Moreau graduated from Kestrel University."
    assert worded_relation(passage, "Ines Moreau", "Kestrel University", VOCABULARY) is None  # phrasings only
    assert worded_relation(passage, "Ines Moreau", "Kestrel University", VOCABULARY, matcher) == "studied_at_university"
    assert "chemist" not in focused_entities(chunk, VOCABULARY)
    assert focused_entities(chunk, VOCABULARY, predicates=True)[-1] == "chemist"


def test_a_phrasing_before_another_name_is_that_names() -> None:
    vocabulary = RelationVocabulary({"is_aged": ("years old",), "plays_position": ("plays as",)}, fallback=None)
    assert after_other_names("plays as a forward for".split(), ["forward", "Spain"], vocabulary) == ["for"]
    # A number takes its own phrasing along: nothing joins "is a 28 years old" to the noun after it.
    assert after_other_names("is a 28 years old".split(), ["28"], vocabulary) == []
    assert after_other_names("plays as a".split(), ["Spain"], vocabulary) == ["plays", "as", "a"]


# The same kind of schema with one example fact per relation (`RelationVocabulary.examples`).
EXAMPLED = RelationVocabulary(
    {
        "works_for_company": ("works for", "employed by"),
        "lives_in_city": ("lives in", "resident of"),
        "headquartered_in_city": ("headquartered in", "based in"),
        "has_age": ("years old", "aged"),
        "has_room_number": ("room number", "office number"),
    },
    fallback=None,
    examples={
        "works_for_company": ("Ana Reis", "Acme Corporation"),
        "lives_in_city": ("Ana Reis", "Lisbon"),
        "headquartered_in_city": ("Acme Corporation", "Lisbon"),
        "has_age": ("Ana Reis", "34"),
        "has_room_number": ("Ana Reis", "112"),
    },
)


def test_a_vocabulary_file_may_give_each_relation_an_example_fact(tmp_path: Path) -> None:
    path = tmp_path / "relations.txt"
    path.write_text("works_for: employed by | Ana Reis -> Acme Corporation\nlives_in: resident of\n", encoding="utf-8")
    vocabulary = load_vocabulary(path, fallback=None)
    assert vocabulary.examples == {"works_for": ("Ana Reis", "Acme Corporation")}
    assert vocabulary.canonical["works_for"] == ("employed by",)
    path.write_text("works_for: employed by | Ana Reis\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="relations.txt:1: the example"):
        load_vocabulary(path)


def test_the_words_around_a_number_stop_at_the_other_names() -> None:
    passage = "Ines Moreau, who is 41 years old, works in room 214 at Acme Corporation."
    names = ["Ines Moreau", "Acme Corporation", "214"]
    assert number_context(passage, "41", names) == ["who", "is", "years", "old", "works"]
    assert number_context(passage, "214", ["Ines Moreau", "Acme Corporation", "41"]) == ["works", "in", "room", "at"]
    assert number_context(passage, "7", names) == []


def test_a_numbers_relation_comes_from_the_words_around_it_and_only_numbers_take_number_relations(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    matcher = RelationMatcher(real_embedder, EXAMPLED)
    assert matcher.match(["is"], "41", context=["who", "is", "years", "old"]) == "has_age"
    assert matcher.match(["sits", "in"], "214", context=["sits", "in", "room"]) == "has_room_number"
    assert not {"has_age", "has_room_number"} & set(matcher.scores(["is", "a"], "chemist"))
    assert set(matcher.scores(["is"], "41")) == {"has_age", "has_room_number"}


def test_the_subject_tells_relations_apart_that_land_on_the_same_kind(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    matcher = RelationMatcher(real_embedder, EXAMPLED)
    assert matcher.match(["is", "in"], "Porto", subject="Kestrel Foods Corporation") == "headquartered_in_city"
    assert matcher.match(["is", "in"], "Porto", subject="Tomas Silva") == "lives_in_city"


def test_a_lower_case_word_the_graph_holds_is_offered_as_a_name() -> None:
    text = "Ines Moreau is deployed at forward by Acme Corporation."
    chunk = Chunk("c", "d", "/docs/people.md", 0, text, 0, len(text), heading="People > Ines Moreau")
    assert "forward" not in focused_entities(chunk, VOCABULARY)
    assert focused_entities(chunk, VOCABULARY, known={"forward", "ines moreau"}.__contains__)[-1] == "forward"


def test_the_nearest_proper_name_before_an_object_is_a_subject_to_try() -> None:
    passage = "Ines Moreau is a chemist in Porto. Her employer is Kestrel Foods, which is based in Porto."
    names = ["Ines Moreau", "chemist", "Kestrel Foods", "Porto"]
    assert nearest_names(passage, "Porto", names) == ["Ines Moreau", "Kestrel Foods"]
    assert nearest_names("A chemist in Porto.", "Porto", ["chemist"]) == []  # a value is no subject


def test_one_name_can_be_the_object_of_several_subjects_but_not_through_another_name(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    matcher = RelationMatcher(real_embedder, EXAMPLED)
    names = ["Ines Moreau", "Kestrel Foods Corporation", "Porto"]
    both = "Ines Moreau lives in Porto. Ines Moreau works for Kestrel Foods Corporation, headquartered in Porto."
    found = subject_triples(both, "Porto", ["Ines Moreau"], names, EXAMPLED, matcher)
    assert [(t["subject"], t["relation"]) for t in found] == [
        ("Ines Moreau", "lives_in_city"), ("Kestrel Foods Corporation", "headquartered_in_city"),
    ]
    relayed = "Ines Moreau works for Kestrel Foods Corporation, headquartered in Porto."
    found = subject_triples(relayed, "Porto", ["Ines Moreau"], names, EXAMPLED, matcher)
    assert [(t["subject"], t["relation"]) for t in found] == [("Kestrel Foods Corporation", "headquartered_in_city")]
