"""PDF pages that are not what they seem: lines repeated at pages' edges that are the text's own, a text layer of
control characters, a damaged page, a password. Real PDFs made with fpdf2 and altered with pypdf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.engine import Engine
from localrag.errors import LoaderError, NeedsOcrError
from localrag.ingest.loaders import load_file
from localrag.ingest.pdf import _page_numbered

_DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_TEXT = "The pump station checks run every Monday and the valve log is kept in the blue binder. " * 4


def _lines_pdf(path: Path, pages: list[list[str]]) -> Path:
    """One line of text per entry, from the top of each page down."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for row, line in enumerate(lines):
            pdf.text(20, 20 + 6 * row, line)
    pdf.output(str(path))
    return path


def test_a_line_at_each_pages_foot_with_its_own_amount_is_text(tmp_path: Path) -> None:
    # Every page's "Closing balance carried forward: ..." matched once its digits were masked: none was indexed.
    balances = ["1,520.40", "2,004.17", "2,389.95", "3,012.60"]
    pages = [[f"Account statement March 2026, page {page} of 4"]
             + [f"2026-03-{row + 1:02d} Transfer reference {page * 100 + row} of {row + 3}.21 EUR" for row in range(20)]
             + [f"Closing balance carried forward: {balance} EUR"] for page, balance in enumerate(balances, start=1)]
    loaded = load_file(_lines_pdf(tmp_path / "statement.pdf", pages))
    for balance in balances:
        assert f"Closing balance carried forward: {balance} EUR" in loaded.text
    # The header differs only in its page number: furniture, on no page.
    assert "Account statement" not in loaded.text


def test_a_tables_header_row_repeated_on_each_page_is_kept_on_its_first(tmp_path: Path) -> None:
    header = "Employee | Department | Parking bay"
    pages = [[header] + [f"Person{n} | Dept{n % 7} | Bay {n + 1}" for n in range(page * 30, page * 30 + 30)]
             for page in range(4)]
    loaded = load_file(_lines_pdf(tmp_path / "parking.pdf", pages))
    assert loaded.text.count(header) == 1
    start = loaded.text.index(header)
    assert next(s for s in loaded.sections if s.start <= start < s.end).page == 1
    assert all(f"Person{n} | Dept{n % 7} | Bay {n + 1}" in loaded.text for n in range(120))


def test_a_logs_first_and_last_rows_of_each_page_are_kept(tmp_path: Path) -> None:
    # 15 rows of 150 were missing: "Day 1: ..." and "Day 39: ..." matched once their digits were masked.
    rows = [f"Day {n}: tank temperature 2{n % 10}.{n % 7} C, pressure 1{n % 90:02d} kPa" for n in range(1, 151)]
    loaded = load_file(_lines_pdf(tmp_path / "tank.pdf", [rows[i : i + 38] for i in range(0, 150, 38)]))
    assert [row for row in rows if row not in loaded.text] == []


def test_a_page_number_is_furniture_in_any_of_its_forms(tmp_path: Path) -> None:
    for footer in ("Page {} of 4", "- {} -", "{}"):
        pages = [[f"Rule {page * 12 + row}: keep gate {row} closed after use." for row in range(12)]
                 + [footer.format(page)] for page in range(1, 5)]
        loaded = load_file(_lines_pdf(tmp_path / "rules.pdf", pages))
        assert loaded.text.count("Rule") == 48
        assert not any(footer.format(page) in loaded.text.split("\n") for page in range(1, 5)), footer


def test_a_page_number_that_starts_again_or_sits_beside_a_chapter_is_furniture(tmp_path: Path) -> None:
    # Before 2026-12-07 a page number had to be the page's index plus one offset: two merged 2-page invoices'
    # "Page 1 of 2", "Page 2 of 2", numbering starting again after the front matter and "Chapter 2 · Page 17" were
    # kept on every page, and cut a sentence running over each page break.
    invoices = [[f"Invoice {number} item {row}: {row + 2} crates of tiles at 12.50 EUR each." for row in range(12)]
                + [f"Page {page} of 2"] for number in (7731, 9402) for page in (1, 2)]
    loaded = load_file(_lines_pdf(tmp_path / "invoices.pdf", invoices))
    assert "Page" not in loaded.text
    assert all(f"Invoice {number} item 11:" in loaded.text for number in (7731, 9402))
    front = [[f"Preface line {row} says what the manual covers." for row in range(12)] + [f"{page}"]
             for page in (1, 2)]
    body = [[f"Step {page * 12 + row}: open valve {row} and wait." for row in range(12)] + [f"{page}"]
            for page in range(1, 5)]
    loaded = load_file(_lines_pdf(tmp_path / "manual.pdf", front + body))
    assert not any(line.strip().isdigit() for line in loaded.text.split("\n"))
    chapters = [[f"Gate {page * 12 + row} stays closed at night." for row in range(12)]
                + [f"Chapter {1 + page // 2} \u00b7 Page {16 + page}"] for page in range(4)]
    loaded = load_file(_lines_pdf(tmp_path / "chapters.pdf", chapters))
    assert "Chapter" not in loaded.text and loaded.text.count("Gate") == 48


def test_which_numbers_at_pages_edges_are_page_numbers() -> None:
    def numbered(*pages: list[int]) -> bool | None:
        return _page_numbered(list(enumerate(pages)))

    assert numbered([1, 2], [2, 2], [1, 2], [2, 2], [1, 2], [2, 2]) is True  # merged 2-page documents
    assert numbered([1, 2], [2, 2], [1, 3], [2, 3], [3, 3]) is True  # their page count changes with each
    assert numbered([1], [2], [3], [1], [2], [3], [4]) is True  # starting again after the front matter
    assert numbered([1, 1], [1, 2], [2, 3], [2, 4]) is True  # a chapter beside the page
    assert _page_numbered([(0, [3]), (1, [4]), (3, [6])]) is True  # a page without it
    assert numbered([5], [5], [5]) is False
    # A balance, a log's first rows, an invoice's number beside its page number: the text's.
    assert numbered([1, 520, 40], [2, 4, 17], [2, 389, 95], [3, 12, 60]) is None
    assert numbered([1], [39], [77], [115]) is None
    assert numbered([7731, 1, 2], [7731, 2, 2], [9402, 1, 2], [9402, 2, 2]) is None


def _dejavu_pdf(path: Path, texts: list[str], garbled: set[int]) -> Path:
    """Pages in Helvetica, those in `garbled` (0-based) in DejaVu Sans without the map from its codes to Unicode
    (/ToUnicode), as some writers leave a subset font: pypdf reads control characters there."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_font("dv", "", _DEJAVU)
    for index, text in enumerate(texts):
        pdf.add_page()
        pdf.set_font("dv" if index in garbled else "Helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    writer = PdfWriter(clone_from=PdfReader(str(path)))
    for index in garbled:
        for font in writer.pages[index]["/Resources"]["/Font"].values():
            font.get_object().pop("/ToUnicode", None)  # the page's fonts: Helvetica has none
    writer.write(str(path))
    return path


@pytest.mark.skipif(not Path(_DEJAVU).exists(), reason="DejaVu Sans is not installed")
def test_a_text_layer_of_control_characters_is_read_by_ocr_or_named(tmp_path: Path) -> None:
    # Indexed as "\x01\x02\x03 \x04\x05\x06", summarize showed "␁␂␃ ␄␅␆", and nothing said why.
    path = _dejavu_pdf(tmp_path / "pumps.pdf", [_TEXT, _TEXT.replace("pump", "fan")], {0, 1})
    with pytest.raises(NeedsOcrError, match=r"pumps\.pdf: no text, only control characters"):
        load_file(path, ocr=False)
    # Drawn as it looks, the page is read by OCR.
    read = load_file(path)
    assert "valve log is kept in the blue binder" in read.text and "fan station" in read.text
    assert read.left_out.startswith("pages 1, 2 read by OCR: the text layer held control characters")
    # One such page among typed ones: left out and named with OCR off, read by OCR with it on.
    mixed = _dejavu_pdf(tmp_path / "mixed.pdf", [_TEXT, _TEXT.replace("pump", "fan"), _TEXT], {1})
    typed = load_file(mixed, ocr=False)
    assert [s.page for s in typed.sections] == [1, 3] and not any(c < " " and c != "\n" for c in typed.text)
    assert typed.left_out.startswith("page 2 left out: its text layer holds control characters, not text")
    assert "fan station" in load_file(mixed).text


def _scan_png(path: Path, lines: list[str], size: tuple[int, int]) -> Path:
    """Black text on white, as a scanner gives a page."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((150, 200 + 80 * number), line, fill="black", font=ImageFont.load_default(size=40))
    image.save(path)
    return path


def test_a_scan_under_a_typed_footer_or_header_is_read_by_ocr_and_a_figure_beside_text_is_not(tmp_path: Path) -> None:
    from fpdf import FPDF

    scan = _scan_png(tmp_path / "scan.png", ["Boiler inspection report", "The pressure valve was replaced"],
                     (1700, 2200))
    figure = _scan_png(tmp_path / "figure.png", ["Figure 3 valve"], (900, 500))
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    # A phone scanner's page: the scan, its name typed at the foot (23 characters of text layer).
    pdf.add_page()
    pdf.image(str(scan), x=0, y=0, w=210, h=297)
    pdf.set_font("Helvetica", size=8)
    pdf.set_xy(80, 290)
    pdf.cell(0, 5, "Scanned with CamScanner")
    # A typed page with a figure: its text layer holds its words, OCR would add only the figure's labels.
    pdf.add_page()
    pdf.image(str(figure), x=20, y=20, w=90)
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(20, 80)
    pdf.multi_cell(170, 6, _TEXT)
    pdf.output(str(tmp_path / "scanned.pdf"))
    activities: list[str] = []
    loaded = load_file(tmp_path / "scanned.pdf", notify=activities.append)
    # Before, the footer made page 1 a typed page: its text was the footer's alone, the scan's words were lost.
    pages = [(loaded.text[s.start : s.end], s.page) for s in loaded.sections]
    assert pages[:2] == [("Boiler inspection report The pressure valve was replaced", 1),
                         ("Scanned with CamScanner", 1)]  # read once: OCR's reading of the typed line is left out
    assert activities == ["OCR scanned.pdf page 1/2"]
    # OCR off: the footer is kept, and the page said to be scanned, not read.
    typed = load_file(tmp_path / "scanned.pdf", ocr=False)
    assert typed.text.startswith("Scanned with CamScanner\n\nThe pump station")
    assert typed.left_out.startswith("page 1 scanned, not read as OCR is off")


def test_a_scan_line_held_inside_a_typed_header_is_kept(tmp_path: Path) -> None:
    from fpdf import FPDF

    scan = _scan_png(tmp_path / "scan.png", ["Patient: Maria Lopez", "Cardiology", "Smith", "Log",
                                             "Diagnosis: Atrial fibrillation"], (1700, 2200))
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.image(str(scan), x=0, y=0, w=210, h=297)
    pdf.set_font("Helvetica", size=8)
    pdf.set_xy(10, 3)
    pdf.cell(0, 5, "Fax from Dr. Alan Smith, Cardiology, page 1 of 3")
    pdf.output(str(tmp_path / "fax.pdf"))
    loaded = load_file(tmp_path / "fax.pdf")
    # Before, an OCR line was dropped where its letters stood anywhere in the typed header: "Cardiology", "Smith" and
    # "Log" ("cardiology" holds "log") were lost. Only OCR's reading of the whole header line is left out.
    assert loaded.text.count("Fax from Dr. Alan Smith, Cardiology, page 1 of 3") == 1
    for line in ("Patient: Maria Lopez", "Cardiology", "Smith", "Log", "Diagnosis: Atrial fibrillation"):
        assert re.search(rf"(^|\s){line}(\s|$)", loaded.text.replace("Fax from Dr. Alan Smith, Cardiology", "")), line


def test_a_slide_typed_over_a_background_image_is_not_ocr_d(tmp_path: Path) -> None:
    from fpdf import FPDF

    background = _scan_png(tmp_path / "background.png", ["Acme Corporation"], (600, 800))
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for number in range(3):
        pdf.add_page()
        pdf.image(str(background), x=0, y=0, w=210, h=297)
        pdf.set_font("Helvetica", size=14)
        pdf.set_xy(20, 120)
        pdf.cell(0, 8, f"Slide {number}: Quarterly results and the team's plans overview")
    pdf.output(str(tmp_path / "deck.pdf"))
    activities: list[str] = []
    loaded = load_file(tmp_path / "deck.pdf", notify=activities.append)
    # Before, a short text over a full-page image was a scan under a typed line: each slide OCR'd, its background's
    # words added. A scanner's footer or a fax's header sits in the page's top or bottom band; a slide's text does not.
    assert activities == []
    assert "Acme" not in loaded.text
    assert loaded.text.count("Quarterly results") == 3


def _damaged_pdf(path: Path, damage: str = "garbage") -> Path:
    """Three pages, page 2's content stream replaced by bytes that are no Flate data ("garbage"), its Flate data
    damaged halfway ("middle"), or replaced by an empty stream, packed ("blank": no damage)."""
    import zlib

    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    for page in range(1, 4):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, f"Minutes, part {page}: the board approved budget item {page}. " * 3)
    pdf.output(str(path))
    writer = PdfWriter(clone_from=PdfReader(str(path)))
    stream = writer.pages[1]["/Contents"].get_object()
    packed = zlib.compress(zlib.decompress(stream._data), 9)
    half = len(packed) // 2
    stream._data = {"garbage": b"x\x9c\x00\x01garbage", "blank": zlib.compress(b""),
                    "middle": packed[:half] + b"\x00\xff\x13\x37" + packed[half + 4 :]}[damage]
    writer.write(str(path))
    return path


def test_a_damaged_page_is_named_and_the_rest_read(tmp_path: Path) -> None:
    # Page 2 was lost without a word: "3 added, 0 failed".
    loaded = load_file(_damaged_pdf(tmp_path / "minutes.pdf"))
    assert {s.page for s in loaded.sections} == {1, 3}
    assert loaded.left_out == ("page 2 could not be read (damaged: its content stream is no Flate data: Error -3 "
                               "while decompressing data: invalid stored block lengths); re-export the PDF, or print "
                               "it to a new one")
    # pypdf logs its decoding error and goes on: the warning was dropped with the rest of pypdf's.
    loaded = load_file(_damaged_pdf(tmp_path / "minutes 2.pdf", "middle"))
    assert {s.page for s in loaded.sections} == {1, 3}
    assert re.fullmatch(r"page 2 could not be read \(damaged: Error -3 while decompressing data: .*\); re-export the "
                        r"PDF, or print it to a new one", loaded.left_out)
    # A blank page's empty stream is no damage.
    blank = load_file(_damaged_pdf(tmp_path / "minutes 3.pdf", "blank"))
    assert ({s.page for s in blank.sections}, blank.left_out) == ({1, 3}, "")


def test_a_pdf_with_a_password_names_the_command_that_opens_it(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(_damaged_pdf(tmp_path / "source.pdf"))))
    writer.encrypt("secret", algorithm="AES-128")
    writer.write(str(tmp_path / "pay slip.pdf"))
    # `qpdf --decrypt in.pdf out.pdf` fails without the password.
    with pytest.raises(LoaderError, match=r"encrypted with a password.*`qpdf --password=PASSWORD --decrypt "
                                          r"'pay slip\.pdf' 'pay slip-decrypted\.pdf'`"):
        load_file(tmp_path / "pay slip.pdf")


@pytest.mark.skipif(not Path(_DEJAVU).exists(), reason="DejaVu Sans is not installed")
def test_an_ingest_names_the_pages_it_could_not_read(real_embedder: object, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _damaged_pdf(docs / "minutes.pdf")
    _dejavu_pdf(docs / "pumps.pdf", [_TEXT, _TEXT.replace("pump", "fan"), _TEXT], {1})
    engine = Engine(load_settings(ocr=False), embedder=real_embedder)  # type: ignore[arg-type]
    report = engine.ingest([docs])
    assert (report.added, len(report.errors)) == (2, 0)
    assert any(note.startswith(f"{docs / 'minutes.pdf'}: page 2 could not be read (damaged") for note in report.notes)
    assert any(note.startswith(f"{docs / 'pumps.pdf'}: page 2 left out: its text layer holds control characters")
               for note in report.notes)
