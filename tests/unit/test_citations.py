"""Citation parsing, quote extraction and quote verification against the retrieved text."""

from __future__ import annotations

import pytest

from localrag.answer import answer_citations, extract_quotes, parse_citations, quoted_answer, verify_quotes
from localrag.answer.evidence import header_note
from localrag.types import Chunk, Hit, QuoteStatus

LIGHTHOUSE = (
    "The Skerry Point lighthouse stands on a basalt reef two miles off the coast.\n"
    "It was first lit on 14 March 1871, after six years of construction. The tower is 38 metres tall."
)
BAKERY = "Marta opened her bakery on Elm Street in 2009. She bakes rye bread every morning at four o'clock."


def make_hit(text: str, name: str = "doc") -> Hit:
    return Hit(Chunk(name, name, f"{name}.txt", 0, text, 0, len(text)), 1.0)


HITS = [make_hit(LIGHTHOUSE, "light"), make_hit(BAKERY, "bakery")]


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("It was lit in 1871 [1].", 2, ([1], [])),
        ("Both say so [1, 2].", 2, ([1, 2], [])),
        ("See [2][1] and again [2].", 2, ([2, 1], [])),
        ("As [Source 2] says, and [source 1].", 3, ([2, 1], [])),
        ("Per (Source 3).", 3, ([3], [])),
        ("Ranges [1-3] count.", 3, ([1, 2, 3], [])),
        ("Nothing cited here.", 2, ([], [])),
        ("Cites [0] and [5] and [2].", 2, ([2], [0, 5])),
        ("In [2014] it rained; list item (1) is not a citation.", 2, ([], [])),
        ("[1 and 2]", 2, ([1, 2], [])),
    ],
)
def test_parse_citations(text: str, n: int, expected: tuple[list[int], list[int]]) -> None:
    assert parse_citations(text, n) == expected


def test_extract_quotes_in_all_three_styles_with_their_sources() -> None:
    text = (
        'It was lit in 1871 [1]: "first lit on 14 March 1871". '
        "Marta bakes early “She bakes rye bread every morning” [2]. "
        "##begin_quote##The tower is 38 metres tall##end_quote## [1]"
    )
    assert extract_quotes(text) == [
        ("first lit on 14 March 1871", 1),
        ("She bakes rye bread every morning", 2),
        ("The tower is 38 metres tall", 1),
    ]


def test_citation_before_the_quote_is_used_when_none_follows() -> None:
    assert extract_quotes('According to [2], "she bakes rye bread" every day.') == [("she bakes rye bread", 2)]


def test_citation_written_inside_the_closing_quote_is_taken_and_stripped() -> None:
    assert extract_quotes('He said "the tower is 38 metres tall [1]."') == [("the tower is 38 metres tall", 1)]


def test_short_quotes_and_unattributed_quotes() -> None:
    text = 'A "scare" quote, a "two words" one, and "three words here" alone.'
    assert extract_quotes(text) == [("three words here", None)]


def test_quote_does_not_span_paragraphs() -> None:
    assert extract_quotes('He said "this is open\n\nand this is not one" ok') == []


def test_verbatim_quote_is_verified_with_offsets_into_the_chunk() -> None:
    [quote] = verify_quotes('Lit in 1871 [1]: "first lit on 14 March 1871".', HITS)
    assert quote.status is QuoteStatus.VERIFIED and quote.source == 1 and quote.similarity == 1.0
    assert quote.start is not None and quote.end is not None
    assert LIGHTHOUSE[quote.start : quote.end] == "first lit on 14 March 1871"


def test_a_quote_of_a_blockquote_without_its_marks_is_verbatim() -> None:
    # sentences.one_line drops the marks inside a quoted note's sentence: the quote must still be verified.
    note = "Boiler\n\n> Plain quote line one about the boiler\n> > continues here and ends now.\n\nA > B stays."
    [quote] = verify_quotes('"Plain quote line one about the boiler continues here and ends now." [1]',
                            [make_hit(note)])
    assert quote.status is QuoteStatus.VERIFIED
    assert quote.start == note.index("Plain") and quote.end == note.index(".\n\nA")
    assert verify_quotes('"A B stays right here" [1]', [make_hit(note)])[0].status is not QuoteStatus.VERIFIED


def test_verification_ignores_case_whitespace_and_quote_characters() -> None:
    text = "“the SKERRY point  lighthouse stands on a basalt reef two miles off the coast. it was first lit” [1]"
    [quote] = verify_quotes(text, HITS)
    assert quote.status is QuoteStatus.VERIFIED
    assert LIGHTHOUSE[quote.start : quote.end].startswith("The Skerry Point")
    assert LIGHTHOUSE[quote.start : quote.end].endswith("first lit")
    [apostrophe] = verify_quotes("“every morning at four o’clock” [2]", HITS)
    assert apostrophe.status is QuoteStatus.VERIFIED


def test_quote_with_an_ellipsis_is_verified_when_its_parts_appear_in_order() -> None:
    [quote] = verify_quotes('"It was first lit ... after six years of construction" [1]', HITS)
    assert quote.status is QuoteStatus.VERIFIED
    assert LIGHTHOUSE[quote.start : quote.end] == "It was first lit on 14 March 1871, after six years of construction"
    [swapped] = verify_quotes('"after six years of construction ... It was first lit" [1]', HITS)
    assert swapped.status is not QuoteStatus.VERIFIED


@pytest.mark.parametrize("quote", [
    '"The tower is 3" [1]',  # stops inside "38": the source does not say 3
    '"-14 March 1871" [1]',  # the sign is the quote's: a date is no negative number
    '"The Skerry Point lighthouse stands ... two miles off the coast" [1]',  # fine: only words left out
])
def test_a_quote_is_verified_on_whole_words_and_numbers_only(quote: str) -> None:
    [checked] = verify_quotes(quote, HITS)
    assert (checked.status is QuoteStatus.VERIFIED) == ("..." in quote)


def test_an_ellipsis_that_leaves_out_a_negation_is_not_verified() -> None:
    hits = [make_hit("Boats must not moor at the north pier during a spring tide.", "pier")]
    [checked] = verify_quotes('"Boats must ... moor at the north pier" [1]', hits)
    assert checked.status is not QuoteStatus.VERIFIED


def test_a_pdfs_ligatures_and_words_broken_at_a_line_end_read_as_their_letters() -> None:
    text = "The \ufb01nal test of the horn was run by engi-\nneer Halvard Brekke in March."
    for quote in ("engineer", "engi- neer"):  # as written, or copied with its lines joined
        [checked] = verify_quotes(f'"The final test of the horn was run by {quote} Halvard Brekke" [1]',
                                  [make_hit(text)])
        assert checked.status is QuoteStatus.VERIFIED, quote
        assert text[checked.start : checked.end] == text[:text.index(" in March")]


@pytest.mark.parametrize("quote", [
    "and \u03b2-adrenergic receptors were blocked", "Both \u03b1- and \u03b2-adrenergic receptors",
    "Pre- and post-operative IL-6 rose", "a long- vs short-term view", "Vor-\nund Nachteile",
])
def test_a_suspended_hyphen_joins_no_word(quote: str) -> None:
    """"\u03b1- and" and "Pre- and" were joined as a word broken at a line end ("\u03b1and"), so a quote starting at
    the "and" was only close (before 2026-12-08): a word is broken only at a line break, and not before "and", "or",
    "to", "und"..."""
    text = ("Both \u03b1- and \u03b2-adrenergic receptors were blocked. Pre- and post-operative IL-6 rose. "
            "We took a long- vs short-term view. Vor-\nund Nachteile.")
    [checked] = verify_quotes(f'"{quote}" [1]', [make_hit(text)])
    assert (checked.status, checked.similarity) == (QuoteStatus.VERIFIED, 1.0)


@pytest.mark.parametrize("source", [
    "The cafe\u0301 serves espresso.",  # decomposed (NFD): the accent a character of its own
    "The caf\u200d\u00e9 ser\u200cves es\u2060pres\ufeffso.",  # invisible characters inside words
])
def test_a_quote_of_a_decomposed_accent_or_invisible_characters_is_verbatim(source: str) -> None:
    [checked] = verify_quotes('"The caf\u00e9 serves espresso." [1]', [make_hit(source)])
    assert checked.status is QuoteStatus.VERIFIED  # before: close 0.92
    assert source[checked.start : checked.end].rstrip(".") == source.rstrip(".")


def test_a_close_quote_is_placed_on_whole_words() -> None:
    text = "The \u201cred crane\u201d is reserved for emergencies only."
    [checked] = verify_quotes('"The red crane is reserved for emergencies only." [1]', [make_hit(text)])
    assert checked.status is QuoteStatus.CLOSE and checked.start is not None
    assert text[checked.start : checked.end] == "The \u201cred crane\u201d is reserved for emergencies only"


def test_slightly_altered_quote_is_close() -> None:
    [quote] = verify_quotes('"It was first lit on 14 March 1872 after six years of construction" [1]', HITS)
    assert quote.status is QuoteStatus.CLOSE
    assert 0.85 <= quote.similarity < 1.0
    assert quote.start is not None and "first lit" in LIGHTHOUSE[quote.start : quote.end]


def test_invented_quote_is_not_found() -> None:
    [quote] = verify_quotes('"the lighthouse was painted red in 1990" [1]', HITS)
    assert quote.status is QuoteStatus.NOT_FOUND and quote.similarity < 0.85
    assert quote.start is None


def test_quote_is_checked_only_against_the_source_it_cites() -> None:
    [quote] = verify_quotes('"She bakes rye bread every morning" [1]', HITS)
    assert quote.source == 1 and quote.status is QuoteStatus.NOT_FOUND
    # The citation fails, and the source that holds the words is named, so a reader sees a wrong number, not an
    # invented quote.
    assert quote.found_in == 2


def test_a_quote_in_no_source_and_a_quote_in_its_own_name_no_other_source() -> None:
    [invented, right] = verify_quotes('"She bakes wheat bread at noon" [1] and "The tower is 38 metres tall" [1]',
                                      HITS)
    assert invented.status is QuoteStatus.NOT_FOUND and invented.found_in is None
    assert right.status is QuoteStatus.VERIFIED and right.found_in is None


def test_unattributed_quote_is_found_in_any_source() -> None:
    [quote] = verify_quotes('She starts early: "bakes rye bread every morning".', HITS)
    assert quote.status is QuoteStatus.VERIFIED and quote.source == 2
    assert BAKERY[quote.start : quote.end] == "bakes rye bread every morning"


def test_quote_citing_a_missing_source_is_searched_everywhere() -> None:
    [quote] = verify_quotes('"The tower is 38 metres tall" [7]', HITS)
    assert quote.status is QuoteStatus.VERIFIED and quote.source == 1


def test_no_quotes_no_results() -> None:
    assert verify_quotes("It was lit in 1871 [1].", HITS) == []


PAPER = ("Without specific interventions, the rate of mother-to-child transmission is approximately 15-45% [2] . "
         "Breastfeeding accounts for a third of it [12, 13].")


def test_a_sources_own_reference_marks_inside_a_quote_are_not_citations() -> None:
    hits = [make_hit(LIGHTHOUSE, "light"), make_hit(PAPER, "paper")]
    text = ('The rate is high: "the rate of mother-to-child transmission is approximately 15-45% [2] ." [2] '
            'and "Breastfeeding accounts for a third of it [12, 13]" [2].')
    # The paper's [2], [12] and [13] are its own; the answer cites source 2 with the marks after its quotes.
    assert answer_citations(text, hits) == ([2], [])
    assert parse_citations(text, 2) == ([2], [12, 13])  # what a plain parse would have claimed
    first, second = verify_quotes(text, hits)
    assert (first.status, first.source) == (QuoteStatus.VERIFIED, 2)
    assert first.text.endswith("15-45% [2] .") and PAPER[first.start : first.end] == first.text.rstrip(" .")
    assert (second.status, second.source) == (QuoteStatus.VERIFIED, 2)
    # Cited by nothing outside the quote, the quote is found wherever it is, and cites nothing itself.
    alone = 'It says "the rate of mother-to-child transmission is approximately 15-45% [2] ."'
    assert answer_citations(alone, [make_hit(PAPER, "paper"), make_hit(LIGHTHOUSE, "light")]) == ([], [])
    [quote] = verify_quotes(alone, [make_hit(PAPER, "paper"), make_hit(LIGHTHOUSE, "light")])
    assert (quote.status, quote.source) == (QuoteStatus.VERIFIED, 1)


def test_a_citation_inside_the_closing_quote_that_the_source_does_not_hold_is_still_the_answers() -> None:
    text = 'He said "the tower is 38 metres tall [1]." and "she bakes rye bread every morning [2]."'
    assert answer_citations(text, HITS) == ([1, 2], [])
    assert [(q.text, q.source, q.status) for q in verify_quotes(text, HITS)] == [
        ("the tower is 38 metres tall", 1, QuoteStatus.VERIFIED),
        ("she bakes rye bread every morning", 2, QuoteStatus.VERIFIED),
    ]


def test_a_raft_quote_that_keeps_its_sources_mark_can_still_be_the_answer() -> None:
    hits = [make_hit(PAPER, "paper")]
    text = ("##begin_quote##the rate of mother-to-child transmission is approximately 15-45% [2] .##end_quote## [1]"
            "\n\n<ANSWER>: 15-45%")
    quotes = verify_quotes(text, hits)
    assert quotes[0].status is QuoteStatus.VERIFIED
    assert quoted_answer(text, quotes) == quotes[0].text


STATEMENT = ("Date | Description | Reference | Amount | Balance\n"
             "2024-01-05 | SALARY JANUARY | TRF-88001 | $4,200.00 | $9,120.40\n"
             "2024-03-07 | ACME CORP INV 2024-112 | TRF-88590 | -$3,105.25 | $5,928.23")


@pytest.mark.parametrize(("answer", "checked"), [
    ("2024-03-07 | ACME CORP INV 2024-112 | TRF-88590 | -$3,105.25 | $5,928.23 {note} [1]",
     [("2024-03-07 | ACME CORP INV 2024-112 | TRF-88590 | -$3,105.25 | $5,928.23", QuoteStatus.VERIFIED)]),
    ("- You paid: 2024-03-07 | ACME CORP INV 2024-112 | TRF-88590 | -$3,999.25 | $5,928.23 {note} [1]",
     [("2024-03-07 | ACME CORP INV 2024-112 | TRF-88590 | -$3,999.25 | $5,928.23", QuoteStatus.CLOSE)]),
    ("You paid Acme {note} [1]", []),
])
def test_a_rows_header_note_checks_the_row_not_the_header(answer: str, checked: list[tuple[str, QuoteStatus]]) -> None:
    """A model copying a row with localrag's own "(a row under “Date | ...”)" note got "✓ verified" for the header,
    the only quote checked, whatever the row said (before 2026-12-08): the row is checked, a note alone is none."""
    note = header_note("Date | Description | Reference | Amount | Balance")
    quotes = verify_quotes(answer.format(note=note), [make_hit(STATEMENT)])
    assert [(q.text, q.status) for q in quotes] == checked
    assert all(q.source == 1 for q in quotes)
