"""PDF loading with pypdf: text by page, headings by font size, paragraphs by vertical gaps.

pypdf's text visitor reports each text run's position and font size. Lines are rebuilt from those
runs; a line whose type is clearly larger than the body's (the most common size, a trailing list of
references not counted) is a heading, ranked into levels by size, and a vertical gap well above the usual
line spacing (scaled to a heading's size) starts a new paragraph. A
short line wholly in bold at the body's size or a little above, standing apart as a paragraph of its
own and not a sentence, is a heading too, under the larger ones: a contract's "11. Termination".
Wrapped lines are joined with spaces, a word hyphenated at a line's end whole, also at a page's end (on the page
where it starts: `_join_page_breaks`). A page of two columns written
row by row is read column by column (`_by_columns`), a table's row (runs set apart: `_PdfLine.cells`) as one line,
its cells parted by " | ". Page numbers are kept on every section.

A running header or footer (a line at the top or bottom of most pages, the same on each or but for its page
number) is left out, a line the same on each read once (`_without_running_lines`): read as text on every page, it was
a chunk of its own that a search for its words ranked first, it rode in every page's chunks, and it cut a sentence
running over a page break in two.

A page with (next to) no text layer but with an image on it is a scan: with OCR on, it is rendered
and read by `ingest.ocr`, page by page, so a PDF that mixes typed and scanned pages keeps both. So is a page mostly
covered by images under a short typed text in its top or bottom band (a "Scanned with CamScanner" footer, a fax's
header: `_scan_kind`), whose typed lines are kept too. A page with more text is never OCR'd, unless that text is
control characters (`_is_garbled`). A page whose content stream is damaged is named in a note (`_damage`), and the
others are read.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shlex
import statistics
import threading
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError, NeedsOcrError, NoTextError
from localrag.ingest.ocr import OCR_ON, Notify, OcrLine, doubt_note, ocr_pdf_page, page_list, paragraphs
from localrag.ingest.structure import HeadingPath, TextBuilder, authored_title, list_line, prose_kind, squash
from localrag.references import is_references_heading
from localrag.sentences import ENDS_SENTENCE, RECORD_LABEL_WORDS, sentence_spans
from localrag.sizes import count_text
from localrag.types import LoadedText


@dataclass(frozen=True)
class _Run:
    """A piece of a line in one style: its text, where it starts across the page (None where pypdf did not say),
    its font size and whether its face is bold."""

    text: str
    x: float | None
    size: float
    bold: bool


@dataclass
class _PdfLine:
    runs: list[_Run] = field(default_factory=list)
    y: float | None = None
    # Whether the line ends well before the page's right margin, or is a row of cells (`_mark_unwrapped`): it was
    # not wrapped there.
    short: bool = False

    @property
    def text(self) -> str:
        """The line's text, a row's cells (`cells`) parted by " | " as the HTML, Word and sheet readers part a
        table's."""
        return _CELL_BAR.join(self.cells)

    @property
    def cells(self) -> list[str]:
        """The line's texts set apart: a run starting `_CELL_GAP_EMS` or more past where the placed run before it
        ends opens a cell. An invoice's row "Software licence renewal", "1", "$625.23" reached the margin as a
        wrapped line does, and its rows were joined into one sentence; a bold or italic word's run follows its
        neighbour's."""
        cells = [""]
        before: _Run | None = None
        for run in self.runs:
            if run.x is not None and run.text.strip():
                if before is not None and before.x is not None and cells[-1].strip() and run.x - (
                        before.x + len(before.text) * before.size * _CHAR_EM) >= _CELL_GAP_EMS * before.size:
                    cells.append("")
                before = run
            cells[-1] += run.text
        return [text for text in map(squash, cells) if text]

    @property
    def aligned(self) -> bool:
        """Whether spaces are typed inside the line to align what follows (`_TYPED_GAP`): a receipt's "Cordless
        drill        129.99", a line of its own."""
        return any(_TYPED_GAP.search(run.text) for run in self.runs)

    @property
    def sizes(self) -> list[tuple[float, int]]:
        """(font size, characters) of each run with text."""
        return [(run.size, len(run.text.strip())) for run in self.runs if run.text.strip()]

    @property
    def bold(self) -> int:
        """Characters set in a bold face."""
        return sum(len(run.text.strip()) for run in self.runs if run.bold)

    @property
    def size(self) -> float:
        """Font size of most of the line's characters, rounded so equal styles compare equal."""
        if not self.sizes:
            return 0.0
        weights: dict[float, int] = {}
        for size, count in self.sizes:
            weights[size] = weights.get(size, 0) + count
        return max(weights, key=lambda s: weights[s])

    @property
    def all_bold(self) -> bool:
        return self.bold >= sum(count for _, count in self.sizes) > 0

    @property
    def extent(self) -> tuple[float, float] | None:
        """Where the line starts across the page and about where it ends (its characters at `_CHAR_EM` of their
        size each), None where pypdf gave no position."""
        placed = [at for at, run in enumerate(self.runs) if run.x is not None and run.text.strip()]
        if not placed:
            return None
        last = placed[-1]
        end = (self.runs[last].x or 0.0) + sum(len(run.text) * run.size * _CHAR_EM for run in self.runs[last:])
        return self.runs[placed[0]].x or 0.0, end


# A face's name says its weight: "Helvetica-Bold", "Arial,Bold", "ABCDEF+Calibri-SemiBold", "Lato-Black".
_BOLD_FACE = re.compile(r"bold|black|heavy|demi", re.IGNORECASE)


def _is_bold(font: Any) -> bool:
    try:
        return _BOLD_FACE.search(str(font.get("/BaseFont") or "")) is not None
    except AttributeError:  # no font dictionary for the run
        return False


def _pdf_page_lines(page: Any) -> list[_PdfLine]:
    """Lines as pypdf emits them, each with its baseline height and font size on the page."""
    lines = [_PdfLine()]

    def visit(text: str, cm: list[float], tm: list[float], font: Any, font_size: float) -> None:
        if not text:
            return
        scale = abs((tm[0] * tm[3] - tm[1] * tm[2]) * (cm[0] * cm[3] - cm[1] * cm[2])) ** 0.5
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        size = round(float(font_size) * scale * 2) / 2
        for i, piece in enumerate(text.split("\n")):
            if i:
                lines.append(_PdfLine())
            line = lines[-1]
            # The run's position is where its first piece starts; a piece after a line break starts elsewhere.
            line.runs.append(_Run(piece, None if i else x, size, bool(piece.strip()) and _is_bold(font)))
            if piece.strip() and line.y is None:
                line.y = y

    page.extract_text(visitor_text=visit)
    try:
        width = float(page.mediabox.width)
    except Exception:  # a damaged page box costs only the reading of two columns, not the page's text
        return [line for line in lines if line.text]
    return _mark_unwrapped(_by_columns([line for line in lines if line.text], width), width)


# How a table's cells are parted in a row, as the other readers part them (`sentences` reads such a line as a row).
_CELL_BAR = " | "
# A run starting this many ems or more past where the one before it ends is a cell of its own (`_PdfLine.cells`): the
# estimate of a run's end is off by an em or two on a run of capitals.
_CELL_GAP_EMS = 3.0
# Spaces typed inside a line to align what follows, in a monospaced receipt or statement; a sentence has one
# between its words, two at most after a full stop.
_TYPED_GAP = re.compile(r"(?<=\S)[ \t\u00a0]{3,}(?=\S)")
# A character is about half its type size wide (Helvetica's letters average 0.5 em, digits 0.56, a space 0.28):
# pypdf gives where a run starts, not where it ends.
_CHAR_EM = 0.5
# A line ending before this share of the text's width did not wrap: a record's line, a heading, a paragraph's last.
_UNWRAPPED_SHARE = 0.7


def _mark_unwrapped(lines: list[_PdfLine], width: float) -> list[_PdfLine]:
    """`lines` with those that end well before the right margin, or hold cells set apart (`_PdfLine.cells`: a
    table's rows), marked `short`: the text's width runs from the
    leftmost line's start to as far from the page's right edge (or to the line reaching furthest, where that is
    further), and a left column's to the edge where `_COLUMN_MIN_LINES` lines or more start in the gutter's band
    (the right column's). An invoice made one line at a time ("Subtotal: $1,712.00" / "Tax: $144.01") has only
    short lines; a paragraph's wrapped lines reach the margin, a column's its column's edge."""
    extents = [line.extent for line in lines]
    placed = [extent for extent in extents if extent is not None]
    if not placed:
        return lines
    left = min(start for start, _ in placed)
    right = max(width - left, *(end for _, end in placed))
    starts = Counter(round(start / _EDGE_SLACK) for start, _ in placed)
    edges = sorted(key * _EDGE_SLACK for key, count in starts.items() if count >= _COLUMN_MIN_LINES
                   and _GUTTER_BAND[0] * width <= key * _EDGE_SLACK <= _GUTTER_BAND[1] * width)
    for line, extent in zip(lines, extents, strict=True):
        if extent is None:
            continue
        start, end = extent
        # A line starting left of a column's edge and ending short of halfway from it to the margin is the left
        # column's (the estimate of its end may run a little past the edge); a longer one runs across the page.
        margin = next((edge for edge in edges if start + _EDGE_SLACK < edge and end < (edge + right) / 2), right)
        line.short = end < start + (margin - start) * _UNWRAPPED_SHARE or len(line.cells) > 1 or line.aligned
    return lines


# Two columns: the right one starts between these shares of the page's width, on this many lines or more that
# hold both columns' text; a column's line is prose, this many characters at least on the median line.
_GUTTER_BAND = (0.3, 0.7)
_COLUMN_MIN_LINES = 3
_COLUMN_MIN_CHARS = 20
# How far (in points) runs may start apart and still be at one column's edge.
_EDGE_SLACK = 2.0
# A left column's line below the right column's end is at most this many of the stretch's line spacings under the
# line before it: a paragraph's gap in the column, not the space above a table.
_COLUMN_LINE_GAPS = 2.0
# A full-width line holds about twice a column's characters; a left column's line may hold a few more than the
# longest one cut from a row (narrow letters), as the left column's tail under a shorter right one did.
_LEFT_LONGER = 1.3


def _by_columns(lines: list[_PdfLine], width: float) -> list[_PdfLine]:
    """A page's lines with a two-column stretch written row by row read column by column. pypdf joins runs at one
    height into one line, so a page whose writer put down the left column's line and then the right one's read
    across the gutter ("...that The right column goes on..."). Such a line holds a run starting at the right
    column's edge after runs to its left: where `_COLUMN_MIN_LINES` or more lines do at one edge, each is cut
    there, and each stretch of lines that stay in their columns (cut lines, lines starting at the right edge, and
    left lines no longer than the left column's, in its type, right under a line of the stretch, with no run
    starting past the right column's edge) is read as its left lines, then its right ones; any other line ends
    the stretch (a full-width table between two stretches: its caption and rows were read as the left column's,
    and the first stretch's right column came after the table). A page written column by column has no such line
    and keeps its order; so does a table, whose left cells are short."""
    starts: list[dict[int, int]] = []  # per line: edge (x over the slack, rounded) -> the first run starting there
    for line in lines:
        found: dict[int, int] = {}
        for at, run in enumerate(line.runs):
            if at and run.x is not None and run.text.strip() and "".join(r.text for r in line.runs[:at]).strip() \
                    and _GUTTER_BAND[0] * width <= run.x <= _GUTTER_BAND[1] * width:
                found.setdefault(round(run.x / _EDGE_SLACK), at)
        starts.append(found)
    edges = Counter(key for found in starts for key in found)
    if not edges:
        return lines
    edge_key, count = edges.most_common(1)[0]
    edge = edge_key * _EDGE_SLACK
    # A run a bold or italic word starts inside the left column's line is not at the edge.
    cuts = {i: found[edge_key] for i, found in enumerate(starts) if edge_key in found}
    lefts = [_PdfLine(lines[i].runs[:at], lines[i].y) for i, at in cuts.items()]
    rights = [_PdfLine(lines[i].runs[at:], lines[i].y) for i, at in cuts.items()]
    if count < _COLUMN_MIN_LINES or min(
        statistics.median(len(line.text) for line in side) for side in (lefts, rights)
    ) < _COLUMN_MIN_CHARS or _table_cells(rights, edge):
        return lines
    longest_left = max(len(line.text) for line in lefts)
    left_size = statistics.mode(line.size for line in lefts)
    rows = [lines[i].y for i in sorted(cuts)]
    row_gaps = [a - b for a, b in zip(rows, rows[1:], strict=False) if a is not None and b is not None and a > b]
    row_gap = statistics.median(row_gaps) if row_gaps else 0.0

    def column(index: int, before: str) -> str:
        """Where a line stands: "both" columns, the "left" or "right" one, or "across" them; `before` is where
        the line before it stands."""
        line = lines[index]
        if index in cuts:
            return "both"
        starts = [run.x for run in line.runs if run.text.strip() and run.x is not None]
        if starts and starts[0] >= edge - _EDGE_SLACK:
            return "right"
        # A run past the right column's edge, not at it, is a full-width table's cell, no left column's word.
        if len(line.text) > longest_left * _LEFT_LONGER or any(x > edge + _EDGE_SLACK for x in starts):
            return "across"
        # A short line goes on with the left column only right under a line of the stretch, in the column's type:
        # a table's caption or short rows after the stretch end it, or the right column was read after them.
        previous = lines[index - 1] if index else None
        under = (previous is not None and previous.y is not None and line.y is not None
                 and 0 < previous.y - line.y <= row_gap * _COLUMN_LINE_GAPS)
        return "left" if before != "across" and under and line.size == left_size and not line.all_bold else "across"

    out: list[_PdfLine] = []
    left: list[_PdfLine] = []
    right: list[_PdfLine] = []
    side = "across"
    for index, line in enumerate(lines):
        side = column(index, side)
        if side == "across":
            out += left + right + [line]
            left, right = [], []
        elif side == "both":
            left.append(_PdfLine(line.runs[: cuts[index]], line.y))
            right.append(_PdfLine(line.runs[cuts[index] :], line.y))
        else:
            (left if side == "left" else right).append(line)
    return out + left + right


def _table_cells(rights: list[_PdfLine], edge: float) -> bool:
    """Whether the right parts of lines cut at `edge` are a table's cells, not a column's lines: on more than half of
    them a short cell (under `_COLUMN_MIN_CHARS`) starts at one stop past the edge, and no run is as long as a
    column's line. An invoice's "Qty", "Unit price" and "Amount" cells ("15 $150.00 $2,250.00") made a right column
    of 20 characters a line, and each row was read as its description, then the other rows' descriptions, then
    all its numbers: "Consulting services, February Software licence renewal". A column's line is one run, or runs a
    bold or italic word starts at no stop the other lines share."""
    stops: Counter[int] = Counter()
    for line in rights:
        runs = [run for run in line.runs if run.text.strip()]
        if any(len(run.text.strip()) >= _COLUMN_MIN_CHARS for run in runs):
            return False
        stops.update({round(run.x / _EDGE_SLACK) for run in runs if run.x is not None and run.x > edge + _EDGE_SLACK})
    return bool(stops) and stops.most_common(1)[0][1] * 2 > len(rights)


# A bold title is short and at most two lines: a bold paragraph (a warning set in bold) is text.
_BOLD_TITLE_CHARS = 100
_BOLD_TITLE_LINES = 2
# Marks that end a sentence or a clause: a bold line ending in one is a sentence said in bold, not a title.
_SENTENCE_ENDS = (".", ",", ";", ":", "!", "?")
# A record's field: a short label, ": " and a value holding a digit ("Total due: $3,105.25", "Due date: March 30,
# 2024"). Set in bold it is the figure a reader looks for, no title: before 2026-12-08 an invoice's bold "Total due"
# headed the lines under it, and `ask --extract` quoted the next line for the total. A part's number before the
# colon makes a title still: "Chapter 3: 1914-1918", "Part II: The 1990s", "Appendix A: Survey data 2019", "Chapter
# Three: The War Years 1914-1918" (a letter or a number word was read as a field's label before 2026-12-08).
_FIELD = re.compile(r"(?P<label>[^\s:][^:]{0,39}):\s+(?=.*\d)\S")
_PART_NUMBER = re.compile(
    r"\w+\s+(?:\d+(?:\.\d+)*|[IVXLC]+|[A-Z]|(?i:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty))")


def _is_field(text: str) -> bool:
    match = _FIELD.match(text)
    return (match is not None and len(match["label"].split()) <= RECORD_LABEL_WORDS
            and not _PART_NUMBER.fullmatch(match["label"]))


def _bold_titles(lines: list[_PdfLine], body: float, heading_sizes: list[float], usual_gap: float) -> set[int]:
    """Indexes of the lines that make bold titles: runs of at most `_BOLD_TITLE_LINES` lines wholly in bold at the
    body's size or above it, or in larger type, but not large enough to be a heading by size, short, not opening
    in lowercase and not ending as a sentence does, that open a paragraph (a paragraph's gap or the page's top
    above them) and end where a paragraph's gap, the page's bottom or a line not in lowercase follows. Bold words
    inside a paragraph are none: they share their line with plain words, or a line wholly in bold follows the
    paragraph's line at the usual spacing, or is followed by its sentence's lowercase rest. A `usual_gap` of 0 (no
    line on the page wraps: every paragraph is one line) sets a line apart from the next where it was not wrapped
    (`_PdfLine.short`): the gaps then are all the paragraphs' spacing."""

    def candidate(line: _PdfLine) -> bool:
        # A table's header row in bold names its columns, not the text under it.
        return ((line.all_bold and line.size >= body or line.size > body) and line.size not in heading_sizes
                and len(line.cells) == 1)

    def apart(upper: _PdfLine, lower: _PdfLine) -> bool:
        if not usual_gap:  # no line spacing known: a line that was not wrapped ends its paragraph
            return upper.short
        if upper.y is None or lower.y is None:
            return True
        gap = upper.y - lower.y
        return gap < 0 or gap > usual_gap * 1.3

    body_lines = [line for line in lines if line.size == body]
    if sum(line.bold for line in body_lines) * 2 > sum(count for line in body_lines for _, count in line.sizes):
        return set()  # a page set in bold throughout: bold sets nothing apart on it
    titles: set[int] = set()
    start = 0
    while start < len(lines):
        if not candidate(lines[start]):
            start += 1
            continue
        end = start + 1
        while end < len(lines) and candidate(lines[end]) and not apart(lines[end - 1], lines[end]):
            end += 1
        text = " ".join(line.text for line in lines[start:end])
        if (
            end - start <= _BOLD_TITLE_LINES
            and len(text) <= _BOLD_TITLE_CHARS
            and not text[0].islower()
            and not text.endswith(_SENTENCE_ENDS)
            and not _is_field(text)
            and (start == 0 or apart(lines[start - 1], lines[start]))
            and (end == len(lines) or apart(lines[end - 1], lines[end]) or not lines[end].text[0].islower())
        ):
            titles.update(range(start, end))
        start = end
    return titles


def _pdf_blocks(
    lines: list[_PdfLine], body: float, heading_sizes: list[float], hyphenated: frozenset[str]
) -> Iterator[tuple[str, int]]:
    """(text, heading level or 0) per block: larger type is a heading, and a bold title (`_bold_titles`) one level
    below the smallest such; a larger gap starts a new paragraph.

    Wrapped lines of a paragraph are joined with spaces, a word broken at a line's end whole (`_join`); a line
    that starts a list item keeps its own line, so lists stay lists.
    """
    gaps = [
        (a.y - b.y, a.short)
        for a, b in zip(lines, lines[1:], strict=False)
        if a.y is not None and b.y is not None and a.size == b.size == body and a.y > b.y
    ]
    # The usual gap is a paragraph's line spacing: the gap under a line that wrapped. Where no body line wraps,
    # every paragraph is one line and the gaps are the paragraphs' spacing: a bold title over a clause at that
    # spacing stands as far apart as any paragraph does (a lease's "1. Definitions" was read as text).
    wrapped = [gap for gap, short in gaps if not short]
    usual_gap = statistics.median(wrapped or [gap for gap, _ in gaps]) if gaps else body * 1.2
    bold_titles = _bold_titles(lines, body, heading_sizes, usual_gap if wrapped else 0.0)
    block = ""
    block_level = 0
    previous: _PdfLine | None = None
    for index, line in enumerate(lines):
        level = heading_sizes.index(line.size) + 1 if line.size in heading_sizes and len(line.text) < 150 else 0
        if index in bold_titles:
            level = len(heading_sizes) + 1
        # A line aligned with typed spaces is a paragraph of its own: a receipt's lines, joined, were one sentence
        # ("Cordless drill 129.99 Drill bits set 24.50 ..."), as they are in a .txt without labels to part them.
        new_block = previous is None or level != block_level or line.aligned or previous.aligned
        if previous is not None and not new_block and previous.y is not None and line.y is not None:
            # Larger type is set with wider spacing: a gap is judged against the line's own size, or a title
            # wrapped onto two lines was two headings.
            scale = line.size / body if level and body and line.size > body else 1.0
            gap = previous.y - line.y
            new_block = gap < 0 or gap > usual_gap * scale * 1.3
        if new_block and block:
            yield block, block_level
            block = ""
        if not block:
            block = line.text
        elif not level and (list_line(line.text, block.rpartition("\n")[2])
                            or (previous is not None and _kept_break(previous, line))):
            block += "\n" + line.text
        else:
            block = _join(block, line.text, hyphenated)
        block_level = level
        previous = line
    if block:
        yield block, block_level


def _kept_break(previous: _PdfLine, line: _PdfLine) -> bool:
    """Whether the break between a paragraph's lines `previous` and `line` is the writer's: `previous` ends well
    before the margin (`_PdfLine.short`), so it was not wrapped there, and `line` opens with a capital or a digit
    as a record's line does (a sentence's rest opens in lowercase, or with a dash or a bracket); or `line` is a row of
    cells (`_PdfLine.cells`), which no wrapped sentence goes on in. An invoice's or a log's lines keep theirs and
    are records (`sentences`) as in a .txt: joined, "What is the total due?" quoted all seven lines of an invoice as
    one sentence."""
    opening = line.text[:1]
    return len(line.cells) > 1 or previous.short and (opening.isupper() or opening.isdigit())


# A running header or footer is one or two lines at a page's edge. A third line in would be the body's.
_EDGE_LINES = 2
# Below this many pages with text, a line repeated at the same edge of every page may be the text's own: on two
# pages, two sections that open alike ("Notes", "Summary") would be taken for a header.
_RUNNING_MIN_PAGES = 3
_DIGITS = re.compile(r"\d+")


def _edges(lines: list[_PdfLine]) -> tuple[list[_PdfLine], list[_PdfLine]]:
    """A page's top and bottom lines, by their height on the page (a footer may come first in the stream)."""
    placed = sorted((line for line in lines if line.y is not None), key=lambda line: -(line.y or 0.0))
    return placed[:_EDGE_LINES], placed[-_EDGE_LINES:]


def _edge_key(line: _PdfLine) -> str:
    """A line as pages repeat it: digits masked, so "Page 3 of 12" matches "Page 4 of 12"."""
    return _DIGITS.sub("#", line.text.casefold())


def _page_numbered(seen: list[tuple[int, list[int]]]) -> bool | None:
    """Whether a line seen on these (page index, its numbers) is the same on each page but for a page number: True
    where a number rises with the page ("Page 3 of 12", "- 3 -"), False where every number stays as it is, None where
    another number changes (a balance carried forward, a log's "Day 38" and "Day 76": the text's own).

    A page number rises by one a page, or starts again (at 1, or as many pages on as it skipped): merged PDFs
    ("Page 1 of 2", "Page 2 of 2" per invoice) and numbering that starts after the front matter. Beside it another
    number may stay or step up by one ("Chapter 2 · Page 17"), or, being a page count ("of 2", "of 3"), change where
    the page number starts again. Before 2026-12-07 a page number had to be the page's index plus one offset, so those
    footers were the text's and kept on every page, cutting a sentence at each page break."""
    columns = list(zip(*(numbers for _, numbers in seen), strict=True))
    gaps = [later - earlier for (earlier, _), (later, _) in pairwise(seen)]
    pages = [column for column in columns if _rises_by_page(column, gaps)]
    if not pages:
        return False if all(len(set(column)) == 1 for column in columns) else None
    restarts = {step for column in pages for step, (a, b) in enumerate(pairwise(column)) if b < a}
    runs = [0, *sorted(step + 1 for step in restarts), len(seen)]
    for column in columns:
        if column in pages:
            continue
        for step, (a, b) in enumerate(pairwise(column)):
            if b not in (a, a + 1) and not (step in restarts and _page_count(column, pages, runs)):
                return None
    return True


def _rises_by_page(column: tuple[int, ...], gaps: list[int]) -> bool:
    """Whether `column`'s values, on pages `gaps` apart, rise by one a page or start again, and rise at least once."""
    steps = list(pairwise(column))
    rises = [b - a == gap for (a, b), gap in zip(steps, gaps, strict=True)]
    again = [b < a and b <= gap for (a, b), gap in zip(steps, gaps, strict=True)]
    return any(rises) and all(rise or start for rise, start in zip(rises, again, strict=True))


def _page_count(column: tuple[int, ...], pages: list[tuple[int, ...]], runs: list[int]) -> bool:
    """Whether `column` is a page count beside page numbers `pages`, in each run between their restarts: the same
    on each of its pages, and its last page number (or one more, where the last page has no such line); an invoice's
    number beside "Page 1 of 2" is the text's."""
    return all(len(set(column[start:end])) == 1
               and max(page[end - 1] for page in pages) <= column[start] <= max(page[end - 1] for page in pages) + 1
               for start, end in pairwise(runs))


def _without_running_lines(pages: list[list[_PdfLine]]) -> list[list[_PdfLine]]:
    """`pages` without their running headers and footers: a line at the top (or bottom) of more than half the
    pages with text, the same on each (digits compared after masking) but for a page number. A line the same on
    each page is left out of all but one: a header's is kept where it first opens a page, a footer's where it last
    ends one, so its words are read once (a table's header row repeated on each page with nothing above it was
    lost from every page) and cut no sentence running over a page break. A line that differs but for its page
    number ("Page 3 of 12") is left out of every page. A line with any other number that changes (a balance carried
    forward to each page's foot, a log's first and last rows) is the text's. Where nothing would be left, every line
    is the text's. A PDF of fewer than `_RUNNING_MIN_PAGES` pages with text is left as it is."""
    texts = [lines for lines in pages if lines]
    if len(texts) < _RUNNING_MIN_PAGES:
        return pages
    seen: dict[tuple[str, str], list[tuple[int, list[int]]]] = {}
    for index, lines in enumerate(pages):
        top, bottom = _edges(lines)
        for edge, line in [("top", line) for line in top] + [("bottom", line) for line in bottom]:
            found = seen.setdefault((edge, _edge_key(line)), [])
            if not found or found[-1][0] != index:  # a line twice at one page's edge counts once
                found.append((index, [int(n) for n in _DIGITS.findall(line.text)]))
    running: dict[tuple[str, str], int | None] = {}  # a running line -> the page index that keeps it, if one does
    for (edge, key), found in seen.items():
        numbered = _page_numbered(found) if len(found) * 2 > len(texts) else None
        if numbered is not None:
            running[(edge, key)] = None if numbered else found[0 if edge == "top" else -1][0]
    if not running:
        return pages
    kept = []
    for index, lines in enumerate(pages):
        top, bottom = _edges(lines)
        dropped = {id(line) for edge, edge_lines in (("top", top), ("bottom", bottom)) for line in edge_lines
                   # Not running: kept (the default is this page); None: dropped from every page; a page: kept there.
                   if running.get((edge, _edge_key(line)), index) != index}
        kept.append([line for line in lines if id(line) not in dropped])
    # A document is not all furniture: lines that are all its text are its text, however they repeat (pages of one
    # line each, "Sheet 2. General narrative text about the voyage ...", were all dropped, and the PDF failed as
    # having "no extractable text"). A page's only line still counts: a page blank but for the running header is
    # that header, read once, not a passage of its own.
    return kept if any(kept) else pages


# A contents entry: its title, a leader of dots (". . ." or "…" too) and the page number it points at, arabic or a
# roman numeral in one case ("xii", "XII"): a leader then "did", "mid" or "civil" is no roman number.
_CONTENTS_ENTRY = re.compile(r"\S.*?(?:\.\s?|…\s?){3,}\s*(\d+|[ivxlcdm]+|[IVXLCDM]+)")
_ROMAN = re.compile(r"m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
# A contents page's title: with it, entries a page apart are a contents too (a book of one-page chapters).
_CONTENTS_TITLE = re.compile(r"(?:table of )?contents", re.IGNORECASE)
# Entries that make a contents: this many in a row at least, their page numbers rising.
_CONTENTS_MIN_ENTRIES = 3


def _entry_page(line: str) -> tuple[bool, int] | None:
    """A contents entry's page number, (whether it is roman, its value), else None: not an entry."""
    found = _CONTENTS_ENTRY.fullmatch(line)
    if found is None:
        return None
    number = found.group(1)
    if number.isdigit():
        return False, int(number)
    roman = number.lower()
    if not _ROMAN.fullmatch(roman):
        return None
    values = [_ROMAN_VALUES[letter] for letter in roman]
    return True, sum(-value if value < after else value for value, after in zip(values, [*values[1:], 0], strict=True))


def _contents_run(pages: list[tuple[bool, int]]) -> bool:
    """Whether entries pointing at `pages` in a row read as a contents: each kind (roman front matter, then arabic)
    strictly rising. A price list's numbers may rise too ("Tea ..... 2", "Coffee ..... 3", "Cake ..... 4"): entries
    one page apart each are a contents only under a "Contents" title (`_without_contents` asks that)."""
    for roman in (True, False):
        numbers = [number for kind, number in pages if kind is roman]
        if any(later <= earlier for earlier, later in pairwise(numbers)):
            return False
    return True


def _without_contents(lines: list[_PdfLine]) -> list[_PdfLine]:
    """A page's lines without its table of contents: `_CONTENTS_MIN_ENTRIES` or more entries ("Chapter 17: The
    Migration of Arctic Terns ........ 177") in a row, their page numbers strictly rising (`_contents_run`), and
    either the page titled "Contents" or "Table of contents" or some entry more than one page after the one before:
    a price list's "Espresso ....... 3" goes up and down, and one rising a step at a time ("Tea ..... 2", "Coffee
    ..... 3", "Cake ..... 4") under "Opening hours" is a price list too. A page made mostly of them is the contents
    page, left out whole, its "Contents" title with it. As the HTML and EPUB readers leave a contents page out, so
    does this one: it repeats every chapter's title, and its chunks, dense with those words, outranked the chapters
    themselves ("What is chapter 30 about?" quoted "320 Chapter 31: Studies of Topic 30 ......", the next entry's
    page number glued on); the chapters keep their titles as headings. `_read_pdf` keeps every page as it was where
    nothing else would be left (a one-page menu)."""
    entries = [_entry_page(line.text) for line in lines]
    titled = any(_CONTENTS_TITLE.fullmatch(line.text.strip()) for line in lines)
    contents: set[int] = set()
    start = 0
    while start < len(lines):
        end = start
        run: list[tuple[bool, int]] = []
        while end < len(lines) and (entry := entries[end]) is not None and _contents_run([*run, entry]):
            run.append(entry)
            end += 1
        jumps = any(later - earlier > 1 for (kind, earlier), (same, later) in pairwise(run) if kind is same)
        if end - start >= _CONTENTS_MIN_ENTRIES and (titled or jumps):
            contents.update(range(start, end))
        start = max(end, start + 1)
    if len(contents) * 2 >= len(lines):
        return []
    return [line for index, line in enumerate(lines) if index not in contents]


def _body_size(pages: list[list[_PdfLine]]) -> float:
    """The body's type size: the size of most characters, not counting a list of references that ends the
    document (from the last line naming one, set apart in bold or in larger type than the line after it). A short
    paper's 40 references in 8pt outweighed its body in 10pt: 8pt was taken for the body, every body line became
    a heading and its paragraphs fell apart, where the same paper with 5 references read right."""
    lines = [line for page_lines in pages for line in page_lines]
    end = len(lines)
    for index in range(len(lines) - 2, 0, -1):
        line = lines[index]
        if is_references_heading(line.text) and (line.all_bold or line.size > lines[index + 1].size):
            end = index
            break
    weights: Counter[float] = Counter()
    for line in lines[:end] or lines:
        weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


# A line's last word broken at its end: letters (a compound's parts joined by hyphens) and the hyphen.
_BROKEN_AT_END = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*)-$")
_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
_LETTERS = re.compile(r"[^\W\d_]*")


def _hyphenated_words(pages: list[list[_PdfLine]]) -> frozenset[str]:
    """The hyphenated words the document writes whole on one line ("well-known"), lower-cased: a line that ends
    in one's first part and a hyphen keeps the hyphen (see `_join`)."""
    return frozenset(
        word.casefold() for page_lines in pages for line in page_lines for word in _COMPOUND.findall(line.text)
    )


def _join(block: str, line: str, hyphenated: frozenset[str]) -> str:
    """`line` joined to the paragraph `block` it wraps on to. A word broken at the line's end, a lowercase letter
    and a hyphen there and a lowercase letter opening the next line ("seman-" and "tic"), is joined whole, so a
    search for "semantic" finds it and a quote reads it; the hyphen stays where it is a real one: the part
    before it holds a hyphen already ("state-of-the-" and "art"), or the document writes the hyphenated word
    whole elsewhere ("well-known")."""
    last = block.rsplit(" ", 1)[-1]
    broken = _BROKEN_AT_END.search(last) if last[-2:-1].islower() and line[:1].islower() else None
    if broken is None:
        return f"{block} {line}"
    head = broken.group(1)
    tail = _LETTERS.match(line)
    if "-" in head or f"{head}-{tail.group(0) if tail else ''}".casefold() in hyphenated:
        return block + line
    return block[:-1] + line


def _join_page_breaks(blocks: list[list[tuple[str, int]]], hyphenated: frozenset[str], wrapped: list[bool]) -> None:
    """A sentence broken over a page break is read whole on the page where it starts: where a page's last paragraph
    ends mid-sentence (its last line reaches the margin, `wrapped`, and ends without a sentence's mark as
    `ENDS_SENTENCE` reads one, a Japanese "。" or a closing "」" too), the next
    page's first sentence leaves that page's first paragraph (dropped when that was all it held) and ends this one.
    Before 2026-12-07 a chunk ended at the page break (as it still does) with half a sentence, which `summarize`
    and `ask --extract` quoted as a whole one ("In addition, it is accepted that a small percentage of ET patients";
    the next page's "presenting symptoms and signs of possible PD may progress ...", no subject). Elsewhere a word
    broken over a page break ("instru-" ending page 1's last paragraph, "ments" opening page 2's first) is joined
    as `_join` joins one broken at a line's end, on the page where it starts."""
    for page, following, ends_wrapped in zip(blocks, blocks[1:], wrapped, strict=False):
        if not page or not following or page[-1][1] or following[0][1]:
            continue
        if list_line(following[0][0], page[-1][0].rpartition("\n")[2]):
            continue
        before, after = page[-1][0], following[0][0]
        if ends_wrapped and not ENDS_SENTENCE.search(before) and (spans := sentence_spans(after, file_type="pdf")):
            head, rest = after[: spans[0][1]], after[spans[0][1] :].strip()
        else:
            head, _, rest = after.partition(" ")
            if _join(before, head, hyphenated) == f"{before} {head}":  # no word broken there
                continue
        page[-1] = (_join(before, head, hyphenated), 0)
        if rest:
            following[0] = (rest, 0)
        else:
            following.pop(0)


class _PypdfWarnings(logging.Handler):
    """pypdf's warnings logged by one thread (ingest reads files in several), kept for the page being read."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        if record.levelno >= logging.ERROR:  # shown as before: the logger does not pass them on while a PDF is read
            logging.getLogger().handle(record)
        # Only a stream's decoding (pypdf.filters) loses text; a repaired cross-reference table or a duplicate key
        # costs none, and a note for it would cry wolf.
        elif record.name.startswith("pypdf.filters"):
            self.messages.append(record.getMessage())


_QUIET_LOCK = threading.Lock()
_quiet_depth = 0  # loads under way in any thread: the last one out gives the logger back as it was
_quiet_saved: tuple[int, bool] = (logging.NOTSET, True)


# Annotations that hold no comment of their own: a form field's widget (its value is read as the field's), a link,
# and the pop-up window that shows its parent's comment.
_NOT_COMMENTS = frozenset({"/Widget", "/Link", "/Popup"})


# An annotation's flags (/F) a viewer honours by not showing it: Hidden (bit 2) and NoView (bit 6).
_UNSHOWN_FLAGS = 2 | 32


def _shown(annotation: Any) -> bool:
    """Whether a viewer shows an annotation (a comment, a form field's widget): one flagged Hidden or NoView it does
    not, and neither is it read (before 2026-12-08 a hidden field's "Internal ref" and a hidden note were indexed)."""
    try:
        return not int(annotation.get("/F") or 0) & _UNSHOWN_FLAGS
    except (TypeError, ValueError):  # a damaged flag: shown, as a viewer does
        return True


def _resolved(value: Any) -> Any:
    return value.get_object() if hasattr(value, "get_object") else value


def _pdf_date(value: Any) -> str:
    """A PDF date ("D:20261201093000+01'00'") as "2026-12-01"; "" for none or another form."""
    found = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", str(value or ""))
    return "-".join(found.groups()) if found else ""


def _signature(value: Any) -> str:
    """A signature field's value (a /Sig dictionary) as a viewer's signature panel names it: "signed by NAME, DATE
    (REASON)"; "" where it names none of them. Its byte range and signature bytes are no text."""
    name, date, reason = squash(str(value.get("/Name") or "")), _pdf_date(value.get("/M")), squash(
        str(value.get("/Reason") or ""))
    if not (name or date):
        return ""
    said = ", ".join(part for part in (f"signed by {name}" if name else "signed", date) if part)
    return f"{said} ({reason})" if reason else said


def _field_value(field: Any) -> str:
    """A form field's value as its viewer shows it: a text field's text (held in a string or a text stream), a
    choice field's choices, a check box's or radio button's state ("Yes"), a signature's signer, date and reason;
    "" for none, an empty one, a box left unticked ("Off") or a value that is none of these (before 2026-12-08 a
    signature's dictionary was indexed as Python's repr of it, its signature bytes and all)."""
    from pypdf.generic import DictionaryObject, FloatObject, NameObject, NumberObject, StreamObject, TextStringObject

    value = _resolved(field.get("/V"))
    if isinstance(value, list):
        items = [_resolved(item) for item in value]
        texts = [squash(str(item)) for item in items if isinstance(item, (TextStringObject, NumberObject, FloatObject))]
        return ", ".join(text for text in texts if text)
    if isinstance(value, StreamObject):  # a long text field's value may be a text stream
        try:
            text = value.get_data().decode("utf-8", "replace")
        except Exception:  # a stream that does not decode is no value a viewer could show either
            return ""
    elif isinstance(value, DictionaryObject):
        return _signature(value) if value.get("/Type") == "/Sig" or field.get("/FT") == "/Sig" else ""
    elif isinstance(value, NameObject):  # a button's state is a name
        text = "" if value == "/Off" else str(value)[1:]
    elif isinstance(value, (TextStringObject, NumberObject, FloatObject)):
        text = str(value)
    else:  # bytes no text encoding reads, or a damaged value: nothing a reader could use
        return ""
    return "\n".join(squash(line) for line in text.splitlines() if squash(line))


def _field(widget: Any) -> tuple[Any, str] | None:
    """The form field a widget shows (the widget itself or its parent, which holds the value for its widgets) and
    the field's name as a form shows it: its tooltip name where it has one ("Company name"), else its own."""
    field = widget
    while "/V" not in field and "/Parent" in field:
        field = field["/Parent"].get_object()
    if "/V" not in field:
        return None
    name = str(field.get("/TU") or field.get("/T") or "").strip()
    return (field, name) if name else None


def _page_extras(page: Any) -> tuple[list[str], list[str]]:
    """What a page holds outside its text, in its annotations: its filled form fields as one block of
    "name: value" lines ("Company name: Zanzibar Quokka Holdings"), each comment as "Comment: text" (a sticky note,
    a highlight's note, a text box; "Comment by AUTHOR: text" where it names one), and the names of files attached
    to it. A viewer shows the values and notes, but they are no part of the page's text: before 2026-12-07 a filled
    form was indexed with its blanks and a reviewer's notes were not searchable."""
    try:
        annotations = [annotation.get_object() for annotation in page.get("/Annots") or []]
    except Exception:  # a damaged annotation list costs its values and notes, not the page's text
        return [], []
    fields: list[str] = []
    seen: set[int] = set()
    comments: list[str] = []
    attached: list[str] = []
    for annotation in annotations:
        if not hasattr(annotation, "get") or not _shown(annotation):
            continue
        kind = annotation.get("/Subtype")
        if kind == "/Widget":
            found = _field(annotation)
            if found is not None and id(found[0]) not in seen:
                seen.add(id(found[0]))
                value = _field_value(found[0])
                if value:
                    fields.append(f"{squash(found[1])}: {value}")
            continue
        if kind == "/FileAttachment":
            spec = _resolved(annotation.get("/FS"))
            name = str(spec.get("/UF") or spec.get("/F") or "") if hasattr(spec, "get") else ""
            if name:
                attached.append(name)
        if kind in _NOT_COMMENTS:
            continue
        text = "\n".join(squash(line) for line in str(annotation.get("/Contents") or "").splitlines() if squash(line))
        author = squash(str(annotation.get("/T") or ""))
        if text:
            comments.append(f"Comment by {author}: {text}" if author else f"Comment: {text}")
    return (["\n".join(fields)] if fields else []) + comments, attached


_XFA_DATA = "{http://www.xfa.org/schema/xfa-data/1.0/}data"


def _xfa_form(reader: Any) -> tuple[list[str], bool]:
    """A dynamic XFA form's filled values as "Name: value" lines, its data's leaf elements in order ("FamilyName:
    Okonkwo-Lindqvist"), and whether the PDF is such a form, one only a viewer that renders XFA shows
    (/NeedsRendering: its pages hold a "Please wait..." placeholder); ([], False) for any other PDF (a static XFA
    form's values are its AcroForm fields', read with its pages). Its values live in the form's "datasets" packet:
    before 2026-12-08 such a form was indexed as its placeholder alone."""
    from xml.etree import ElementTree

    from pypdf.generic import StreamObject

    try:
        root = _resolved(reader.trailer["/Root"])
        form = _resolved(root.get("/AcroForm"))
        xfa = _resolved(form.get("/XFA")) if hasattr(form, "get") else None
        if xfa is None or not root.get("/NeedsRendering"):
            return [], False
    except Exception:  # a damaged catalog: no form read, as none a viewer could show
        return [], False
    try:
        if isinstance(xfa, StreamObject):  # the whole XDP in one stream
            packets = [xfa.get_data()]
        else:  # [name, stream, name, stream, ...]: the datasets packet holds the values
            parts = [_resolved(part) for part in xfa]
            packets = [stream.get_data() for name, stream in zip(parts[::2], parts[1::2], strict=False)
                       if str(name) == "datasets" and isinstance(stream, StreamObject)]
        lines: list[str] = []
        for packet in packets:
            data = next(ElementTree.fromstring(packet).iter(_XFA_DATA), None)
            for element in data.iter() if data is not None else ():
                value = squash(element.text or "")
                if element is not data and len(element) == 0 and value:
                    lines.append(f"{element.tag.rpartition('}')[2]}: {value}")
    except Exception:  # a damaged or unreadable packet: the form is named in the note, as one holding no values
        return [], True
    return lines, True


def _xfa_note(path: Path, rendered: bool, values: list[str]) -> str:
    """The note for an XFA form only a viewer that renders XFA shows, whose values were not read; "" otherwise."""
    if not rendered or values:
        return ""
    return (f"XFA form not read, only its placeholder page (print {shlex.quote(path.name)} to a new PDF from a viewer "
            f"that renders XFA, such as Adobe Acrobat Reader, and ingest that)")


def _attachments_note(path: Path, reader: Any, attached: list[str]) -> str:
    """The note naming the files a PDF carries attached (the document's own and its pages'), which are not read,
    and how to read them; "" for none."""
    try:
        names = [*reader.attachments, *attached]
    except Exception:  # a damaged name tree costs only the note
        names = attached
    names = list(dict.fromkeys(names))
    if not names:
        return ""
    them = "it" if len(names) == 1 else "them"
    return (f"{count_text(len(names), 'attached file')} not read: {', '.join(names)} (save {them} out of the PDF, "
            f"e.g. `pdfdetach -saveall {shlex.quote(path.name)}`, and ingest {them})")


@contextmanager
def _quiet_pypdf() -> Iterator[_PypdfWarnings]:
    """pypdf's warnings taken, not shown: on a terminal UI they would land on the screen. They are kept (`messages`)
    rather than dropped, as a page whose content stream does not decode is a page whose text is lost (it went in
    without a word: "3 added, 0 failed")."""
    global _quiet_depth, _quiet_saved
    logger = logging.getLogger("pypdf")
    taken = _PypdfWarnings()
    with _QUIET_LOCK:
        if not _quiet_depth:
            _quiet_saved = (logger.level, logger.propagate)
            logger.setLevel(logging.WARNING)
            logger.propagate = False
        _quiet_depth += 1
        logger.addHandler(taken)
    try:
        yield taken
    finally:
        with _QUIET_LOCK:
            logger.removeHandler(taken)
            _quiet_depth -= 1
            if not _quiet_depth:
                logger.setLevel(_quiet_saved[0])
                logger.propagate = _quiet_saved[1]


def load_pdf(path: Path, *, ocr: bool = True, notify: Notify | None = None) -> LoadedText:
    with _quiet_pypdf() as warnings:
        return _read_pdf(path, ocr, notify, warnings)


# A page with fewer extracted characters than this is treated as having no text layer (a scan often
# carries a stamped page number or a few stray glyphs).
_SCAN_MAX_CHARS = 20


# A page at least this much covered by images, with a text layer this short at most, all of it in the page's top or
# bottom band, is a scan under a typed line ("Scanned with CamScanner" at its foot, a fax's header over the page):
# OCR'd, its typed lines kept. Before 2026-12-08 its 20 typed characters made it a typed page and the scan's words
# were lost. A page of text beside a figure, or a scan OCR'd already (its text layer holds the scan's words), has
# more text, and is not OCR'd; nor is a slide or a certificate, its short text typed over a background image
# where a scanner's footer or a fax's header does not sit.
_OVERLAID_MAX_CHARS = 200
_OVERLAID_IMAGE_SHARE = 0.5
# The share of a page's height at its top and at its bottom where a scanner app's footer or a fax's header sits.
_OVERLAID_BAND = 0.15


def _scan_kind(path: Path, index: int, page: Any, lines: list[_PdfLine]) -> str:
    """"scan" for a page with (next to) no text layer and an image on it, "overlaid" for a scan under a short typed
    text (`_OVERLAID_MAX_CHARS`) in the page's top or bottom band, "" for a typed page."""
    chars = sum(len(line.text) for line in lines)
    if chars >= _OVERLAID_MAX_CHARS:
        return ""
    try:
        has_images = len(page.images) > 0
    except Exception:  # an image pypdf cannot decode is still an image for PDFium to render
        has_images = True
    if not has_images:
        return ""
    if chars < _SCAN_MAX_CHARS:
        return "scan"
    if not _in_bands(page, lines):
        return ""
    return "overlaid" if _image_share(path, index) >= _OVERLAID_IMAGE_SHARE else ""


def _in_bands(page: Any, lines: list[_PdfLine]) -> bool:
    """Whether every line sits in the top or bottom `_OVERLAID_BAND` of the page's height; False where a line's
    height or the page's box is not known."""
    try:
        bottom, top = float(page.mediabox.bottom), float(page.mediabox.top)
    except Exception:  # a damaged page box: the page is read as typed
        return False
    band = (top - bottom) * _OVERLAID_BAND
    return all(line.y is not None and (line.y <= bottom + band or line.y >= top - band) for line in lines)


def _image_share(path: Path, index: int) -> float:
    """How much of page `index` (0-based) its images cover, by PDFium's bounds of each (in forms too), clipped to
    the page; 0.0 where PDFium cannot read the page. pypdf lists a page's images, not where they are drawn."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        document = pypdfium2.PdfDocument(str(path))
        try:
            page = document[index]
            left, bottom, right, top = page.get_bbox()
            covered = 0.0
            for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=15):
                x0, y0, x1, y1 = image.get_bounds()
                covered += max(0.0, min(x1, right) - max(x0, left)) * max(0.0, min(y1, top) - max(y0, bottom))
            area = (right - left) * (top - bottom)
            return min(1.0, covered / area) if area > 0 else 0.0
        finally:
            document.close()
    except pypdfium2.PdfiumError:
        return 0.0


# A content stream's fill operators (f, F, f*, B, B*, b, b*) and a white fill colour (1 g, 1 1 1 rg): only a page
# holding either may draw text a viewer does not show, so only such a page is read by PDFium for it.
_MAY_HIDE_TEXT = re.compile(
    rb"(?<![\w*.])(?:f\*?|F|[Bb]\*?)(?![\w*])|(?<![\d.])1(?:\.0*)?\s+(?:1(?:\.0*)?\s+1(?:\.0*)?\s+rg|g)\b")
# PDFium's box of a text object, in the page's units as pypdf's positions: (left, bottom, right, top).
_Box = tuple[float, float, float, float]


def _may_hide_text(page: Any) -> bool:
    try:
        contents = page.get_contents()
        return contents is not None and _MAY_HIDE_TEXT.search(contents.get_data()) is not None
    except Exception:  # a damaged stream: its text, if any, was read as it is
        return False


def _unseen_text(path: Path, indexes: list[int]) -> dict[int, tuple[list[_Box], list[_Box]]]:
    """For each page of `indexes` (0-based), the boxes of its text a viewer does not show: text an opaque filled
    shape drawn after it covers (a black box drawn over a line as a "redaction" that left its text), and text drawn
    white where no filled shape is under it (white on a white page). Text drawn invisible on purpose (a scan's OCR
    layer, render mode 3) is neither: it is the page's text. Before 2026-12-08 both were indexed and quoted."""
    import ctypes

    import pypdfium2
    import pypdfium2.raw as pdfium_c

    def fill(handle: Any) -> tuple[int, int, int, int]:
        rgba = [ctypes.c_uint() for _ in range(4)]
        if not pdfium_c.FPDFPageObj_GetFillColor(handle, *(ctypes.byref(c) for c in rgba)):
            return (0, 0, 0, 0)
        return (rgba[0].value, rgba[1].value, rgba[2].value, rgba[3].value)

    def inside(inner: _Box, outer: _Box) -> bool:
        return (outer[0] - 1 <= inner[0] and outer[1] - 1 <= inner[1] and inner[2] <= outer[2] + 1
                and inner[3] <= outer[3] + 1)

    found: dict[int, tuple[list[_Box], list[_Box]]] = {}
    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError:
        return found
    try:
        for index in indexes:
            # Paint order: each filled shape with whether it is opaque and white, each text object drawn.
            drawn: list[tuple[str, _Box, tuple[int, int, int, int]]] = []
            for item in document[index].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_PATH],
                                                    max_depth=15):
                left, bottom, right, top = item.get_bounds()
                box = (float(left), float(bottom), float(right), float(top))
                if item.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
                    if pdfium_c.FPDFTextObj_GetTextRenderMode(item.raw) != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
                        drawn.append(("text", box, fill(item.raw)))
                    continue
                mode, stroke = ctypes.c_int(), ctypes.c_int()
                if pdfium_c.FPDFPath_GetDrawMode(item.raw, ctypes.byref(mode), ctypes.byref(stroke)) and mode.value:
                    drawn.append(("fill", box, fill(item.raw)))
            covered: list[_Box] = []
            white: list[_Box] = []
            for i, (kind, box, colour) in enumerate(drawn):
                if kind != "text":
                    continue
                if any(k == "fill" and c[3] == 255 and inside(box, b) for k, b, c in drawn[i + 1:]):
                    covered.append(box)
                elif colour[:3] == (255, 255, 255) and not any(
                        k == "fill" and c[:3] != (255, 255, 255) and inside(box, b) for k, b, c in drawn[:i]):
                    white.append(box)
            if covered or white:
                found[index] = (covered, white)
    except pypdfium2.PdfiumError:  # a page PDFium cannot read: its text stays as pypdf read it
        return found
    finally:
        document.close()
    return found


def _without_unseen(lines: list[_PdfLine], covered: list[_Box], white: list[_Box]) -> tuple[list[_PdfLine], int, int]:
    """A page's lines without the runs drawn in `covered` and `white` boxes (`_unseen_text`), and how many lines
    lost text to each."""
    def within(x: float, y: float, boxes: list[_Box]) -> bool:
        return any(left - 1 <= x < right and bottom - 1 <= y <= top + 1 for left, bottom, right, top in boxes)

    kept: list[_PdfLine] = []
    under = unseen = 0
    for line in lines:
        runs: list[_Run] = []
        hidden_by = ""  # a piece after a line break lies where the run before it went
        lost: set[str] = set()
        for run in line.runs:
            if run.x is not None and line.y is not None:
                hidden_by = ("covered" if within(run.x, line.y, covered)
                             else "white" if within(run.x, line.y, white) else "")
            if hidden_by and run.text.strip():
                lost.add(hidden_by)
            elif not hidden_by:
                runs.append(run)
        under += "covered" in lost
        unseen += "white" in lost
        if any(run.text.strip() for run in runs):
            kept.append(dataclasses.replace(line, runs=runs))
    return kept, under, unseen


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _untyped(ocr_lines: list[OcrLine], typed: list[_PdfLine]) -> list[OcrLine]:
    """The lines OCR read on a page that are not its typed lines: the page is rendered with its text layer, so OCR
    reads the typed footer too, which is kept from the text layer. Only an OCR line whose letters are a whole typed
    line's goes: before 2026-12-08 one found anywhere inside the typed text went, so under a fax header naming "Dr.
    Alan Smith, Cardiology" the scan's lines "Smith", "Cardiology" and "Log" were lost."""
    typed_letters = {_letters(line.text) for line in typed}
    return [line for line in ocr_lines if not (_letters(line.text) and _letters(line.text) in typed_letters)]


# What a font without a Unicode map (no /ToUnicode, a subset's glyph ids as its codes) gives for letters: control
# characters (U+0001, U+0002...), private-use ones, or U+FFFD.
_NO_LETTERS = frozenset({"Cc", "Co", "Cs"})


def _is_garbled(lines: list[_PdfLine]) -> bool:
    """Whether a page's text layer is mostly characters no text is written in: indexed, it was "␁␂␃ ␄␅␆", found by
    no search and quoted by summarize, where the page shows words."""
    chars = [c for line in lines for c in line.text if not c.isspace()]
    bad = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in _NO_LETTERS)
    return bad * 2 > len(chars)


def _damage(page: Any, lines: list[_PdfLine], warnings: list[str]) -> str:
    """Why a page's text was lost to a damaged content stream, or "": pypdf's warning while decoding it, or, on a
    page that gave no text, a Flate stream that decodes to nothing as it is no complete Flate data (pypdf gives such
    a page no text and says nothing; a blank page's empty stream, packed, is complete)."""
    if warnings:
        return warnings[0]
    if lines:
        return ""
    try:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        streams = list(contents) if isinstance(contents, list) else [contents] if contents is not None else []
        for stream in streams:
            stream = stream.get_object()
            filters = stream.get("/Filter")
            raw = getattr(stream, "_data", b"")
            if (list(filters) if isinstance(filters, list) else [filters]) != ["/FlateDecode"] or not raw \
                    or stream.get_data().strip():
                continue
            inflater = zlib.decompressobj()
            inflater.decompress(raw, 1 << 16)  # bounded: a page's stream that pypdf read as nothing
            if not inflater.eof:
                return "its content stream is cut short"
    except zlib.error as exc:
        return f"its content stream is no Flate data: {exc}"
    except Exception as exc:  # the stream cannot even be decoded: that is the damage
        return f"{type(exc).__name__}: {exc}"
    return ""


_GARBLED_WHY = "a font without a Unicode map"
_DAMAGE_FIX = "re-export the PDF, or print it to a new one"


def _damage_note(damaged: list[tuple[int, str, bool]]) -> str:
    """The pages damage cost text, "page 2 could not be read (damaged: ...)", each group with its first page's reason;
    a page that gave some text "could not be read whole"."""
    groups = [[(number, why) for number, why, lost in damaged if lost == wholly] for wholly in (True, False)]
    return "; ".join(f"{page_list([number for number, _ in group])} could not be read{'' if wholly else ' whole'} "
                     f"(damaged: {group[0][1]})" for group, wholly in zip(groups, (True, False), strict=True) if group)


def _cited_pages(reader: Any) -> list[int | None]:
    """The page number each page is cited by: the label a viewer shows for it, where the PDF labels its pages
    (/PageLabels) and the label is a number ("4" for the 7th page of a book whose front matter is i, ii, iii), else
    its place in the file. A page labelled otherwise ("iii", "A-2") is cited by its place unless a labelled page
    bears that number (a book's page "3"), then by none (its heading alone): the store holds a page as a number,
    and "page 3" for both was wrong for one. Before 2026-12-07 every page was cited by its place in the file: "page
    7" for the page a viewer showed as 4."""
    count = len(reader.pages)
    try:
        labels = list(reader.page_labels)
    except Exception:  # a damaged label tree costs the labels, not the text
        labels = []
    if len(labels) != count:
        return list(range(1, count + 1))
    numbered = {int(label) for label in labels if label.isdigit()}
    return [int(label) if label.isdigit() else None if place in numbered else place
            for place, label in enumerate(labels, start=1)]


def _decrypted(path: Path) -> str:
    """`qpdf`'s file arguments to decrypt `path` into a copy beside it."""
    return f"{shlex.quote(path.name)} {shlex.quote(path.stem + '-decrypted.pdf')}"


def _not_a_pdf(path: Path) -> LoaderError | None:
    """A file named .pdf without the PDF header in its first kilobyte (where readers look for it), told as what it
    is: one holding text was called "corrupt or truncated"."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError:
        return None  # the reader's own error says why
    if b"%PDF-" in head or not head.strip():
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the kilobyte's end
            return None
    return LoaderError(f"{path}: not a PDF: it holds text", "rename it .txt (or .md) to read it")


def _read_pdf(path: Path, ocr: bool, notify: Notify | None, warnings: _PypdfWarnings) -> LoadedText:
    from pypdf import PdfReader

    disguised = _not_a_pdf(path)
    if disguised is not None:
        raise disguised
    try:
        reader = PdfReader(str(path))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many exception types for damaged files
        raise LoaderError(
            f"{path}: not a readable PDF ({type(exc).__name__}: {exc})", "it may be corrupt or truncated"
        ) from exc
    if encrypted:
        # Many PDFs are encrypted with an empty user password only to restrict printing or copying.
        try:
            opened = bool(reader.decrypt(""))
        except Exception as exc:  # a cipher this install cannot handle: qpdf opens it, as the password is empty
            raise LoaderError(f"{path}: PDF is encrypted in a way this install cannot open ({type(exc).__name__})",
                              f"decrypt it first: `qpdf --decrypt {_decrypted(path)}`") from exc
        if not opened:
            # `qpdf --decrypt` without the password fails on such a file: the fix names the password.
            raise LoaderError(f"{path}: PDF is encrypted with a password, needed to open it",
                              "decrypt a copy with its password: "
                              f"`qpdf --password=PASSWORD --decrypt {_decrypted(path)}`, and ingest that")
    pages: list[list[_PdfLine]] = []
    scanned: dict[int, list[str]] = {}  # 1-based page number -> OCR'd paragraphs
    doubtful: list[int] = []  # pages OCR read with low confidence
    unread: list[int] = []  # scanned pages left unread, OCR being off
    garbled: list[int] = []  # pages whose text layer is no text (`_is_garbled`): OCR'd if it is on, else left out
    damaged: list[tuple[int, str, bool]] = []  # pages damage cost text: why, and whether it cost all of it
    for number, page in enumerate(reader.pages, start=1):
        warnings.messages.clear()
        try:
            pages.append(_pdf_page_lines(page))
        except Exception as exc:  # damaged content streams surface as arbitrary errors inside pypdf
            pages.append([])
            damaged.append((number, f"{type(exc).__name__}: {exc}"[:200], True))
            continue
        why = _damage(page, pages[-1], warnings.messages)
        if why:
            damaged.append((number, why[:200], not pages[-1]))
        if _is_garbled(pages[-1]):
            garbled.append(number)
            pages[-1] = []
            if not ocr:
                continue
            kind = "scan"
        else:
            kind = _scan_kind(path, number - 1, page, pages[-1])
            if not kind:
                continue
            if not ocr:
                unread.append(number)
                continue
        if notify is not None:
            notify(f"OCR {path.name} page {number}/{len(reader.pages)}")
        # A garbled page is rendered as a viewer shows it, its glyphs drawn by their shapes: OCR reads its words.
        reading = ocr_pdf_page(path, number - 1)
        scanned[number] = list(paragraphs(_untyped(reading.lines, pages[-1]) if kind == "overlaid" else reading.lines))
        if reading.doubtful:
            doubtful.append(number)
        if kind != "overlaid":
            pages[-1] = []
    # Text a viewer does not show, under a filled box or white on white, is left out and named (`_unseen_text`).
    flagged = [index for index, lines in enumerate(pages) if lines and _may_hide_text(reader.pages[index])]
    under_box: list[str] = []
    in_white: list[str] = []
    for index, (covered, white) in (_unseen_text(path, flagged) if flagged else {}).items():
        pages[index], under, unseen = _without_unseen(pages[index], covered, white)
        if under:
            under_box.append(f"page {index + 1}: {count_text(under, 'line')}")
        if unseen:
            in_white.append(f"page {index + 1}: {count_text(unseen, 'line')}")
    pages = _without_running_lines(pages)
    without_contents = [_without_contents(lines) for lines in pages]
    # A document that is all contents entries (a one-page menu "Tea ..... 2", "Cake ..... 5") is its own text.
    pages = without_contents if any(without_contents) or not any(pages) else pages
    weights: dict[float, int] = {}
    for line in (line for page_lines in pages for line in page_lines):
        weights[line.size] = weights.get(line.size, 0) + len(line.text)
    if not weights and not any(scanned.values()):
        if scanned:  # blank pages scanned: passed over as a file with no text is, not a failure
            raise NoTextError(
                f"{path}: no extractable text, and OCR found none on its pages", "exclude it if it holds no text"
            )
        if unread:  # scans with OCR off: left out and said, as an image then is
            raise NeedsOcrError(f"{path}: no extractable text (a scanned PDF?)", OCR_ON)
        if garbled:  # read only by OCR too
            raise NeedsOcrError(f"{path}: no text, only control characters ({_GARBLED_WHY})", OCR_ON)
        if damaged:
            raise LoaderError(f"{path}: {_damage_note(damaged)}", _DAMAGE_FIX)
        # Neither text nor a scanned page: a damaged file, or text drawn as curves, is no blank scan to pass over.
        if ocr:
            raise LoaderError(
                f"{path}: no extractable text, and OCR found none on its pages", "exclude it if it holds no text"
            )
        raise LoaderError(f"{path}: no extractable text (a scanned PDF?)", OCR_ON)
    body = _body_size(pages)
    heading_sizes = sorted((s for s in weights if s >= body * 1.15), reverse=True)[:6]
    hyphenated = _hyphenated_words(pages)
    out = TextBuilder()
    headings = HeadingPath()
    title = ""
    blocks = [list(_pdf_blocks(page_lines, body, heading_sizes, hyphenated)) for page_lines in pages]
    _join_page_breaks(blocks, hyphenated, [bool(lines) and not lines[-1].short for lines in pages])
    extras = [_page_extras(page) for page in reader.pages]
    xfa_values, xfa_rendered = _xfa_form(reader)
    if xfa_rendered and xfa_values:  # pages a viewer that renders XFA does not show: "Please wait..."
        blocks = [[] for _ in blocks]
    cited = _cited_pages(reader)
    for number, page_blocks in enumerate(blocks, start=1):
        cite = cited[number - 1]
        for text in scanned.get(number, ()):
            out.add(text, prose_kind(text), headings.path, cite)
        for text, level in page_blocks:
            if level:
                title = title or text
                out.add(text, "heading", headings.enter(level, text), cite)
            else:
                out.add(text, prose_kind(text), headings.path, cite)
        for text in extras[number - 1][0]:
            out.add(text, "paragraph", headings.path, cite)
        if number == 1 and xfa_values:
            out.add("\n".join(xfa_values), "paragraph", headings.path, cite)
    metadata_title = ""
    try:
        metadata = reader.metadata
        metadata_title = authored_title(str(metadata.get("/Title") or "")) if metadata is not None else ""
    except Exception:  # a damaged info dictionary only costs the title
        metadata_title = ""
    # Said, not dropped in silence: a mixed PDF read with OCR off lacks its scanned pages' text.
    skipped = f"{page_list(unread)} scanned, not read as OCR is off ({OCR_ON})" if unread else ""
    notes = [skipped, doubt_note(doubtful)]
    if garbled:  # the text OCR read, or none, where a search found control characters
        notes.append(f"{page_list(garbled)} read by OCR: the text layer held control characters, not text "
                     f"({_GARBLED_WHY})" if ocr else f"{page_list(garbled)} left out: its text layer holds control "
                     f"characters, not text ({_GARBLED_WHY}), and OCR, which reads it as it looks, is off ({OCR_ON})")
    if damaged:
        notes.append(f"{_damage_note(damaged)}; {_DAMAGE_FIX}")
    notes.append(_attachments_note(path, reader, [name for _, names in extras for name in names]))
    notes.append(_xfa_note(path, xfa_rendered, xfa_values))
    if under_box:
        notes.append(f"{', '.join(under_box)} under a filled box (a redaction that left its text) not read")
    if in_white:
        notes.append(f"{', '.join(in_white)} drawn in the page's colour (white on white, unseen) not read")
    left_out = "; ".join(note for note in notes if note)
    return dataclasses.replace(out.build(metadata_title or title or path.stem), left_out=left_out)
