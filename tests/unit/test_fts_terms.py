"""What the BM25 leg indexes and searches for: CJK runs as bigrams, marks LanceDB's folding leaves dropped."""

from __future__ import annotations

import unicodedata

import pytest

from localrag.fts_terms import indexed_text, query_text


def test_ascii_text_is_left_as_it_is_but_for_its_identifiers() -> None:
    text = 'Heading\nThe "incubation period" is 2-14 days; see https://x.org/a-b.'
    assert indexed_text(text) == text and query_text(text) == text
    assert indexed_text("x = HTTP_TIMEOUT_MS, __init__") == "x = HTTP_TIMEOUT_MS, __init__ HTTPTIMEOUTMS"
    assert query_text("parse_config?") == "parse_config? parseconfig"
    assert indexed_text("Clause 4.2(b) of v2.0.") == "Clause 4.2(b) of v2.0. 4dot2 2dot0"


def test_a_cjk_run_is_indexed_as_its_bigrams_and_characters_and_asked_for_by_its_bigrams() -> None:
    assert indexed_text("潜伏期").split() == ["潜伏", "伏期", "潜", "伏", "期"]
    assert query_text("潜伏期是多少天").split() == ["潜伏", "伏期", "期是", "是多", "多少", "少天"]
    assert query_text("猫").split() == ["猫"]  # a one-character query asks for the character, which the index holds


def test_runs_are_cut_at_punctuation_and_other_scripts_and_korean_at_spaces() -> None:
    assert query_text("東京タワー 2012年").split() == ["東京", "京タ", "タワ", "ワー", "2012", "年"]
    assert query_text("한국의 수도").split() == ["한국", "국의", "수도"]


@pytest.mark.parametrize(("written", "typed"), [
    ("Αθήνα πρωτεύουσα", "Αθηνα πρωτευουσα"),
    ("İstanbul", "Istanbul"),
    ("الْقَاهِرَةُ", "القاهرة"),
    ("שָׁלוֹם", "שלום"),
    (unicodedata.normalize("NFD", "Zürich café"), "Zürich café"),
    ("ﾊﾟﾝを買う", "パンを買う"),  # half-width katakana, its voicing mark a character of its own
    ("ＡＢＣ１２３の価格", "ABC123の価格"),
    ("κατοίκους", "κατοικουσ"),  # what the tokenizer makes of a capital ΚΑΤΟΙΚΟΥΣ: its Σ is σ, never ς
])
def test_marks_the_tokenizer_does_not_fold_are_dropped(written: str, typed: str) -> None:
    assert indexed_text(written) == indexed_text(typed) and query_text(written) == query_text(typed)


def test_letters_that_are_not_a_letter_with_a_mark_stay() -> None:
    assert indexed_text("мой") == "мой"  # й is not и
    assert indexed_text("が").split() == ["が"]  # the voicing mark makes another kana


def test_a_word_with_an_umlaut_is_also_indexed_and_asked_for_spelled_out() -> None:
    """Swiss and non-German keyboards type "Kuendigung" for "Kündigung"; the tokenizer's folding makes "kundigung"."""
    assert indexed_text("Die Kündigung von Frau Müller, Öl und Ärger.").split()[-4:] == [
        "kuendigung", "mueller", "oel", "aerger"]
    assert query_text("Müller?") == "Muller? mueller"
    assert query_text(unicodedata.normalize("NFD", "Müller")) == "Muller mueller"  # as macOS writes it
    assert query_text("Mueller") == "Mueller"  # already the spelled-out form, which the index holds beside "Müller"


def test_a_footnote_mark_glued_to_its_word_is_a_term_of_its_own() -> None:
    """"the surveyor¹." was indexed as `surveyor1`, which a search for "surveyor" never found."""
    assert indexed_text("the surveyor\u00b9.").split()[:2] == ["the", "surveyor"]
    assert query_text("surveyor\u00b2\u00b3").split() == ["surveyor", "23"]
