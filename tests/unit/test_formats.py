"""Loaders for office, e-book, mail and notebook formats, each on a small real file the test writes
with the library (or the standard-library module) that such files come from."""

from __future__ import annotations

import email.message
import email.policy
import json
import mailbox
import zipfile
from pathlib import Path
from typing import Any

import pytest

from localrag.errors import LoaderError
from localrag.ingest import zipguard
from localrag.ingest.loaders import file_type, load_file
from localrag.ingest.parts import load_parts
from localrag.types import LoadedText


def sections(loaded: LoadedText, kind: str | None = None) -> list[tuple[str, tuple[str, ...], int | None]]:
    return [
        (loaded.text[s.start : s.end], s.headings, s.page) for s in loaded.sections if kind is None or s.kind == kind
    ]


# --- PowerPoint -----------------------------------------------------------------------------------


def make_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    first.shapes.title.text = "Quarterly results"
    body = first.placeholders[1].text_frame
    body.text = "Revenue grew 12 percent"
    item = body.add_paragraph()
    item.text = "Driven by the Lisbon office"
    item.level = 1
    first.notes_slide.notes_text_frame.text = "Mention the hiring freeze."
    second = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    second.shapes.title.text = "Headcount"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for row, values in enumerate([("Office", "People"), ("Lisbon", "41")]):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    deck.slides.add_slide(deck.slide_layouts[6])  # blank: no title, no text
    deck.save(str(path))
    return path


def test_a_decks_default_title_gives_way_to_its_first_slide(tmp_path: Path) -> None:
    from pptx import Presentation

    path = make_pptx(tmp_path / "deck.pptx")
    deck = Presentation(str(path))
    deck.core_properties.title = "PowerPoint Presentation"
    deck.save(str(path))
    assert load_file(path).title == "Quarterly results"


def test_pptx_titles_are_headings_and_notes_follow(tmp_path: Path) -> None:
    loaded = load_file(make_pptx(tmp_path / "deck.pptx"))
    assert file_type(tmp_path / "deck.pptx") == "pptx"
    assert loaded.title == "Quarterly results"
    assert sections(loaded, "heading") == [
        ("Quarterly results", ("Quarterly results",), 1),
        ("Speaker notes", ("Quarterly results", "Speaker notes"), 1),
        ("Headcount", ("Headcount",), 2),
    ]  # the blank third slide adds nothing, not even "Slide 3"
    assert sections(loaded, "list") == [
        ("- Revenue grew 12 percent\n  - Driven by the Lisbon office", ("Quarterly results",), 1)
    ]
    assert ("Mention the hiring freeze.", ("Quarterly results", "Speaker notes"), 1) in sections(loaded)
    assert sections(loaded, "table") == [("Office | People\nLisbon | 41", ("Headcount",), 2)]


_DIAGRAM_DATA = (
    '<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram"'
    ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst>'
    '<dgm:pt modelId="0" type="doc"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:endParaRPr/></a:p></dgm:t>'
    "</dgm:pt>"
    '<dgm:pt modelId="1"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:r><a:t>Plan</a:t></a:r></a:p></dgm:t>'
    "</dgm:pt>"
    '<dgm:pt modelId="2" type="parTrans"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:endParaRPr/></a:p>'
    "</dgm:t></dgm:pt>"
    '<dgm:pt modelId="3"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:r><a:t>Build the </a:t></a:r>'
    "<a:r><a:t>prototype</a:t></a:r></a:p></dgm:t></dgm:pt>"
    '<dgm:pt modelId="4" type="pres"><dgm:prSet presName="node"/><dgm:spPr/></dgm:pt>'
    "</dgm:ptLst><dgm:cxnLst/></dgm:dataModel>"
)


def _add_smartart(slide: Any, data: str | None, shape_id: int) -> None:
    """A SmartArt graphic frame as PowerPoint writes it: its text lives in the diagram's data part (None: a frame
    naming a part the deck lacks)."""
    from pptx.opc.constants import RELATIONSHIP_TYPE
    from pptx.opc.package import Part
    from pptx.opc.packuri import PackURI
    from pptx.oxml import parse_xml

    rel = "rId99"
    if data is not None:
        part = Part(PackURI(f"/ppt/diagrams/data{shape_id}.xml"), "application/vnd.openxmlformats-officedocument."
                    "drawingml.diagramData+xml", slide.part.package, data.encode())
        rel = slide.part.relate_to(part, RELATIONSHIP_TYPE.DIAGRAM_DATA)
    slide.shapes._spTree.append(parse_xml(
        '<p:graphicFrame xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
        ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<p:nvGraphicFramePr><p:cNvPr id="{shape_id}" name="Diagram {shape_id}"/><p:cNvGraphicFramePr/><p:nvPr/>'
        '</p:nvGraphicFramePr><p:xfrm><a:off x="0" y="0"/><a:ext cx="100" cy="100"/></p:xfrm><a:graphic>'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/diagram">'
        '<dgm:relIds xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram"'
        f' r:dm="{rel}" r:lo="" r:qs="" r:cs=""/></a:graphicData></a:graphic></p:graphicFrame>'))


def test_charts_and_smartart_are_read_and_a_hidden_slide_is_read_and_named(tmp_path: Path) -> None:
    # A tester's slide 3, "Revenue", with a chart titled "Revenue doubled in Q2" and a text box, was read
    # "Revenue Source: finance team": a graphic frame's chart or SmartArt was passed over, and a hidden slide was
    # read with no word that a slide show skips it. A graphic whose part is missing is named, the rest read.
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    slide.shapes.title.text = "Revenue"
    data = CategoryChartData()
    data.categories = ["Q1", "Q2"]
    data.add_series("Licences", (1.5, 3.0))
    data.add_series("Services", (0.5, 1.0))
    chart = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(2), Inches(6), Inches(4),
                                   data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Revenue doubled in Q2"
    slide.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(1)).text_frame.text = "Source: finance team"
    process = deck.slides.add_slide(deck.slide_layouts[5])
    process.shapes.title.text = "Process"
    _add_smartart(process, _DIAGRAM_DATA, 40)
    _add_smartart(process, None, 41)
    process._element.set("show", "0")
    path = tmp_path / "results.pptx"
    deck.save(str(path))

    loaded = load_file(path)
    assert [(text, page) for text, _, page in sections(loaded)] == [
        ("Revenue", 1),
        ("Revenue doubled in Q2", 1),
        ("Chart series: Licences, Services. Categories: Q1, Q2.", 1),
        ("Source: finance team", 1),
        ("Process", 2),
        ("- Plan\n- Build the prototype", 2),
    ]
    assert loaded.left_out == ("hidden slide 2 read (a slide show skips it); the text of SmartArt graphic 'Diagram 41' "
                               "on slide 2 not read (a part missing or damaged)")


# --- spreadsheets ---------------------------------------------------------------------------------


def test_xlsx_regions_repeat_their_header_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    from localrag.ingest import sheets

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Staff"
    sheet.append(["Name", "Office", "Started"])
    for number in range(6):
        sheet.append([f"Person {number}", "Lisbon", 2020 + number])
    sheet.append([])
    sheet.append(["Room", "Seats"])
    sheet.append(["Atlas", 12.0])
    other = workbook.create_sheet("Notes")
    other["A1"] = "Only a note"
    path = tmp_path / "staff.xlsx"
    workbook.save(path)

    monkeypatch.setattr(sheets, "ROWS_CHARS", 60)  # about two rows per block
    loaded = load_file(path)
    tables = sections(loaded, "table")
    staff = [text for text, headings, _ in tables if headings == ("Staff",)]
    assert len(staff) == 4
    assert all(block.startswith("Name | Office | Started\n") for block in staff[:3])
    assert "Person 5 | Lisbon | 2025" in staff[2]
    assert staff[3] == "Room | Seats\nAtlas | 12"
    assert ("Only a note", ("Notes",), None) in tables
    assert [text for text, _, _ in sections(loaded, "heading")] == ["Staff", "Notes"]


def test_csv_sniffs_the_delimiter_and_keeps_quoted_cells(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text('item;price;note\nespresso;2.10;"strong; short"\nlatte;3.40;\n', encoding="utf-8")
    loaded = load_file(path)
    assert file_type(path) == "csv"
    expected = "item | price | note\nespresso | 2.10 | strong; short\nlatte | 3.40"
    assert sections(loaded, "table") == [(expected, (), None)]


# --- OpenDocument, RTF ----------------------------------------------------------------------------

_ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3">
 <office:body><office:text>
  <text:sequence-decls/>
  <text:h text:outline-level="1">Field guide</text:h>
  <text:p>Kestrels<text:s text:c="2"/>hover<text:tab/>into the wind.<text:line-break/>Second line.</text:p>
  <text:section text:name="S1">
   <text:h text:outline-level="2">Sightings</text:h>
   <text:list><text:list-item><text:p>Dawn</text:p>
     <text:list><text:list-item><text:p>near the cliff</text:p></text:list-item></text:list>
   </text:list-item><text:list-item><text:p>Dusk</text:p></text:list-item></text:list>
   <table:table><table:table-row><table:table-cell><text:p>Bird</text:p></table:table-cell>
     <table:table-cell><text:p>Count</text:p></table:table-cell></table:table-row>
    <table:table-row><table:table-cell><text:p>Kestrel</text:p></table:table-cell>
     <table:table-cell><text:p>3</text:p></table:table-cell></table:table-row></table:table>
  </text:section>
 </office:text></office:body>
</office:document-content>"""


def make_odt(path: Path, content: str = _ODT_CONTENT) -> Path:
    """The parts an OpenDocument text needs, as the ODF 1.3 package spec lays them out."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/"'
            ' manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return path


def test_odt_headings_lists_tables_and_encoded_spaces(tmp_path: Path) -> None:
    loaded = load_file(make_odt(tmp_path / "guide.odt"))
    assert loaded.title == "Field guide"
    assert sections(loaded, "paragraph") == [("Kestrels  hover\tinto the wind.\nSecond line.", ("Field guide",), None)]
    assert sections(loaded, "list") == [("- Dawn\n  - near the cliff\n- Dusk", ("Field guide", "Sightings"), None)]
    assert sections(loaded, "table") == [("Bird | Count\nKestrel | 3", ("Field guide", "Sightings"), None)]


def test_odt_notes_follow_their_paragraph_and_comments_are_left_out(tmp_path: Path) -> None:
    # LibreOffice writes both inside the paragraph: read in place they were glued into the sentence ("a
    # note1Footnote about ...", "ReviewedAnn2026-01-01T00:00:00Comment: ..."), and its words found by no BM25 search.
    body = (
        '<text:h text:outline-level="1">Contract</text:h>'
        '<text:p>A claim with a note<text:note text:id="ftn1" text:note-class="footnote">'
        "<text:note-citation>1</text:note-citation><text:note-body><text:p>Footnote about the source.</text:p>"
        "</text:note-body></text:note> here.</text:p>"
        "<text:p>Reviewed<office:annotation><dc:creator>Ann</dc:creator><dc:date>2026-01-01T00:00:00</dc:date>"
        "<text:p>Comment: check the numbers.</text:p></office:annotation> text.</text:p>"
    )
    content = _ODT_CONTENT.replace('office:version="1.3">', 'xmlns:dc="http://purl.org/dc/elements/1.1/" '
                                   'office:version="1.3">')
    start, end = content.index("<text:sequence-decls/>"), content.index("</office:text>")
    loaded = load_file(make_odt(tmp_path / "contract.odt", content[:start] + body + content[end:]))
    assert [text for text, _, _ in sections(loaded, "paragraph")] == [
        "A claim with a note here.", "Footnote about the source.", "Reviewed text."]


def test_odt_text_boxes_are_blocks_alt_text_is_left_out_and_a_nested_table_is_read_once(tmp_path: Path) -> None:
    # A tester's pricing.odt: a frame's alt text and a text box were glued into the sentence ("... 700 EUR.Company
    # logoBlue falcon logoSupport is included."), a list item's footnote was lost, and a nested table was read
    # three times ("Inner A Inner B | Inner A | Inner B | Pro", then "Inner A | Inner B"). A drawing in a line is a
    # space between its words, as it shows; its alt text is no sentence of the document's, as Word's is not.
    body = (
        "<text:p>The annual licence costs 700 EUR.<draw:frame><draw:image xlink:href=\"Pictures/a.png\"/>"
        "<svg:title>Company logo</svg:title><svg:desc>Blue falcon logo</svg:desc></draw:frame>"
        "Support is included.</text:p>"
        "<text:p>See the sidebar<draw:frame><draw:text-box><text:p>Sidebar: discounts apply to schools.</text:p>"
        "<text:p>Second sidebar line.</text:p></draw:text-box></draw:frame>for details.</text:p>"
        "<text:list><text:list-item><text:p>Licences renew yearly<text:note text:id=\"ftn1\" "
        "text:note-class=\"footnote\"><text:note-citation>1</text:note-citation><text:note-body><text:p>Renewal "
        "notices go out 30 days before.</text:p></text:note-body></text:note>.</text:p></text:list-item></text:list>"
        "<table:table><table:table-column table:number-columns-repeated=\"2\"/><table:table-row><table:table-cell>"
        "<table:table><table:table-row><table:table-cell><text:p>Inner A</text:p></table:table-cell>"
        "<table:table-cell><text:p>Inner B</text:p></table:table-cell></table:table-row></table:table>"
        "</table:table-cell><table:table-cell><text:p>Pro<text:note text:id=\"ftn2\" text:note-class=\"footnote\">"
        "<text:note-body><text:p>Pro includes phone support.</text:p></text:note-body></text:note></text:p>"
        "</table:table-cell></table:table-row></table:table>"
    )
    content = _ODT_CONTENT.replace(
        'office:version="1.3">',
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3">')
    start, end = content.index("<text:sequence-decls/>"), content.index("</office:text>")
    loaded = load_file(make_odt(tmp_path / "pricing.odt", content[:start] + body + content[end:]))
    assert [(kind, text) for kind, text in ((s.kind, loaded.text[s.start:s.end]) for s in loaded.sections)] == [
        ("paragraph", "The annual licence costs 700 EUR. Support is included."),
        ("paragraph", "See the sidebar for details."),
        ("paragraph", "Sidebar: discounts apply to schools."),
        ("paragraph", "Second sidebar line."),
        ("list", "- Licences renew yearly."),
        ("paragraph", "Renewal notices go out 30 days before."),
        ("table", "Inner A / Inner B | Pro"),
        ("paragraph", "Pro includes phone support."),
    ]


def test_rtf_paragraphs_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "letter.rtf"
    path.write_bytes(
        rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Caf\'e9 opening hours\par"
        rb"\par We open at {\b seven} every day.\par}"
    )
    loaded = load_file(path)
    assert loaded.title == "Caf\u00e9 opening hours"
    assert [text for text, _, _ in sections(loaded)] == ["Caf\u00e9 opening hours", "We open at seven every day."]
    path.write_bytes(b"not rtf at all")
    with pytest.raises(LoaderError, match=r"letter\.rtf: not an RTF file"):
        load_file(path)


def test_rtf_footnotes_follow_their_paragraph_hidden_text_is_left_out_and_emoji_are_decoded(tmp_path: Path) -> None:
    # A tester's file: the footnote was lost, Word's hidden text (\v) was indexed and quoted by summarize, and an emoji
    # (a surrogate pair, as Word writes it) came back as two replacement characters. The page header is furniture.
    path = tmp_path / "terms.rtf"
    path.write_bytes(
        rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Times;}}{\header\pard\plain Acme confidential\par}" b"\n"
        rb"\pard\plain Orders ship within two business days{\super\chftn{\footnote\pard\plain {\super\chftn}"
        rb" Except public holidays.}}. Returns are free.\par" b"\n"
        rb"{\v HIDDENRTF internal margin is 40 percent}\par" b"\n"
        rb"We smile \uc1\u-10179?\u-8704? at caf\'e9s \v secret \{\u233?\'e9\tab\v0 all day.\par" b"\n"
        rb"Closing{\*\footnote Second note.}\par}"
    )
    loaded = load_file(path)
    assert [text for text, _, _ in sections(loaded)] == [
        "Orders ship within two business days. Returns are free.",
        "Except public holidays.",
        "We smile \U0001f600 at caf\u00e9s all day.",
        "Closing",
        "Second note.",
    ]


# --- EPUB -----------------------------------------------------------------------------------------

_CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    "</rootfiles></container>"
)


def make_epub(path: Path, *, nav: bool) -> Path:
    """A two-chapter EPUB 3 (nav document) or EPUB 2 (NCX) book, laid out as the EPUB spec says."""
    toc_item = (
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        if nav
        else '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
    )
    spine_toc = "" if nav else ' toc="ncx"'
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Harbour Tales</dc:title></metadata>'
        f'<manifest>{toc_item}<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="c2" href="text/two%20b.xhtml" media-type="application/xhtml+xml"/></manifest>'
        f"<spine{spine_toc}><itemref idref='c1'/><itemref idref='c2'/></spine></package>"
    )
    chapter = '<html xmlns="http://www.w3.org/1999/xhtml"><body>{}</body></html>'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml", _CONTAINER)
        archive.writestr("OEBPS/content.opf", opf)
        one = chapter.format("<p>The ferry left at dawn.</p><h2>Fog</h2><p>Grey.</p>")
        archive.writestr("OEBPS/text/one.xhtml", one)
        archive.writestr("OEBPS/text/two b.xhtml", chapter.format("<h1>The Return</h1><p>Home by noon.</p>"))
        if nav:
            archive.writestr(
                "OEBPS/nav.xhtml",
                '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>'
                '<nav epub:type="toc"><ol><li><a href="text/one.xhtml">Departure</a></li>'
                '<li><a href="text/two%20b.xhtml#start">The Return</a></li></ol></nav></body></html>',
            )
        else:
            archive.writestr(
                "OEBPS/toc.ncx",
                '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>'
                '<navPoint id="p1"><navLabel><text>Departure</text></navLabel>'
                '<content src="text/one.xhtml"/></navPoint>'
                '<navPoint id="p2"><navLabel><text>The Return</text></navLabel><content src="text/two%20b.xhtml"/>'
                "</navPoint></navMap></ncx>",
            )
    return path


@pytest.mark.parametrize("nav", [True, False], ids=["epub3-nav", "epub2-ncx"])
def test_epub_chapters_are_headings(tmp_path: Path, nav: bool) -> None:
    loaded = load_file(make_epub(tmp_path / "tales.epub", nav=nav))
    assert loaded.title == "Harbour Tales"
    assert sections(loaded) == [
        ("Departure", ("Departure",), None),
        ("The ferry left at dawn.", ("Departure",), None),
        ("Fog", ("Departure", "Fog"), None),
        ("Grey.", ("Departure", "Fog"), None),
        # The chapter opens with its own title: not repeated, and nothing of chapter 1 carries over.
        ("The Return", ("The Return",), None),
        ("Home by noon.", ("The Return",), None),
    ]


@pytest.mark.parametrize("nav", [True, False], ids=["epub3-nav", "epub2-ncx"])
def test_chapters_of_one_file_open_at_the_anchors_the_contents_point_at(tmp_path: Path, nav: bool) -> None:
    # Project Gutenberg's and Calibre's layout: one XHTML file, the contents pointing at ids inside it.
    path = make_epub(tmp_path / "book.epub", nav=nav)
    chapters = [("Chapter I. Loomings", "CHAPTER I", "Ishmael"),
                ("Chapter II. The Carpet-Bag", "CHAPTER II", "Queequeg")]
    body = "<p>A title page.</p>" + "".join(
        f'<div id="ch{n}"><h2>{own}</h2><p>{who} walked along the wharf.</p></div>'
        for n, (_, own, who) in enumerate(chapters, 1)
    )
    if nav:
        toc = ("OEBPS/nav.xhtml", '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
               '<body><nav epub:type="toc"><ol>' + "".join(
                   f'<li><a href="text/one.xhtml#ch{n}">{title}</a></li>' for n, (title, _, _) in enumerate(chapters, 1)
               ) + "</ol></nav></body></html>")
    else:
        toc = ("OEBPS/toc.ncx", '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>' + "".join(
            f'<navPoint id="p{n}"><navLabel><text>{title}</text></navLabel><content src="text/one.xhtml#ch{n}"/>'
            "</navPoint>" for n, (title, _, _) in enumerate(chapters, 1)
        ) + "</navMap></ncx>")
    rewritten = tmp_path / "rewritten.epub"
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(rewritten, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "OEBPS/text/one.xhtml":
                data = f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>'.encode()
            new.writestr(item, toc[1] if item.filename == toc[0] else data)
    found = [(text, headings) for text, headings, _ in sections(load_file(rewritten))][:7]
    assert found == [
        ("A title page.", ()),
        ("Chapter I. Loomings", ("Chapter I. Loomings",)),
        ("CHAPTER I", ("Chapter I. Loomings", "CHAPTER I")),
        ("Ishmael walked along the wharf.", ("Chapter I. Loomings", "CHAPTER I")),
        ("Chapter II. The Carpet-Bag", ("Chapter II. The Carpet-Bag",)),
        ("CHAPTER II", ("Chapter II. The Carpet-Bag", "CHAPTER II")),
        ("Queequeg walked along the wharf.", ("Chapter II. The Carpet-Bag", "CHAPTER II")),
    ]


def test_epub_with_drm_is_reported(tmp_path: Path) -> None:
    path = make_epub(tmp_path / "locked.epub", nav=True)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("META-INF/encryption.xml", "<encryption/>")
    with pytest.raises(LoaderError, match=r"locked\.epub: the e-book is encrypted"):
        load_file(path)


# --- zip bombs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bomb.xlsx", "bomb.pptx", "bomb.epub", "bomb.odt"])
def test_zip_bombs_are_refused_before_inflating(tmp_path: Path, name: str) -> None:
    # 2 MiB of zeros packs to about 2 KiB: past the guard's per-part ratio, and nothing big is inflated.
    assert zipguard.RATIO_FLOOR < 2 << 20
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("content.xml", b"\0" * (2 << 20))
    with pytest.raises(LoaderError, match=rf"{name}: refused, part 'content.xml' inflates .* zip bomb"):
        load_file(path)
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(LoaderError, match=rf"{name}: not a readable .* is a zip package, and this one is not"):
        load_file(path)


@pytest.mark.parametrize("name", ["a.docx", "a.xlsx", "a.xlsm", "a.pptx"])
def test_an_old_office_file_renamed_or_a_password_protected_one_is_named_so(tmp_path: Path, name: str) -> None:
    # The parsers' words were an exception class: "not a readable .docx file (PackageNotFoundError)".
    path = tmp_path / name
    path.write_bytes(zipguard.OLE2_MAGIC + b"\0" * 512)
    with pytest.raises(LoaderError, match=r"it is an old \.(doc|xls|ppt) file or a password-protected one") as refused:
        load_file(path)
    assert refused.value.hint == f"remove the password or re-save it as {path.suffix}"


# --- notebooks and JSON ---------------------------------------------------------------------------


def test_ipynb_markdown_headings_code_and_text_outputs(tmp_path: Path) -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Tide analysis\n", "\n", "Data from the pier."]},
            {
                "cell_type": "code", "metadata": {}, "execution_count": 1, "source": "print(max(tides))",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["4.2\n"]},
                    {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}},
                ],
            },
            {"cell_type": "markdown", "metadata": {}, "source": "## Summary"},
            {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "", "outputs": []},
        ],
    }
    path = tmp_path / "tides.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    loaded = load_file(path)
    assert loaded.title == "Tide analysis"
    assert sections(loaded) == [
        ("# Tide analysis", ("Tide analysis",), None),
        ("Data from the pier.", ("Tide analysis",), None),
        ("print(max(tides))", ("Tide analysis",), None),
        ("4.2", ("Tide analysis",), None),
        ("## Summary", ("Tide analysis", "Summary"), None),
    ]
    path.write_text('{"cells": 3}', encoding="utf-8")
    with pytest.raises(LoaderError, match=r"tides\.ipynb: not a Jupyter notebook"):
        load_file(path)


def test_ipynb_outputs_are_read_as_the_notebook_shows_them(tmp_path: Path) -> None:
    # Colour codes and a progress bar's frames were indexed raw, and an error output was left out, though a
    # developer searches for `KeyError`.
    traceback = ["\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
                 "\x1b[0;31mKeyError\x1b[0m                                  Traceback (most recent call last)",
                 "Cell \x1b[0;32mIn[2], line 1\x1b[0m\n\x1b[0;32m----> 1\x1b[0m cfg[\x1b[38;5;124m'port'\x1b[39m]",
                 "\x1b[0;31mKeyError\x1b[0m: 'port'"]
    cell = {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "cfg['port']", "outputs": [
        {"output_type": "stream", "name": "stderr",
         "text": ["\x1b[32mINFO\x1b[0m loading\n", "\r  0%|          | 0/3", "\r 33%|###3      | 1/3",
                  "\r100%|##########| 3/3\n"]},
        {"output_type": "error", "ename": "KeyError", "evalue": "'port'", "traceback": traceback}]}
    path = tmp_path / "config.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    assert [text for text, _, _ in sections(load_file(path))] == ["cfg['port']", (
        "INFO loading\n100%|##########| 3/3"), ("KeyError: 'port'\n"
        "---------------------------------------------------------------------------\n"
        "KeyError                                  Traceback (most recent call last)\n"
        "Cell In[2], line 1\n----> 1 cfg['port']")]


def test_ipynb_outputs_are_apart_and_a_picture_or_object_name_is_not_text(tmp_path: Path) -> None:
    # A result without a newline ran into the next output ("1532000Quarter closed with record revenue"), and a
    # figure's stand-in text was read and quoted by summarize ("<Figure size 640x480 with 1 Axes>WARNING low ...").
    frame = "   month  revenue\n0    Jan   510000\n1    Feb   498000"
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "total", "outputs": [
            {"output_type": "execute_result", "execution_count": 1, "metadata": {},
             "data": {"text/plain": ["1532000"]}},
            {"output_type": "stream", "name": "stdout", "text": ["Quarter closed ", "with record revenue\n"]},
            {"output_type": "stream", "name": "stdout", "text": "Churn fell to 4%\n"}]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "source": "df.plot(x='month')", "outputs": [
            {"output_type": "execute_result", "execution_count": 2, "metadata": {},
             "data": {"text/plain": ["<Axes: xlabel='month'>"]}},
            {"output_type": "execute_result", "execution_count": 2, "metadata": {},
             "data": {"text/plain": ["[<matplotlib.lines.Line2D at 0x7f3b2c1d5e10>]"]}},
            {"output_type": "display_data", "metadata": {},
             "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure size 640x480 with 1 Axes>"]}},
            {"output_type": "stream", "name": "stderr", "text": ["WARNING low sample size\n"]},
            {"output_type": "execute_result", "execution_count": 2, "metadata": {},
             "data": {"text/html": ["<table>...</table>"], "text/plain": [frame]}}]},
    ]
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    assert [text for text, _, _ in sections(load_file(path))] == [
        "total", "1532000", "Quarter closed with record revenue\nChurn fell to 4%",
        "df.plot(x='month')", "WARNING low sample size", frame]


def test_ipynb_outputs_of_a_cell_are_cut_to_output_chars_in_all(tmp_path: Path) -> None:
    # A cell displaying 50 tables of ~900 characters gave 45,471 characters of outputs with a cap per output.
    from localrag.ingest.notebook import OUTPUT_CHARS

    table = "\n".join(f"{row:>4}  region-{row % 7}  {row * 1371:>9}" for row in range(30))
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "for df in parts: display(df)",
              "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": [table]}}] * 50},
             {"cell_type": "markdown", "metadata": {}, "source": "The regions are listed above."}]
    path = tmp_path / "regions.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    texts = [text for text, _, _ in sections(load_file(path))]
    assert texts[0] == "for df in parts: display(df)" and texts[-1] == "The regions are listed above."
    outputs = texts[1:-1]
    assert OUTPUT_CHARS - 2 <= sum(map(len, outputs)) <= OUTPUT_CHARS  # the last cut at a line's end: "\n" off
    assert outputs[:2] == [table, table] and len(outputs) == 3 and table.startswith(outputs[-1])


def test_json_is_code(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "port": 8080\n}\n', encoding="utf-8")
    assert file_type(path) == "code:json"
    assert sections(load_file(path), "code") == [('{\n  "port": 8080\n}', (), None)]


# --- mail -----------------------------------------------------------------------------------------


def make_message(subject: str, body: str, attachments: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    message = email.message.EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ana Ferreira <ana@example.org>"
    message["To"] = "team@example.org"
    message["Date"] = "Tue, 03 Mar 2026 09:15:00 +0000"
    message.set_content(body)
    for name, (data, mime) in (attachments or {}).items():
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def test_an_attachment_named_longer_than_a_file_name_may_be_is_read(tmp_path: Path) -> None:
    """Its temporary copy failed ("File name too long"), and with it the whole mail, body and all."""
    long_name = "Protokoll der Sitzung über die Fährverbindung " * 8 + ".md"
    path = tmp_path / "mail.eml"
    path.write_bytes(make_message("Ferry", "See the minutes.\n",
                                  {long_name: (b"# Minutes\n\nThe ferry runs hourly.\n", "text/markdown")}))
    parts = list(load_parts(path))
    assert [(p.name, p.kind, p.error) for p in parts] == [("", "eml", None), (long_name, "md", None)]
    assert parts[1].loaded is not None and "hourly" in parts[1].loaded.text


def test_eml_headers_body_and_attachments_as_their_own_parts(tmp_path: Path) -> None:
    path = tmp_path / "mail.eml"
    path.write_bytes(
        make_message(
            "Ferry timetable",
            "Hi all,\n\nThe winter timetable starts on Monday.\n",
            {
                "timetable.md": (b"# Winter\n\nFirst ferry at 06:40.\n", "text/markdown"),
                "broken.pdf": (b"%PDF-1.4 nothing else", "application/pdf"),
                "photo.bin": (b"\x00\x01", "application/octet-stream"),
            },
        )
    )
    parts = list(load_parts(path))
    assert [(p.name, p.kind) for p in parts] == [("", "eml"), ("timetable.md", "md"), ("broken.pdf", "pdf")]
    body = parts[0].loaded
    # The title says who sent it and when: the replies of a thread had one title each.
    title = "Ferry timetable — Ana Ferreira, 3 March 2026"
    assert body is not None and body.title == title
    assert sections(body)[:2] == [
        (title, (title,), None),
        ("From: Ana Ferreira <ana@example.org>\nTo: team@example.org\nDate: Tue, 03 Mar 2026 09:15:00 +0000",
         (title,), None),
    ]
    assert "The winter timetable starts on Monday." in body.text
    assert parts[1].loaded is not None and "First ferry at 06:40." in parts[1].loaded.text
    # The broken attachment is an error naming it under the message, not the temporary copy.
    assert parts[2].loaded is None and str(parts[2].error).startswith(f"{path}/broken.pdf: not a readable PDF")


def test_mbox_messages_are_parts(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(path))
    box.add(make_message("First", "Lighthouse keys are at the harbour office."))
    notes = {"notes.txt": (b"Bring the logbook.", "text/plain")}
    box.add(make_message("Second", "Boat inspection moved to Friday.", notes))
    box.close()
    parts = list(load_parts(path))
    # No Message-ID: each is named by a digest of its bytes; an attachment under its message's name.
    first, second, notes = (p.name for p in parts)
    assert first.startswith("sha-") and second.startswith("sha-") and first != second
    assert notes == f"{second}/notes.txt"
    assert [p.loaded.title if p.loaded else "" for p in parts] == [
        "First — Ana Ferreira, 3 March 2026", "Second — Ana Ferreira, 3 March 2026", "Bring the logbook."]
    with pytest.raises(ValueError, match="many documents"):
        load_file(path)


def test_an_mbox_message_keeps_its_name_when_one_before_it_is_deleted(tmp_path: Path) -> None:
    # Named by place, the second mail became "1" once the first was deleted: a citation, a saved conversation
    # or `forget inbox.mbox/2` then meant another mail.
    def mail(subject: str, message_id: str) -> bytes:
        message = email.message_from_bytes(make_message(subject, f"{subject} body."), policy=email.policy.default)
        message["Message-ID"] = message_id
        return message.as_bytes()

    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(path))
    for subject, message_id in (("Badger", "<a1@mail.example.org>"), ("Heron", "<b2/x@mail.example.org>"),
                                ("Heron again", "<b2/x@mail.example.org>")):
        box.add(mail(subject, message_id))
    box.close()
    assert [p.name for p in load_parts(path)] == ["a1@mail.example.org", "b2_x@mail.example.org",
                                                  "b2_x@mail.example.org-2"]
    box = mailbox.mbox(str(path))
    box.remove(next(iter(box.iterkeys())))
    box.flush()
    box.close()
    assert [(p.name, p.loaded.title.split(" — ")[0] if p.loaded else "") for p in load_parts(path)] == [
        ("b2_x@mail.example.org", "Heron"), ("b2_x@mail.example.org-2", "Heron again")]


def test_a_message_deleted_from_an_mbox_is_reported_removed(tmp_path: Path) -> None:
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(str(path))
    box.add(make_message("First", "Lighthouse keys are at the harbour office."))
    box.add(make_message("Second", "Boat inspection moved to Friday."))
    box.close()
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([path])
    names = sorted(d.path for d in engine.documents())
    box = mailbox.mbox(str(path))
    box.remove(next(iter(box.iterkeys())))
    box.flush()
    box.close()
    report = engine.ingest([path])
    assert (report.updated, report.removed) == (1, 1)
    assert report.removed_paths == [n for n in names if n not in {d.path for d in engine.documents()}]
    assert len(report.removed_paths) == 1 and len(engine.documents()) == 1


def test_an_attachment_new_in_a_mail_read_again_is_reported_added(tmp_path: Path) -> None:
    # Only "1 updated" naming the mail was reported: the new document went unnamed, where one gone is named removed.
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    path = tmp_path / "mail.eml"
    path.write_bytes(make_message("Ferry", "See the notes.\n"))
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    assert engine.ingest([path]).added_paths == [str(path)]
    path.write_bytes(make_message("Ferry", "See the notes.\n", {"notes.txt": (b"Bring the logbook.", "text/plain")}))
    report = engine.ingest([path])
    assert (report.added, report.updated, report.chunks_reused) == (1, 1, 1)
    assert (report.added_paths, report.updated_paths) == ([f"{path}/notes.txt"], [str(path)])
    path.write_bytes(make_message("Ferry", "See the notes.\n"))
    report = engine.ingest([path])
    assert (report.added, report.updated, report.removed, report.removed_paths) == (0, 1, 1, [f"{path}/notes.txt"])
