"""Word files (.docx) through python-docx: headings from paragraph styles, lists, code and tables.

A heading's level comes from its style ("Title" is level 1, "Heading N" level N + 1), followed back
through custom styles to the built-in ones; runs of list or code paragraphs become one block; a merged
table cell is read once. The title is the document's core property, else its first heading.

The text is what Word shows, read from the XML: python-docx's `text` sees only a paragraph's direct runs,
so it would drop tracked insertions, content controls, text boxes, notes and nested tables. Tracked
deletions stay out. A text box follows the paragraph it is anchored in, and so does a picture, read as its alt
text and, with OCR on, the text OCR reads in its image; a footnote or endnote follows the
paragraph or table that refers to it, under the same headings; a nested table is read inside its cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from localrag.errors import LoaderError, NeedsOcrError, NoTextError
from localrag.ingest.ocr import OCR_ON, Notify, paragraphs, read_picture
from localrag.ingest.pictures import office_alt_text, picture_line, said_in
from localrag.ingest.structure import HeadingPath, TextBuilder, authored_title, squash
from localrag.ingest.zipguard import guard_zip
from localrag.types import LoadedText

_CODE_STYLES = frozenset({"code", "source code", "html preformatted", "macro text", "plain text"})
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _RUN, _TEXTBOX = _W + "p", _W + "tbl", _W + "r", _W + "txbxContent"
_NOTE_REFERENCES = frozenset({_W + "footnoteReference", _W + "endnoteReference"})
# A picture (or a shape) in the text: its alt text on its `wp:docPr`, its image's bytes named by an `a:blip`.
_DRAWING = _W + "drawing"
_DOC_PR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
_FILE_NAME = re.compile(r"[\w .()-]+\.(?:png|jpe?g|gif|bmp|tiff?|emf|wmf|svg|webp)", re.IGNORECASE)
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


# Word's automatic numbering: a paragraph's numPr (or its style's) names a list (numId) and a level (ilvl);
# numbering.xml's list points at an abstract definition whose level gives the format and the text around
# the numbers ("%1.%2."). The common formats are written as Word shows them; others are read as decimal.
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
_LEVEL_NUMBER = re.compile(r"%([1-9])")


def _roman(number: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while number >= value:
            out, number = out + letters, number - value
    return out


def _formatted(number: int, fmt: str) -> str:
    """`number` as a level of format `fmt` shows it: Word's letters go a..z, then aa..zz (not aa, ab)."""
    if fmt in ("lowerLetter", "upperLetter") and number > 0:
        letter = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman") and number > 0:
        return _roman(number).upper() if fmt == "upperRoman" else _roman(number)
    if fmt == "decimalZero":
        return f"{number:02d}"
    if fmt == "none":
        return ""
    return str(number)


def _val(element: Any, tag: str) -> str | None:
    found = element.find(_W + tag) if element is not None else None
    return found.get(_W + "val") if found is not None else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class _Numbering:
    """The numbers Word puts before numbered paragraphs, counted in reading order. Counters belong to the
    abstract definition, so two lists sharing one go on counting, as in Word; a list that overrides a
    level's start (Word's "Restart at 1") starts that level, and those below it, again where it is first
    used; a level restarts each time a level above it counts."""

    def __init__(self, document: Any) -> None:
        # numId: (abstract definition, start overrides, its levels by number), the levels read once, not per paragraph
        self._lists: dict[str, tuple[Any, dict[int, int], dict[int, Any]]] = {}
        self._counters: dict[int, dict[int, int]] = {}  # id(abstract definition): {level: its last number}
        self._begun: set[str] = set()
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError):  # a document without numbering.xml
            return
        abstracts = {a.get(_W + "abstractNumId"): a for a in numbering.iterchildren(_W + "abstractNum")}
        # A list style's definition: "numStyleLink" points at the definition holding the levels ("styleLink").
        linked = {_val(a, "styleLink"): a for a in abstracts.values() if _val(a, "styleLink") is not None}
        style_lists = {}
        for style in document.styles.element.iterchildren(_W + "style"):
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            if num_pr is not None:
                style_lists[style.get(_W + "styleId")] = _val(num_pr, "numId")
        for num in numbering.iterchildren(_W + "num"):
            abstract = abstracts.get(_val(num, "abstractNumId"))
            for _ in range(3):  # numStyleLink → the list style's list → its definition
                link = _val(abstract, "numStyleLink")
                if abstract is None or link is None:
                    break
                abstract = linked.get(link)
                if abstract is None:
                    target = num.getparent().find(f"{_W}num[@{_W}numId='{style_lists.get(link)}']")
                    abstract = abstracts.get(_val(target, "abstractNumId"))
            if abstract is None:
                continue
            starts = {
                _int(override.get(_W + "ilvl"), 0): _int(_val(override, "startOverride"), 1)
                for override in num.iterchildren(_W + "lvlOverride")
                if override.find(_W + "startOverride") is not None
            }
            levels = {_int(lvl.get(_W + "ilvl"), 0): lvl for lvl in abstract.iterchildren(_W + "lvl")}
            self._lists[num.get(_W + "numId")] = (abstract, starts, levels)

    def label(self, paragraph: Any, style: Any) -> str | None:
        """The number Word shows before `paragraph` ("3.", "2.1(a)"), "-" for a bullet, None when it has none."""
        num_id, level = self._num_pr(paragraph, style)
        if num_id is None or num_id not in self._lists:  # numId 0 takes a style's numbering off
            return None
        abstract, starts, levels = self._lists[num_id]
        if level is None:  # a heading style's level is the one that names the style
            style_id = style.style_id if style is not None else None
            level = next((i for i, lvl in levels.items() if _val(lvl, "pStyle") == style_id), 0)
        this = levels.get(level)
        if this is None:
            return None
        if _val(this, "numFmt") == "bullet":
            return "-"
        counters = self._counters.setdefault(id(abstract), {})
        if num_id not in self._begun:
            self._begun.add(num_id)
            if starts:
                for counted in [n for n in counters if n >= min(starts)]:
                    del counters[counted]

        def start(n: int) -> int:
            return starts.get(n, _int(_val(levels.get(n), "start"), 1))

        counters[level] = counters[level] + 1 if level in counters else start(level)
        for below in [n for n in counters if n > level]:
            del counters[below]
        legal = this.find(_W + "isLgl") is not None
        text = _LEVEL_NUMBER.sub(
            lambda m: _formatted(
                counters.get(int(m.group(1)) - 1, start(int(m.group(1)) - 1)),
                "decimal" if legal else _val(levels.get(int(m.group(1)) - 1), "numFmt") or "decimal"),
            _val(this, "lvlText") or "")
        return text.strip() or None

    @staticmethod
    def _num_pr(paragraph: Any, style: Any) -> tuple[str | None, int | None]:
        """The list and level of `paragraph`: its own numPr's, else (in part or whole) its style chain's."""
        num_id = level = None
        sources = [paragraph.find(f"{_W}pPr/{_W}numPr")]
        seen = 0
        while style is not None and seen < 10:
            sources.append(style.element.find(f"{_W}pPr/{_W}numPr"))
            style, seen = style.base_style, seen + 1
        for num_pr in sources:
            if num_pr is None:
                continue
            num_id = num_id if num_id is not None else _val(num_pr, "numId")
            if level is None and _val(num_pr, "ilvl") is not None:
                level = _int(_val(num_pr, "ilvl"), 0)
        return num_id, level


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
    is followed by its pictures (`_Pictures`) and its text boxes' blocks, and a paragraph or table by those of the
    notes it refers to; a note is taken out of `notes` when read, so it is read once."""
    for child in container.iterchildren():
        if child.tag not in (_P, _TBL):
            if child.tag not in _HIDDEN:
                yield from _blocks(child, notes)
            continue
        yield child
        if child.tag == _P:
            yield from _inside(child, frozenset({_DRAWING}))
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


class _Pictures:
    """What a picture in the document says: its alt text (the description Word's "Alt Text" pane writes, else its
    title), as a screen reader reads it, then, with `ocr`, the text OCR reads in its image, as in an image file or a
    scanned PDF page. Before 2026-12-08 pictures were read as nothing: a Word file of scanned pages was passed over
    as "empty or blank". Not read as alt text: a file name, the description Office wrote itself (`office_alt_text`),
    one its paragraph or a caption beside it says already (`_captioned`)."""

    def __init__(self, document: Any, path: Path, ocr: bool, notify: Notify | None) -> None:
        self.document, self.part, self.path, self.ocr, self.notify = document, document.part, path, ocr, notify
        self.body = document.element
        self.seen = 0  # pictures met, said or not

    def __call__(self, drawing: Any, *, alone: bool = False) -> str:
        """The picture `drawing`'s text; `alone`: it stands as a block of its own, its alt text read as one
        (`picture_line`), not inside a table's cell."""
        doc_pr = drawing.find(f".//{_DOC_PR}")
        alt = squash(doc_pr.get("descr") or doc_pr.get("title") or "") if doc_pr is not None else ""
        # Some tools write the picture's file name there.
        if _FILE_NAME.fullmatch(alt) or office_alt_text(alt) or self._captioned(drawing, alt):
            alt = ""
        said = [picture_line(alt) if alone else alt]
        for blip in drawing.iter(_BLIP):
            # A picture inside a text box drawn here is read with the box's paragraphs (`_blocks`), not as this
            # drawing's: before 2026-12-08 it was OCR'd twice.
            if next(blip.iterancestors(_DRAWING)) is not drawing:
                continue
            self.seen += 1
            # Only the body's pictures: a note's name their images in the notes part's relations, not the body's.
            mine = self.ocr and drawing.getroottree().getroot() is self.body
            part = self.part.related_parts.get(blip.get(_EMBED) or "") if mine else None
            if part is None or not part.content_type.startswith("image/"):
                continue
            if self.notify is not None:
                self.notify(f"OCR {self.path.name} picture {self.seen}")
            reading = read_picture(part.blob)
            if reading is not None:
                said.extend(paragraphs(reading.lines))
        return "\n\n".join(text for text in said if text)

    def _captioned(self, drawing: Any, alt: str) -> bool:
        """Whether the paragraph holding `drawing`, or a caption right before or after it (a paragraph in Word's
        "Caption" style, which Insert Caption writes: "Figure 2: Lighthouse keeper's cottage"), says `alt` already."""
        from docx.text.paragraph import Paragraph

        holder = next((up for up in drawing.iterancestors(_P)), None)
        if holder is None or not alt:
            return False
        if said_in(alt, _paragraph_text(holder)):
            return True
        for beside in (holder.getprevious(), holder.getnext()):
            if beside is not None and beside.tag == _P:
                style = Paragraph(beside, self.document).style
                if style is not None and (style.name or "").lower() == "caption" \
                        and said_in(alt, _paragraph_text(beside)):
                    return True
        return False


def _docx_blocks(document: Any, pictures: _Pictures) -> Iterator[tuple[str, str, int | None]]:
    """(kind, text, heading level) per block; runs of list or code paragraphs become one block."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    run_kind = ""
    run_lines: list[str] = []
    numbering = _Numbering(document)
    for element in _blocks(document.element.body, _docx_notes(document)):
        kind, text, level = "paragraph", "", None
        if element.tag == _TBL:
            kind, text = "table", "\n".join(_docx_table(Table(element, document), " | ", numbering, pictures))
        elif element.tag == _DRAWING:
            text = pictures(element, alone=True)
        else:
            # Notes and text boxes take their styles from the document's styles part too.
            style = Paragraph(element, document).style
            style_name = (style.name or "").lower() if style is not None else ""
            level = _docx_heading_level(style)
            label = numbering.label(element, style)
            text = _paragraph_text(element)
            if level is not None:
                kind = "heading"
                # A numbered heading is named with its number: "2. Minimum Purchase", as clause 2 is cited.
                text = f"{label} {text.strip()}" if label not in (None, "-") and text.strip() else text
            elif style_name in _CODE_STYLES:
                kind = "code"
            elif "list" in style_name or label is not None:
                kind = "list"
                text = f"{label or '-'} {text.strip()}" if text.strip() else ""
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


def _docx_table(table: Any, separator: str = " | ", numbering: _Numbering | None = None,
                pictures: _Pictures | None = None) -> Iterable[str]:
    """The table's rows, one a line, its cells parted by `separator`; a header row the file marks (`_marked_header`)
    followed by a rule line ("--- | ---"), as Markdown marks one, so it heads its table whatever its words say
    (`sentences.table_header`); not in a nested table, read inside its cell."""
    ruled = separator == " | " and _marked_header(table)
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell, numbering, pictures))
        if any(cells):
            yield separator.join(cells)
            if ruled:
                yield separator.join("---" for _ in cells)
                ruled = False


def _marked_header(table: Any) -> bool:
    """Whether the file marks the first row of `table` as its header: Word's "Repeat as header row at the top of each
    page" (`w:tblHeader`), or a first row all in bold, or all shaded, where the second is not. Before 2026-12-08 only
    its words told: "Setting | Value" over "Port | 8080" and "Host | db.internal" is a header the words cannot tell
    from a key-value table's first record."""
    rows = table._tbl.tr_lst
    if len(rows) < 2:
        return False
    mark = rows[0].find(f"{_W}trPr/{_W}tblHeader")
    if mark is not None and mark.get(_W + "val", "true").lower() not in ("0", "false", "off"):
        return True
    return (_bold(rows[0]) and not _bold(rows[1])) or (_shaded(rows[0]) and not _shaded(rows[1]))


def _bold(row: Any) -> bool:
    """Whether every run of text in `row` is set in bold (`w:b`), and it has one."""
    runs = [run for run in row.iter(_RUN) if "".join(t.text or "" for t in run.iter(_W + "t")).strip()]
    return bool(runs) and all(
        (bold := run.find(f"{_W}rPr/{_W}b")) is not None
        and bold.get(_W + "val", "true").lower() not in ("0", "false", "off") for run in runs)


def _shaded(row: Any) -> bool:
    """Whether every cell of `row` is filled with a colour (`w:shd`), not white or none."""
    cells = row.findall(_W + "tc")
    fills = [cell.find(f"{_W}tcPr/{_W}shd") for cell in cells]
    return bool(cells) and all(
        fill is not None and (fill.get(_W + "fill") or "auto").lower() not in ("auto", "ffffff") for fill in fills)


def _cell_text(cell: Any, numbering: _Numbering | None, pictures: _Pictures | None) -> str:
    """A cell's blocks on one line, a numbered paragraph after its number. A nested table's cells are parted
    by " / " and its rows by "; ", so they do not read as columns of the outer table."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    texts = []
    # No notes here: those a cell refers to follow the whole table (`_blocks`).
    for element in _blocks(cell._tc, {}):
        if element.tag == _TBL:
            texts.append("; ".join(_docx_table(Table(element, cell), " / ", numbering, pictures)))
            continue
        if element.tag == _DRAWING:
            texts.append(pictures(element) if pictures is not None else "")
            continue
        label = numbering.label(element, Paragraph(element, cell).style) if numbering is not None else None
        text = _paragraph_text(element)
        texts.append(f"{label} {text}" if label is not None and text.strip() else text)
    return squash(" ".join(texts))


def load_docx(path: Path, *, ocr: bool = True, notify: Notify | None = None) -> LoadedText:
    """The Word file at `path` as sections; with `ocr`, its pictures' text read by OCR (`_Pictures`). A file of
    pictures alone with nothing read in them is no text (`NoTextError`), or with OCR off one only OCR would read
    (`NeedsOcrError`), as a PDF of scans is, not "empty or blank"."""
    import docx

    guard_zip(path)
    try:
        document = docx.Document(str(path))
        pictures = _Pictures(document, path, ocr, notify)
        blocks = list(_docx_blocks(document, pictures))
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
    if pictures.seen and not out.sections:
        if not ocr:
            raise NeedsOcrError(f"{path}: no text, only pictures", OCR_ON)
        raise NoTextError(f"{path}: no text, only pictures, and OCR found none in them",
                          "exclude it if it holds no text")
    return out.build(title or path.stem)
