"""Codes a question names (INV-2026-0033, HTTP_TIMEOUT, CD40L) put the chunks that hold them first.

Why: the vector leg cannot read a code (MiniLM embeds "INV-2026-0033" much as any other invoice number), so
a chunk that BM25 ranks first for it can sit 12th in the vector leg, and reciprocal rank fusion then puts it
behind chunks both legs found middling: an invoice asked for by its number came 5th, out of `ask`'s 4 sources.
A code is a token that mixes letters and digits or joins words by underscores, as people write identifiers;
plain words, numbers and ordinals ("11th", "1950s") are left to the legs, which weigh them well enough, but an
amount written with separators or two decimals ("1,440.00") and a full date ("2026-03-14") are codes. The
number of a clause, section or article that the question names after a word naming it ("clause 12.1", "section
4.2", "§ 3(2)", "Art. 5(2)") is a code too: MiniLM reads "clause 12.2" as any clause, and a contract's LIABILITY
came first for it, its TERMINATION 4th, and out of `ask`'s 4 sources for "clause 12.1" (before 2026-12-07). Only a
dotted number or one with a bracketed part: a plain "clause 8" is any 8 of the text. A decimal or a version
without such a word ("2.5 mg", "version 2.0.1") is no code.

A code that most candidates hold picks nothing out ("COVID-19" over a COVID-19 corpus), so it counts only when
at most `RARE_SHARE` of the candidates both legs fetched hold it. The order is otherwise the fusion's: hits
holding an asked clause itself come first (the clause's heading or numbered line and its "(2)" line: a statute
writes "§ 3(2)" as "(2) ..." under "§ 3", which only a sentence citing it writes as "3(2)"), then hits holding
more of the question's rare codes, each group in its fused order.

Measured (benchmarks/bench_ranking.py, summaries ranking_<set>_exact.json): see benchmarks/README.md,
"Codes the question names".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from localrag.clause_marks import CLAUSE_WORDS, holds_clause
from localrag.fts_terms import same_characters
from localrag.types import Hit

# The share of candidates a code may be held by and still count.
RARE_SHARE = 0.25
_TOKEN = re.compile(r"[^\W_]+(?:[-_./][^\W_]+)*|[^\W_]*(?:_[^\W_]*)+", re.UNICODE)
_PART = re.compile(r"[-_./]")
# A clause's number after the word that names it (`clause_marks.CLAUSE_WORDS`), and its bracketed parts ("1.1(a)":
# "1.1" and "(a)"); "§§" and plural words name the first of a list ("clauses 7.1 and 7.2": 7.1).
_CLAUSE = re.compile(rf"{CLAUSE_WORDS}\s*(\d+(?:\.\d+)*)((?:\s?\([0-9a-z]{{1,4}}\))*)(?!\w)", re.IGNORECASE)
_BRACKETED = re.compile(r"\(([0-9a-z]{1,4})\)", re.IGNORECASE)
# An amount as an invoice writes it, with thousands separators or two decimals ("1,440.00", "1.440,00", "1'440.50",
# "99.90"; not a space, which parts two numbers as often), and a full date ("2026-03-14", "14.03.2026",
# "14/03/2026"): MiniLM reads "1,440.00" as any amount, and the invoice holding it came 3rd, the one dated
# "2026-03-14" 3rd, behind invoices the vector leg liked (before 2026-12-07). A year alone, a plain or one-decimal
# number and a percentage are no code: any text has them.
_AMOUNT = r"\d{1,3}(?:[,.'\u202f]\d{3})+(?:[.,]\d{2})?|\d+[.,]\d{2}"
_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4}"
_FIGURE = re.compile(rf"(?<![\w.,/-])(?:{_DATE}|{_AMOUNT})(?![\w%]|[.,/-]\d)")
# A number with a unit or an ordinal's ending reads as a quantity, not as a code.
_QUANTITY = re.compile(r"\d+(?:[.,]\d+)?(?:st|nd|rd|th|s|d|x|k|m|g|kg|mg|ml|l|km|cm|mm|h|min|am|pm)", re.IGNORECASE)


def _is_code(token: str) -> bool:
    if "_" in token.strip("_") and any(ch.isalnum() for ch in token):
        return True
    if _QUANTITY.fullmatch(token):
        return False
    parts = [p for p in _PART.split(token) if p]
    mixed = any(any(ch.isdigit() for ch in p) and any(ch.isalpha() for ch in p) for p in parts)
    numbers = sum(p.isdigit() for p in parts)
    # INV-2026-0033, HAdV-55, IL-6, il-6: two numbers joined to a word, or a word and the number after it, in any
    # case: "il-6" was no code where "IL-6" was, and a note holding "IL-10" and "6 of 12" came first for it (before
    # 2026-12-08). A number before its word ("4-letter") or a year after it ("pre-2020", "Pre-2020") makes a word,
    # unless the word is written in capitals past its first letter ("2019-nCoV", "COVID-2019"), as no word is.
    capitals = any(any(ch.isupper() for ch in p[1:]) for p in parts)
    joined = len(parts) > numbers >= 1 and (
        numbers > 1 or capitals or (not parts[0].isdigit() and not any(p.isdigit() and len(p) == 4 for p in parts)))
    return mixed or joined


def clauses(question: str) -> list[tuple[str, tuple[str, ...]]]:
    """The clauses `question` names by their number after a word naming them (`_CLAUSE`), each as its number and its
    bracketed parts: "clause 12.1" is ("12.1", ()), "§ 3(2)" ("3", ("2",)), "Art. 5(2)(a)" ("5", ("2", "a")),
    "clause 8" ("8", ()); in order, each once."""
    found = ((number, tuple(part.lower() for part in _BRACKETED.findall(parts)))
             for number, parts in _CLAUSE.findall(question))
    return list(dict.fromkeys(found))


def codes(question: str) -> list[str]:
    """The codes `question` names, as it writes them, in order, each once whatever its case: its identifiers, its
    amounts and full dates (`_FIGURE`), then its clauses' numbers ("12.1", "3(2)"; of "1.1(a)" both "1.1(a)" and
    "1.1", as the clause is written in a cross-reference and at its own start)."""
    # One spelling of each (`fts_terms.same_characters`), as the texts are read: "CO\u2082" is "CO2", "IL\u20106"
    # is "IL-6".
    question = same_characters(question)
    found = (token.strip("._-") for token in _TOKEN.findall(question))
    numbered = list(_clause_codes(question))
    figures = _FIGURE.findall(question)
    return list({token.lower(): token
                 for token in [*(t for t in found if t and _is_code(t)), *figures, *numbered]}.values())


def _pattern(code: str) -> re.Pattern[str]:
    # Not inside a longer word ("AP3" is not "AP31" nor "rAP3"), but "anti-CD40L" and "CD40L-mediated" hold it; a
    # clause's number is not the tail of a longer one ("12.1" is not in "3.12.1", "112.1" nor "12.10").
    # An amount or a date is not part of a longer one either ("1,000" is not in "1,000,000").
    before, after = (r"(?<!\d[.,'/-])", r"(?![.,'/-]\d)") if _FIGURE.fullmatch(code) else ("", "")
    return re.compile(rf"(?<!\w)(?<!\d\.){before}{re.escape(code)}(?!\w){after}", re.IGNORECASE)


def _clause_codes(question: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each clause code of `question` (`codes`) with the clause it names, the clauses' whole numbers first."""
    # A plain "clause 8" is any 8 of the text.
    named = [(number, parts) for number, parts in clauses(question) if "." in number or parts]
    out = {f"{number}{''.join(f'({p})' for p in parts)}": (number, parts) for number, parts in named}
    for number, parts in named:
        if parts and "." in number:
            out.setdefault(number, (number, parts))
    return out


def _holds(pattern: re.Pattern[str], clause: tuple[str, tuple[str, ...]] | None, text: str, spelled: str,
           heading: str = "") -> bool:
    # `spelled`: `text` as `same_characters` spells it, once per text for all the codes: a paper's "CO\u2082" and
    # "IL\u20106" hold the asked "CO2" and "IL-6", which a text writing them in ASCII alone did (before 2026-12-08).
    # A clause is held where a line of the text is it (`holds_clause`): a statute writes "§ 3(2)" as "(2) ..." under
    # "§ 3", so only a sentence citing it held "3(2)".
    return pattern.search(spelled) is not None or (clause is not None and holds_clause(text, heading, clause))


def rare_codes(question: str, texts: Sequence[str]) -> list[str]:
    """The codes of `question` that some but at most `RARE_SHARE` of `texts` hold (a clause's code: its text, or
    the clause itself, `clause_marks.holds_clause`)."""
    named = _clause_codes(question)
    spelled = [same_characters(text) for text in texts]
    out = []
    for code in codes(question):
        pattern = _pattern(code)
        holding = sum(1 for text, spelling in zip(texts, spelled, strict=True)
                      if _holds(pattern, named.get(code), text, spelling))
        if 0 < holding <= RARE_SHARE * len(texts):
            out.append(code)
    return out


def codes_first(question: str, hits: list[Hit], candidates: Sequence[str]) -> list[Hit]:
    """`hits` with those holding more of the question's rare codes (rare among `candidates`' texts) first, each
    group in its order, and each hit's `codes` naming those it holds; `hits` as they are when there is none. A hit
    holding an asked clause itself (`clause_marks.holds_clause`: "§ 3" over "(2) ...") comes before every hit that
    only cites it: "§ 9 Penalties ... against § 3(2)" came first for "§ 3(2)", and a cross-reference holding both
    "1.1(a)" and "1.1" came before clause 1.1's own "(a) ..." (before 2026-12-07)."""
    rare = rare_codes(question, candidates)
    if not rare:
        return hits
    named = _clause_codes(question)
    asked = list(dict.fromkeys(named[code] for code in rare if code in named))
    patterns = [(code, _pattern(code), named.get(code)) for code in rare]
    spelled = [same_characters(hit.chunk.text) for hit in hits]
    marked = [dataclasses.replace(hit, codes=tuple(code for code, pattern, clause in patterns
                                                   if _holds(pattern, clause, hit.chunk.text, spelling,
                                                             hit.chunk.heading)))
              for hit, spelling in zip(hits, spelled, strict=True)]
    own = [any(holds_clause(hit.chunk.text, hit.chunk.heading, clause) for clause in asked) for hit in marked]
    ranked = sorted(zip(own, marked, strict=True), key=lambda pair: (not pair[0], -len(pair[1].codes)))
    return [hit for _, hit in ranked]
