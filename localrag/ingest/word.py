"""Word files (.docx) through python-docx: headings from paragraph styles, lists, code and tables.

A heading's level comes from its style ("Title" is level 1, "Heading N" level N + 1), followed back
through custom styles to the built-in ones; runs of list or code paragraphs become one block; a merged
table cell is read once. The title is the document's core property, else its first heading.

The text is what Word shows, read from the XML: python-docx's `text` sees only a paragraph's direct runs,
so it would drop tracked insertions, content controls, text boxes, notes and nested tables. Tracked
deletions stay out. A text box follows the paragraph it is anchored in; a footnote or endnote follows the
paragraph or table that refers to it, under the same headings; a nested table is read inside its cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder, authored_title, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText

_CODE_STYLES = frozenset({"code", "source code", "html preformatted", "macro text", "plain text"})
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _RUN, _TEXTBOX = _W + "p", _W + "tbl", _W + "r", _W + "txbxContent"
_NOTE_REFERENCES = frozenset({_W + "footnoteReference", _W + "endnoteReference"})
# What Word does not show: tracked deletions, the old place of moved text, and the fallback copy of a
# drawing written twice (a text box comes as DrawingML and again as VML).
_HIDDEN = frozenset({_W + "del", _W + "moveFrom", "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"})


def _docx_heading_level(style: Any) -> int | None:
    """Heading level from the paragraph style, following custom styles back to the built-in ones."""
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").strip().lower()
        if name == "title":
            return 1
        match = re.fullmatch(r"heading\s*(\d)", name)
        if match:
            return int(match.group(1)) + 1
        style = style.base_style
        seen += 1
    return None


def _inside(element: Any, tags: frozenset[str]) -> Iterator[Any]:
    """The outermost elements named in `tags` that Word shows within `element`, in document order. Runs
    inside a content control, insertion or hyperlink count; those in a text box do not: it is a block."""
    for child in element.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag not in _HIDDEN and child.tag != _TEXTBOX:
            yield from _inside(child, tags)


def _paragraph_text(paragraph: Any) -> str:
    return "".join(run.text for run in _inside(paragraph, frozenset({_RUN})))


def _blocks(container: Any, notes: dict[str, Any]) -> Iterator[Any]:
    """The paragraphs and tables of `container` in reading order, content controls opened. A paragraph
    is followed by its text boxes' blocks, and a paragraph or table by those of the notes it refers to;
    a note is taken out of `notes` when read, so it is read once."""
    for child in container.iterchildren():
        if child.tag not in (_P, _TBL):
            if child.tag not in _HIDDEN:
                yield from _blocks(child, notes)
            continue
        yield child
        if child.tag == _P:
            for box in _inside(child, frozenset({_TEXTBOX})):
                yield from _blocks(box, notes)
        for reference in _inside(child, _NOTE_REFERENCES):
            note = notes.pop(f"{reference.tag.removesuffix('Reference')} {reference.get(_W + 'id')}", None)
            if note is not None:
                yield from _blocks(note, notes)


def _docx_notes(document: Any) -> dict[str, Any]:
    """Footnotes and endnotes by their reference's tag and id; Word's separator lines are not notes."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml

    notes = {}
    for rel in document.part.rels.values():
        if rel.reltype in (RT.FOOTNOTES, RT.ENDNOTES) and not rel.is_external:
            for note in parse_xml(rel.target_part.blob).iterchildren(_W + "footnote", _W + "endnote"):
                if note.get(_W + "type", "normal") == "normal":
                    notes[f"{note.tag} {note.get(_W + 'id')}"] = note
    return notes


def _docx_blocks(document: Any) -> Iterator[tuple[str, str, int | None]]:
    """(kind, text, heading level) per block; runs of list or code paragraphs become one block."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    run_kind = ""
    run_lines: list[str] = []
    for element in _blocks(document.element.body, _docx_notes(document)):
        kind, text, level = "paragraph", "", None
        if element.tag == _TBL:
            kind, text = "table", "\n".join(_docx_table(Table(element, document)))
        else:
            # Notes and text boxes take their styles from the document's styles part too.
            block = Paragraph(element, document)
            text = _paragraph_text(element)
            style = block.style
            style_name = (style.name or "").lower() if style is not None else ""
            level = _docx_heading_level(style)
            numbered = block._p.pPr is not None and block._p.pPr.numPr is not None
            if level is not None:
                kind = "heading"
            elif style_name in _CODE_STYLES:
                kind = "code"
            elif "list" in style_name or numbered:
                kind = "list"
                text = f"- {text.strip()}" if text.strip() else ""
        if run_lines and kind != run_kind:
            yield run_kind, "\n".join(run_lines), None
            run_lines = []
        if kind in ("list", "code"):
            run_kind = kind
            run_lines.append(text)
        else:
            yield kind, text, level
    if run_lines:
        yield run_kind, "\n".join(run_lines), None


def _docx_table(table: Any, separator: str = " | ") -> Iterable[str]:
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        if any(cells):
            yield separator.join(cells)


def _cell_text(cell: Any) -> str:
    """A cell's blocks on one line. A nested table's cells are parted by " / " and its rows by "; ", so
    they do not read as columns of the outer table."""
    from docx.table import Table

    texts = [
        "; ".join(_docx_table(Table(element, cell), " / ")) if element.tag == _TBL else _paragraph_text(element)
        # No notes here: those a cell refers to follow the whole table (`_blocks`).
        for element in _blocks(cell._tc, {})
    ]
    return squash(" ".join(texts))


def load_docx(path: Path) -> LoadedText:
    import docx

    guard_zip(path)
    try:
        document = docx.Document(str(path))
        blocks = list(_docx_blocks(document))
        title = authored_title(document.core_properties.title or "")
    except Exception as exc:  # python-docx raises zip, XML and key errors for damaged files alike
        raise LoaderError(
            f"{path}: not a readable .docx file ({type(exc).__name__})",
            "it may be corrupt, password-protected or an old .doc: re-save it as .docx",
        ) from exc
    out = TextBuilder()
    headings = HeadingPath()
    for kind, text, level in blocks:
        if kind == "heading" and level is not None and squash(text):
            name = squash(text)
            title = title or name
            out.add(name, "heading", headings.enter(level, name))
        else:
            out.add(text, "paragraph" if kind == "heading" else kind, headings.path)
    return out.build(title or path.stem)
