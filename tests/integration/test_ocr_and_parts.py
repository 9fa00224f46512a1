"""OCR with the models bundled in the `rapidocr` wheel, and multi-document files through the real pipeline.

Pages are kept small (a few words at a large size) so the real detection and recognition models
run in a second or two each on 2 cores.
"""

from __future__ import annotations

import email.message
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.errors import LoaderError, NoTextError
from localrag.ingest.loaders import load_file
from localrag.types import IngestProgress

if TYPE_CHECKING:
    from PIL import Image


def text_image(path: Path, lines: list[str]) -> Path:
    """Black text on white, as a scanner would give it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=40)
    image = Image.new("RGB", (900, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((40, 40 + 70 * number), line, fill="black", font=font)
    image.save(path)
    return path


def scanned_pdf(path: Path, image: Path, text_first_page: str = "") -> Path:
    """A PDF whose last page is only an image; with `text_first_page`, a typed page comes first."""
    from fpdf import FPDF

    pdf = FPDF(format=(160, 60))
    pdf.set_auto_page_break(False)
    if text_first_page:
        pdf.add_page()
        pdf.set_font("Helvetica", size=14)
        pdf.cell(0, 10, text_first_page)
    pdf.add_page()
    pdf.image(str(image), x=0, y=0, w=160)
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return text_image(tmp_path_factory.mktemp("ocr") / "scan.png", ["Lighthouse keeper", "Tuesday 42 lanterns"])


def test_image_is_read_by_ocr(scan: Path) -> None:
    loaded = load_file(scan)
    assert "Lighthouse keeper" in loaded.text and "42 lanterns" in loaded.text
    assert {s.page for s in loaded.sections} == {1}
    with pytest.raises(LoaderError, match=r"scan\.png: an image is read only by OCR, which is off"):
        load_file(scan, ocr=False)


def test_a_phone_photo_stored_sideways_and_a_transparent_image_are_read_as_a_viewer_shows_them(
    scan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    upright = Image.open(scan).convert("RGB")
    sideways = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored pixels are to be turned 90 degrees clockwise for viewing
    upright.rotate(90, expand=True).save(sideways, exif=exif, quality=95)
    # Black text on a transparent background, as exported from a drawing or a screenshot tool.
    clear = tmp_path / "label.png"
    ink = Image.new("RGBA", upright.size, (0, 0, 0, 0))
    ink.putalpha(Image.eval(upright.convert("L"), lambda v: 255 - v))
    ink.save(clear)
    for image in (sideways, clear):
        text = load_file(image).text
        assert "Lighthouse keeper" in text and "42 lanterns" in text, (image.name, text)

    # An image over Pillow's pixel limit is said to be too large, not corrupt.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30_000)
    with pytest.raises(LoaderError, match=r"scan\.png: too large to read \(over 0.06 megapixels\) \(scale it down"):
        load_file(scan)


def letter(path: Path, lines: list[str], turn: int = 0) -> Path:
    """A page typeset in DejaVu Sans, as a scanner gives it, turned `turn` degrees anticlockwise (fed in sideways or
    upside down)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("DejaVuSans.ttf", 28)
    image = Image.new("RGB", (760, 60 + 56 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((40, 30 + 56 * number), line, fill="black", font=font)
    image.rotate(turn, expand=True).save(path)
    return path


def test_a_page_scanned_sideways_or_upside_down_is_read_upright_and_an_unsure_reading_is_said(tmp_path: Path) -> None:
    lines = ["Dear tenant, the rent is due", "IBAN: DE89 3704 0044 0532 0130 00", "Kind regards, Meier"]
    for turn in (90, 180, 270):
        loaded = load_file(letter(tmp_path / f"letter-{turn}.png", lines, turn))
        # Before, 90 degrees read "1B20 0 D D 000", 180 "1B0 0 D D :00", 270 the lines in reverse, run together.
        assert loaded.text.split("\n\n") == [" ".join(lines)], (turn, loaded.text)
        assert loaded.left_out == ""
    # Greek is not in the recogniser's alphabet: read as well as it can be, and the page is said to be doubtful.
    greek = load_file(letter(tmp_path / "greek.png", ["Αγαπητέ ενοικιαστή, το ενοίκιο"]))
    assert greek.left_out == ("page 1 read by OCR with low confidence: its text may be misread (a blurred or faint "
                              "scan?)")


def grid_page(title: str, rows: list[str]) -> Image.Image:
    """A form as a scanner gives it: a title over rows of single letters or digits set far apart, each its own box."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("DejaVuSans.ttf", 28)
    image = Image.new("RGB", (760, 140 + 90 * len(rows)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 30), title, fill="black", font=font)
    for number, row in enumerate(rows):
        for column, item in enumerate(row):
            draw.text((60 + 110 * column, 120 + 90 * number), item, fill="black", font=font)
    return image


def test_an_upright_form_of_single_letters_and_digits_is_read_once_as_it_came(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from localrag.ingest import ocr

    reads: list[tuple[int, ...]] = []
    read = ocr._read

    def counted(image: np.ndarray) -> tuple[ocr.OcrReading, bool]:
        reads.append(image.shape)
        return read(image)

    monkeypatch.setattr(ocr, "_read", counted)
    pages = {
        # Before, each lone character's box (taller than wide) made the page "sideways": it was turned, and the
        # form read ['3 C 9', '2 B 8', 'Rooo 4 1 A 7'], the seat plan ['F 8 8 8', ..., 'Seaa plan A 8 8 8'].
        ("Room 4", ("123", "ABC", "789")): ["Room 4", "1 2 3", "A B C", "7 8 9"],
        ("Seat plan", ("ABCDEF", "888888", "888888")): ["Seat plan", "A B C D E F", "8 8 8 8 8 8", "8 8 8 8 8 8"],
    }
    for (title, rows), expected in pages.items():
        reads.clear()
        image = np.asarray(grid_page(title, list(rows)))
        reading = ocr.read_page(image)
        assert ([line.text for line in reading.lines], reading.doubtful) == (expected, False), title
        assert reads == [image.shape], title  # read once, as it came


def test_mixed_pdf_typed_page_kept_scanned_page_ocrd(scan: Path, tmp_path: Path) -> None:
    path = scanned_pdf(tmp_path / "mixed.pdf", scan, text_first_page="Harbour opening hours")
    activities: list[str] = []
    loaded = load_file(path, notify=activities.append)
    pages = {loaded.text[s.start : s.end]: s.page for s in loaded.sections}
    assert pages["Harbour opening hours"] == 1  # from the text layer
    ocr_text = " ".join(text for text, page in pages.items() if page == 2)
    assert "Lighthouse keeper" in ocr_text and "42 lanterns" in ocr_text
    assert activities == ["OCR mixed.pdf page 2/2"]  # the typed page is not OCR'd

    # OCR off: the typed page is read and the scanned one said to be left out (before, it was dropped in silence).
    typed = load_file(path, ocr=False)
    assert typed.text == "Harbour opening hours"
    assert typed.left_out == ("page 2 scanned, not read as OCR is off (turn OCR on: the `ocr` setting (`localrag "
                              "config unset ocr`), and no --no-ocr)")

    only_scan = scanned_pdf(tmp_path / "only.pdf", scan)
    with pytest.raises(LoaderError, match=r"only\.pdf: no extractable text .*turn OCR on: the `ocr` setting"):
        load_file(only_scan, ocr=False)


def test_a_blank_scan_is_passed_over_with_a_note_not_failed(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    from PIL import Image

    folder = tmp_path / "scans"
    folder.mkdir()
    blank = folder / "blank_scan.png"
    Image.new("RGB", (600, 300), "white").save(blank)
    scanned_pdf(folder / "blank_scan.pdf", blank)
    with pytest.raises(NoTextError, match=r"blank_scan\.png: OCR found no text in the image"):
        load_file(blank)

    report = Engine(load_settings(), embedder=real_embedder).ingest([folder])
    # Before, each was "skipped: ...: OCR found no text" and the ingest exited 1 with "2 failed".
    assert (report.errors, report.added) == ([], 0)
    assert sorted(report.blank_paths) == [str(folder / "blank_scan.pdf"), str(blank)]


def test_pipeline_reports_ocr_and_indexes_mail_attachments(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, scan: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "scan.png").write_bytes(scan.read_bytes())
    message = email.message.EmailMessage()
    message["Subject"] = "Keeper rota"
    message["From"] = "ana@example.org"
    message.set_content("The rota is attached.")
    message.add_attachment(b"# Rota\n\nMarta keeps the light on Sundays.\n", maintype="text", subtype="markdown",
                           filename="rota.md")
    mail = folder / "rota.eml"
    mail.write_bytes(message.as_bytes())

    engine = Engine(load_settings(), embedder=real_embedder)
    events: list[IngestProgress] = []
    report = engine.ingest([folder], progress=events.append)
    assert (report.added, report.errors) == (2, [])
    assert any(e.activity == "OCR scan.png page 1" for e in events)
    paths = sorted(d.path for d in engine.documents())
    assert paths == [str(mail), f"{mail}/rota.md", str(folder / "scan.png")]
    assert engine.search("who keeps the light on Sundays")[0].chunk.path == f"{mail}/rota.md"

    # Unchanged: nothing reloaded, the attachment stays. A new version without it: the attachment goes.
    again = engine.ingest([folder])
    assert (again.unchanged, again.removed) == (2, 0)
    assert len(engine.documents()) == 3
    # A walk that leaves the mail out keeps its attachment as it keeps the mail (the attachment was forgotten).
    assert engine.ingest([folder], include=["*.png"]).removed == 0
    assert len(engine.documents()) == 3
    message.clear_content()
    message.set_content("No rota this week.")
    mail.write_bytes(message.as_bytes())
    third = engine.ingest([folder])
    assert third.updated == 1
    assert sorted(d.path for d in engine.documents()) == [str(mail), str(folder / "scan.png")]

    # Off: images are left out of the run, and forgetting the mail takes its parts with it.
    without_ocr = Engine(load_settings(ocr=False), embedder=real_embedder)
    off = without_ocr.ingest([folder])
    assert (off.unchanged, off.stale, off.errors) == (1, 0, [])
    assert without_ocr.stale_documents() == {}  # what OCR read stays: read again now, it would lose its text
    engine.forget(mail)
    assert [d.path for d in engine.documents()] == [str(folder / "scan.png")]


def test_cancel_stops_between_ocr_pages_and_keeps_nothing_half_read(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, scan: Path, tmp_path: Path
) -> None:
    import threading

    from fpdf import FPDF

    pdf = FPDF(format=(160, 60))
    for _ in range(3):
        pdf.add_page()
        pdf.image(str(scan), x=0, y=0, w=160)
    path = tmp_path / "long-scan.pdf"
    pdf.output(str(path))
    cancel = threading.Event()

    def on_progress(p: IngestProgress) -> None:
        if p.activity:
            cancel.set()  # as the Library screen's Stop button does, while page 1 is being read

    engine = Engine(load_settings(), embedder=real_embedder)
    report = engine.ingest([path], progress=on_progress, cancel=cancel)
    assert report.cancelled and report.added == 0
    assert engine.documents() == []
