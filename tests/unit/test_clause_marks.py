"""The one reading of clause words and clause numbers (localrag/clause_marks.py)."""

from __future__ import annotations

from localrag.clause_marks import clause_heading, is_clause


def test_a_plain_number_is_a_clause_only_as_a_clauses_mark_or_under_a_line_naming_it() -> None:
    # Before 2026-12-07 a plain "clause 8" was "8 weeks after delivery ..." and "8,000 units ...", "section 2" was
    # "2.5 mg ...".
    for text, clause in (("8 weeks after delivery the buyer pays.", "8"), ("8,000 units are shipped.", "8"),
                         ("2.5 mg and recovered within two weeks.", "2"), ("12 patients received a dose.", "12")):
        assert not is_clause(text, 0, "", (clause, ())), text
    for text in ("8. Termination applies.", "8) Termination applies.", "§ 8 Termination", "8"):
        assert is_clause(text, 0, "", ("8", ())), text
    assert is_clause("3(2) Notice in writing.", 0, "", ("3", ("2",)))
    # Under a heading or a numbered line naming it, a line of the clause counts whatever it opens with.
    assert is_clause("8 weeks after delivery the buyer pays.", 0, "Terms > 8. Payment", ("8", ()))
    assert is_clause("8. Payment\n8 weeks after delivery the buyer pays.", 11, "", ("8", ()))
    assert is_clause("8.1 The buyer pays.", 0, "Clause 8 Payment", ("8", ()))
    assert not is_clause("8 Payment\n8 weeks after delivery the buyer pays.", 10, "", ("8", ()))


def test_a_clause_heading_is_a_clause_word_and_number_with_at_most_a_title() -> None:
    for line in ("§ 4 Notice to quit", "Rule 4 Notice to quit", "Regulation 12", "SCHEDULE 2 - FEES", "Art. 5",
                 "Paragraph 3: Scope", "Section 4.2 Payment", "Part IV", "Section 4 — applies"):
        assert clause_heading(line) is not None, line
    # A sentence opening with a clause's name, and a clause word in small letters, wrapped prose.
    for line in ("Section 4 applies where the amount is at least", "rule 4 applies", "Sections of the act",
                 "§ 9 was repealed"):
        assert clause_heading(line) is None, line


def test_an_articles_plain_numbered_paragraph_is_its_bracketed_part() -> None:
    # "Article 5(1)" is written "1. ..." under "Article 5 Speed limits" (EU style); before 2026-12-07 it was no part.
    heading = "REGULATION ON BOATS > Article 5 Speed limits"
    text = "1. A boat shall not exceed 5 knots in the harbour.\n2. Jet skis are prohibited."
    assert is_clause(text, 0, heading, ("5", ("1",)))
    assert is_clause(text, 51, heading, ("5", ("2",)))
    assert not is_clause(text, 51, heading, ("5", ("1",)))
    assert not is_clause(text, 0, "REGULATION ON BOATS > Article 4 Registration", ("5", ("1",)))
    assert not is_clause("1.5 times the rent.", 0, heading, ("5", ("1",)))
