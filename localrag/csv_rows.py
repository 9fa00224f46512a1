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
from collections.abc import Iterator
from pathlib import Path

from localrag.errors import LocalRagError

DELIMITERS = (",", ";", "\t")


def read_csv(path: Path, error: type[LocalRagError]) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header's column names (stripped, lower-cased) and (line number, row) per row under it; a row's cells
    are as written, those beyond the header dropped. `error` is the type of the one-line errors."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})", "check the path") from exc
    text = _decoded(data, path, error)
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [(name or "").strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise _unreadable(path, 1, exc, error) from exc
    reader.fieldnames = names
    return names, _rows(reader, path, error)


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


def _rows(reader: csv.DictReader[str], path: Path, error: type[LocalRagError]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        for row in reader:
            yield reader.line_num, {name: cell for name, cell in row.items() if name and isinstance(cell, str)}
    except csv.Error as exc:
        # line_num counts the lines of the rows read whole: the row that failed starts on the next one.
        raise _unreadable(path, reader.line_num + 1, exc, error) from exc


def _unreadable(path: Path, line: int, exc: csv.Error, error: type[LocalRagError]) -> LocalRagError:
    # Python's CSV reader stops at a cell longer than 131,072 characters: mostly a quote opened and never closed,
    # which runs the cell on to the end of the file.
    return error(f"{path}:{line}: not readable as CSV ({exc})",
                 "check the quotes from that line on: a quote left open runs its cell to the end of the file")


def _decoded(data: bytes, path: Path, error: type[LocalRagError]) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise error(f"{path}: not UTF-16 text, though it starts as such", "save the file as UTF-8") from exc
    try:
        return data.decode("utf-8-sig")  # a byte-order mark is not part of the first column's name
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text",
                    "save the file as UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\")") from exc
