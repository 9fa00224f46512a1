"""PowerPoint (.pptx) with python-pptx: each slide's title is a heading, its speaker notes follow it under a
heading "Speaker notes".

Slides are walked in order; shapes within a slide in their stacking order, which is the order the
author added them and, for the usual layouts, the reading order. Text frames become paragraphs, or
lists when their paragraphs are indented bullets; tables are " | "-joined rows; group shapes are
walked into; a chart gives its title and a line naming its series and categories, a SmartArt graphic
its nodes' text as a list. A hidden slide is read, and named in the ingest's notes. A slide without a
title is headed "Slide N"; one without any text (pictures alone) is left out. The slide number is kept
as the page, so a citation can say which slide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError
from localrag.ingest.structure import HeadingPath, TextBuilder, authored_title, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText

# The heading of a slide's speaker notes, under the slide's title.
SPEAKER_NOTES = "Speaker notes"


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


def _shape_blocks(shapes: Any, title_id: int | None, damaged: list[str], number: int) -> Iterator[tuple[str, str]]:
    """(kind, text) for the shapes of slide `number`; a chart or SmartArt graphic whose part is missing or broken is
    named in `damaged` and passed over, as the rest of the deck is readable without it."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_id == title_id:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_blocks(shape.shapes, title_id, damaged, number)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [" | ".join(squash(cell.text) for cell in row.cells) for row in shape.table.rows]
            yield "table", "\n".join(row for row in rows if row.strip(" |"))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield from _frame_blocks(shape.text_frame)
        else:
            # A chart or a SmartArt graphic; a picture, a connector or an OLE object holds no relIds, so no text.
            chart = getattr(shape, "has_chart", False) and shape.has_chart
            try:
                blocks = list(_chart_blocks(shape.chart) if chart else _smartart_blocks(shape))
            except (KeyError, ValueError, AttributeError, SyntaxError):  # a missing part, its XML broken
                damaged.append(f"{'chart' if chart else 'SmartArt graphic'} {shape.name!r} on slide {number}")
                continue
            yield from blocks


# A chart's categories named in its line; a chart of months or days names them all, one of hundreds a few.
_CATEGORIES_NAMED = 24


def _chart_blocks(chart: Any) -> Iterator[tuple[str, str]]:
    """A chart's title, then its series' and categories' names as one short line: what the slide shows in words
    ("Revenue doubled in Q2" was found by no search). Its numbers are left out: a chart's values are read off its
    bars, not its text."""
    if chart.has_title and chart.chart_title.has_text_frame:
        yield from _frame_blocks(chart.chart_title.text_frame)
    series = list(dict.fromkeys(squash(s.name or "") for plot in chart.plots for s in plot.series))
    # Categories kept as numbers under a format (dates, amounts) are stored as Excel's serials ("45292" for 1 Jan
    # 2024): left out rather than read as what the chart never shows.
    formats = chart.element.xpath(".//c:cat/c:numRef/c:numCache/c:formatCode/text()")
    categories = [] if any(code != "General" for code in formats) else list(
        dict.fromkeys(squash(str(label)) for plot in chart.plots for label in plot.categories))
    series, categories = [name for name in series if name], [name for name in categories if name]
    if len(categories) > _CATEGORIES_NAMED:
        more = len(categories) - _CATEGORIES_NAMED
        categories = [*categories[:_CATEGORIES_NAMED], f"and {more} more"]
    parts = [f"{label}: {', '.join(names)}." for label, names in (("Chart series", series),
                                                                   ("Categories", categories)) if names]
    if parts:
        yield "paragraph", " ".join(parts)


_DIAGRAM = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
_DRAWING = "http://schemas.openxmlformats.org/drawingml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _smartart_blocks(shape: Any) -> Iterator[tuple[str, str]]:
    """A SmartArt graphic's text as a list, one item a node, in the order its data part keeps them (the order they
    were added, which PowerPoint's text pane shows). python-pptx reads none of it; the text lives in the diagram's
    data part, which the graphic frame names (`dgm:relIds r:dm`). Connectors and layout points hold no text."""
    from pptx.oxml import parse_xml

    ids = shape.element.find(f".//{{{_DIAGRAM}}}relIds")
    rel_id = ids.get(f"{{{_RELATIONSHIPS}}}dm") if ids is not None else None
    if not rel_id:
        return
    data = parse_xml(shape.part.related_part(rel_id).blob)
    nodes = []
    for point in data.iter(f"{{{_DIAGRAM}}}pt"):
        if point.get("type", "node") not in ("node", "asst"):  # an organisation chart's assistant is a node too
            continue
        for paragraph in point.iter(f"{{{_DRAWING}}}p"):
            text = squash("".join(run.text or "" for run in paragraph.iter(f"{{{_DRAWING}}}t")))
            if text:
                nodes.append(f"- {text}")
    if nodes:
        yield "list", "\n".join(nodes)


def load_pptx(path: Path) -> LoadedText:
    from pptx import Presentation

    guard_zip(path)
    out = TextBuilder()
    headings = HeadingPath()
    hidden: list[int] = []
    damaged: list[str] = []
    try:
        presentation = Presentation(str(path))
        deck_title = authored_title(presentation.core_properties.title or "")
        for number, slide in enumerate(presentation.slides, start=1):
            title_shape = slide.shapes.title
            title = squash(title_shape.text_frame.text) if title_shape is not None else ""
            title_id = title_shape.shape_id if title_shape is not None else None
            # A table of empty cells comes back as "": it is no text either.
            blocks = [(kind, text) for kind, text in _shape_blocks(slide.shapes, title_id, damaged, number) if text]
            notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
            notes_text = notes.text.strip() if notes is not None else ""
            if not (title or blocks or notes_text):
                # "Slide N" is a label, not the slide's text: a slide of pictures alone adds nothing, so a
                # deck of them is refused as blank rather than indexed as chunks that say "Slide 1".
                continue
            if slide.element.get("show") in ("0", "false"):
                hidden.append(number)
            heading = title or f"Slide {number}"
            out.add(heading, "heading", headings.enter(1, heading), number)
            deck_title = deck_title or title
            for kind, text in blocks:
                out.add(text, kind, headings.path, number)
            if notes_text:
                # Under a heading of their own, not a "Notes: " label: the label was quoted as the note's words
                # (`ask --extract` answered "Notes: The exponential averaging formula uses alpha, ...", verified,
                # before 2026-12-07); a summary labels the note "Round Robin > Speaker notes".
                out.add(SPEAKER_NOTES, "heading", headings.enter(2, SPEAKER_NOTES), number)
                out.add(notes_text, "paragraph", headings.path, number)
    except LoaderError:
        raise
    except Exception as exc:  # python-pptx raises zip, XML and key errors for damaged files alike
        raise LoaderError(
            f"{path}: not a readable .pptx file ({type(exc).__name__})",
            "it may be corrupt, password-protected or an old .ppt: re-save it as .pptx",
        ) from exc
    said = []
    if hidden:
        # A hidden slide is read, unlike a workbook's hidden sheet: it is one the author keeps in the deck for
        # questions or for later and sees in the editor, where a hidden sheet holds a workbook's machinery (lookups,
        # payroll) kept from its readers. The note says so, as a slide show skips it.
        many = len(hidden) > 1
        said.append(f"hidden slide{'s' if many else ''} {', '.join(map(str, hidden))} read "
                     f"(a slide show skips {'them' if many else 'it'})")
    if damaged:
        said.append(f"the text of {', '.join(damaged)} not read (a part missing or damaged)")
    return dataclasses.replace(out.build(deck_title or path.stem), left_out="; ".join(said))
