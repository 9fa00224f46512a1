"""A GBNF grammar for a RAFT-tuned model's reply that admits only quotes its prompt shows, each under its number.

A model tuned in the sentence layout with the short chain of thought answers
`##begin_quote##<words of a shown sentence>##end_quote## [n]` and then `<ANSWER>: ...`. Free, it often
writes a quote that is not in its sources word for word, or a sentence of one source under another's
number. The grammar (`quote_grammar = true`) leaves it the choice of words and the final answer, and takes
away the rest: the quote is a run of MIN_QUOTE_WORDS or more consecutive words of one shown sentence (a
model trained on whole sentences still often quotes part of one), copied as shown, and its number is the
one the prompt gave that sentence's source. Measured on 600 held-out COVID-QA questions
(benchmarks/README.md, "Quotes held to what the prompt shows"): 586 of 587 quotes verify against 226 of 581
free, citation precision +2.4 points [-0.6, +5.3], token F1 -1.2 [-2.3, -0.2], decoding at 0.72x the
speed; holding it to whole sentences lost more F1. So it is an option, off by default.
"""

from __future__ import annotations

from collections.abc import Sequence

from localrag.answer.citations import MIN_QUOTE_WORDS
from localrag.raft.dataset import ANSWER_TAG, BEGIN_QUOTE, END_QUOTE

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    body = "".join(_ESCAPES.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x20 else ch) for ch in text)
    return f'"{body}"'


def _span_rules(prefix: str, sentence: str) -> tuple[list[str], list[str]]:
    """Rules for every run of MIN_QUOTE_WORDS or more consecutive words of `sentence`: (the starts, the rules).

    Word i's rule is the word, then optionally a space and word i + 1's rule, so a run ends after any word; a
    start is a word's first MIN_QUOTE_WORDS - 1 words written out and then the next word's rule."""
    words = sentence.split()
    lead = MIN_QUOTE_WORDS - 1
    rules = [f"{prefix}-{i} ::= {literal(words[i])}" + (f' (" " {prefix}-{i + 1})?' if i + 1 < len(words) else "")
             for i in range(lead, len(words))]
    starts = [f"{literal(' '.join(words[i:i + lead]) + ' ')} {prefix}-{i + lead}"
              for i in range(len(words) - lead)]
    return starts, rules


def shown_quote_grammar(shown: Sequence[Sequence[str]]) -> str | None:
    """The grammar for sources numbered from 1, `shown[i]` the sentences the prompt shows of source i + 1; None
    when no source shows a sentence of MIN_QUOTE_WORDS words."""
    choices: list[str] = []
    rules: list[str] = []
    for number, sentences in enumerate(shown, start=1):
        cite = literal(f"{END_QUOTE} [{number}]")
        for index, sentence in enumerate(dict.fromkeys(sentences)):
            starts, own = _span_rules(f"w-{number}-{index}", sentence)
            rules.extend(own)
            choices.extend(f"{start} {cite}" for start in starts)
    if not choices:
        return None
    after_quote = literal("\n\n" + ANSWER_TAG + " ")
    return "\n".join([
        f"root ::= {literal(BEGIN_QUOTE)} quote {after_quote} answer",
        "quote ::= " + " | ".join(choices),
        "answer ::= [^\\n]+",
        *rules,
    ])
