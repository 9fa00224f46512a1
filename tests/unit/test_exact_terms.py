"""Which tokens of a question are codes, and how hits holding a rare one are put first."""

from __future__ import annotations

from localrag.exact_terms import clauses, codes, codes_first, rare_codes
from localrag.types import Chunk, Hit


def test_codes_are_identifiers_not_words_numbers_or_quantities() -> None:
    assert codes("What is the amount of invoice INV-2026-0033?") == ["INV-2026-0033"]
    assert codes("Where is HTTP_TIMEOUT set, and CD40L, H5N1, SARS-CoV-2, v2.3.1?") == [
        "HTTP_TIMEOUT", "CD40L", "H5N1", "SARS-CoV-2", "v2.3.1"]
    assert codes("inv-9 or INV-9?") == ["INV-9"]  # once, as written last
    assert codes("inv-2026-0033 or pre-2020 or Pre-2020") == ["inv-2026-0033"]
    assert codes("the 28th of March, a 4-letter word in the 1950s, 3D, 5mg, 4.2, e.g. 2026") == []


def test_a_formatted_amount_or_a_full_date_is_a_code_a_year_or_a_plain_number_is_not() -> None:
    assert codes("Which invoice totals 1,440.00 EUR, or 1.440,00, or 99.90, dated 2026-03-14?") == [
        "1,440.00", "1.440,00", "99.90", "2026-03-14"]
    assert codes("on 14.03.2026 or 14/03/2026, INV-2026-0032") == ["INV-2026-0032", "14.03.2026", "14/03/2026"]
    assert codes("in 2026, 12%, 12.50%, 4.2, 2.5 mg, version 2.0.1, 1 440 people, 2019-2020, 3 of 40") == []
    texts = ["Total due: 1,440.00 EUR", "1,440.00.", "21,440.00", "1,440.001", "2026-03-14-2", "Date: 2026-03-14"]
    assert [text for text in texts if rare_codes("1,440.00 2026-03-14", [text] + ["filler"] * 4)] == [
        "Total due: 1,440.00 EUR", "1,440.00.", "Date: 2026-03-14"]


def test_a_clause_named_by_a_dotted_or_bracketed_number_is_a_code_a_decimal_or_a_version_is_not() -> None:
    # MiniLM reads "clause 12.2" as any clause: a contract's LIABILITY came first for it, its TERMINATION 4th.
    assert codes("What does clause 12.1 say?") == ["12.1"]
    assert codes("section 4.2, § 3(2), Art. 5 (2) and Clauses 7.1 and 7.2") == ["4.2", "3(2)", "5(2)", "7.1"]
    assert codes("What does clause 1.1(a) say?") == ["1.1(a)", "1.1"]  # a cross-reference's and its own start's
    assert codes("clause 8, 2.5 mg, version 2.0.1, 4.2, sec 2.5") == ["2.5"]  # "sec." is a section here
    assert codes("clause 8, 2.5 mg, version 2.0.1, 4.2") == []
    assert clauses("What does clause 8 say, and § 3(2)(a)?") == [("8", ()), ("3", ("2", "a"))]


def test_a_clauses_number_is_held_whole_not_as_the_tail_or_head_of_a_longer_one() -> None:
    texts = ["12.1 Either party may terminate.", "see clause 12.1.", "12.1.3 A sub-clause.", "3.12.1 Other.",
             "112.1 Other.", "12.10 Other.", "12-1 Other."] + ["filler"] * 13
    hits = [_hit(t) for t in texts[:7]]
    # The clause and its sub-clause first, then the sentence citing it.
    assert [h.chunk.text for h in codes_first("clause 12.1", hits, texts) if h.codes] == [texts[0], texts[2], texts[1]]


def _hit(text: str) -> Hit:
    return Hit(Chunk(text, text, f"/{text}", 0, text, 0, len(text)), 0.0)


def test_hits_holding_a_rare_code_come_first_in_their_fused_order() -> None:
    hits = [_hit(t) for t in ("invoice INV-7 total", "INV-9 total", "anti-INV-9 paid", "INV-90 total")]
    ranked = codes_first("what is INV-9?", hits, [h.chunk.text for h in hits] + ["a", "b", "c", "d"] * 2)
    assert [(h.chunk.text, h.codes) for h in ranked] == [
        ("INV-9 total", ("INV-9",)), ("anti-INV-9 paid", ("INV-9",)), ("invoice INV-7 total", ()),
        ("INV-90 total", ())]


def test_a_code_most_candidates_hold_picks_nothing_out() -> None:
    texts = ["COVID-19 cases rose", "COVID-19 in Wuhan", "masks", "COVID-19 deaths"]
    assert rare_codes("How did COVID-19 spread?", texts) == []
    hits = [_hit(t) for t in texts]
    assert codes_first("How did COVID-19 spread?", hits, texts) == hits
    assert codes_first("no code here", hits, texts) == hits


def test_the_hit_holding_the_asked_clause_comes_before_hits_citing_it() -> None:
    # A statute writes § 3(2) as "(2) ..." under "§ 3": before 2026-12-07 the penalty citing "§ 3(2)" came first and
    # § 3 itself held no code (so no sentence of it could answer); and a cross-reference holding both "1.1(a)" and
    # "1.1" came before clause 1.1's own "(a) ...".
    statute = ["§ 9 Penalties\nA person who acts against § 3(2) is liable to a fine.",
               "§ 3 Notice to quit\n(1) The notice period is four weeks.\n(2) Notice must be given in writing."]
    ranked = codes_first("What does § 3(2) say?", [_hit(t) for t in statute], statute + ["filler"] * 10)
    assert [(h.chunk.text, h.codes) for h in ranked] == [(statute[1], ("3(2)",)), (statute[0], ("3(2)",))]
    contract = ["4.2 A breach of clause 1.1(a) or clause 1.1 ends the licence.",
                '1.1 In this Agreement:\n(a) "Services" means the services.\n(b) "Fees" means the charges.']
    ranked = codes_first("What does clause 1.1(a) say?", [_hit(t) for t in contract], contract + ["filler"] * 10)
    assert [h.chunk.text for h in ranked] == contract[::-1]
    # Under a heading naming it: "(2) ..." of a chunk under "Civil Code > § 3 Notice".
    law = Hit(Chunk("c", "c", "/law", 1, "(1) Four weeks.\n(2) In writing.", 0, 32,
                    heading="Civil Code > § 3 Notice"), 0.0)
    ranked = codes_first("§ 3(2)?", [_hit(statute[0]), law], [statute[0], law.chunk.text] + ["filler"] * 10)
    assert [h.chunk.path for h in ranked] == ["/law", f"/{statute[0]}"]


def test_a_code_is_held_however_a_pdf_or_a_keyboard_spells_it() -> None:
    """A question's "CO2" and "IL-6" missed a paper's "CO₂" and "IL\u20106" (U+2010, publishers' PDFs), so the note
    writing them in ASCII got the code's boost and came first (before 2026-12-08)."""
    ocean = "Ocean uptake of CO\u2082 lowers seawater pH by about 0.1 units."
    chemistry = "Methane (CH4) has a global warming potential 28 times that of CO2 over 100 years."
    filler = ["the garden committee met", "tulip beds", "compost bins", "a watering rota", "the club bar", "minutes"]
    hits = [_hit(ocean), _hit(chemistry)]
    assert [h.codes for h in codes_first("CO2 seawater", hits, [ocean, chemistry, *filler])] == [("CO2",), ("CO2",)]
    assert codes("How much does CO\u2082 lower pH?") == ["CO2"]
    for spelling in ("IL\u20106", "IL\u20116", "IL\u22126", "IL-6"):
        assert rare_codes("IL-6 respiratory failure", [f"Serum {spelling} levels rose", *filler]) == ["IL-6"], spelling
        assert rare_codes(f"{spelling} levels", ["Serum IL-6 levels rose", *filler]) == ["IL-6"], spelling


def test_a_code_is_one_in_any_case() -> None:
    """"IL-6" was a code and "il-6" not: `search "il-6"` ranked a note holding "IL-10" and "6 of 12 patients" first,
    and `ask --extract` quoted it (before 2026-12-08)."""
    assert [codes(q) for q in ("il-6", "Il-6", "IL-6", "covid-19", "sars-cov-2")] == [
        ["il-6"], ["Il-6"], ["IL-6"], ["covid-19"], ["sars-cov-2"]]
    assert codes("pre-2020 or Pre-2020, a 4-letter or 4-Letter word") == []
    assert codes("How is 2019-nCoV or 2019-nCOV spread, and COVID-2019?") == ["2019-nCOV", "COVID-2019"]
    texts = ["In 6 of 12 patients IL-10 levels rose by day 6.", "Serum IL-6 levels predicted failure."]
    filler = ["the garden committee met", "tulip beds", "compost bins", "a watering rota", "the club bar", "minutes"]
    for question in ("What were il-6 levels?", "What were IL-6 levels?"):
        ranked = codes_first(question, [_hit(t) for t in texts], [*texts, *filler])
        assert ranked[0].chunk.text == texts[1], question
