"""The focused extraction method: mentions, pronouns, linking words, the per-object grammar, and a scripted run."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_graph_extract import ScriptedGenerator

from localrag.embed import HashEmbedder
from localrag.generate import LlamaGenerator
from localrag.graph.extract import NOT_WORDED, ExtractConfig, extract_chunk, focused_entities
from localrag.graph.focused import (
    apposed_number,
    fact_grammar,
    heading_entity,
    linking_words,
    mentions,
    placed_name,
    relation_phrases,
    resolve_pronouns,
)
from localrag.graph.triple_checks import EntityMerger
from localrag.graph.vocabulary import RelationVocabulary
from localrag.graph.wording import worded_relation
from localrag.types import Chunk

PROFILE = (
    "Ruth Okafor\nRuth Okafor is a 41-year-old engineer from Tamford. She designed the Harwick Bridge, "
    "which is located in Tamford. Her firm is Okafor Partners."
)


def profile() -> Chunk:
    return Chunk("p:00000", "p", "/docs/people.md", 0, PROFILE, 0, len(PROFILE), heading="People > Ruth Okafor")


def test_mentions_are_names_and_numbers_not_sentence_openers() -> None:
    assert mentions(PROFILE) == ["Ruth Okafor", "41", "Tamford", "Harwick Bridge", "Okafor Partners"]
    assert mentions("The Bank of England opened in 1694. At first it was small.") == ["Bank of England", "1694"]


def test_a_name_does_not_span_a_comma_or_a_bracket() -> None:
    assert mentions("He left Porto, Lisbon and Braga.") == ["Porto", "Lisbon", "Braga"]
    assert mentions("Ruth Okafor (41) lives in Tamford.") == ["Ruth Okafor", "41", "Tamford"]
    assert mentions("She moved. Recently, Porto signed Ruth Okafor.") == ["Porto", "Ruth Okafor"]
    assert "000" not in mentions("A 1,000-watt lamp was fitted in Tamford.")  # a number's comma cuts nothing


def test_a_possessive_ends_a_name() -> None:
    assert mentions("Ruth Okafor, Spain's 41-year-old engineer, spoke.") == ["Ruth Okafor", "Spain", "41"]
    assert mentions("Okafor Partners's Ruth Okafor spoke.") == ["Okafor Partners", "Ruth Okafor"]
    assert mentions("She is one of Tamford's best engineers.") == ["Tamford"]


def test_of_joins_two_names_when_the_second_stands_alone_elsewhere() -> None:
    assert mentions("She moved to Tamford. She works at Okafor Partners Ltd of Tamford.") == [
        "Tamford", "Okafor Partners Ltd"]
    assert mentions("She works at Okafor Partners Ltd of Tamford.") == ["Okafor Partners Ltd of Tamford"]
    assert mentions("The Bank of England opened. England grew.") == ["Bank of England", "England"]


def test_a_capital_at_a_sentence_start_is_no_evidence_of_a_name() -> None:
    # one word capitalised only where a sentence starts: a sentence opener, not a name
    assert mentions("Selected by Spain as a forward, Ruth Okafor is 26.") == ["Spain", "Ruth Okafor", "26"]
    assert mentions("Domestically she is contracted to SS Lazio. Last month she turned 41.") == ["SS Lazio", "41"]
    # the same word written capitalised inside a sentence elsewhere is a name wherever it stands
    assert mentions("Okafor designed it. The engineer Ruth Okafor was 41.") == ["Okafor", "Ruth Okafor", "41"]
    # an opener glued to a name written alone elsewhere is cut off; a name of several words is kept whole
    assert mentions("Within Spain, Real Madrid CF is old. It plays in Spain.") == ["Spain", "Real Madrid CF"]
    assert mentions("Real Madrid CF is old.") == ["Real Madrid CF"]
    # numbers have no case: a sentence may start with one
    assert mentions("26 this season, Ruth Okafor leads.") == ["26", "Ruth Okafor"]


def test_a_subject_that_opens_its_sentence_is_still_a_name() -> None:
    # a subject is followed by its verb, not by a comma, a preposition or a pronoun as an opener is
    assert mentions("Okafor was born in Lagos.") == ["Okafor", "Lagos"]
    assert mentions("FRED plays for country Brazil.") == ["FRED", "Brazil"]
    # an opener-shaped word is a name when something vouches for it: it opens two sentences, or it is
    # a word of the chunk's heading entity
    assert mentions("Okafor, aged 41, lives in Lagos. Okafor, a designer, grew up in Tamford.") == [
        "Okafor", "41", "Lagos", "Tamford"]
    assert mentions("Okafor, aged 41, lives in Lagos.", ["Ruth Okafor"]) == ["Okafor", "41", "Lagos"]
    assert mentions("Okafor, aged 41, lives in Lagos.") == ["41", "Lagos"]


def test_an_opening_word_before_a_number_that_counts_something_is_no_name() -> None:
    assert mentions("Born 41 years ago, Ruth Okafor designed bridges.") == ["41", "Ruth Okafor"]
    assert mentions("Built 80 years ago, the Harwick Bridge stands.") == ["80", "Harwick Bridge"]
    # a number that counts nothing after it, or a word the text vouches for elsewhere, stays in the name
    assert mentions("Apollo 11 landed in 1969.") == ["Apollo 11", "1969"]
    assert mentions("Apollo 11 carries 3 astronauts. Apollo left.") == ["Apollo 11", "3", "Apollo"]


def test_a_label_before_a_colon_is_no_name() -> None:
    text = "Fact sheet: Ruth Okafor. Employer: Okafor Partners (Tamford). Engineer's note: she built 3 bridges."
    assert mentions(text) == ["Ruth Okafor", "Okafor Partners", "Tamford", "3"]
    # a longer phrase before a colon is a sentence of its own, with its names
    assert mentions("Survey report on Ruth Okafor (Tamford, 41): an engineer.") == [
        "Survey", "Ruth Okafor", "Tamford", "41"]


def test_pronouns_become_the_heading_entity() -> None:
    assert heading_entity("People > Ruth Okafor") == "Ruth Okafor"
    text = resolve_pronouns("She designed it. Her firm grew. It was new.", "Ruth Okafor")
    assert text == "Ruth Okafor designed it. Ruth Okafor's firm grew. Ruth Okafor was new."
    assert resolve_pronouns("She designed it.", "") == "She designed it."


def test_object_pronouns_become_the_heading_entity_for_the_joining_words() -> None:
    text = "Okafor Partners hired him in 2012. They gave her a prize, thanked her and praised her work."
    assert resolve_pronouns(text, "Ruth Okafor", objects=True) == (
        "Okafor Partners hired Ruth Okafor in 2012. They gave Ruth Okafor a prize, thanked Ruth Okafor and praised "
        "Ruth Okafor's work.")
    assert resolve_pronouns(text, "Ruth Okafor").startswith("Okafor Partners hired him in 2012.")  # the prompt's
    passage = resolve_pronouns("Okafor Partners hired him in 2012.", "Ruth Okafor", objects=True)
    assert linking_words(passage, "Ruth Okafor", "Okafor Partners") == (["hired"], [])


def test_linking_words_lie_between_the_names_in_one_sentence() -> None:
    passage = resolve_pronouns(PROFILE, "Ruth Okafor")
    assert linking_words(passage, "Harwick Bridge", "Tamford") == (["which", "is", "located", "in"], [])
    assert linking_words(passage, "Ruth Okafor", "41") == (["is", "a"], ["year", "old"])
    assert linking_words(passage, "Tamford", "Harwick Bridge") == (["which", "is", "located", "in"],
                                                                   ["designed", "the"])
    assert linking_words(passage, "Okafor Partners", "Harwick Bridge") == ([], [])  # never in one sentence
    vocab = RelationVocabulary()
    assert vocab.find(linking_words(passage, "Harwick Bridge", "Tamford")[0]) == "located_in"
    assert vocab.find(["a", "b"]) is None and vocab.map("a b") == "related_to"


def test_fact_grammar_parses_in_llama_cpp_and_allows_only_the_names_and_phrases(
    real_generator: LlamaGenerator,
) -> None:
    phrases = relation_phrases([("located_in", ("located in", "in")), ("created_by", ("designed by",))])
    assert phrases == ["located in", "in", "created by", "designed by"]
    grammar = fact_grammar(["Ruth Okafor", 'Bad "quote"', "Tamford"], phrases)
    assert 'entity ::= "Ruth Okafor" | "Tamford"' in grammar and '"none"' in grammar
    # A short prompt: the point is that llama.cpp takes the grammar and holds the reply to it.
    messages = [{"role": "user", "content": "Where is the Harwick Bridge? Reply as: name | relation"}]
    reply = real_generator.complete(messages, max_tokens=24, grammar=grammar)
    subject, _, phrase = reply.partition(" | ")
    assert subject in ("Ruth Okafor", "Tamford") and phrase in [*phrases, "none"]


def test_focused_extraction_keeps_the_model_subject_and_the_passage_relation(tmp_path: Path) -> None:
    # The relation is the vocabulary phrasing the passage uses between the model's subject (else the
    # heading's entity) and the object (after a number: beside it); no such phrasing, or the model's
    # none, gives no triple.
    generator = ScriptedGenerator({
        "Object: 41": "Okafor Partners | designed by",  # never in a sentence with 41: the heading's entity is
        "Object: Tamford": "Harwick Bridge | in",
        "Object: Harwick Bridge": "Ruth Okafor | designed by",
        "Object: Okafor Partners": "Ruth Okafor | none",
        "Object: engineer": "Ruth Okafor | none",  # a lower-case noun a phrasing introduces ("41-year-old engineer")
    })
    vocabulary = RelationVocabulary({"age": ("years old", "year old"), "located_in": ("located in",),
                                     "created_by": ("designed by",)}, fallback=None)
    config = ExtractConfig(vocabulary=vocabulary, method="focused")
    result = extract_chunk(profile(), generator, EntityMerger(HashEmbedder(dim=32)), config)  # type: ignore[arg-type]
    assert result is not None
    assert [(t.head, t.relation, t.tail) for t in result.triples] == [
        ("Ruth Okafor", "age", "41"),
        ("Harwick Bridge", "located_in", "Tamford"),
    ]
    objects = ("41", "Tamford", "Harwick Bridge", "Okafor Partners", "engineer")
    assert len(generator.calls) == 5 and all(c.endswith(objects) for c in generator.calls)
    assert "Ruth Okafor designed the Harwick Bridge" in generator.calls[0]  # pronouns resolved for the model


def test_a_place_inside_a_names_noun_phrase_is_where_that_name_stands_and_nothing_else() -> None:
    # The place gets its located triple whatever the model says, and as the model's subject for the name it
    # qualifies it gives way to the heading's entity.
    text = "Ruth Okafor\nRuth Okafor works for Portugal firm Okafor Partners."
    chunk = Chunk("c", "d", "/docs/people.md", 0, text, 0, len(text), heading="People > Ruth Okafor")
    generator = ScriptedGenerator({"Object: Portugal": "Ruth Okafor | none",
                                   "Object: Okafor Partners": "Portugal | firm"})
    vocabulary = RelationVocabulary({"works_for": ("works for", "firm"), "located_in": ("located in",)},
                                    fallback=None)
    config = ExtractConfig(vocabulary=vocabulary, method="focused")
    result = extract_chunk(chunk, generator, EntityMerger(HashEmbedder(dim=32)), config)  # type: ignore[arg-type]
    assert result is not None
    assert [(t.head, t.relation, t.tail) for t in result.triples] == [
        ("Okafor Partners", "located_in", "Portugal"),
        ("Ruth Okafor", "works_for", "Okafor Partners"),
    ]


def test_a_pair_no_relation_of_the_vocabulary_words_is_counted_as_proposed_and_refused() -> None:
    # Before, the focused method counted only the pairs it had related: a build that kept nothing reported
    # "proposed": 0 and no reason.
    text = "Budget 2027 was reviewed by Priya Nair."
    generator = ScriptedGenerator({"Object: Priya Nair": "Budget 2027 | reviewed by"})
    vocabulary = RelationVocabulary({"wrote": ("written by",)}, fallback=None)
    config = ExtractConfig(vocabulary=vocabulary, method="focused")
    result = extract_chunk(Chunk("b", "b", "/notes/budget.md", 0, text, 0, len(text)), generator,
                           EntityMerger(HashEmbedder(dim=32)), config)  # type: ignore[arg-type]
    assert result is not None and result.triples == []
    assert result.proposed == 1 and result.dropped == {NOT_WORDED: 1}


@pytest.mark.parametrize("method", ["single", "focused"])
def test_a_chunk_without_names_costs_the_focused_method_nothing(method: str) -> None:
    generator = ScriptedGenerator({})
    text = "nothing here is named."
    config = ExtractConfig(method=method)
    result = extract_chunk(Chunk("x", "x", "x", 0, text, 0, len(text)), generator,
                           EntityMerger(HashEmbedder(dim=32)), config)  # type: ignore[arg-type]
    assert result is not None and result.triples == []
    assert len(generator.calls) == (1 if method == "single" else 0)


def test_the_vocabulary_matches_inflections_and_names_lower_case_objects() -> None:
    vocabulary = RelationVocabulary({"age": ("years old",), "position": ("plays as",), "member_of": ("plays for",),
                                     "shirt": ("wears number",)}, fallback=None)
    assert vocabulary.find("is a 26 year old".split()) == "age"  # "26-year-old", as "years old"
    assert vocabulary.find("they play for".split()) == "member_of"
    text = "Ana Ruiz plays as a forward for Spain. She is a 26-year-old striker. She wears number 9."
    # "forward" is named by "plays as", "striker" by "years old"; "number" names a relation, not an object.
    assert vocabulary.objects_named_after(text) == ["forward", "striker"]
    chunk = Chunk("a", "a", "/docs/a.md", 0, text, 0, len(text), heading="Ana Ruiz")
    assert focused_entities(chunk, vocabulary) == ["Ana Ruiz", "Spain", "26", "9", "forward", "striker"]


def test_an_adverb_opening_a_sentence_is_no_name_and_leaves_the_number_after_it() -> None:
    text = "Now 28, Ana Ruiz leads. Currently 26, Bo Lee plays. Still only 21, Cy Hale plays. Recently, Porto won."
    assert mentions(text) == ["28", "Ana Ruiz", "26", "Bo Lee", "21", "Cy Hale", "Porto"]


def test_a_bare_number_set_off_beside_a_name_is_an_age() -> None:
    for text in ("Ana Ruiz, 41, lives in Lagos.", "Ana Ruiz (41) lives in Lagos.", "Now 41, Ana Ruiz lives here.",
                 "At 41, Ana Ruiz is an engineer."):
        assert apposed_number(text, "Ana Ruiz", "41"), text
    # a bare number after a verb of being or becoming
    for text in ("Ana Ruiz is 41 and lives in Lagos.", "Ana Ruiz turned 41 this year.", "Ana Ruiz is 41.",
                 "Ana Ruiz has turned 41."):
        assert apposed_number(text, "Ana Ruiz", "41"), text
    assert not apposed_number("Ana Ruiz is 41 points clear.", "Ana Ruiz", "41")  # a number that counts something
    assert not apposed_number("Ana Ruiz is 41.5 m tall.", "Ana Ruiz", "41")
    # a year, a count, a number with its own words, a number not set off, a number after another phrase
    for text, number in (("In 2014, Ana Ruiz moved.", "2014"), ("Ana Ruiz scored 41 goals.", "41"),
                         ("Ana Ruiz, a 41-year-old, lives here.", "41"), ("Ana Ruiz wears 10, the number.", "10"),
                         ("With 3 goals in 2 games, Ana Ruiz led.", "2"), ("Ana Ruiz lives here, 41.", "41")):
        assert not apposed_number(text, "Ana Ruiz", number), text
    # the age is then worded as an age is, whatever words stand around it
    vocabulary = RelationVocabulary({"age": ("aged",), "shirt": ("wears number", "number")}, fallback=None)
    assert worded_relation("Ana Ruiz, 41, wears number 9.", "Ana Ruiz", "41", vocabulary) == "age"
    assert worded_relation("Ana Ruiz, 41, wears number 9.", "Ana Ruiz", "9", vocabulary) == "shirt"
    assert worded_relation("Now 41, Ana Ruiz leads.", "Ana Ruiz", "41", vocabulary) == "age"


def test_a_noun_after_as_a_is_offered_as_an_object() -> None:
    vocabulary = RelationVocabulary({"position": ("plays as",), "member_of": ("plays for",)}, fallback=None)
    text = "Ana Ruiz operates as a goalkeeper for Spain."
    chunk = Chunk("a", "a", "/docs/a.md", 0, text, 0, len(text), heading="Ana Ruiz")
    assert focused_entities(chunk, vocabulary, predicates=True) == ["Ana Ruiz", "Spain", "goalkeeper"]
    assert focused_entities(chunk, vocabulary) == ["Ana Ruiz", "Spain"]


def test_a_function_word_in_capitals_is_an_acronym_of_a_name() -> None:
    assert mentions("He joined AS Monaco. US Sassuolo is old. As he said, At first it was small.") == [
        "AS Monaco", "US Sassuolo"]


def test_a_place_inside_another_names_noun_phrase_is_where_that_name_stands() -> None:
    others = ["Ana Ruiz", "Lisbon", "Okafor Partners", "Tamford Library", "Club"]
    # before the name with its own qualifiers, or after it behind articles, "in" or "of"
    assert placed_name("Portugal firm Okafor Partners hired Ana Ruiz.", "Portugal", others) == "Okafor Partners"
    assert placed_name("Ana Ruiz works at Okafor Partners in the Portugal region.", "Portugal", others) == (
        "Okafor Partners")
    assert placed_name("She gave years to Tamford Library, a Portugal institution.", "Portugal", others) == (
        "Tamford Library")
    assert placed_name("Ana Ruiz reads. Club: Okafor Partners (Portugal).", "Portugal", others) == "Okafor Partners"
    # the chunk's topic is what a place beside it describes, not where it stands
    assert placed_name("Portugal engineer Ana Ruiz designed it.", "Portugal", others, "Ana Ruiz") == ""
    # a verb, a pronoun or a colon between: no noun phrase holds the place
    assert placed_name("Okafor Partners moved to Portugal.", "Portugal", others) == ""
    assert placed_name("Portugal joined Okafor Partners.", "Portugal", others) == ""  # a verb, not a qualifier
    assert placed_name("Portugal hosts Okafor Partners.", "Portugal", others) == ""
    assert placed_name("Portugal will visit Okafor Partners.", "Portugal", others) == ""  # a modal makes a clause
    assert placed_name("Portugal is where Okafor Partners works.", "Portugal", others) == ""
    assert placed_name("Club: Okafor Partners.", "Okafor Partners", others) == ""
    assert placed_name("Lisbon is far.", "Portugal", others) == ""
    assert placed_name("Within Portugal, Okafor Partners is old.", "Okafor Partners", ["Portugal"]) == ""  # no bracket


def test_an_initial_or_a_name_abbreviation_ends_no_sentence_and_no_name() -> None:
    # Cut at every ". ", "J. R. R. Tolkien" was the names J, R and Tolkien, and The Hobbit was created_by "J".
    text = ("The Hobbit is a book written by J. R. R. Tolkien. Dr. No is a film made by Terence Young. "
            "Michael J. Fox starred in E.T. once. Acme Inc. The firm is in St. Louis.")
    assert mentions(text) == ["Hobbit", "J. R. R. Tolkien", "Dr. No", "Terence Young", "Michael J. Fox", "E.T.",
                              "Acme Inc.", "St. Louis"]
    vocabulary = RelationVocabulary()
    assert worded_relation(text, "The Hobbit", "J. R. R. Tolkien", vocabulary) == "created_by"
    assert worded_relation(text, "Dr. No", "Terence Young", vocabulary) == "created_by"
    assert linking_words(text, "Michael J. Fox", "E.T.") == (["starred", "in"], ["once"])


def test_the_phrasing_nearest_a_passive_agent_decides_not_an_earlier_is_a() -> None:
    # "is a" stood in "is a film directed by": every film of a catalogue was is_a its director.
    vocabulary = RelationVocabulary()
    assert worded_relation("Heat is a film directed by Michael Mann.", "Heat", "Michael Mann", vocabulary) == \
        "created_by"
    assert worded_relation("Heat is a film made by Michael Mann.", "Heat", "Michael Mann", vocabulary) == "created_by"
    assert worded_relation("Heat is a film shot by Dante Spinotti.", "Heat", "Dante Spinotti", vocabulary) is None
    assert worded_relation("Heat is a film.", "Heat", "film", vocabulary) == "is_a"


def test_of_the_joins_a_titles_capitalised_words() -> None:
    # Before: "Lord" and "Rings", "Return" and "King"; and "part of" then related The Fellowship of the Ring to "Lord".
    text = ("The Fellowship of the Ring is a novel. The Fellowship of the Ring is part of The Lord of the Rings "
            "series. The Return of the King is the last. Ana is a fan of the club.")
    assert mentions(text) == ["Fellowship of the Ring", "Lord of the Rings", "Return of the King", "Ana"]
    assert linking_words(text, "Fellowship of the Ring", "Lord of the Rings") == (["is", "part", "of", "the"],
                                                                                  ["series"])
    assert worded_relation(text, "Fellowship of the Ring", "Lord of the Rings", RelationVocabulary()) == "part_of"
