"""A Word file's pictures: read by their alt text, and their images' text by OCR (the models bundled in the `rapidocr`
wheel), as an image file's or a scanned PDF page's is. Before 2026-12-08 pictures were read as nothing, and a Word
file of scanned pages was passed over as "empty or blank"."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.errors import NeedsOcrError, NoTextError
from localrag.ingest.loaders import load_file
from tests.integration.test_ocr_and_parts import text_image


def test_a_pictures_alt_text_and_its_images_text_are_read_where_it_stands(tmp_path: Path) -> None:
    import docx

    scan = text_image(tmp_path / "label.png", ["Wombat pump 4471"])
    document = docx.Document()
    document.add_paragraph("The pump report follows.")
    document.add_picture(str(scan))
    document.inline_shapes[0]._inline.docPr.set("descr", "Photo of the Quokka seal ring")
    document.add_picture(str(scan))
    document.inline_shapes[1]._inline.docPr.set("descr", "label.png")  # a file name is no alt text
    document.add_paragraph("End of report.")
    path = tmp_path / "report.docx"
    document.save(str(path))
    texts = [path_text.strip() for path_text in load_file(path).text.split("\n\n")]
    assert texts == ["The pump report follows.", "Image: Photo of the Quokka seal ring.", "Wombat pump 4471",
                     "Wombat pump 4471", "End of report."]
    # OCR off: the alt text alone.
    without = "The pump report follows.\n\nImage: Photo of the Quokka seal ring.\n\nEnd of report."
    assert load_file(path, ocr=False).text == without


def test_a_picture_in_a_text_box_is_read_once(tmp_path: Path) -> None:
    import docx
    from lxml import etree

    scan = text_image(tmp_path / "label.png", ["Wombat pump 4471"])
    document = docx.Document()
    document.add_paragraph("The pump report follows.")
    document.add_picture(str(scan))
    document.inline_shapes[0]._inline.docPr.set("descr", "Photo of the Quokka seal ring")
    picture = document.paragraphs[-1]._p
    # A text box as Word writes it: a drawing whose shape holds a w:txbxContent, here holding the picture's paragraph.
    box = etree.fromstring(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<w:drawing><wp:inline><wp:extent cx="3000000" cy="1000000"/><wp:docPr id="90" name="Text Box 1"/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:txbx><w:txbxContent/></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic>'
        '</wp:inline></w:drawing></w:r>')
    box.find(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}txbxContent").append(picture)
    document.add_paragraph("Pump box:")._p.append(box)
    document.add_paragraph("End of report.")
    path = tmp_path / "boxed.docx"
    document.save(str(path))
    activities: list[str] = []
    text = load_file(path, notify=activities.append).text
    # Before, the text box's drawing was read with every picture beneath it, then the box's paragraphs again: the
    # picture's image OCR'd twice and its text read twice.
    assert text.count("Wombat pump 4471") == 1
    assert text.count("Quokka seal ring") == 1
    assert len(activities) == 1


def test_a_pictures_alt_text_heads_nothing_and_office_written_or_captioned_alt_text_is_not_read(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """Before 2026-12-08 a picture's alt text was a bare line, read as a heading over the text after it: `summarize`
    labelled the last two sentences "(Service report > Pressure gauge on the boiler front panel)". The description
    Office writes itself was read and quoted as a key sentence, and an alt text its caption repeats was read twice."""
    import docx
    from PIL import Image

    picture = tmp_path / "pic.png"
    Image.new("RGB", (200, 100), "white").save(picture)
    document = docx.Document()
    document.add_heading("Service report", 1)
    document.add_paragraph("The technician visited the boiler room on Tuesday and checked every valve.")
    alts = ["Pressure gauge on the boiler front panel",
            "A picture containing grass, outdoor, ground, plant\n\nDescription automatically generated",
            "A screenshot of a computer\n\nAI-generated content may be incorrect.",
            "Chart, bar chart\n\nDescription generated with very high confidence",
            "Lighthouse keeper's cottage"]
    for number, alt in enumerate(alts):
        document.add_picture(str(picture))
        document.inline_shapes[number]._inline.docPr.set("descr", alt)
    document.add_paragraph("Figure 1: Lighthouse keeper's cottage", style="Caption")
    document.add_paragraph("The pressure was stable at 1.5 bar during the whole inspection.")
    document.add_paragraph("A new expansion vessel will be fitted next month by the same company.")
    folder = tmp_path / "docs"
    folder.mkdir()
    document.save(str(folder / "service.docx"))

    assert load_file(folder / "service.docx", ocr=False).text == (
        "Service report\n\nThe technician visited the boiler room on Tuesday and checked every valve.\n\n"
        "Image: Pressure gauge on the boiler front panel.\n\nFigure 1: Lighthouse keeper's cottage\n\n"
        "The pressure was stable at 1.5 bar during the whole inspection.\n\n"
        "A new expansion vessel will be fitted next month by the same company.")
    engine = Engine(load_settings(ocr=False), embedder=real_embedder)
    engine.ingest([folder])
    _, summary = engine.summarize(folder / "service.docx")
    assert {key.text: key.heading for key in summary.sentences}[
        "A new expansion vessel will be fitted next month by the same company."] == "Service report"
    assert all(key.heading == "Service report" for key in summary.sentences)


def test_a_word_file_of_scans_is_read_by_ocr_and_with_ocr_off_named_as_one(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    import docx
    from PIL import Image

    folder = tmp_path / "scans"
    folder.mkdir()
    scan = text_image(tmp_path / "scan.png", ["Invoice 4471 Wombat pump", "Total due 1250 euros"])
    document = docx.Document()
    document.add_picture(str(scan))
    document.add_picture(str(scan))
    document.save(str(folder / "scans.docx"))
    blank = tmp_path / "blank.png"
    Image.new("RGB", (600, 300), "white").save(blank)
    document = docx.Document()
    document.add_picture(str(blank))
    document.save(str(folder / "blank.docx"))

    assert "Invoice 4471 Wombat pump" in load_file(folder / "scans.docx").text
    with pytest.raises(NeedsOcrError, match=r"scans\.docx: no text, only pictures"):
        load_file(folder / "scans.docx", ocr=False)
    with pytest.raises(NoTextError, match=r"blank\.docx: no text, only pictures, and OCR found none in them"):
        load_file(folder / "blank.docx")

    report = Engine(load_settings(), embedder=real_embedder).ingest([folder])
    assert (report.errors, report.added, report.blank_paths) == ([], 1, [str(folder / "blank.docx")])
    assert any("none that OCR found" in note for note in report.notes)  # not "empty or blank" alone
    report = Engine(load_settings(ocr=False), embedder=real_embedder).ingest([folder], force=True)
    assert any(f"left out {folder / 'scans.docx'}, read only by OCR, which is off" in note for note in report.notes)
