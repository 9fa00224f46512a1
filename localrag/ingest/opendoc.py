"""OpenDocument text (.odt) read straight from its XML with the standard library.

An .odt is a zip whose `content.xml` holds the body as `text:h` (headings with an outline level),
`text:p`, `text:list` and `table:table` elements, possibly inside `text:section`s; a frame or shape
(`draw:frame`, a text box's or a shape's paragraphs) sits inside a paragraph and is read after it, its
image's alt text left out; a footnote follows its paragraph, list or table; a nested table is read once,
in its cell. That is simple and standardised enough that a dependency would add nothing; the stdlib parser
(expat) refuses entity expansion bombs, and `zipguard` checks the archive before anything is inflated.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder, authored_title, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText

_NS = {
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
}


def _tag(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


_H, _P, _LIST, _ITEM = _tag("text", "h"), _tag("text", "p"), _tag("text", "list"), _tag("text", "list-item")
_HEADER = _tag("text", "list-header")
_SPACE, _TAB, _BREAK = _tag("text", "s"), _tag("text", "tab"), _tag("text", "line-break")
_TABLE, _ROW, _CELL = _tag("table", "table"), _tag("table", "table-row"), _tag("table", "table-cell")
_NOTE = _tag("text", "note")
_COMMENTS = frozenset({_tag("office", "annotation"), _tag("office", "annotation-end")})
_CONTAINERS = frozenset({_tag("text", "section")})
_ROW_GROUPS = frozenset({_tag("table", "table-header-rows"), _tag("table", "table-rows"),
                         _tag("table", "table-row-group")})
# Frames, shapes and their groups: a text box (`draw:frame/draw:text-box`) or a shape's text holds blocks of its own.
# An image's `svg:title` and `svg:desc` (its alt text) are no sentence of the document, as Word's is not.
_DRAW = f"{{{_NS['draw']}}}"


def _inline(element: ElementTree.Element, notes: list[str] | None = None,
            drawings: list[ElementTree.Element] | None = None) -> str:
    """The text of a paragraph, with ODF's encoded spaces, tabs and line breaks restored. A comment is left out;
    a footnote's or endnote's text goes to `notes`, and a frame or shape to `drawings`, to be read after the
    paragraph (each left out without its list). Read in place, all three were glued into the sentence ("a
    note1Footnote about ...", "ReviewedAnn2026-01-01T00:00:00Comment: ...", "700 EUR.Company logoSupport is
    included."), and the words they touched were found by no keyword search. A drawing in a line is a space between
    its words, as it shows."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in _COMMENTS:
            pass
        elif child.tag == _NOTE:
            body = child.find("text:note-body", _NS)
            if notes is not None and body is not None:
                notes.extend(text for text in (squash(_inline(p)) for p in body.iter(_P)) if text)
        elif child.tag.startswith(_DRAW):
            if drawings is not None:
                drawings.append(child)
            if not "".join(parts)[-1:].isspace() and not (child.tail or "")[:1].isspace():
                parts.append(" ")
        elif child.tag == _SPACE:
            parts.append(" " * int(child.get(_tag("text", "c"), "1")))
        elif child.tag == _TAB:
            parts.append("\t")
        elif child.tag == _BREAK:
            parts.append("\n")
        else:
            parts.append(_inline(child, notes, drawings))
        parts.append(child.tail or "")
    return "".join(parts)


class _Reader:
    """Reads a body's blocks into `out`. A block's footnotes and drawings are read after it, under its headings, as
    a Word document's are: a drawing's blocks, then the notes. In a table cell (`notes_to` given) a nested table is
    read in place, its cells parted by " / " and its rows by "; " (so they do not read as the outer table's columns;
    `table.iter` read its cells three times), and the notes go to the outer table's, read after the whole table."""

    def __init__(self, out: TextBuilder, headings: HeadingPath, titles: list[str],
                 notes_to: list[str] | None = None) -> None:
        self.out, self.headings, self.titles, self.notes_to = out, headings, titles, notes_to

    def walk(self, parent: ElementTree.Element) -> None:
        for child in parent:
            notes: list[str] = []
            drawings: list[ElementTree.Element] = []
            if child.tag == _H:
                text = squash(_inline(child, notes, drawings))
                if text:
                    level = int(child.get(_tag("text", "outline-level"), "1"))
                    self.titles.append(text)
                    self.out.add(text, "heading", self.headings.enter(level, text))
            elif child.tag == _P:
                self.out.add(_inline(child, notes, drawings), "paragraph", self.headings.path)
            elif child.tag == _LIST:
                self.out.add("\n".join(self._list_lines(child, 0, notes, drawings)), "list", self.headings.path)
            elif child.tag == _TABLE:
                cells, rows = (" / ", "; ") if self.notes_to is not None else (" | ", "\n")
                self.out.add(rows.join(self._rows(child, cells, notes)), "table", self.headings.path)
            elif child.tag in _CONTAINERS or child.tag.startswith(_DRAW):
                self.walk(child)
            for drawing in drawings:
                self.walk(drawing)
            if self.notes_to is not None:
                self.notes_to.extend(notes)
            else:
                for note in notes:
                    self.out.add(note, "paragraph", self.headings.path)

    def _list_lines(self, element: ElementTree.Element, depth: int, notes: list[str],
                    drawings: list[ElementTree.Element]) -> Iterator[str]:
        for item in element:
            if item.tag not in (_ITEM, _HEADER):
                continue
            for child in item:
                if child.tag in (_P, _H):
                    text = squash(_inline(child, notes, drawings))
                    if text:
                        yield f"{'  ' * depth}- {text}"
                elif child.tag == _LIST:
                    yield from self._list_lines(child, depth + 1, notes, drawings)

    def _rows(self, table: ElementTree.Element, separator: str, notes: list[str]) -> Iterator[str]:
        for row in _table_rows(table):
            cells = [self._cell_text(cell, notes) for cell in row if cell.tag == _CELL]
            if any(cells):
                yield separator.join(cells)

    def _cell_text(self, cell: ElementTree.Element, notes: list[str]) -> str:
        """A cell's blocks on one line; its headings are the cell's text, not the document's."""
        out = TextBuilder()
        _Reader(out, HeadingPath(), [], notes).walk(cell)
        return squash(out.build("").text)


def _table_rows(element: ElementTree.Element) -> Iterator[ElementTree.Element]:
    """A table's own rows, in header-row and row groups too; a nested table's rows are its cell's."""
    for child in element:
        if child.tag == _ROW:
            yield child
        elif child.tag in _ROW_GROUPS:
            yield from _table_rows(child)


def load_odt(path: Path) -> LoadedText:
    guard_zip(path)
    try:
        with zipfile.ZipFile(path) as archive:
            content = ElementTree.fromstring(archive.read("content.xml"))
            names = set(archive.namelist())
            meta = ElementTree.fromstring(archive.read("meta.xml")) if "meta.xml" in names else None
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError) as exc:
        raise LoaderError(
            f"{path}: not a readable .odt file ({type(exc).__name__})", "it may be corrupt; re-save it as .odt"
        ) from exc
    body = content.find("office:body/office:text", _NS)
    if body is None:
        raise LoaderError(f"{path}: not a text document (no office:text body)", "save it as an .odt text document")
    out = TextBuilder()
    titles: list[str] = []
    _Reader(out, HeadingPath(), titles).walk(body)
    title_element = meta.find(".//dc:title", _NS) if meta is not None else None
    title = authored_title(title_element.text or "") if title_element is not None else ""
    return out.build(title or (titles[0] if titles else path.stem))
