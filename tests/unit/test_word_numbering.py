"""Word's automatic numbering is read as Word shows it: a "List Number" step is "3. Descale", a numbered
heading "2. Minimum Purchase", a multi-level clause "2.1(a)". The files are real .docx files, python-docx's
own with numbering definitions put in, read by the real loader."""

from __future__ import annotations

from pathlib import Path

from localrag.ingest.loaders import load_file
from tests.unit.test_loaders import assert_well_formed

_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _level(ilvl: int, fmt: str, text: str, start: int = 1, style: str = "") -> str:
    pstyle = f'<w:pStyle w:val="{style}"/>' if style else ""
    return (f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>{pstyle}'
            f'<w:lvlText w:val="{text}"/></w:lvl>')


def _add_lists(document: object, abstracts: dict[int, str], nums: dict[int, str]) -> None:
    """Abstract definitions (id: their levels' XML) and lists (numId: abstractNumId and overrides' XML)."""
    from docx.oxml import parse_xml

    numbering = document.part.numbering_part.element  # type: ignore[attr-defined]
    first_num = numbering.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}num")
    for abstract_id, levels in abstracts.items():
        first_num.addprevious(parse_xml(f'<w:abstractNum {_NS} w:abstractNumId="{abstract_id}">{levels}'
                                        "</w:abstractNum>"))
    for num_id, inner in nums.items():
        numbering.append(parse_xml(f'<w:num {_NS} w:numId="{num_id}">{inner}</w:num>'))


def _numbered(document: object, text: str, num_id: int, ilvl: int = 0, style: str | None = None) -> None:
    from docx.oxml import parse_xml

    paragraph = document.add_paragraph(text, style=style)  # type: ignore[attr-defined]
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {_NS}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))


def test_list_number_steps_keep_their_numbers(tmp_path: Path) -> None:
    """A manual's "List Number" steps (numbered by the style's own numbering) split by a note go on counting."""
    import docx

    document = docx.Document()
    document.add_heading("Descaling", 1)
    for step in ["Fill the kettle with water.", "Add the descaler."]:
        document.add_paragraph(step, style="List Number")
    document.add_paragraph("Note: keep the lid closed.")
    document.add_paragraph("Wait three hours.", style="List Number")
    document.add_paragraph("Rinse twice.", style="List Bullet")
    path = tmp_path / "manual.docx"
    document.save(str(path))

    loaded = load_file(path)
    assert "1. Fill the kettle with water.\n2. Add the descaler." in loaded.text
    assert "3. Wait three hours." in loaded.text
    assert "- Rinse twice." in loaded.text
    assert_well_formed(loaded)


def test_numbered_headings_and_clauses(tmp_path: Path) -> None:
    """A contract's numbered headings are named with their numbers, its clauses multi-level (1.1, 1.1(a)), lettered
    and roman levels as the level's format says, a list restarted by its start override, a start value kept."""
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    _add_lists(document, {
        90: _level(0, "decimal", "%1.", style="Heading1") + _level(1, "decimal", "%1.%2")
            + _level(2, "lowerLetter", "%1.%2(%3)") + _level(3, "lowerRoman", "(%4)"),
        91: _level(0, "upperLetter", "%1)", start=3),
    }, {
        80: '<w:abstractNumId w:val="90"/>',
        81: '<w:abstractNumId w:val="91"/>',
        82: '<w:abstractNumId w:val="91"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>',
    })
    # Heading 1 numbered by its style, as a contract template does; its level is the one naming the style.
    document.styles["Heading 1"].element.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {_NS}><w:numId w:val="80"/></w:numPr>'))
    document.add_heading("Definitions", 1)
    _numbered(document, "Goods means coffee.", 80, 1)
    document.add_heading("Minimum Purchase", 1)
    _numbered(document, "The Buyer shall buy:", 80, 1)
    _numbered(document, "ten tonnes a year;", 80, 2)
    _numbered(document, "in four lots.", 80, 2)
    _numbered(document, "each lot weighed", 80, 3)
    _numbered(document, "Failing that, the Seller may terminate under clause 3.", 80, 1)
    document.add_heading("Termination", 1)
    _numbered(document, "Alpha", 81)
    _numbered(document, "Beta", 81)
    _numbered(document, "Again", 82)
    path = tmp_path / "contract.docx"
    document.save(str(path))

    loaded = load_file(path)
    headings = [loaded.text[s.start:s.end] for s in loaded.sections if s.kind == "heading"]
    assert headings == ["1. Definitions", "2. Minimum Purchase", "3. Termination"]
    assert "1.1 Goods means coffee." in loaded.text
    assert ("2.1 The Buyer shall buy:\n2.1(a) ten tonnes a year;\n2.1(b) in four lots.\n(i) each lot weighed\n"
            "2.2 Failing that") in loaded.text
    assert "C) Alpha\nD) Beta\nA) Again" in loaded.text
    section = next(s for s in loaded.sections if "2.1(a)" in loaded.text[s.start:s.end])
    assert section.headings[-1] == "2. Minimum Purchase"
    assert_well_formed(loaded)
