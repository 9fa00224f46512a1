"""Word files (.docx) through python-docx: headings from paragraph styles, lists, code and tables.

A heading's level comes from its style ("Title" is level 1, "Heading N" level N + 1), followed back
through custom styles to the built-in ones; runs of list or code paragraphs become one block; a merged
table cell is read once. The title is the document's core property, else its first heading.
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


def _docx_blocks(document: Any) -> Iterator[tuple[str, str, int | None]]:
    """(kind, text, heading level) per block; runs of list or code paragraphs become one block."""
    from docx.table import Table

    run_kind = ""
    run_lines: list[str] = []
    for block in document.iter_inner_content():
        kind, text, level = "paragraph", "", None
        if isinstance(block, Table):
            kind, text = "table", "\n".join(_docx_table(block))
        else:
            text = block.text
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


def _docx_table(table: Any) -> Iterable[str]:
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(squash(cell.text))
        if any(cells):
            yield " | ".join(cells)


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
