"""The rows of a CSV file as a spreadsheet saves it: Excel's and LibreOffice's ways of writing one read alike.

A question file (`eval`) or a Q&A file (`raft build --qa`) comes from a spreadsheet more often than from an
editor. Excel saves "CSV UTF-8" with a byte-order mark and "Unicode Text" as UTF-16 with tabs; where the comma is
the decimal mark (much of Europe) its columns are separated by ";"; a header is typed "Question" or "path ". Each
of these was read as a file with no "question" column, or ended in a traceback. A file in another 8-bit encoding
is refused naming the fix: guessing one would turn its accented letters into others without a word.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from localrag.errors import LocalRagError

DELIMITERS = (",", ";", "\t")
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def is_table(path: Path) -> bool:
    """Whether a question or Q&A file is a table rather than JSON lines: a .csv or .tsv, or a .txt that is not JSON
    lines (Excel saves "Unicode Text" as .txt: UTF-16, tabs between columns)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return True
    if suffix != ".txt":
        return False
    try:
        with Path(path).open("rb") as handle:
            start = handle.read(4096)
    except OSError:
        return False
    if start.startswith(_UTF16_MARKS):
        return True
    first = start.decode("utf-8", "ignore").lstrip("\ufeff \r\n\t")
    return bool(first) and not first.startswith("{") and any(d in first.splitlines()[0] for d in DELIMITERS)


def read_csv(
    path: Path, error: type[LocalRagError], question_names: Sequence[str] = ("question",)
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) per row under the header, whose column names are stripped and lower-cased; a row's
    cells are as written, those beyond the header dropped. A header naming none of `question_names` is refused.
    `error` is the type of the one-line errors."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})", "check the path") from exc
    text = _decoded(data, path, error)
    header = next(iter(text.splitlines()), "")  # a Mac's CSV ends its lines with CR alone
    skipped = 0
    if len(header) == 5 and header.lower().startswith("sep="):
        # Excel's own line naming the delimiter, which tools write for it: the header follows it.
        delimiter, skipped = header[4], 1
        text = text.split(header, 1)[1].lstrip("\r\n")
    else:
        delimiter = _delimiter(header)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [(name or "").strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise _unreadable(path, 1 + skipped, exc, error) from exc
    reader.fieldnames = names
    if not any(name in names for name in question_names):
        shown = ", ".join(repr(name) for name in names if name) or "nothing"
        raise error(f"{path}: no \"question\" column (its first row names {shown})",
                    "the first row names the columns: question, answer, path")
    return _rows(reader, path, error, skipped)


def _delimiter(header: str) -> str:
    """The delimiter that makes the header name a "question" column, else the most columns; a comma inside a
    quoted name counts for nothing (`question;"answer, short"` is two columns split by ";"). Ties go to ";" and
    tab, which a header holds only as separators."""

    def names(delimiter: str) -> list[str]:
        try:
            return [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter), [])]
        except csv.Error:
            return []

    return max(reversed(DELIMITERS), key=lambda d: ("question" in names(d), len(names(d))))


_CELL_LIMIT = 131_072


def _rows(reader: csv.DictReader[str], path: Path, error: type[LocalRagError], skipped: int
          ) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row with the line it starts on: a cell with line breaks spans several, and the last was named."""
    while True:
        after = reader.line_num + 1 + skipped  # the first line the next row may start on
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # line_num counts the lines of the rows read whole: the row that failed starts on the next one.
            raise _unreadable(path, reader.line_num + 1 + skipped, exc, error) from exc
        cells = [c for value in row.values() for c in (value if isinstance(value, list) else [value]) if c]
        if any(len(cell) > _CELL_LIMIT for cell in cells):
            # Python's limit, held here whatever another reader set it to: the ingest's CSV loader raises it for
            # itself, and after one ingest in the process (a server, the chat app) a quote left open went by.
            raise _unreadable(path, after, csv.Error(f"field larger than field limit ({_CELL_LIMIT})"), error)
        breaks = sum(len(_LINE_BREAK.findall(cell)) for cell in cells)
        yield reader.line_num - breaks + skipped, {name: cell for name, cell in row.items()
                                                   if name and isinstance(cell, str)}


def _unreadable(path: Path, line: int, exc: csv.Error, error: type[LocalRagError]) -> LocalRagError:
    # Python's CSV reader stops at a cell longer than 131,072 characters: mostly a quote opened and never closed,
    # which runs the cell on to the end of the file.
    return error(f"{path}:{line}: not readable as CSV ({exc})",
                 "check the quotes from that line on: a quote left open runs its cell to the end of the file")


def _decoded(data: bytes, path: Path, error: type[LocalRagError]) -> str:
    if data.startswith(_UTF16_MARKS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise error(f"{path}: not UTF-16 text, though it starts as such", "save the file as UTF-8") from exc
    try:
        return data.decode("utf-8-sig")  # a byte-order mark is not part of the first column's name
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text",
                    "save the file as UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\")") from exc
