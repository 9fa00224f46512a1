"""Text Word shows that python-docx's `text` leaves out is read: tracked insertions, content controls, text
boxes, footnotes and endnotes, tables nested in a cell. Tracked deletions stay out. The files are real .docx
files, python-docx's own with raw WordprocessingML put in, read by the real loader."""

from __future__ import annotations

from pathlib import Path

from localrag.ingest.loaders import load_file
from tests.unit.test_loaders import assert_well_formed

_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)
_CHANGE = 'w:author="A" w:date="2026-01-01T00:00:00Z"'


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _box(text: str) -> str:
    """A text box as Word writes it: DrawingML, and the same box again in VML for older readers."""
    content = f"<w:txbxContent><w:p>{_run(text)}</w:p></w:txbxContent>"
    return (
        "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wp:anchor><a:graphic>"
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:wsp><wps:txbx>{content}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        f"</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{content}</v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def _notes(kind: str, text: str) -> bytes:
    """A footnotes or endnotes part: Word's two separator notes, then note 1."""
    separators = "".join(
        f'<w:{kind} w:type="{t}" w:id="{i}"><w:p><w:r><w:{s}/></w:r></w:p></w:{kind}>'
        for i, t, s in [(-1, "separator", "separator"), (0, "continuationSeparator", "continuationSeparator")]
    )
    return (f'<w:{kind}s {_NS}>{separators}<w:{kind} w:id="1"><w:p><w:r><w:{kind}Ref/></w:r>'
            f'{_run(" " + text)}</w:p></w:{kind}></w:{kind}s>').encode()


def _contract(path: Path) -> Path:
    import docx
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_heading("Contract", 1)
    body = document.element.body
    for xml in [
        f'<w:p {_NS}>{_run("The fee is ")}<w:del w:id="1" {_CHANGE}><w:r><w:delText>seven hundred</w:delText>'
        f'</w:r></w:del><w:ins w:id="2" {_CHANGE}>{_run("nine hundred")}</w:ins>{_run(" euros.")}'
        '<w:r><w:footnoteReference w:id="1"/></w:r></w:p>',
        f'<w:sdt {_NS}><w:sdtPr/><w:sdtContent><w:p>{_run("The puffin permit expires in May.")}</w:p>'
        "</w:sdtContent></w:sdt>",
        f'<w:p {_NS}>{_run("Client name: ")}<w:sdt><w:sdtPr/><w:sdtContent>{_run("Shearwater Holdings")}'
        "</w:sdtContent></w:sdt></w:p>",
        f'<w:p {_NS}>{_run("See the box.")}{_box("Boxed: the albatross treaty.")}</w:p>',
    ]:
        body[-1].addprevious(parse_xml(xml))  # before the section properties, which stay last
    document.add_heading("Counts", 2)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Site"
    cell = table.cell(0, 1)
    cell.text = "Kittiwake"
    cell.paragraphs[0]._p.append(parse_xml(f'<w:r {_NS}><w:endnoteReference w:id="1"/></w:r>'))
    inner = cell.add_table(rows=2, cols=2)
    for r, row in enumerate([["North", "88"], ["South", "12"]]):
        for c, value in enumerate(row):
            inner.cell(r, c).text = value
    document.add_paragraph("Counted in June.")

    package = document.part.package
    for name, kind, content_type, reltype in [("footnotes", "footnote", CT.WML_FOOTNOTES, RT.FOOTNOTES),
                                               ("endnotes", "endnote", CT.WML_ENDNOTES, RT.ENDNOTES)]:
        text = "Payable within 30 days." if kind == "footnote" else "Counted from a boat."
        part = Part(PackURI(f"/word/{name}.xml"), content_type, _notes(kind, text), package)
        document.part.relate_to(part, reltype)
    document.save(str(path))
    return path


def test_text_word_shows_is_read_where_it_stands(tmp_path: Path) -> None:
    loaded = load_file(_contract(tmp_path / "contract.docx"))
    got = [(s.kind, s.headings, loaded.text[s.start : s.end]) for s in loaded.sections]
    assert got == [
        ("heading", ("Contract",), "Contract"),
        ("paragraph", ("Contract",), "The fee is nine hundred euros."),
        ("paragraph", ("Contract",), "Payable within 30 days."),  # the footnote, after what refers to it
        ("paragraph", ("Contract",), "The puffin permit expires in May."),
        ("paragraph", ("Contract",), "Client name: Shearwater Holdings"),
        ("paragraph", ("Contract",), "See the box."),
        ("paragraph", ("Contract",), "Boxed: the albatross treaty."),  # once, not again from the VML copy
        ("heading", ("Contract", "Counts"), "Counts"),
        ("table", ("Contract", "Counts"), "Site | Kittiwake North / 88; South / 12"),
        ("paragraph", ("Contract", "Counts"), "Counted from a boat."),  # the endnote a cell refers to
        ("paragraph", ("Contract", "Counts"), "Counted in June."),
    ]
    assert "seven" not in loaded.text
    assert_well_formed(loaded)
