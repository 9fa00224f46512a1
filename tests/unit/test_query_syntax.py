"""A query's search operators (localrag/query_syntax.py), read the same for every front end."""

from __future__ import annotations

import re

import pytest

from localrag.fts_terms import folded
from localrag.query_syntax import QuerySyntax, parse, prefix_words, word_regex


@pytest.mark.parametrize(("query", "read"), [
    ("hotel cap -draft", QuerySyntax("hotel cap", excluded=("draft",))),
    ('"club office" hours', QuerySyntax("club office hours", phrases=("club office",))),
    ("\u201cClub  Office\u201d", QuerySyntax("Club Office", phrases=("club office",))),
    ("regat* -DRAFT", QuerySyntax("regat", excluded=("draft",), prefixes=("regat",))),
    ("-draft", QuerySyntax("", excluded=("draft",))),
    ('"club -draft office" regat* -old', QuerySyntax("club -draft office regat", excluded=("old",),
                                                      phrases=("club -draft office",), prefixes=("regat",))),
    ('a 5" by 7" frame, "club office"', QuerySyntax('a 5" by 7" frame, club office', phrases=("club office",))),
])
def test_operators_are_read_and_left_out_of_the_words_searched_for(query: str, read: QuerySyntax) -> None:
    assert parse(query) == read


@pytest.mark.parametrize("query", ["COVID-19 e-mail", "-5 degrees", 'a "word" quoted', "NOT this OR that",
                                   "an unpaired \" quote", "ab* is too short", "what is 3*4",
                                   "how do I use grep -i", "tar -x", "ls -la", 'what does the flag "-v" do',
                                   'what does "regat*" mean', 'a 5" by 7" photo frame'])
def test_plain_text_stays_as_it_was(query: str) -> None:
    syntax = parse(query)
    assert syntax.plain and syntax.text == query and syntax.note() == ""


def test_the_note_says_what_was_applied() -> None:
    assert parse('"club office" regat* -draft').note() == (
        "left out passages holding 'draft'; put passages holding \"club office\" first; searched for words starting "
        "'regat'")


def test_a_phrase_is_held_in_any_case_across_lines_and_as_whole_words() -> None:
    syntax = parse('"club office"')
    assert syntax.holds_phrases("The Club\n  office opens at eight") == 1
    assert syntax.holds_phrases("the office of the club") == 0
    assert syntax.holds_phrases("nightclub offices") == 0


def test_prefix_words_are_the_commonest_first() -> None:
    assert prefix_words("regat", ["The Regatta.", "regattas and a regatta", "no such word"]) == ["regatta", "regattas"]


def test_a_phrase_or_a_minus_word_matches_a_pdfs_hyphens_and_subscripts() -> None:
    """'"IL-6 levels"' did not hold "IL\u20106 levels" (U+2010, as publishers' PDFs write it), nor did `-IL-6` leave
    it out; the quote checker read them alike (before 2026-12-08)."""
    text = "Serum IL\u20106 levels above 80 pg/mL predicted respiratory failure in SARS\u2010CoV\u20102 pneumonia."
    assert parse('"IL-6 levels" respiratory').holds_phrases(text) == 1
    assert parse('"SARS-CoV-2 pneumonia"').holds_phrases(text.replace("\u2010", "\u2011")) == 1
    assert parse('"CO2 uptake"').holds_phrases("Ocean CO\u2082 uptake") == 1
    # The full-text column of an index built before holds the hyphen as written; one built now, as "-".
    for written in (text, folded(text)):
        assert re.search(word_regex("il-6"), written), written
    assert not re.search(word_regex("il-6"), "IL-60 and IL 6")
