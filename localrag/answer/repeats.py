"""Stopping an answer that has begun to repeat itself.

Small models fall into loops under greedy decoding: SmolLM2-135M answers the sample corpus's rail
travel question with one sentence pattern written again and again ("The company will also review
all travel plans within ... months") until the token cap, which is most of the answer's time. A
repeat penalty would stop that, but it also pushes the model off the source's own words, which a
grounded answer must repeat; so the loop is recognised in the answer's own text instead.

The rule: once a run of `words` words (lower-cased, outside quotes) has occurred `times` times in
the answer, the answer is looping, and it ends where that last occurrence began. Quoted text (RAFT
##begin_quote## spans and double quotes) is left out of that count, since a tuned model's final
answer may rightly repeat what it quoted; each quote's own words are counted apart, so a quote
repeating itself is a loop too (before 2026-12-08 an answer that opened a quote ran "The warranty
lasts 99 years." ten times inside it). The text is held back by `words` words while streaming,
so the start of the occurrence that ends the answer is never shown and then taken back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

WORDS = 8
TIMES = 3
# How every front end says an answer was ended by this guard.
STOPPED_LABEL = "stopped where it began repeating itself"

# A quote still open at the end of the text is taken for one being written up to this many words; past
# them it is a stray quotation mark, which would otherwise hide every loop after it.
OPEN_QUOTE_WORDS = 60

_WORD = re.compile(r"\w+")
# A quote closed or still open at the end of the text; its words are the source's, not the model's.
_QUOTE = re.compile(r"##begin_quote##.*?(?:##end_quote##|$)|“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)", re.DOTALL)
_PAIRS = (("##begin_quote##", "##end_quote##"), ("“", "”"), ('"', '"'))


class RepeatGuard:
    """Feed an answer piece by piece; it says what may be shown and whether the answer is looping."""

    def __init__(self, words: int = WORDS, times: int = TIMES) -> None:
        self.words = words
        self.times = times
        self.text = ""
        self.shown = 0
        self.looping = False

    def feed(self, piece: str) -> str:
        """The text that may be shown now; after that, `looping` says whether to stop generating."""
        if self.looping:
            return ""
        self.text += piece
        cut = loop_start(self.text, self.words, self.times, complete_only=True)
        if cut is not None:
            self.looping = True
            return self._show(len(self.text[:cut].rstrip()))
        ends = [m.end() for m in _WORD.finditer(self.text)]
        # Held back: the last `words` words (an occurrence being completed starts among them), a word
        # still being written, and the space before them, so a cut answer does not end in a space.
        return self._show(ends[-self.words - 2] if len(ends) > self.words + 1 else 0)

    def flush(self) -> str:
        """The rest of the text, once generation ended by itself."""
        return "" if self.looping else self._show(len(self.text))

    def _show(self, end: int) -> str:
        end = max(end, self.shown)
        piece, self.shown = self.text[self.shown : end], end
        return piece


def until_repeating(pieces: Iterable[str]) -> tuple[str, bool]:
    """A whole reply read from `pieces`, ended where it began repeating itself, and whether it did.

    For a caller that does not stream (`tune`'s check of the exported model); stops reading at the loop.
    """
    guard = RepeatGuard()
    shown = []
    for piece in pieces:
        shown.append(guard.feed(piece))
        if guard.looping:
            break
    shown.append(guard.flush())
    return "".join(shown), guard.looping


def loop_start(text: str, words: int = WORDS, times: int = TIMES, *, complete_only: bool = False) -> int | None:
    """Where `text`'s loop begins: the offset of the first run of `words` words seen `times` times, at
    its `times`-th occurrence; None when the text does not repeat itself that much.

    `complete_only` ignores a last word that may still be growing (the text does not end after it).
    """
    quotes = list(_QUOTE.finditer(text))
    if quotes and _is_stray(quotes[-1]):
        quotes.pop()
    # The words outside quotes, then each quote's own: a quote repeated outside it is no loop, one within it is.
    starts = [_loop_in(spans, words, times, len(text) if complete_only else None)
              for spans in [_unquoted_words(text, quotes), *(_quoted_words(quote) for quote in quotes)]]
    return min((start for start in starts if start is not None), default=None)


def _loop_in(spans: list[tuple[int, int, int, str]], words: int, times: int, growing: int | None) -> int | None:
    """`loop_start` over the words `spans`; `growing`: where the text ends, when a word ending there may grow."""
    if growing is not None and spans and spans[-1][2] == growing:
        spans = spans[:-1]
    seen: Counter[tuple[str, ...]] = Counter()
    for i in range(len(spans) - words + 1):
        run = spans[i : i + words]
        if any(run[j + 1][0] != run[j][0] for j in range(words - 1)):
            continue  # a quote lies between two of its words
        key = tuple(w for *_, w in run)
        seen[key] += 1
        if seen[key] == times:
            return run[0][1]
    return None


def _unquoted_words(text: str, quotes: list[re.Match[str]]) -> list[tuple[int, int, int, str]]:
    """(stretch, start, end, lower-cased word) per word outside `quotes`; `stretch` numbers the unquoted
    stretches, so a run of words that spans a quote can be told apart."""
    out: list[tuple[int, int, int, str]] = []
    start = 0
    for stretch, quote in enumerate([*quotes, None]):
        end = quote.start() if quote is not None else len(text)
        out.extend((stretch, m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text, start, end))
        if quote is not None:
            start = quote.end()
    return out


def _quoted_words(quote: re.Match[str]) -> list[tuple[int, int, int, str]]:
    """The words inside `quote`, its marks left out, as `_unquoted_words` gives them (one stretch)."""
    opener, closer = _pair(quote.group())
    start, end = quote.start() + len(opener), quote.end()
    if _closed(quote.group(), opener, closer):
        end -= len(closer)
    return [(0, m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(quote.string, start, end)]


def _pair(body: str) -> tuple[str, str]:
    return next(pair for pair in _PAIRS if body.startswith(pair[0]))


def _closed(body: str, opener: str, closer: str) -> bool:
    return len(body) >= len(opener) + len(closer) and body.endswith(closer)


def _is_stray(quote: re.Match[str]) -> bool:
    """An unclosed quote running to the end of the text for more than OPEN_QUOTE_WORDS words."""
    body = quote.group()
    opener, closer = _pair(body)
    return not _closed(body, opener, closer) and len(_WORD.findall(body)) > OPEN_QUOTE_WORDS
