"""Spreadsheets (.xlsx with openpyxl, .csv/.tsv with the csv module) as tables that keep their headers.

A row of numbers means nothing without its column names, and a chunk that starts halfway down a
sheet would lose them. So each sheet is cut into regions (runs of non-empty rows; a blank row ends a
region, since people stack several small tables in one sheet), the first row of a region is its
header, and a region longer than `ROWS_CHARS` is split into blocks that each start with that header
row again. Each block is one `table` section, which the chunker keeps whole, so every chunk of a
table begins with its column names. The sheet name is the heading.

Cells are joined with " | " like tables from HTML and Word. Formulas are read as their last
computed values (openpyxl `data_only`); a workbook saved by a program that does not store them
shows empty cells there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText

# Characters of rows per block after the header, chosen so that a block and its header usually fit
# one 200-token chunk (numbers cost MiniLM more tokens per character than words do).
ROWS_CHARS = 500


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    # Most cells hold no line breaks or runs of spaces; the regex is only paid for those that do.
    return squash(text) if "\n" in text or "  " in text or "\t" in text or "\r" in text else text.strip()


def _regions(rows: Iterable[list[str]]) -> Iterator[list[str]]:
    """Runs of non-empty rows as " | "-joined lines; trailing empty cells are dropped."""
    region: list[str] = []
    for cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            if region:
                yield region
            region = []
            continue
        region.append(" | ".join(cells))
    if region:
        yield region


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


def _add_sheet(out: TextBuilder, headings: HeadingPath, name: str, rows: Iterable[list[str]]) -> None:
    path = headings.path
    if name:
        path = headings.enter(1, name)
        out.add(name, "heading", path)
    for region in _regions(rows):
        for block in table_blocks(region, ROWS_CHARS):
            out.add(block, "table", path)


def load_xlsx(path: Path) -> LoadedText:
    import openpyxl

    guard_zip(path)
    out = TextBuilder()
    headings = HeadingPath()
    try:
        workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
        try:
            title = squash(workbook.properties.title or "")
            for sheet in workbook.worksheets:
                rows = ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))
                _add_sheet(out, headings, sheet.title, rows)
        finally:
            workbook.close()
    except LoaderError:
        raise
    except Exception as exc:  # openpyxl raises zip, XML and key errors for damaged files alike
        raise LoaderError(
            f"{path}: not a readable .xlsx file ({type(exc).__name__})",
            "it may be corrupt, password-protected or an old .xls: re-save it as .xlsx",
        ) from exc
    return out.build(title or path.stem)


def _csv_cells(row: list[str]) -> list[str]:
    # Cells of a CSV are strings already; most need only trimming, so the regex runs for the rest.
    if any("\n" in c or "  " in c or "\t" in c or "\r" in c for c in row):
        return [squash(c) for c in row]
    return [c.strip() for c in row]


def load_csv(path: Path, text: str) -> LoadedText:
    """`text` is the decoded file; the delimiter is sniffed (comma, semicolon, tab or pipe)."""
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:  # one column, or too irregular to tell: the extension decides
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    csv.field_size_limit(1 << 24)
    out = TextBuilder()
    try:
        rows = (_csv_cells(row) for row in csv.reader(io.StringIO(text), dialect))
        _add_sheet(out, HeadingPath(), "", rows)
    except csv.Error as exc:
        raise LoaderError(f"{path}: not readable as CSV ({exc})", "check its quoting, or rename it to .txt") from exc
    return out.build(path.stem)
