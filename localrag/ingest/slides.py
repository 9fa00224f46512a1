"""PowerPoint (.pptx) with python-pptx: each slide's title is a heading, its speaker notes follow it.

Slides are walked in order; shapes within a slide in their stacking order, which is the order the
author added them and, for the usual layouts, the reading order. Text frames become paragraphs, or
lists when their paragraphs are indented bullets; tables are " | "-joined rows; group shapes are
walked into. A slide without a title is headed "Slide N"; one without any text (pictures alone) is
left out. The slide number is kept as the page, so a citation can say which slide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder, authored_title, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText


def _frame_blocks(frame: Any) -> Iterator[tuple[str, str]]:
    """(kind, text) for a text frame: indented paragraphs make it a list."""
    paragraphs = [(p.level, squash("".join(run.text for run in p.runs) or p.text)) for p in frame.paragraphs]
    paragraphs = [(level, text) for level, text in paragraphs if text]
    if not paragraphs:
        return
    if len(paragraphs) > 1:
        yield "list", "\n".join(f"{'  ' * level}- {text}" for level, text in paragraphs)
    else:
        yield "paragraph", paragraphs[0][1]


def _shape_blocks(shapes: Any, title_id: int | None) -> Iterator[tuple[str, str]]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_id == title_id:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_blocks(shape.shapes, title_id)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [" | ".join(squash(cell.text) for cell in row.cells) for row in shape.table.rows]
            yield "table", "\n".join(row for row in rows if row.strip(" |"))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from _frame_blocks(shape.text_frame)


def load_pptx(path: Path) -> LoadedText:
    from pptx import Presentation

    guard_zip(path)
    out = TextBuilder()
    headings = HeadingPath()
    try:
        presentation = Presentation(str(path))
        deck_title = authored_title(presentation.core_properties.title or "")
        for number, slide in enumerate(presentation.slides, start=1):
            title_shape = slide.shapes.title
            title = squash(title_shape.text_frame.text) if title_shape is not None else ""
            title_id = title_shape.shape_id if title_shape is not None else None
            # A table of empty cells comes back as "": it is no text either.
            blocks = [(kind, text) for kind, text in _shape_blocks(slide.shapes, title_id) if text]
            notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
            notes_text = notes.text.strip() if notes is not None else ""
            if not (title or blocks or notes_text):
                # "Slide N" is a label, not the slide's text: a slide of pictures alone adds nothing, so a
                # deck of them is refused as blank rather than indexed as chunks that say "Slide 1".
                continue
            heading = title or f"Slide {number}"
            out.add(heading, "heading", headings.enter(1, heading), number)
            deck_title = deck_title or title
            for kind, text in blocks:
                out.add(text, kind, headings.path, number)
            if notes_text:
                out.add(f"Notes: {notes_text}", "paragraph", headings.path, number)
    except LoaderError:
        raise
    except Exception as exc:  # python-pptx raises zip, XML and key errors for damaged files alike
        raise LoaderError(
            f"{path}: not a readable .pptx file ({type(exc).__name__})",
            "it may be corrupt, password-protected or an old .ppt: re-save it as .pptx",
        ) from exc
    return out.build(deck_title or path.stem)
