"""OpenDocument text (.odt) read straight from its XML with the standard library.

An .odt is a zip whose `content.xml` holds the body as `text:h` (headings with an outline level),
`text:p`, `text:list` and `table:table` elements, possibly inside `text:section`s. That is simple and
standardised enough that a dependency would add nothing; the stdlib parser (expat) refuses entity
expansion bombs, and `zipguard` checks the archive before anything is inflated.
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
_CONTAINERS = frozenset({_tag("text", "section"), _tag("table", "table-header-rows"), _tag("table", "table-rows")})


def _inline(element: ElementTree.Element, notes: list[str] | None = None) -> str:
    """The text of a paragraph, with ODF's encoded spaces, tabs and line breaks restored. A comment is left out
    and a footnote's or endnote's text goes to `notes` (left out without it): read in place, both were glued
    into the sentence ("a note1Footnote about ...", "ReviewedAnn2026-01-01T00:00:00Comment: ..."), and the
    words they touched were found by no keyword search."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in _COMMENTS:
            pass
        elif child.tag == _NOTE:
            body = child.find("text:note-body", _NS)
            if notes is not None and body is not None:
                notes.extend(text for text in (squash(_inline(p)) for p in body.iter(_P)) if text)
        elif child.tag == _SPACE:
            parts.append(" " * int(child.get(_tag("text", "c"), "1")))
        elif child.tag == _TAB:
            parts.append("\t")
        elif child.tag == _BREAK:
            parts.append("\n")
        else:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _list_lines(element: ElementTree.Element, depth: int) -> Iterator[str]:
    for item in element:
        if item.tag not in (_ITEM, _HEADER):
            continue
        for child in item:
            if child.tag in (_P, _H):
                text = squash(_inline(child))
                if text:
                    yield f"{'  ' * depth}- {text}"
            elif child.tag == _LIST:
                yield from _list_lines(child, depth + 1)


def _rows(table: ElementTree.Element) -> Iterator[str]:
    for row in table.iter(_ROW):
        cells = [squash(" ".join(_inline(p) for p in cell.iter(_P))) for cell in row.iter(_CELL)]
        if any(cells):
            yield " | ".join(cells)


def _walk(parent: ElementTree.Element, out: TextBuilder, headings: HeadingPath, titles: list[str]) -> None:
    for child in parent:
        if child.tag == _H:
            text = squash(_inline(child))
            if text:
                level = int(child.get(_tag("text", "outline-level"), "1"))
                titles.append(text)
                out.add(text, "heading", headings.enter(level, text))
        elif child.tag == _P:
            # A note follows the paragraph that refers to it, under its headings, as a Word document's do.
            notes: list[str] = []
            out.add(_inline(child, notes), "paragraph", headings.path)
            for note in notes:
                out.add(note, "paragraph", headings.path)
        elif child.tag == _LIST:
            out.add("\n".join(_list_lines(child, 0)), "list", headings.path)
        elif child.tag == _TABLE:
            out.add("\n".join(_rows(child)), "table", headings.path)
        elif child.tag in _CONTAINERS:
            _walk(child, out, headings, titles)


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
    _walk(body, out, HeadingPath(), titles)
    title_element = meta.find(".//dc:title", _NS) if meta is not None else None
    title = authored_title(title_element.text or "") if title_element is not None else ""
    return out.build(title or (titles[0] if titles else path.stem))
