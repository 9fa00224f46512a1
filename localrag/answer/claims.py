"""Whether a cited source holds what the sentence citing it says: the check on citations without a quote.

A quote is checked word for word against the source it cites (`citations.py`); a citation after a plain
sentence ("Employees get 25 days of paid vacation [3]") used to count as cited whatever source 3 held. Here a
citation is unsupported when the cited source holds none of the words its sentence adds to the question: the
sentence's content words that the question lacks (all of them when it adds none), a number written as a word
counting as its digits ("fourteen hives" holds the "14" of "14 hives"). The sentence is the answer's sentence
that holds the citation mark, read together with the sentences before it while it has fewer than three
content words (a mark standing alone after a full stop, "... 25 days. [3]"; a cut-off "Viruses"; "The answer
is: 1"); words an answer says about itself ("answer", "document", "states") and the prompt's labels it echoes
("Question again:") do not count. The citation localrag adds to an answer that cites nothing stands for the
whole answer, so the whole answer is what it is checked against.

Why the added words: an answer repeats the question ("The Hollow Brook apiary has 14 hives"), so every source
retrieved for the question holds some of its words, and "holds none of the sentence's words" flagged 1 of 42
wrong citations of the bundled model's correct COVID-QA answers; the added words flag 21 of 42, and 1 of the 18
right ones, whose cited sentence (a loop's "Viruses can be triggered by viruses") the source does not hold
either (benchmarks/README.md, "Is a bare citation's source the right one"). It is a check, not a
proof: a wrong source that happens to hold one of the words passes, and a source that says the fact in other
words ("two weeks" for "14 days") is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from localrag.answer.citations import citation_marks, without_marks
from localrag.raft.qa import content_words
from localrag.sentences import sentence_spans
from localrag.types import Hit

# How the front ends mark such a citation.
UNSUPPORTED_LABEL = "holds none of the words the answer cites it for"


def missing_sources_note(numbers: Sequence[int]) -> str:
    """What `ask` and a conversation's export (`conversations show`, the chat app's Ctrl+E) say of the numbers an
    answer cites that name no source it was given (`Answer.invalid_citations`)."""
    return f"cited sources that do not exist: {list(numbers)}"

# A sentence this short (a cut-off "Viruses", "The answer is: 1") is read with the sentence before it.
MIN_CLAIM_WORDS = 3

_NUMBER_WORDS = {word: str(i) for i, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
# What an answer says about itself rather than about the documents ("The answer is:", "The document states").
_SELF_TALK = frozenset("answer answers question document documents source sources text states according".split())
# The prompt's own labels (`prompt.py`), which a small model sometimes echoes: "Question again: <the question>".
_PROMPT_LABEL = re.compile(r"^[ \t]*(?:question(?: again)?|documents?)[ \t]*:", re.IGNORECASE | re.MULTILINE)


def claim_words(text: str) -> list[str]:
    """The content words of what an answer says: number words as digits, its talk about itself and the prompt's
    labels it echoes left out."""
    return [_NUMBER_WORDS.get(word, word) for word in content_words(_PROMPT_LABEL.sub(" ", text))
            if word not in _SELF_TALK]


def _said(text: str, offset: int) -> list[str]:
    """The words of the sentence that the citation mark at `offset` cites, with the sentence before it while
    they are fewer than MIN_CLAIM_WORDS; the whole answer's when no sentence holds the mark."""
    spans = sentence_spans(text)
    at = next((i for i, (start, end) in enumerate(spans) if start <= offset < end), None)
    if at is None:
        return claim_words(without_marks(text))
    words: list[str] = []
    for start, end in reversed(spans[: at + 1]):
        words = claim_words(without_marks(text[start:end])) + words
        if len(words) >= MIN_CLAIM_WORDS:
            break
    return words


def unsupported_citations(question: str, text: str, hits: list[Hit], *, attributed: bool = False) -> list[int]:
    """The cited source numbers (in order of first citation) of which some citation's source holds none of the
    words its sentence adds to `question`. With `attributed`, the last mark is the one localrag added for the
    whole answer (`attribution.py`), and the whole answer is what it cites."""
    asked = set(claim_words(question))
    held: dict[int, set[str]] = {}
    out: list[int] = []
    marks = citation_marks(text, hits)
    for i, (offset, numbers) in enumerate(marks):
        whole = attributed and i == len(marks) - 1
        said = set(claim_words(without_marks(text)) if whole else _said(text, offset))
        added = said - asked or said
        for number in numbers:
            if not added or not 1 <= number <= len(hits) or number in out:
                continue
            if number not in held:
                held[number] = set(claim_words(hits[number - 1].chunk.text))
            if not added & held[number]:
                out.append(number)
    return out
