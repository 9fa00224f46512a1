"""Check what an answer claims about its sources: which numbers it cites and whether its quotes exist.

Citations are bracketed source numbers in the forms small models actually write: [1], [1, 2],
[1][3], [1-3], [Source 2]. Numbers of four or more digits are years, not citations.

Quotes are the spans the model put in double quotes (straight or curly) or between
##begin_quote## and ##end_quote## (the RAFT training format); the citation written right after a
quote (or, failing that, right before it) says which source it claims to come from. A quote is
checked against that source's chunk text only, because a quote attributed to the wrong source is a
wrong citation; an unattributed quote is checked against every source. A cited quote not found in its
source is still looked for word for word in the others, and where one holds it that source is named
(`Quote.found_in`): a small model often copies the right sentence under the wrong number (a RAFT-tuned
135M model did so in 73 of 78 answers whose quote was not found; benchmarks/README.md, "RAFT in the sentence
layout"), and "not found" alone would read as an invented quote. Both sides are normalised
(case, whitespace, curly quotes, dashes, a PDF's ligatures and words broken at a line end) with a map back
to the original offsets, so a verified quote can be highlighted in the chunk. Verbatim means on whole
words: "at most 3" is not in "at most 38", a minus before a number is kept, and an ellipsis may leave out
words but not a negation ("must ... moor" for "must not moor"). A quote that is not verbatim gets a fuzzy
score: the best difflib ratio between the quote and a window of the source of the same length, anchored at each
block the two share (the "partial ratio" idea); 0.85 or more counts as close, which catches a
dropped comma or a changed word but not an invented sentence.

A source's own reference marks are not citations: a paper's sentence often ends "... 15-45% [2] .", and
an answer that quotes it copies the "[2]". A bracketed mark inside a quote whose whole text, mark
included, is verbatim in a source is the document's text: it is not counted as citing source 2, and the
quote keeps it (`answer_citations`, `verify_quotes`).

A RAFT-tuned model answers in its training format: reasoning that quotes the documents between
##begin_quote## and ##end_quote##, then `<ANSWER>: ...`. Its quotes are verified like any others
(from the raw text); `tidy_raft_text` turns the markup into what a reader wants, the reasoning with
the quotes in curly quotes and the final answer on its own line, and leaves other text unchanged.
A tag cut off by the token limit is dropped rather than shown half-written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from localrag.answer.evidence import ROW_NOTE
from localrag.fts_terms import SAME_CHARACTERS
from localrag.sentences import is_unspaced, spaced
from localrag.types import Hit, Quote, QuoteStatus

CLOSE_THRESHOLD = 0.85
MIN_QUOTE_WORDS = 3

_NUMBER = r"(?:source|src|doc(?:ument)?)?\s*#?\s*\d{1,3}"
_CITATION = re.compile(
    rf"\[\s*(?P<body>{_NUMBER}(?:\s*(?:,|;|&|and|-|–)\s*{_NUMBER})*)\s*\]"
    rf"|\(\s*(?P<paren>(?:source|src)\s*#?\s*\d{{1,3}}(?:\s*(?:,|;|&|and|-|–)\s*{_NUMBER})*)\s*\)",
    re.IGNORECASE,
)
_RANGE = re.compile(r"(\d{1,3})\s*[-–]\s*(?:(?:source|src|doc(?:ument)?)\s*#?\s*)?(\d{1,3})", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,3}")
_MAX_RANGE = 20

# Quote marks of English and of the languages whose own marks a model copies from their sources: French « »,
# German „ “, Chinese and Japanese 「 」 and 『 』 (quotes in them went unchecked, a misquote without its ✗).
_QUOTE = re.compile(
    r"##begin_quote##(?P<tag>.*?)##end_quote##|„(?P<low>[^“”\n]*?)[“”]|“(?P<curly>[^”]*?)”|\"(?P<straight>[^\"]*?)\""
    r"|«(?P<guillemets>[^»]*?)»|「(?P<corner>[^」]*?)」|『(?P<white_corner>[^』]*?)』",
    re.DOTALL,
)
_QUOTE_GROUPS = ("tag", "low", "curly", "straight", "guillemets", "corner", "white_corner")
_AFTER = re.compile(r"[^\n\"“”\[(]{0,12}?(?P<cite>\[[^\]\n]{1,40}\]|\([^)\n]{1,40}\))")
_BEFORE = re.compile(r"(?P<cite>\[[^\]\n]{1,40}\]|\([^)\n]{1,40}\))[^\n\"“”\])]{0,30}$")
_TRAILING_CITE = re.compile(r"\s*(\[[^\]\n]{1,40}\])\s*[.,;:]?\s*$")
_ELLIPSIS = re.compile(r"\s*(?:\.\s*\.\s*\.|…)\s*")
_WORD = re.compile(r"\w+")
_RAFT_QUOTE = re.compile(r"##begin_quote##(?P<quote>.*?)##end_quote##", re.DOTALL)
# Stray or truncated markers: "##begin_quote##" without its end, or "##end_q" cut off at max tokens.
_RAFT_MARKER = re.compile(r"##(?:begin|end)_quote##|#{1,2}[a-z_]{0,12}#?$")
_ANSWER_TAG = re.compile(r"<\s*ANSWER\s*>\s*:?", re.IGNORECASE)

_EDGE_PUNCT = " .,;:!?'\"-"
# A word broken at a line end ("engi-\nneer" in a wrapped text; a quote joins the lines: "engi- neer"). Not a prefix
# whose hyphen stands for the word after "and", "or", "to" (in the languages localrag reads): "α- and β-adrenergic"
# joined as "αand", and a quote of "and β-adrenergic receptors were blocked" was only close (before 2026-12-08).
_BROKEN_WORD = re.compile(
    r"(?<=[^\W\d_])- (?=[^\W\d_])(?!(?:and|or|nor|to|vs|versus|und|oder|bis|sowie|bzw|et|ou|y|o|e|u|en|og)\b)")
# Words that turn a sentence's meaning round: an ellipsis may leave out words, not one of these.
_NEGATION = re.compile(r"\b(?:not|no|never|nor|none|nothing|cannot|without)\b|n't\b")


def _numbers(body: str) -> list[int]:
    found: list[int] = []
    rest = body
    for match in _RANGE.finditer(body):
        low, high = int(match.group(1)), int(match.group(2))
        if low <= high and high - low <= _MAX_RANGE:
            found.extend(range(low, high + 1))
            rest = rest.replace(match.group(0), " ", 1)
    found.extend(int(d) for d in _DIGITS.findall(rest))
    return found


def _cited_numbers(text: str) -> list[int]:
    numbers: list[int] = []
    for match in _CITATION.finditer(text):
        numbers.extend(_numbers(match.group("body") or match.group("paren")))
    return numbers


def parse_citations(text: str, n_sources: int) -> tuple[list[int], list[int]]:
    """(valid cited numbers, invalid ones), each unique in order of first appearance."""
    valid: list[int] = []
    invalid: list[int] = []
    for number in _cited_numbers(text):
        bucket = valid if 1 <= number <= n_sources else invalid
        if number not in bucket:
            bucket.append(number)
    return valid, invalid


def _first_number(cite: str) -> int | None:
    numbers = _cited_numbers(cite)
    return numbers[0] if numbers else None


@dataclass(frozen=True)
class _Quoted:
    """A quoted span of an answer: `whole` as written, `bare` without a citation written inside its end,
    `inner` that citation's number, `outer` the one written right after (or before) the quote, and
    `span` where the quote's text lies in the answer."""

    whole: str
    bare: str
    inner: int | None
    outer: int | None
    span: tuple[int, int]


# How a table row's header follows it (`evidence.ROW_NOTE`), "(a row under “" and "”)": the text localrag wrote.
# Split from the row's own note, not from `header_note` of a stand-in header: that is a key path's "(under …)".
_ROW_NOTE = tuple(ROW_NOTE.split("{}"))
# A row's first cell starts after a line's bullet or the words before it ("It was: 2024-03-07 | ...").
_ROW_START = re.compile(r"^\s*(?:[-*•]\s)?\s*|[:;.!?]\s+")


def _noted_row(text: str, note: int) -> tuple[int, int] | None:
    """Where the row an answer copied with its header note (starting at `note`) stands: the cells before the note on
    its line; None when there are none."""
    line = text.rfind("\n", 0, note) + 1
    if "|" not in text[line:note]:
        return None
    start = line + max(m.end() for m in _ROW_START.finditer(text[line:note].split("|", 1)[0]))
    end = note
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _quote_span(text: str, match: re.Match[str], group: str) -> tuple[int, int] | None:
    """Where the quote `match` stands in `text`; for the header a row's note names (`_ROW_NOTE`), the row (the header
    is localrag's own note, which a model copies: "✓ verified" on it vouched for nothing the answer says); None for
    such a note with no row before it."""
    if group == "curly" and text.startswith(_ROW_NOTE[1], match.end() - 1) and text.endswith(
            _ROW_NOTE[0], 0, match.start() + 1):
        return _noted_row(text, match.start() + 1 - len(_ROW_NOTE[0]))
    return match.span(group)


def _quoted(text: str) -> list[_Quoted]:
    """Every quoted span of three or more words (without its inner citation), in order; a table row's header note
    stands for the row before it (`_quote_span`)."""
    found: list[_Quoted] = []
    for match in _QUOTE.finditer(text):
        group = next(g for g in _QUOTE_GROUPS if match.group(g) is not None)
        span = _quote_span(text, match, group)
        if span is None:
            continue
        quote = text[span[0]:span[1]]
        if "\n\n" in quote:
            continue
        inner: int | None = None
        bare = quote
        trailing = _TRAILING_CITE.search(quote)
        if trailing:
            inner = _first_number(trailing.group(1))
            bare = quote[: trailing.start()]
        bare = bare.strip()
        if len(_WORD.findall(spaced(bare))) < MIN_QUOTE_WORDS:
            continue
        outer: int | None = None
        after = _AFTER.match(text, match.end())
        if after:
            outer = _first_number(after.group("cite"))
        else:
            before = _BEFORE.search(text[max(0, match.start() - 80) : match.start()])
            if before:
                outer = _first_number(before.group("cite"))
        found.append(_Quoted(quote.strip(), bare, inner, outer, span))
    return found


def extract_quotes(text: str) -> list[tuple[str, int | None]]:
    """Quoted spans of three or more words, each with the source number cited next to it (or None).

    A citation written inside the closing quote mark is taken as the quote's and taken off its text."""
    return [(q.bare, q.inner if q.inner is not None else q.outer) for q in _quoted(text)]


def _normalise(text: str, *, anywhere: bool = False) -> tuple[str, list[int]]:
    """Lower-cased text with unified quotes, dashes and single spaces, ligatures as their letters (a PDF's "ﬁ"),
    a word broken at a line end joined again ("engi-\nneer"; at any space with `anywhere`, for a quote, which
    holds its source's lines joined: "engi- neer"), a blockquote's ">" marks as spaces, and each char's original
    index."""
    out: list[str] = []
    index: list[int] = []
    # Where `out` has a space standing for a line break: a source's word is broken only there ("Pre- and" on one
    # line is no broken word).
    breaks: set[int] = set()
    space = newline = False
    line_start = True
    for i, ch in enumerate(text):
        # Characters that print alike read as one, by the rule search's words, phrases and codes read them by; mapped
        # here one by one rather than by `safe_text.plain_text` first, to keep each character's index into the text
        # as written (plain_text_offsets maps the other way only).
        ch = SAME_CHARACTERS.get(ch, ch)
        if not ch:
            continue
        if ch == ">" and line_start:
            # A blockquote's mark is layout, as a bullet is: a quote of a quoted note's sentence leaves it out
            # (`sentences.one_line`), and was "close", not verbatim.
            ch = " "
        line_start = ch == "\n" or (line_start and ch.isspace())
        if ch.isspace():
            space = bool(out)
            newline = newline or ch == "\n"
            continue
        if not space and out and unicodedata.combining(ch):
            # A decomposed accent (NFD's "e" and U+0301) composes with its letter, as a composed quote holds it: each
            # alone, "café" was no quote of "cafe\u0301".
            composed = unicodedata.normalize("NFC", out[-1] + ch)
            if len(composed) == 1:
                out[-1] = composed
                continue
        if space:
            if newline:
                breaks.add(len(out))
            out.append(" ")
            index.append(i)
            space = False
        newline = False
        for low in unicodedata.normalize("NFKC", ch).lower():
            out.append(low)
            index.append(i)
    joined = "".join(out)
    broken = {m.start() for m in _BROKEN_WORD.finditer(joined) if anywhere or m.start() + 1 in breaks}
    if not broken:
        return joined, index
    kept = [n for n in range(len(joined)) if n not in broken and n - 1 not in broken]
    return "".join(joined[n] for n in kept), [index[n] for n in kept]


def _quote_parts(quote: str, *, anywhere: bool = True) -> list[str]:
    normal, _ = _normalise(quote, anywhere=anywhere)
    parts = [_trimmed(p) for p in _ELLIPSIS.split(normal)]
    return [p for p in parts if p]


def _quote_readings(quote: str) -> list[list[str]]:
    """The ways `quote`'s parts may stand in a source: its "engi- neer" joined, as a source's line break is (a quote
    copies its sentence's lines joined), then, where that differs, as written (a source's "long- vs. short-term" on
    one line)."""
    joined, written = _quote_parts(quote), _quote_parts(quote, anywhere=False)
    return [joined] if joined == written else [joined, written]


def _found_in(readings: list[list[str]], haystack: str) -> bool:
    return any(_find_in_order(parts, haystack) is not None for parts in readings)


def _trimmed(part: str) -> str:
    """A quote's part without the punctuation around it; a minus before a number is the number's."""
    trimmed = part.strip(_EDGE_PUNCT)
    signed = part.lstrip(_EDGE_PUNCT.replace("-", ""))
    return "-" + trimmed if trimmed and signed.startswith("-" + trimmed) and trimmed[0].isdigit() else trimmed


def _find_in_order(parts: list[str], haystack: str) -> tuple[int, int] | None:
    """Where `parts` stand in `haystack`, in order, each on whole words ("at most 3" is not in "at most 38"); None
    when they do not, or when what an ellipsis leaves out holds a negation ("must ... moor" for "must not moor")."""
    start = end = 0
    position = 0
    for n, part in enumerate(parts):
        found = _whole_words(part, haystack, position)
        if found < 0 or (n and _NEGATION.search(haystack, end, found)):
            return None
        if n == 0:
            start = found
        position = end = found + len(part)
    return start, end


def _joined(left: str, right: str) -> bool:
    """Whether two neighbouring characters are of one word: letters or digits both, neither of a script written
    without spaces (where each character may end a word: 「五百元」 stands whole in 「不得超过五百元。」)."""
    return left.isalnum() and right.isalnum() and not is_unspaced(left) and not is_unspaced(right)


def _whole_words(part: str, haystack: str, position: int) -> int:
    """The first place from `position` where `part` stands in `haystack` not inside a longer word or number."""
    found = haystack.find(part, position)
    while found >= 0:
        before = haystack[found - 1] if found else " "
        after = haystack[found + len(part)] if found + len(part) < len(haystack) else " "
        if not _joined(before, part[0]) and not _joined(part[-1], after):
            return found
        found = haystack.find(part, found + 1)
    return -1


def _partial_ratio(needle: str, haystack: str) -> tuple[float, int, int]:
    """Best ratio of `needle` against a same-length window of `haystack`, and that window."""
    if not needle or not haystack:
        return 0.0, 0, 0
    if len(needle) >= len(haystack):
        return SequenceMatcher(None, needle, haystack, autojunk=False).ratio(), 0, len(haystack)
    blocks = SequenceMatcher(None, haystack, needle, autojunk=False).get_matching_blocks()
    best = (0.0, 0, 0)
    tried: set[int] = set()
    for i, j, size in blocks:
        if size == 0:
            continue
        start = max(0, min(i - j, len(haystack) - len(needle)))
        if start in tried:
            continue
        tried.add(start)
        end = start + len(needle)
        ratio = SequenceMatcher(None, needle, haystack[start:end], autojunk=False).ratio()
        if ratio > best[0]:
            best = (ratio, start, end)
    return best


def _check(readings: list[list[str]],
           source: tuple[str, list[int]]) -> tuple[QuoteStatus, float, int | None, int | None]:
    """The best of `_checked` over a quote's readings (`_quote_readings`), the first verified one."""
    best = _checked(readings[0], source)
    for parts in readings[1:]:
        if best[0] is QuoteStatus.VERIFIED:
            break
        checked = _checked(parts, source)
        if checked[0] is QuoteStatus.VERIFIED or checked[1] > best[1]:
            best = checked
    return best


def _checked(parts: list[str], source: tuple[str, list[int]]) -> tuple[QuoteStatus, float, int | None, int | None]:
    normal, index = source
    span = _find_in_order(parts, normal)
    if span is not None:
        return QuoteStatus.VERIFIED, 1.0, index[span[0]], index[span[1] - 1] + 1
    ratio, start, end = _partial_ratio(" ".join(parts), normal)
    if ratio >= CLOSE_THRESHOLD and end > start:
        # The window has the quote's length: widened to whole words, so a highlight never cuts one ("he … onl"),
        # and without a space at its ends (a space maps to the character after it: it would take that one in).
        while end > start and normal[end - 1] == " ":
            end -= 1
        while start < end and normal[start] == " ":
            start += 1
        while start > 0 and normal[start - 1].isalnum() and normal[start].isalnum():
            start -= 1
        while end < len(normal) and normal[end].isalnum() and normal[end - 1].isalnum():
            end += 1
        return QuoteStatus.CLOSE, ratio, index[start], index[end - 1] + 1
    return QuoteStatus.NOT_FOUND, ratio, None, None


class _Sources:
    """The sources' normalised texts, made once per answer."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self._normalised: dict[int, tuple[str, list[int]]] = {}

    def __len__(self) -> int:
        return len(self.hits)

    def text(self, number: int) -> tuple[str, list[int]]:
        if number not in self._normalised:
            self._normalised[number] = _normalise(self.hits[number - 1].chunk.text)
        return self._normalised[number]

    def verbatim(self, quote: str) -> bool:
        """Whether `quote` is word for word in one of the sources."""
        readings = _quote_readings(quote)
        return any(_found_in(readings, self.text(n)[0]) for n in range(1, len(self) + 1))


def _document_text(quote: _Quoted, sources: _Sources) -> bool:
    """Whether the citation marks inside `quote` are its source's own (the whole quote is verbatim in one)."""
    return _CITATION.search(quote.whole) is not None and sources.verbatim(quote.whole)


def verify_quotes(text: str, hits: list[Hit]) -> list[Quote]:
    """Each quote in `text` checked against its cited source (numbered from 1 in `hits` order)."""
    sources = _Sources(hits)
    checked: list[Quote] = []
    for quoted in _quoted(text):
        quote, cited = quoted.bare, quoted.inner if quoted.inner is not None else quoted.outer
        if quoted.inner is not None and _document_text(quoted, sources):
            quote, cited = quoted.whole, quoted.outer  # the mark inside is the source's own reference
        readings = _quote_readings(quote)
        if cited is not None and 1 <= cited <= len(hits):
            status, similarity, start, end = _check(readings, sources.text(cited))
            found_in = _verbatim_elsewhere(readings, sources, cited) if status is QuoteStatus.NOT_FOUND else None
            checked.append(Quote(quote, cited, status, similarity, start, end, found_in))
            continue
        best = Quote(quote, None, QuoteStatus.NOT_FOUND, 0.0)
        for number in range(1, len(hits) + 1):
            status, similarity, start, end = _check(readings, sources.text(number))
            if similarity > best.similarity:
                found = status is not QuoteStatus.NOT_FOUND
                best = Quote(quote, number if found else None, status, similarity, start, end)
            if status is QuoteStatus.VERIFIED:
                break
        checked.append(best)
    return checked


def _verbatim_elsewhere(readings: list[list[str]], sources: _Sources, cited: int) -> int | None:
    """The first source other than `cited` that holds the quote (`_quote_readings`) word for word; None when none
    does."""
    for number in range(1, len(sources) + 1):
        if number != cited and _found_in(readings, sources.text(number)[0]):
            return number
    return None


def _own_marks(text: str, hits: list[Hit]) -> str:
    """`text` with the citation marks that are the sources' own text (inside a verbatim quote) blanked out,
    offsets unchanged (see the module docstring)."""
    sources = _Sources(hits)
    kept = list(text)
    for quoted in _quoted(text):
        if _document_text(quoted, sources):
            start, end = quoted.span
            for mark in _CITATION.finditer(text, start, end):
                kept[mark.start() : mark.end()] = " " * (mark.end() - mark.start())
    return "".join(kept)


def answer_citations(text: str, hits: list[Hit]) -> tuple[list[int], list[int]]:
    """`parse_citations` of an answer over `hits`, leaving out the marks inside quotes that are the
    sources' own text."""
    return parse_citations(_own_marks(text, hits), len(hits))


def citation_marks(text: str, hits: list[Hit]) -> list[tuple[int, list[int]]]:
    """(offset in `text`, numbers it cites) of each of the answer's own citation marks, as `answer_citations`
    reads them."""
    return [(mark.start(), _numbers(mark.group("body") or mark.group("paren")))
            for mark in _CITATION.finditer(_own_marks(text, hits))]


def without_marks(text: str) -> str:
    """`text` without citation marks and RAFT tags: the words a sentence says."""
    return _ANSWER_TAG.sub(" ", _RAFT_MARKER.sub(" ", _CITATION.sub(" ", text)))


def split_raft_answer(text: str) -> tuple[str, str] | None:
    """(reasoning, final answer) of a RAFT-format reply, or None when it has no `<ANSWER>:` tag.

    The final answer runs from the first tag to the next one (a small model sometimes repeats it).
    """
    tags = list(_ANSWER_TAG.finditer(text))
    if not tags:
        return None
    end = tags[1].start() if len(tags) > 1 else len(text)
    return text[: tags[0].start()].strip(), text[tags[0].end() : end].strip()


def quoted_answer(text: str, quotes: list[Quote]) -> str | None:
    """The first verified ##begin_quote## span of a RAFT-format reply, as its answer; None when there is none.

    `quotes` are `verify_quotes(text, ...)`, in the order the reply quotes. A small tuned model copies a
    sentence that holds the answer more reliably than it writes the answer (benchmarks/README.md), so
    the verified sentence can stand in for what it wrote after `<ANSWER>:` (Settings.raft_answer "quote").
    """
    # The tagged spans as verify_quotes may read them: a citation written inside the tag taken off, or
    # kept as the source's own reference mark.
    spans = _quoted(" ".join(m.group(0) for m in _RAFT_QUOTE.finditer(text)))
    tagged = {q.bare for q in spans} | {q.whole for q in spans}
    return next((q.text for q in quotes if q.status is QuoteStatus.VERIFIED and q.text in tagged), None)


def tidy_raft_text(text: str, final: str | None = None) -> str:
    """RAFT markup made readable: “quotes” instead of quote tags, the answer after "Answer:"; else `text`.

    `final` replaces what the model wrote after `<ANSWER>:` (see `quoted_answer`)."""
    if "_quote##" not in text and not _ANSWER_TAG.search(text):
        return text

    def plain(part: str) -> str:
        part = _RAFT_QUOTE.sub(lambda m: f"“{m.group('quote').strip()}”", part)
        return _RAFT_MARKER.sub("", part).strip()

    parts = split_raft_answer(text)
    if parts is None:
        return plain(text) if final is None else f"{plain(text)}\n\nAnswer: {final}"
    reasoning, final = plain(parts[0]), plain(parts[1]) if final is None else final
    if not final:
        return reasoning
    return f"{reasoning}\n\nAnswer: {final}" if reasoning else final
