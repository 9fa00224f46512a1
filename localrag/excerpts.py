"""The few lines of a passage that a search shows under a hit: those holding the query's words, and the line of the
file they start on.

A passage is up to a few hundred words; a search shows about 240 characters of it. Its first characters, shown
before 2026-12-08, were often not what matched: on a log of heartbeat lines, `search "No space left on device"`
showed the passage's first heartbeat lines at `db.log:15`, and the error on line 21 was nowhere to be seen. The
excerpt starts at the line holding the most of the query's words, each counted by how rare it is among the
passage's lines (a word on every line, "on" or "INFO", tells none apart), and the place named is that line. A
passage holding none of the words (found by meaning alone) is shown from its start, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from localrag.fts_terms import folded
from localrag.query_syntax import parse as parse_query
from localrag.types import Chunk

EXCERPT_CHARS = 240
# How far into its line the first matching word may stand before the excerpt starts a little before it instead.
_LEAD_CHARS = 60
_WORD = re.compile(r"\w+")
_PIECE = re.compile(r"\S+")


@dataclass(frozen=True)
class Excerpt:
    """`text`: the passage from its best line on, on one line, "…" where cut; `line`: the file's line it starts on
    (None where the passage's lines are not known: `Chunk.line_start`); `start`: where it starts in `Chunk.text`."""

    text: str
    line: int | None
    start: int


def excerpt(chunk: Chunk, query: str, size: int = EXCERPT_CHARS) -> Excerpt:
    """The part of `chunk` to show for `query` (its operators read: a left-out word is no word to look for)."""
    syntax = parse_query(query)
    words = {word.lower() for word in _WORD.findall(folded(syntax.text))}
    prefixes = tuple(folded(prefix).lower() for prefix in syntax.prefixes)
    own = chunk.own_text
    lines = own.split("\n")
    held = [_held(line, words, prefixes) for line in lines]
    lines_holding: dict[str, int] = {}
    for found in held:
        for word in found:
            lines_holding[word] = lines_holding.get(word, 0) + 1
    scores = [sum(1 / lines_holding[word] for word in found) for found in held]
    best = max(range(len(lines)), key=lambda i: (scores[i], -i))
    if not scores[best]:
        return Excerpt(_cut(chunk.text, size), chunk.line_start, 0)
    start = chunk.lead + sum(len(line) + 1 for line in lines[:best])
    line = lines[best]
    first = min(at for at, word in _words(line) if _matches(word, words, prefixes))
    if first > size - _LEAD_CHARS:  # a long line whose match would fall past the excerpt: start shortly before it
        space = line.rfind(" ", 0, first - _LEAD_CHARS)
        start += space + 1 if space >= 0 else first
    text = _cut(chunk.text[start:], size)
    return Excerpt(text if start == 0 else "…" + text,
                   None if chunk.line_start is None else chunk.line_start + best, start)


def _held(line: str, words: set[str], prefixes: tuple[str, ...]) -> set[str]:
    """The query's words (and prefixes) that `line` holds, in any case and accents aside."""
    held: set[str] = set()
    for _, word in _words(line):
        if word in words:
            held.add(word)
        held.update(prefix for prefix in prefixes if word.startswith(prefix))
    return held


def _words(line: str) -> Iterator[tuple[int, str]]:
    """Each word of `line` as a search folds it, with where it stands in `line` itself. Folded alone, a piece between
    spaces keeps its place: folding changes lengths ("ﬁ" is "fi", "½" is "1⁄2", a soft hyphen goes), so a place in
    the folded line was not one in `line` (before 2026-12-08 a line of "½ " pairs showed its match's excerpt cut to
    "…here"); folding keeps spaces where they are, so a piece's words are its own."""
    for piece in _PIECE.finditer(line):
        for word in _WORD.findall(folded(piece.group()).lower()):
            yield piece.start(), word


def _matches(word: str, words: set[str], prefixes: tuple[str, ...]) -> bool:
    return word in words or word.startswith(prefixes)


def _cut(text: str, size: int) -> str:
    """`text` on one line, at most `size` characters, "…" where cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[:size].rstrip() + "…"
