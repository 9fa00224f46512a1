"""A GBNF grammar for a RAFT-tuned model's reply that admits only quotes its prompt shows, each under its number.

A model tuned in the sentence layout with the short chain of thought answers
`##begin_quote##<a shown sentence>##end_quote## [n]` and then `<ANSWER>: ...`. Free, it often writes
a quote that is not in its sources word for word, or a sentence of one source under another's number.
The grammar leaves it the choice of sentence and the final answer, and takes away the rest: the quote
is one of the sentences the prompt shows, copied as shown, and its number is the one the prompt gave
that sentence's source.
"""

from __future__ import annotations

from collections.abc import Sequence

from localrag.raft.dataset import ANSWER_TAG, BEGIN_QUOTE, END_QUOTE

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    body = "".join(_ESCAPES.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x20 else ch) for ch in text)
    return f'"{body}"'


def shown_quote_grammar(shown: Sequence[Sequence[str]]) -> str | None:
    """The grammar for sources numbered from 1, `shown[i]` the sentences the prompt shows of source i + 1;
    None when no source shows a sentence."""
    choices = [f"{literal(sentence + END_QUOTE + f' [{number}]')}"
               for number, sentences in enumerate(shown, start=1) for sentence in dict.fromkeys(sentences)]
    if not choices:
        return None
    return "\n".join([
        f"root ::= {literal(BEGIN_QUOTE)} quote {literal(chr(10) * 2 + ANSWER_TAG + ' ')} answer",
        "quote ::= " + " | ".join(choices),
        "answer ::= [^\\n]+",
    ])
