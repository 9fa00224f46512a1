"""Spreadsheets (.xlsx with openpyxl, .csv/.tsv with the csv module) as tables that keep their headers.

A row of numbers means nothing without its column names, and a chunk that starts halfway down a
sheet would lose them. So each sheet is cut into tables (runs of non-empty rows: a blank row ends one,
since people stack several small tables in one sheet; and a fully empty column between two that fill
different rows, where tables stand side by side), the first row of a table is its header, and a table
longer than `ROWS_CHARS` is split into blocks that each start with that header row again. Each block
is one `table` section, which the chunker keeps whole, so every chunk of a table begins with its column
names. The sheet name is the heading; a title row above a table's header (one cell, often merged
across) is a heading below it, and `Label: | value` rows there (a report's date, a bank export's
account) are the table's properties, one `Label: value` line each. Merged cells show their value in
every cell they cover, and a header row with a range merged across columns is the top of a two-row
header. A CSV's delimiter is the one Excel's `sep=;` first line names, else sniffed.
A row too wide to fit in a chunk under its header is written as `column: value` lines, in parts that
each start with its first cell, so no chunk holds a value without its column's name and its row's ID.

Cells are joined with " | " like tables from HTML and Word. Formulas are read as their last computed
values (openpyxl `data_only`); a workbook saved by a program that does not store them shows empty cells
there, which the loader's note says (or its error, where nothing else is left). Hidden sheets and rows
are left out and named in the note. A number or date is written as the sheet shows it (`25%`,
`€1,250.00`, `31 Jan 2026`), since that is how people ask for it: openpyxl gives a cell's format code
but no renderer, so the common codes (fixed decimals, thousands, percent, literal and currency text,
date and time parts) are rendered here, and any other code (scientific, fractions, text sections) falls
back to the bare value, a date to ISO. A sheet with no text adds nothing, not even its name, so a blank
workbook is refused as blank like any other empty file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import io
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder, squash
from localrag.ingest.zipguard import guard_zip
from localrag.sizes import count_text
from localrag.types import LoadedText

# Characters of rows per block after the header: a first cut, made before the embedder is known. A block
# of numbers can still be longer than a chunk (they cost MiniLM more tokens per character than words), so
# `fit_tables` cuts it again by the embedder's own count.
ROWS_CHARS = 500
# The loader kinds whose text is made of such blocks (not the file's own characters, so it may be rebuilt).
SHEET_KINDS = frozenset({"xlsx", "csv"})


def _cell(value: object, number_format: str | None = None) -> str:
    if value is None:
        return ""
    shown = _shown(value, number_format or "General")
    if shown is not None:
        return shown
    if isinstance(value, float):
        # As Excel's General shows a number: 15 significant digits, no trailing zeros. A sum of decimals is stored
        # with binary noise (=0.1+0.2 as 0.30000000000000004, a column total as 15670.400000000001).
        return f"{value:.15g}"
    text = str(value)
    # Most cells hold no line breaks or runs of spaces; the regex is only paid for those that do.
    return squash(text) if "\n" in text or "  " in text or "\t" in text or "\r" in text else text.strip()


# One token of a format code: a quoted literal, an escaped character, a bracketed part ([$€-407] names a
# currency symbol; [Red] and [>100] name a colour or condition, nothing shown), a padding or fill
# directive (`_)` `*-`, nothing shown), a date or time part, a run of digit placeholders, or one character.
_CODE = re.compile(
    r'"(?P<quoted>[^"]*)"|\\(?P<escaped>.)|\[\$(?P<symbol>[^\]-]*)[^\]]*\]|\[[^\]]*\]|[_*].'
    r"|(?P<date>yyyy|yy|m{1,5}|d{1,4}|hh?|ss?|am/pm|a/p)|(?P<digits>[0#?][0#?,.]*)|(?P<char>.)",
    re.IGNORECASE,
)
# A format code's sections, parsed: a list of (kind, text) per section; kind is "text", "date" or "digits".
_Parsed = tuple[tuple[tuple[str, str], ...], ...]


@functools.lru_cache(maxsize=256)  # a sheet uses a handful of codes for thousands of cells
def _parse(code: str) -> _Parsed:
    sections: list[tuple[tuple[str, str], ...]] = []
    parts: list[tuple[str, str]] = []
    for match in _CODE.finditer(code):
        if match["char"] == ";":
            sections.append(tuple(parts))
            parts = []
        elif match["date"] or match["digits"]:
            parts.append(("date" if match["date"] else "digits", match[0]))
        else:
            literal = match["quoted"] or match["escaped"] or match["symbol"] or match["char"] or ""
            if literal:
                # A bare letter is a part this renderer does not know (E+ of scientific, General, @ of text).
                parts.append(("unknown" if match["char"] and (literal.isalnum() or literal == "@") else "text",
                              literal))
    sections.append(tuple(parts))
    return tuple(sections)


def _shown(value: object, code: str) -> str | None:
    """`value` as its format code `code` shows it; None where the code is General or not one rendered here."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return _date(value, _parse(code)[0]) or _iso(value)
    if isinstance(value, datetime.timedelta):  # openpyxl's reading of an elapsed-time code ([h]:mm)
        return _duration(value, code)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or code == "General":
        return None
    sections = _parse(code)
    # A second section is for negative numbers, shown without their sign (it holds its own, or brackets).
    section, sign = (sections[1], "") if value < 0 and len(sections) > 1 else (sections[0], "-" if value < 0 else "")
    digits = [text for kind, text in section if kind == "digits"]
    if len(digits) != 1 or any(kind != "text" and kind != "digits" for kind, _ in section):
        return None
    whole, _, fraction = digits[0].partition(".")
    if whole.endswith(","):  # a trailing comma scales by a thousand: rare enough to leave to the bare value
        return None
    number = abs(value) * (100 if any(kind == "text" and "%" in text for kind, text in section) else 1)
    places = len(fraction) - fraction.count(",")
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)  # as Excel rounds
    shown = f"{rounded:{',' if ',' in whole else ''}.{places}f}"
    optional = len(fraction) - fraction.count("0")  # "0.0#" shows a second decimal only when it is not 0
    while optional and shown.endswith("0") and "." in shown:
        shown, optional = shown[:-1], optional - 1
    shown = shown.removesuffix(".")
    return sign + "".join(shown if kind == "digits" else text for kind, text in section).strip()


def _date(value: datetime.date | datetime.time, section: tuple[tuple[str, str], ...]) -> str | None:
    """A date or time as a date code's parts show it; None for a code with parts not rendered here."""
    if any(kind not in ("text", "date") for kind, _ in section) or not any(kind == "date" for kind, _ in section):
        return None
    codes = [text.lower() for kind, text in section if kind == "date"]
    # Excel's built-in short date is shown in the reader's locale order: ISO is not ambiguous.
    if codes == ["mm", "dd", "yy"]:
        return None
    twelve = any(code in ("am/pm", "a/p") for code in codes)
    moment = value if isinstance(value, datetime.datetime) else None
    day = value if isinstance(value, datetime.date) else None
    clock = moment.time() if moment else value if isinstance(value, datetime.time) else None
    out: list[str] = []
    index = 0
    for kind, text in section:
        if kind == "text":
            out.append(text)
            continue
        code = text.lower()
        # "m" is minutes right after an hour or right before seconds, else the month.
        if code in ("m", "mm") and ((index and codes[index - 1][0] == "h")
                                    or (index + 1 < len(codes) and codes[index + 1][0] == "s")):
            code = "n" * len(code)
        index += 1
        part = _date_part(code, day, clock, twelve)
        if part is None:
            return None
        out.append(part)
    return "".join(out).strip()


def _duration(value: datetime.timedelta, code: str) -> str:
    """An elapsed time as Excel shows it: the bracketed unit counts on past its cycle (25 hours as `25:00` under
    [h]:mm, where Python writes `1 day, 1:00:00`); seconds are rounded, a unit shown last is cut, not rounded."""
    code = code.lower()
    unit = re.search(r"\[(h+|m+|s+)\]", code)
    first, width = (unit[1][0], len(unit[1])) if unit else ("h", 1)
    rest = code[unit.end():] if unit else "ss"
    total = round(value.total_seconds())
    sign, total = "-" if total < 0 else "", abs(total)
    if first == "s":
        return f"{sign}{total:0{width}d}"
    minutes, seconds = divmod(total, 60)
    if first == "h":
        hours, minutes = divmod(minutes, 60)
        shown = f"{hours:0{width}d}:{minutes:02d}"
    else:
        shown = f"{minutes:0{width}d}"
    if "s" in rest:
        shown += f":{seconds:02d}"
    return sign + shown


def _date_part(code: str, day: datetime.date | None, clock: datetime.time | None, twelve: bool) -> str | None:
    if code[0] in "ymd":
        if day is None:
            return None
        if code[0] == "m" and len(code) >= 3:
            return day.strftime("%B" if len(code) == 4 else "%b")[: 1 if len(code) == 5 else None]
        if code[0] == "d" and len(code) >= 3:
            return day.strftime("%A" if len(code) == 4 else "%a")
        number = {"y": day.year, "m": day.month, "d": day.day}[code[0]]
        return f"{number % 100:02d}" if code == "yy" else f"{number:0{min(len(code), 4)}d}"
    if clock is None:
        return None
    if code in ("am/pm", "a/p"):
        return ("AM" if clock.hour < 12 else "PM")[: 1 if code == "a/p" else None]
    number = {"h": (clock.hour % 12 or 12) if twelve else clock.hour, "n": clock.minute, "s": clock.second}[code[0]]
    return f"{number:0{len(code)}d}"


def _iso(value: datetime.date | datetime.time) -> str:
    """A date without the midnight that Excel's serial numbers give every date-only value."""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()


# A row's number on its sheet (from 1) and its cells as text.
Row = tuple[int, list[str]]
# A merged range: its first row, first column, last row and last column (from 1).
Merge = tuple[int, int, int, int]


def _regions(rows: Iterable[Row], spanned: set[int]) -> Iterator[list[Row]]:
    """Runs of non-empty rows; trailing empty cells are dropped. A row in `spanned` (under the first row of a range
    merged down) is in the run, though it reads as empty: `_fill` gives it the range's value. Else a title merged
    two rows down was a table of its own, its name repeated across the columns, and no heading."""
    region: list[Row] = []
    for number, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not cells and not (number in spanned and region):
            if region:
                yield region
            region = []
            continue
        region.append((number, cells))
    if region:
        yield region


def _tables(rows: Iterable[Row], merges: Sequence[Merge]) -> Iterator[tuple[list[Row], list[Merge]]]:
    """A sheet's tables, each with the merged ranges inside it, merged cells filled. A table is a run of non-empty
    rows (people stack small tables in one sheet), cut again at fully empty columns where tables stand side by side:
    read as one, "Employee | Department | Phone" in A1:C7 and "Meeting room | Capacity | Floor" in F3:H6 made rows
    such as "Ben Müller | IT | x202 |  |  | Meeting room | Capacity | Floor". Columns are renumbered from each
    table's first, so a table is read without the empty columns left of it."""
    spanned = {number for top, _, bottom, _ in merges for number in range(top + 1, bottom + 1)}
    for region in _regions(rows, spanned):
        _fill(region, merges)
        region = [(number, cells) for number, cells in region if cells]  # a range merged down with no value
        bands = _bands(region)
        first, last = region[0][0], region[-1][0]
        if len(bands) > 1:
            for left, right in bands:
                inside = _shifted(merges, first, last, left, right)
                yield from _tables([(number, cells[left:right]) for number, cells in region], inside)
            continue
        left, right = bands[0]
        if left:
            region = [(number, cells[left:right]) for number, cells in region]
        yield region, _shifted(merges, first, last, left, right)


def _bands(region: list[Row]) -> list[tuple[int, int]]:
    """The runs of columns (from, to, from 0) that hold a cell of `region`, joined across empty columns where the
    runs on either side fill the same rows: a spacer column inside one table ("Name | Team |  | Q1 | Q2")."""
    width = max(len(cells) for _, cells in region)
    empty = set(range(width))
    for _, cells in region:
        # Only the columns empty so far are looked at: mostly none past the header, so a long table costs little.
        empty = {column for column in empty if column >= len(cells) or not cells[column]}
        if not empty:
            return [(0, width)]
    runs: list[tuple[int, int]] = []
    for full, group in itertools.groupby(range(width), key=lambda column: column not in empty):
        columns = list(group)
        if full:
            runs.append((columns[0], columns[-1] + 1))

    def rows(left: int, right: int) -> set[int]:
        return {number for number, cells in region if any(cells[left:right])}

    bands = runs[:1]
    for left, right in runs[1:]:
        if rows(left, right) == rows(*bands[-1]):
            bands[-1] = (bands[-1][0], right)
        else:
            bands.append((left, right))
    return bands


def _shifted(merges: Sequence[Merge], first: int, last: int, left: int, right: int) -> list[Merge]:
    """The merged ranges within rows `first` to `last` and columns `left` to `right` (from 0, `right` past the end),
    in those columns' numbers from 1."""
    return [(top, start - left, bottom, end - left) for top, start, bottom, end in merges
            if top <= last and bottom >= first and start > left and end <= right]


def _fill(table: list[Row], merges: Sequence[Merge]) -> None:
    """Each merged range's value in every cell of it that `table` holds, as Excel shows it across them."""
    at = dict(table)
    for top, left, bottom, right in merges:
        if top not in at or left > len(at[top]) or not at[top][left - 1]:
            continue
        value = at[top][left - 1]
        for number in range(top, bottom + 1):
            cells = at.get(number)
            if cells is not None:
                cells.extend([""] * (right - len(cells)))
                cells[left - 1 : right] = [value] * (right - left + 1)


# At most this many rows above a table's header are read as its titles and properties: a report's few lines.
LEAD_ROWS = 10


def _own(number: int, cells: list[str], merges: Sequence[Merge]) -> list[str]:
    """A row's filled cells, a merged range's once (in its first cell): `_fill` copied its value into the rest."""
    return [cell for column, cell in enumerate(cells, start=1) if cell and not any(
        top <= number <= bottom and left <= column <= right and (top, left) != (number, column)
        for top, left, bottom, right in merges)]


def _above(own: list[str], cells: list[str], header: list[str]) -> bool:
    """Whether a row (its own cells, and all its cells) can stand above the header row `header`: a title (one cell,
    often merged across; none, in the second row of a title merged two rows down), a `Label:` and its value narrower
    than the header, or a row at most half its width (a bank export's "Konto | DE12 3456 …" over four columns)."""
    return len(own) < 2 or len(cells) < len(header) and (own[0].endswith(":") or 2 * len(cells) <= len(header))


def _lead(table: list[Row], merges: Sequence[Merge]) -> tuple[list[list[str]], list[Row]]:
    """A table's rows above its header, each as its own cells, and the table from its header on. The header is the
    lowest of the first rows that fills at least half the table's columns, with two cells or more, and has only rows
    that can stand above a header (`_above`) above it. Read as the header, a title ("Supplier invoices 2026") or a
    "Report date: | 1 Dec 2026" line led every block of the table, and its column names were in the first block alone.
    Merged cells are filled by now, so a header under a merged title is counted at its full width."""
    width = max(len(cells) for _, cells in table)
    owns = [_own(number, cells, merges) for number, cells in table[: LEAD_ROWS + 1]]
    header = 0
    for index, (_, cells) in enumerate(table[: LEAD_ROWS + 1]):
        if len(owns[index]) < 2 or sum(1 for cell in cells if cell) < max(2, width / 2):
            continue
        if not all(_above(owns[above], table[above][1], cells) for above in range(index)):
            break
        header = index
    return owns[:header], table[header:]


def _table_lines(table: list[Row], merges: Sequence[Merge]) -> list[str]:
    """A table's rows as " | "-joined lines, the header first. A header row with a range merged across columns
    ("Q1 2026" over Jan, Feb and Mar) is the top of a two-row header: each column is named by both rows."""
    (number, header), rows = table[0], [cells for _, cells in table[1:]]
    if rows and any(top == bottom == number and right > left for top, left, bottom, right in merges):
        below = rows.pop(0)
        header = [f"{a} {b}" if a and b and a != b else a or b
                  for a, b in itertools.zip_longest(header, below, fillvalue="")]
    return [" | ".join(cells) for cells in [header, *rows]]


def table_blocks(region: list[str], limit: int) -> Iterator[str]:
    """A region as blocks of at most about `limit` characters of rows, each led by the header row."""
    header, rows = region[0], region[1:]
    if not rows:
        yield header
        return
    block: list[str] = []
    size = 0
    for row in rows:
        if block and size + len(row) > limit:
            yield "\n".join([header, *block])
            block, size = [], 0
        block.append(row)
        size += len(row) + 1
    yield "\n".join([header, *block])


def fit_tables(loaded: LoadedText, token_counts: Callable[[Sequence[str]], list[int]], max_tokens: int) -> LoadedText:
    """`loaded` with every table block longer than `max_tokens` (as the chunker counts) cut into blocks that
    fit, each led by the block's header row again. The chunker would cut such a block between rows instead,
    and its later chunks would start without the column names. A row too wide to fit under its header is
    written as `column: value` lines instead (`_row_parts`)."""
    counts = token_counts([""])
    special = counts[0] if counts else 0
    budget = max_tokens - special
    tables = [s for s in loaded.sections if s.kind == "table"]
    sizes = token_counts([loaded.text[s.start : s.end] for s in tables])
    over = {id(section) for section, size in zip(tables, sizes, strict=True) if size > max_tokens}
    if not over:
        return loaded
    out = TextBuilder()
    for section in loaded.sections:
        text = loaded.text[section.start : section.end]
        if id(section) not in over:
            out.add(text, section.kind, section.headings, section.page)
            continue
        header, *rows = text.split("\n")
        row_tokens = [c - special for c in token_counts([header, *rows])]
        room = budget - row_tokens[0]
        # The rows shared evenly among as few blocks as hold them: filled greedily, a block one row over its room
        # left a block of one row (every 12th invoice), which often outranked the right block in the vector leg.
        fitting = sum(tokens for tokens in row_tokens[1:] if tokens <= room)
        aim = fitting / math.ceil(fitting / room) if fitting and room > 0 else room
        block: list[str] = []
        used = 0
        for row, tokens in zip(rows, row_tokens[1:], strict=True):
            if block and (used + tokens > room or tokens > room or used >= aim):
                out.add("\n".join([header, *block]), "table", section.headings, section.page)
                block, used = [], 0
            if tokens > room:
                for part in _row_parts(header, row, token_counts, special, budget):
                    out.add(part, "table", section.headings, section.page)
                continue
            block.append(row)
            used += tokens
        if block or not rows:
            out.add("\n".join([header, *block]), "table", section.headings, section.page)
    return out.build(loaded.title)


def _row_parts(header: str, row: str, token_counts: Callable[[Sequence[str]], list[int]], special: int,
               budget: int) -> list[str]:
    """A row too wide to fit in a chunk under its header as `column: value` lines, cut into parts that each start
    with the row's first cell (its ID, mostly). Left to the chunker, a 40-column sheet's rows were cut from their
    120-token header: a question about ORD-001 was answered from ORD-005's row, which no chunk named."""
    names = header.split(" | ")
    lines = [f"{names[i]}: {cell}" if i < len(names) and names[i] else cell
             for i, cell in enumerate(row.split(" | ")) if cell]
    tokens = [c - special for c in token_counts(lines)]
    parts: list[str] = []
    part, used = [lines[0]], tokens[0]
    for line, size in zip(lines[1:], tokens[1:], strict=True):
        if len(part) > 1 and used + size > budget:
            parts.append("\n".join(part))
            part, used = [lines[0]], tokens[0]
        part.append(line)
        used += size
    return [*parts, "\n".join(part)]


def _add_sheet(out: TextBuilder, headings: HeadingPath, name: str, rows: Iterable[Row],
               merges: Sequence[Merge] = ()) -> None:
    sheet = headings.path
    for index, (table, inside) in enumerate(_tables(rows, merges)):
        if name and not index:  # a sheet with no text is not named either: a blank workbook holds nothing
            sheet = headings.enter(1, name)
            out.add(name, "heading", sheet)
        lead, table = _lead(table, inside)
        path = sheet
        for title in (own[0] for own in lead if len(own) == 1):
            # Below the sheet's name, a table's own heading, in its chunks' heading path alone: as a line of the
            # text, the chunker put it before the first block, which fit_tables had sized without it, and cut that
            # block in the middle of a row (the rows after it had no column names).
            path = headings.enter(len(path) + 1, title)
        facts = [_fact(own) for own in lead if len(own) > 1]
        if facts:
            # Properties, as a note's front matter: the chunker ends their chunk after them, so the first block is not
            # cut to fit beside them.
            out.add("\n".join(facts), "properties", path)
        for block in table_blocks(_table_lines(table, inside), ROWS_CHARS):
            out.add(block, "table", path)


def _fact(own: list[str]) -> str:
    """A `Label: | value` row above a table as the line `Label: value` (`Konto: DE12 …` for a label with no colon)."""
    label, values = own[0], " | ".join(own[1:])
    return f"{label} {values}" if label.endswith(":") else f"{label}: {values}"


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclasses.dataclass
class _Marks:
    """What openpyxl's read-only mode does not give of a sheet: read from its XML in a pass of its own."""

    hidden_rows: set[int] = dataclasses.field(default_factory=set)
    merges: list[Merge] = dataclasses.field(default_factory=list)
    unvalued: int = 0  # formula cells without a stored value: read as empty


def _marks(sheet: Any) -> _Marks:
    # Read-only mode keeps a 100,000-row sheet out of memory but drops merged ranges and row attributes; this
    # second pass over the sheet's XML keeps no more than they are, and costs 0.57 s of a 50,000-row sheet's 4.4 s.
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import range_boundaries

    marks = _Marks()
    number = 0
    with sheet._get_source() as source:  # the sheet's part in the package, as openpyxl's own read-only reader opens it
        for _, element in iterparse(source):  # end events alone: a row's cells are read by then, its attributes kept
            tag = element.tag
            if tag == f"{_MAIN}c":
                if element.find(f"{_MAIN}f") is not None:
                    # openpyxl writes an empty value, other writers none; Excel stores a formula's "" as an empty
                    # string value (t="str").
                    value = element.find(f"{_MAIN}v")
                    if value is None or not value.text and element.get("t") != "str":
                        marks.unvalued += 1
            elif tag == f"{_MAIN}row":
                number = int(element.get("r", number + 1))
                if element.get("hidden") in ("1", "true"):
                    marks.hidden_rows.add(number)
                element.clear()
            elif tag == f"{_MAIN}mergeCell" and element.get("ref"):
                left, top, right, bottom = range_boundaries(element.get("ref"))
                marks.merges.append((top, left, bottom, right))
    return marks


def load_xlsx(path: Path) -> LoadedText:
    """A workbook's visible sheets. Hidden sheets and rows are left out (a hidden "Payroll" sheet's salaries were
    found by a search) and named in the note, with formulas that have no stored value to read."""
    import openpyxl

    guard_zip(path)
    out = TextBuilder()
    headings = HeadingPath()
    hidden: list[str] = []
    hidden_rows = 0
    unvalued: dict[str, int] = {}
    try:
        workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
        try:
            title = squash(workbook.properties.title or "")
            for sheet in workbook.worksheets:
                if sheet.sheet_state != "visible":  # "hidden", or "veryHidden" (shown only by a macro)
                    hidden.append(sheet.title)
                    continue
                marks = _marks(sheet)
                hidden_rows += len(marks.hidden_rows)
                if marks.unvalued:
                    unvalued[sheet.title] = marks.unvalued
                rows = ((number, [_cell(c.value, c.number_format) for c in row])
                        for number, row in enumerate(sheet.iter_rows(), start=1) if number not in marks.hidden_rows)
                _add_sheet(out, headings, sheet.title, rows, marks.merges)
        finally:
            workbook.close()
    except LoaderError:
        raise
    except Exception as exc:  # openpyxl raises zip, XML and key errors for damaged files alike
        raise LoaderError(
            f"{path}: not a readable {path.suffix.lower()} file ({type(exc).__name__})",
            f"it may be corrupt, password-protected or an old .xls: re-save it as {path.suffix.lower()}",
        ) from exc
    loaded = out.build(title or path.stem)
    formulas = sum(unvalued.values())
    unstored = "1 formula has no stored value" if formulas == 1 else f"{formulas} formulas have no stored values"
    save = "open it in Excel or LibreOffice and save it, so the values are stored"
    if unvalued and not loaded.text:
        # Else refused as "empty or blank": a script that writes formulas alone (openpyxl's way) stores no values.
        raise LoaderError(f"{path}: its {unstored} (the program that wrote it does not compute them)", save)
    notes = []
    if hidden:
        notes.append(f"hidden {'sheet' if len(hidden) == 1 else 'sheets'} {', '.join(hidden)} left out")
    if hidden_rows:
        notes.append(f"{count_text(hidden_rows, 'hidden row')} left out")
    if unvalued:
        notes.append(f"{unstored} in {', '.join(unvalued)}, read as empty: {save}")
    return dataclasses.replace(loaded, left_out="; ".join(notes))


def _csv_cells(row: list[str]) -> list[str]:
    # Cells of a CSV are strings already; most need only trimming, so the regex runs for the rest.
    if any("\n" in c or "  " in c or "\t" in c or "\r" in c for c in row):
        return [squash(c) for c in row]
    return [c.strip() for c in row]


# Excel's first line naming the delimiter (written where the list separator is not a comma): no row of the table.
_SEP_LINE = re.compile(r"sep=(.)\r?\n", re.IGNORECASE)


def load_csv(path: Path, text: str) -> LoadedText:
    """`text` is the decoded file; the delimiter is Excel's `sep=` line's, else sniffed (comma, semicolon, tab or
    pipe). Sniffed with it, `sep=;` was the heading and rows were cut at decimal commas ("0 | 45 €")."""
    sep = _SEP_LINE.match(text)
    if sep:
        text = text[sep.end() :]
    dialect: type[csv.Dialect] | csv.Dialect
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=sep[1] if sep else ",;\t|")
    except csv.Error:  # one column, or too irregular to tell: the extension decides
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    csv.field_size_limit(1 << 24)
    out = TextBuilder()
    try:
        # The `sep=` line's delimiter also where its rows are too irregular for the sniffer to confirm it.
        reader = csv.reader(io.StringIO(text), dialect, delimiter=sep[1] if sep else dialect.delimiter)
        rows = enumerate((_csv_cells(row) for row in reader), start=2 if sep else 1)
        _add_sheet(out, HeadingPath(), "", rows)
    except csv.Error as exc:
        raise LoaderError(f"{path}: not readable as CSV ({exc})", "check its quoting, or rename it to .txt") from exc
    return out.build(path.stem)
