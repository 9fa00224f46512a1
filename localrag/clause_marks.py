"""How a statute or a contract numbers its clauses, read one way by every rule that reads them.

The words that name a clause ("Section 4", "Rule 4", "Art. 5", "§ 3") and the shape of a clause's heading line
were written four times before 2026-12-07, in lists that disagreed: a question's "rule 4" was a clause's number
(localrag/exact_terms.py) while "Rule 4 Notice to quit" over "(1) A landlord ..." was one sentence
(localrag/sentences.py) and no heading (localrag/ingest/loaders.py); so for Regulation, Schedule and Paragraph.
Now the question's words, the sentence rules, the plain-text loader's headings and the evidence's clause rule
(`is_clause`, which also ranks the chunk holding an asked clause first: localrag/exact_terms.py) all read
`CLAUSE_NAMES`.
"""

from __future__ import annotations

import re

from localrag.types import HEADING_JOIN

# The words naming a clause, and their abbreviations ("Sec. 4", "Art. 5", "Para. 2").
CLAUSE_NAMES = ("subsection", "section", "clause", "article", "paragraph", "regulation", "rule", "schedule", "annex",
                "appendix", "chapter", "part")
_ABBREVIATIONS = ("sec", "art", "para")
# A question's: any case, plural ("clauses 7.1 and 7.2"), with an abbreviation's full stop, or "§"/"§§". Read with
# re.IGNORECASE.
CLAUSE_WORDS = rf"(?:(?<!\w)(?:{'|'.join((*CLAUSE_NAMES, *_ABBREVIATIONS))})s?\.?|§§?)"
# A document line's: as a heading writes it, capitalised or in capitals ("Section 4", "SECTION 4", "Art. 5"); a
# wrapped sentence's "... under the\nrule 4 applies" is no heading.
HEADING_WORDS = "(?:{})".format("|".join(
    alternative for word in (*CLAUSE_NAMES, *_ABBREVIATIONS)
    for alternative in (rf"{word.capitalize()}\.?", rf"{word.upper()}\.?")))
# A clause's heading line: "§ 4 Notice to quit", "Article 5", "ARTICLE V - PAYMENT", "Section 3: Fees", "Rule 4".
_CLAUSE_HEADING = re.compile(
    rf"(?:§+[ \t]*\d+(?:\.\d+)*[a-z]?|{HEADING_WORDS}[ \t]*(?:\d+(?:\.\d+)*[a-z]?|[IVXLC]+))\.?"
    r"(?:[ \t]*(?P<separator>[-\u2013\u2014:.])?[ \t]+(?P<title>\S.*))?")


def clause_heading(line: str) -> re.Match[str] | None:
    """`line` (stripped) read as a clause's heading: a clause word or "§" and a number, then at most a title, which
    a dash or colon sets off or which opens with no small letter; its `title` group the title. None for a sentence
    that opens with a clause's name ("Section 4 applies where the amount is at least", wrapped over "1.5 times ...":
    read as a heading before 2026-12-07, the wrapped line was a sentence of its own)."""
    match = _CLAUSE_HEADING.fullmatch(line)
    if match is None or (match.group("title") and match.group("separator") is None
                         and match.group("title")[0].islower()):
        return None
    return match


# What may stand before a clause's number at the start of its own text ("§ 3 ..."), and of a heading or a numbered
# line above it ("Section 4.2 Payment", "Art. 5"): a sentence opening "Clause 7.3 does not apply ..." refers to it.
_OWN_MARK = re.compile(r"[ \t]*(?:§+[ \t]*)?")
_HEADING_MARK = re.compile(rf"[ \t]*(?:{CLAUSE_WORDS}[ \t]*)?", re.IGNORECASE)
# A line opening with a clause's number: after a clause word or "§", or as a clause writes it ("7.3", "8.", "8)",
# "3(2)"); "8 weeks after delivery" opens with a number of the text.
_NUMBERED = re.compile(rf"^[ \t]*(?:{CLAUSE_WORDS}[ \t]*\d|\d+(?:\.\d+)+|\d+(?:[.)](?!\d)|\())",
                       re.IGNORECASE | re.MULTILINE)
_PART = re.compile(r"[ \t]*\(([0-9a-z]{1,4})\)", re.IGNORECASE)
# A paragraph's own plain number as an EU-style article writes it ("1. A boat shall ...", "2) ..."), not "1.5 times".
_PLAIN_PART = re.compile(r"[ \t]*(\d{1,3})[.)](?!\d)")
# What may follow a bare plain number at a line's start for the line to be that clause: "8. Termination", "8) ...",
# "3(2) ...", or nothing; "8 weeks after delivery", "8,000 units" and "2.5 mg" are numbers of the text.
_PLAIN_NUMBER_END = re.compile(r"$|[.)](?!\d)|\(")


def is_clause(text: str, start: int, heading: str, clause: tuple[str, tuple[str, ...]]) -> bool:
    """Whether the sentence at `start` of a chunk's `text` under `heading` is (part of) `clause`, a number and its
    bracketed parts as `exact_terms.clauses` gives them: it opens with them ("7.3 ...", "§ 3(2) ...", a sub-clause
    "7.3.1 ..." too, not "7.30 ..."); or it opens with the last part ("(2) ...") and the numbered line before it in its
    paragraph, or a heading of its chunk, opens with the rest ("§ 3"); or, opening with no number of its own, it
    follows a numbered line of its paragraph, or stands under a heading, that opens with the whole clause; or it opens
    with the last part as a plain number ("1. ...") under a heading that opens with the rest ("Article 5"). A plain
    number without a mark ("8") opens a line only as "8.", "8)" or "8(": a plain "clause 8" was "8 weeks after
    delivery ..." and "section 2" was "2.5 mg ..." before 2026-12-07."""
    number, parts = clause
    line = text[start:].split("\n", 1)[0]
    if _after_parts(_after_number(line, number, _OWN_MARK), parts) is not None:
        return True
    plain = _PLAIN_PART.match(line)
    if plain and parts and plain.group(1) == parts[-1] and heading and any(
            _after_parts(_after_number(line_above, number, _HEADING_MARK), parts[:-1]) is not None
            for line_above in heading.split(HEADING_JOIN)):
        return True  # an article's paragraph "1. ..." under "Article 5", asked as "Article 5(1)"
    if _NUMBERED.match(line) and not re.match(rf"{_OWN_MARK.pattern}{re.escape(number)}\.\d", line):
        return False  # another clause's own number; a sub-clause ("7.4" of 7) is 7's under a line naming 7
    opening = _PART.match(line)
    paragraph = text.rfind("\n\n", 0, start) + 1
    numbered = [m.start() for m in _NUMBERED.finditer(text, paragraph, start)]
    above = [text[numbered[-1]:].split("\n", 1)[0]] if numbered else []
    for line_above in [*above, *reversed(heading.split(HEADING_JOIN) if heading else [])]:
        rest = _after_number(line_above, number, _HEADING_MARK)
        if _after_parts(rest, parts) is not None:
            return True  # under the whole clause: its text, or one of its parts ("(a)" under "1.1")
        if opening and parts and opening.group(1).lower() == parts[-1] and _after_parts(rest, parts[:-1]) is not None:
            return True
    return False


def holds_clause(text: str, heading: str, clause: tuple[str, tuple[str, ...]]) -> bool:
    """Whether a line of a chunk's `text` under `heading` is (part of) `clause` (`is_clause`): the chunk holds the
    clause itself, not only a sentence citing it."""
    return any(is_clause(text, start, heading, clause)
               for start in (0, *(m.end() for m in re.finditer("\n", text))) if text[start:start + 1] != "\n")


def _after_number(line: str, number: str, mark: re.Pattern[str]) -> str | None:
    """What follows `number` where `line` opens with it (after what `mark` takes), else None."""
    marked = mark.match(line)
    assert marked is not None  # it matches the empty text
    rest = line[marked.end():]
    if not rest.startswith(number) or rest[len(number):len(number) + 1].isdigit():
        return None
    after = rest[len(number):]
    if "." not in number and not marked.group().strip() and _PLAIN_NUMBER_END.match(after) is None:
        return None
    return after


def _after_parts(rest: str | None, parts: tuple[str, ...]) -> str | None:
    """What follows `parts` where `rest` opens with them in brackets ("(2)(a)"), else None."""
    for part in parts:
        if rest is None:
            return None
        match = _PART.match(rest)
        rest = rest[match.end():] if match and match.group(1).lower() == part else None
    return rest
