"""The relation matcher: a pair's joining words matched to the vocabulary by meaning, and the object's kind.

With the bundled MiniLM (the embedder the build uses), on wordings and relations outside the WC2014
sets the matcher's settings were chosen on.
"""

from __future__ import annotations

import pytest

from localrag.embed import SentenceTransformerEmbedder
from localrag.graph.extract import focused_entities
from localrag.graph.relate import RelationMatcher, relation_kind
from localrag.graph.vocabulary import PREDICATE_NOUN, RelationVocabulary
from localrag.graph.wording import after_other_names, located_triple, worded_relation
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
    # A common noun no phrasing introduces cuts nothing: "as a" is no phrasing of the vocabulary.
    assert after_other_names("works as a forward for".split(), ["forward", "Spain"], vocabulary) == [
        "works", "as", "a", "forward", "for"]
    assert after_other_names("as a forward".split(), ["forward"], vocabulary) == ["as", "a", "forward"]


def test_a_predicate_nouns_head_is_its_last_word() -> None:
    vocabulary = RelationVocabulary({"plays_position": ("plays as",)}, fallback=None)
    text = "Ines Moreau is an established chemist in Porto. She has become a regular lecturer for Kestrel University."
    assert vocabulary.objects_named_after(text, PREDICATE_NOUN) == ["chemist", "lecturer"]
    # a participle after the noun is not its head, and a phrase ends at punctuation
    assert vocabulary.objects_named_after("She plays as a forward playing for Spain.") == ["forward"]
    assert vocabulary.objects_named_after("She plays as a forward, scoring often.") == ["forward"]


def test_a_noun_in_apposition_is_what_its_subject_is(real_embedder: SentenceTransformerEmbedder) -> None:
    vocabulary = RelationVocabulary({**VOCABULARY.canonical, "has_profession": ("works as",)}, fallback=None)
    matcher = RelationMatcher(real_embedder, vocabulary)
    others = ["Ines Moreau", "Porto", "40"]

    def relation(passage: str, obj: str) -> str | None:
        return worded_relation(passage, "Ines Moreau", obj, vocabulary, matcher, [*others, obj])

    # no joining word but an article, or "is a" whose other words went with the age: read as "is a"
    assert relation("Ines Moreau, a teacher, moved to Porto.", "teacher") == "has_profession"
    assert relation("Ines Moreau is a 40-year-old nurse.", "nurse") == "has_profession"
    # a noun right before its subject after an article and its qualifiers is its title
    assert relation("The 40-year-old nurse Ines Moreau moved to Porto.", "nurse") == "has_profession"
    # a predicate noun with its qualifiers, after "is a" or "has become a"; an apposition after a possessive
    assert relation("Ines Moreau is an established teacher in Porto.", "teacher") == "has_profession"
    assert relation("Ines Moreau has become a regular teacher in Porto.", "teacher") == "has_profession"
    assert relation("Ines Moreau, Porto's 40-year-old teacher, spoke.", "teacher") == "has_profession"
    # a noun before its subject is not taken for an apposition ("At school level she ..."), nor is a name
    assert relation("At school level Ines Moreau teaches.", "level") is None
    assert worded_relation("In Porto, Ines Moreau met.", "Ines Moreau", "Porto", vocabulary, matcher, others) is None


def test_a_place_inside_a_names_noun_phrase_is_located_by_the_vocabulary(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    vocabulary = RelationVocabulary({"works_for_company": ("works for",), "is_in_country": ("located in", "based in")},
                                    fallback=None)
    matcher = RelationMatcher(real_embedder, vocabulary)
    passage = "Ana Ruiz works for Portugal firm Okafor Partners. Ana Ruiz is 41."
    others = ["Ana Ruiz", "Okafor Partners", "41"]
    assert located_triple(passage, "Portugal", others, vocabulary, matcher, "Ana Ruiz") == {
        "subject": "Okafor Partners", "relation": "is_in_country", "object": "Portugal"}
    assert located_triple(passage, "Portugal", others, vocabulary, None) == {
        "subject": "Okafor Partners", "relation": "is_in_country", "object": "Portugal"}
    assert located_triple(passage, "41", others, vocabulary, matcher) is None  # a number is no place
    assert located_triple("Ana Ruiz lives in Portugal.", "Portugal", ["Ana Ruiz"], vocabulary, matcher) is None
    # a company in a name's noun phrase is no place: the matcher scores the company's relation higher
    assert located_triple("She joined Okafor Partners in the Acme Corporation group.", "Acme Corporation",
                          ["Okafor Partners"], vocabulary, None)["subject"] == "Okafor Partners"  # type: ignore[index]
    assert located_triple("She joined Okafor Partners in the Acme Corporation group.", "Acme Corporation",
                          ["Okafor Partners"], vocabulary, matcher) is None


def test_an_apposition_after_the_chunks_entity_offers_its_noun() -> None:
    text = "Survey of Ines Moreau (Porto, 41): a chemist with a steady hand. She works for Acme, a firm in Porto."
    assert VOCABULARY.apposed_nouns(text, "Ines Moreau") == ["chemist"]
    assert VOCABULARY.apposed_nouns("Ines Moreau, an engineer trained in Porto, is 41.", "Ines Moreau") == ["engineer"]
    chunk = Chunk("c", "d", "/docs/people.md", 0, text, 0, len(text), heading="People > Ines Moreau")
    assert "chemist" in focused_entities(chunk, VOCABULARY, predicates=True)
    assert "firm" not in focused_entities(chunk, VOCABULARY, predicates=True)  # Acme's apposition, not hers
    assert "chemist" not in focused_entities(chunk, VOCABULARY)


def test_a_vocabulary_whose_names_say_no_kind_keeps_its_verbatim_phrasings(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    # None of these names says what its object is: before, the kind term was 0 for all, no relation could reach the
    # threshold, and `graph build --relations` with such a file kept nothing.
    vocabulary = RelationVocabulary({"manages": ("manages", "manager of"), "reports_to": ("reports to",),
                                     "works_on": ("works on",), "wrote": ("wrote", "written by"),
                                     "lives_in": ("lives in",)}, fallback=None)
    matcher = RelationMatcher(real_embedder, vocabulary)
    others = ["Robert Smith", "Alice Chen", "Dave Patel", "Budget 2027", "Priya Nair"]

    def relation(passage: str, subject: str, obj: str) -> str | None:
        return worded_relation(passage, subject, obj, vocabulary, matcher, [n for n in others if n != obj])

    assert relation("Robert Smith manages Alice Chen and Dave Patel.", "Robert Smith", "Alice Chen") == "manages"
    assert relation("Budget 2027 was written by Alice Chen.", "Budget 2027", "Alice Chen") == "wrote"
    assert relation("Budget 2027 was reviewed by Priya Nair.", "Budget 2027", "Priya Nair") is None  # no review


@pytest.mark.parametrize("author", ["Kenji Tanaka", "Dave Patel", "Alice Chen"])
def test_a_verbatim_phrasing_does_not_rest_on_how_the_objects_name_reads(
    real_embedder: SentenceTransformerEmbedder, author: str
) -> None:
    # created_by says nothing of its object: before, it got has_part's kind ("part" beside the author's name), so
    # "written by Kenji Tanaka" was kept and "written by Dave Patel" not.
    vocabulary = RelationVocabulary()
    matcher = RelationMatcher(real_embedder, vocabulary)
    passage = f"Budget 2027 was written by {author}."
    assert worded_relation(passage, "Budget 2027", author, vocabulary, matcher, ["Budget 2027"]) == "created_by"
