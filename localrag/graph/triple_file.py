"""Reading a user's file of triples (`localrag graph import`): TSV or CSV rows of head, relation, tail.

Apart from the graph store (localrag/graph/store.py), which writes what this reads: the file's
quoting, its optional header row and a bad line's message are the file's business, not the tables'.
A bad line is reported and skipped, so one typo does not cost the rest of the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from localrag.errors import LocalRagError, unreadable
from localrag.graph.triples import IMPORTED, Triple, normalise_entity, normalise_relation


class GraphImportError(LocalRagError):
    title = "Bad triple"


@dataclass
class ImportReport:
    """What `import_triples` did: rows written, and the lines it skipped with the reason for each."""

    triples: int = 0
    entities: int = 0
    errors: list[GraphImportError] = field(default_factory=list)
    # Facts of an earlier import of the file that it no longer holds (a line changed or gone): removed.
    removed: int = 0
    # Facts it still holds on another line (lines added or taken out above them): cited under their new line.
    moved: int = 0


def imported_doc_id(path: Path) -> str:
    """The `doc_id` of a triples file's triples: `file:<absolute path>`, so that importing it again replaces
    them and `graph clear --imported` tells them from built ones."""
    return f"{IMPORTED}{path.resolve()}"


# A first row naming the columns is a header, not a triple.
_HEADER_WORDS = (
    {"head", "subject", "source", "from", "h", "s"},
    {"relation", "predicate", "relationship", "property", "rel", "r", "p"},
    {"tail", "object", "target", "to", "t", "o"},
)


def _is_header(fields: list[str]) -> bool:
    return len(fields) == 3 and all(f.strip().lower() in words for f, words in zip(fields, _HEADER_WORDS, strict=True))


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) per row but comment lines: CSV with the csv module's quoting (a quoted field
    may span lines), TSV one row per line."""
    if delimiter == "\t":
        # Only a line feed ends a line (a CR before it goes with it), as an editor numbers them: str.splitlines also
        # cuts at U+2028, a form feed and others, which a name may hold, and would shift every later line's number.
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            fields = line.removesuffix("\r").split("\t")
            # A comment is told by its raw first field: a quoted "#1 Fan" is a name.
            if fields[0].lstrip().startswith("#"):
                continue
            yield number, [_unquoted(f.strip()) for f in fields]
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    lines = text.split("\n")
    start = 1
    for row in reader:
        # A comment is told by its raw line, as in a TSV: the reader has taken a quoted "#1 Fan"'s quotes off.
        if not lines[start - 1].lstrip().startswith("#"):
            yield start, row
        start = reader.line_num + 1


def _unquoted(field: str) -> str:
    """A TSV field as a spreadsheet quotes it (`"New York, NY"`, a quote inside doubled) without its quotes; any
    other field as it is. A quoted field is also how a head starting with # is told from a comment line."""
    inner = field[1:-1]
    if len(field) >= 2 and field[0] == field[-1] == '"' and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return field


def _parse_fields(fields: list[str], where: str) -> tuple[str, str, str]:
    fields = [f.strip() for f in fields]
    if len(fields) != 3:
        raise GraphImportError(
            f"{where}: expected 3 fields (head, relation, tail), found {len(fields)}",
            "fix or delete the line; the other lines were imported",
        )
    head, relation, tail = fields
    if not normalise_entity(head) or not normalise_entity(tail) or not normalise_relation(relation):
        raise GraphImportError(f"{where}: empty head, relation or tail", "fix or delete the line")
    return head, relation, tail


def read_triple_file(path: Path, doc_id: str | None, report: ImportReport) -> list[Triple]:
    """The triples of a TSV (tab) or CSV (.csv) file; each bad line goes to `report.errors` instead.

    The triples' `doc_id` defaults to `file:<absolute path>` (see `GraphStore.import_triples`).
    GraphImportError when the file cannot be read at all.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why, fix = unreadable(exc, "a UTF-8 TSV or CSV file of triples")
        raise GraphImportError(f"{path}: cannot read the triples file ({why})", fix) from exc
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    doc = doc_id or imported_doc_id(path)
    # Each triple cites the file by its whole path, as a passage cites its document: by name alone, two files
    # called the same in two folders could not be told apart.
    cited = path.resolve()
    triples: list[Triple] = []
    first = True
    try:
        rows = list(_rows(text, delimiter))
    except csv.Error as exc:
        raise GraphImportError(f"{path}: not a readable CSV file ({exc})", "fix the quoting") from exc
    for number, fields in rows:
        if not any(f.strip() for f in fields):
            continue
        if first and _is_header(fields):
            first = False
            continue
        first = False
        where = f"{path}:{number}"
        try:
            head, relation, tail = _parse_fields(fields, where)
        except GraphImportError as exc:
            report.errors.append(exc)
            continue
        triples.append(Triple(head, relation, tail, source=f"{cited}:{number}", doc_id=doc))
    return triples
