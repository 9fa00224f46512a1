"""Codes a question names (INV-2026-0033, HTTP_TIMEOUT, CD40L) put the chunks that hold them first.

Why: the vector leg cannot read a code (MiniLM embeds "INV-2026-0033" much as any other invoice number), so
a chunk that BM25 ranks first for it can sit 12th in the vector leg, and reciprocal rank fusion then puts it
behind chunks both legs found middling: an invoice asked for by its number came 5th, out of `ask`'s 4 sources.
A code is a token that mixes letters and digits or joins words by underscores, as people write identifiers;
plain words, numbers and ordinals ("11th", "1950s") are left to the legs, which weigh them well enough.

A code that most candidates hold picks nothing out ("COVID-19" over a COVID-19 corpus), so it counts only when
at most `RARE_SHARE` of the candidates both legs fetched hold it. The order is otherwise the fusion's: hits
holding more of the question's rare codes come first, each group in its fused order.

Measured (benchmarks/bench_ranking.py, summaries ranking_<set>_exact.json): see benchmarks/README.md,
"Codes the question names".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from localrag.types import Hit

# The share of candidates a code may be held by and still count.
RARE_SHARE = 0.25
_TOKEN = re.compile(r"[^\W_]+(?:[-_./][^\W_]+)*|[^\W_]*(?:_[^\W_]*)+", re.UNICODE)
_PART = re.compile(r"[-_./]")
# A number with a unit or an ordinal's ending reads as a quantity, not as a code.
_QUANTITY = re.compile(r"\d+(?:[.,]\d+)?(?:st|nd|rd|th|s|d|x|k|m|g|kg|mg|ml|l|km|cm|mm|h|min|am|pm)", re.IGNORECASE)


def _is_code(token: str) -> bool:
    if "_" in token.strip("_") and any(ch.isalnum() for ch in token):
        return True
    if _QUANTITY.fullmatch(token):
        return False
    parts = [p for p in _PART.split(token) if p]
    mixed = any(any(ch.isdigit() for ch in p) and any(ch.isalpha() for ch in p) for p in parts)
    # INV-2026-0033, HAdV-55, inv-2026-0033: a capitalised part, or two numbers, joined to a word; "4-letter" and
    # "pre-2020" are words.
    numbers = sum(p.isdigit() for p in parts)
    joined = len(parts) > numbers >= 1 and (numbers > 1 or any(ch.isupper() for ch in token))
    return mixed or joined


def codes(question: str) -> list[str]:
    """The codes `question` names, as it writes them, in order, each once whatever its case."""
    found = (token.strip("._-") for token in _TOKEN.findall(question))
    return list({token.lower(): token for token in found if token and _is_code(token)}.values())


def _pattern(code: str) -> re.Pattern[str]:
    # Not inside a longer word ("AP3" is not "AP31" nor "rAP3"), but "anti-CD40L" and "CD40L-mediated" hold it.
    return re.compile(rf"(?<!\w){re.escape(code)}(?!\w)", re.IGNORECASE)


def rare_codes(question: str, texts: Sequence[str]) -> list[str]:
    """The codes of `question` that some but at most `RARE_SHARE` of `texts` hold."""
    out = []
    for code in codes(question):
        pattern = _pattern(code)
        holding = sum(1 for text in texts if pattern.search(text))
        if 0 < holding <= RARE_SHARE * len(texts):
            out.append(code)
    return out


def codes_first(question: str, hits: list[Hit], candidates: Sequence[str]) -> list[Hit]:
    """`hits` with those holding more of the question's rare codes (rare among `candidates`' texts) first, each
    group in its order, and each hit's `codes` naming those it holds; `hits` as they are when there is none."""
    rare = rare_codes(question, candidates)
    if not rare:
        return hits
    patterns = [(code, _pattern(code)) for code in rare]
    marked = [dataclasses.replace(hit, codes=tuple(code for code, p in patterns if p.search(hit.chunk.text)))
              for hit in hits]
    return sorted(marked, key=lambda hit: -len(hit.codes))
