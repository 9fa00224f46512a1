"""PDF forms and pages as a viewer shows them: a signature by its signer, a text stream's text, hidden fields, notes
and text (under a filled box, white on white) left out, an XFA form read from its data, a blank form line no
answer."""

from __future__ import annotations

from pathlib import Path

from localrag.answer.evidence import best_sentence, fill_in_blank
from localrag.embed import SentenceTransformerEmbedder
from localrag.ingest.loaders import load_file
from localrag.types import Chunk, Hit
from tests.unit.test_loaders import section_texts


def _annotated(tmp_path: Path, name: str, annotations: list[dict[str, object]], blank: Path | None = None) -> Path:
    """A one-page form (`blank`, else one whose page reads "Purchase agreement") whose page holds `annotations`
    (pypdf objects by key), each field also listed in the AcroForm."""
    from fpdf import FPDF
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject

    if blank is None:
        blank = tmp_path / "blank.pdf"
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 8, "Purchase agreement", new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(blank))
    writer = PdfWriter(clone_from=str(blank))
    page = writer.pages[0]
    added = ArrayObject()
    for row, keys in enumerate(annotations):
        annotation = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                                       NameObject("/Rect"): ArrayObject(
                                           [FloatObject(v) for v in (150, 700 - 22 * row, 400, 715 - 22 * row)])})
        annotation.update({NameObject(key): value for key, value in keys.items()})  # type: ignore[misc]
        added.append(writer._add_object(annotation))
    page[NameObject("/Annots")] = added
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject(a for a in added if a.get_object()["/Subtype"] == "/Widget")})
    path = tmp_path / name
    writer.write(str(path))
    return path


def test_a_signature_reads_as_its_signer_and_a_stream_value_as_its_text(tmp_path: Path) -> None:
    # Before, the signature was indexed as Python's repr of its dictionary, 8 KB of signature bytes and all
    # ("Signature1: {'/Type': '/Sig', ... '/Contents': b'\x11..."), and the stream's value as "Remarks: {}".
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    signature = DictionaryObject({
        NameObject("/Type"): NameObject("/Sig"), NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
        NameObject("/SubFilter"): NameObject("/adbe.pkcs7.detached"),
        NameObject("/Name"): TextStringObject("Barnaby Quillfeather"),
        NameObject("/M"): TextStringObject("D:20261201093000+01'00'"),
        NameObject("/Reason"): TextStringObject("I agree"),
        NameObject("/ByteRange"): ArrayObject(NumberObject(n) for n in (0, 100, 16484, 2000)),
        NameObject("/Contents"): ByteStringObject(bytes(range(256)) * 32),
    })
    remarks = DecodedStreamObject()
    remarks.set_data(b"Deliver to the side entrance.\nCall ahead.")
    path = _annotated(tmp_path, "signed.pdf", [
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Sig"), "/T": TextStringObject("Signature1"),
         "/V": signature},
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Tx"), "/T": TextStringObject("Remarks"),
         "/V": remarks},
    ])
    assert section_texts(load_file(path)) == [
        "Purchase agreement",
        "Signature1: signed by Barnaby Quillfeather, 2026-12-01 (I agree)\nRemarks: Deliver to the side entrance.\n"
        "Call ahead.",
    ]


def test_hidden_fields_and_notes_are_left_out_as_a_viewer_shows_none(tmp_path: Path) -> None:
    # Before, a hidden field ("hiddenref: Internal ref KESTREL-9931") and a hidden note were indexed, found first.
    from pypdf.generic import NameObject, NumberObject, TextStringObject

    path = _annotated(tmp_path, "hidden.pdf", [
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Tx"), "/T": TextStringObject("hiddenref"),
         "/V": TextStringObject("Internal ref KESTREL-9931"), "/F": NumberObject(2)},
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Tx"), "/T": TextStringObject("noview"),
         "/V": TextStringObject("Not on screen"), "/F": NumberObject(32 | 4)},
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Tx"), "/T": TextStringObject("Buyer"),
         "/V": TextStringObject("Odalys Fenwick-Trask"), "/F": NumberObject(4)},
        {"/Subtype": NameObject("/Text"),
         "/Contents": TextStringObject("Hidden note: seller will accept 20 percent less"), "/F": NumberObject(2)},
        {"/Subtype": NameObject("/Text"), "/Contents": TextStringObject("Check the buyer's name."),
         "/F": NumberObject(4)},
    ])
    assert section_texts(load_file(path)) == [
        "Purchase agreement", "Buyer: Odalys Fenwick-Trask", "Comment: Check the buyer's name."]


def test_a_printed_blank_is_no_answer_but_the_value_filled_in_is(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    # Before, `ask --extract "What is the applicant's name?"` quoted the printed line "Applicant name: ____".
    from fpdf import FPDF
    from pypdf.generic import NameObject, TextStringObject

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ("Applicant name: ____________", "Date of birth: ..........", "Amount paid: ------------"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "printed.pdf"))
    path = _annotated(tmp_path, "application.pdf", [
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Tx"), "/T": TextStringObject("name"),
         "/TU": TextStringObject("Applicant name"), "/V": TextStringObject("Wilhelmina Zappacosta")},
        {"/Subtype": NameObject("/Widget"), "/FT": NameObject("/Tx"), "/T": TextStringObject("paid"),
         "/TU": TextStringObject("Amount paid"), "/V": TextStringObject("$1,234.56")},
    ], blank=tmp_path / "printed.pdf")
    loaded = load_file(path)
    chunk = Chunk("c0", "d0", str(path), 0, loaded.text, 0, len(loaded.text), file_type="pdf")
    name = best_sentence("What is the applicant's name?", [Hit(chunk, 1.0)], real_embedder)
    assert name is not None and name.text == "Applicant name: Wilhelmina Zappacosta"
    paid = best_sentence("How much was paid?", [Hit(chunk, 1.0)], real_embedder)
    assert paid is not None and paid.text == "Amount paid: $1,234.56"
    born = best_sentence("What is the applicant's date of birth?", [Hit(chunk, 1.0)], real_embedder)
    assert born is None or born.text != "Date of birth: .........."
    # A line that only ends in dots or dashes is no blank: a trailing ellipsis, a contents line.
    assert not fill_in_blank("Wait for it ...") and not fill_in_blank("Chapter 1 .......... 5")


PLACEHOLDER = ("Please wait... If this message is not eventually replaced by the proper contents of the document, "
               "your PDF viewer may not be able to display this type of document.")


def _xfa_pdf(tmp_path: Path, datasets: bytes) -> Path:
    """A dynamic XFA form (/NeedsRendering) whose page holds the usual placeholder, its values in `datasets`."""
    from fpdf import FPDF
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        BooleanObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        TextStringObject,
    )

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, PLACEHOLDER)
    pdf.output(str(tmp_path / "placeholder.pdf"))
    writer = PdfWriter(clone_from=str(tmp_path / "placeholder.pdf"))
    packets = ArrayObject()
    for name, data in (("template", b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"/>'),
                       ("datasets", datasets)):
        stream = DecodedStreamObject()
        stream.set_data(data)
        packets.extend([TextStringObject(name), writer._add_object(stream)])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): packets})
    writer._root_object[NameObject("/NeedsRendering")] = BooleanObject(True)
    path = tmp_path / "xfa.pdf"
    writer.write(str(path))
    return path


def test_an_xfa_forms_values_are_read_from_its_data_not_its_placeholder(tmp_path: Path) -> None:
    # Before, such a form was indexed as its "Please wait..." placeholder alone, its values lost without a word.
    datasets = (b'<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/"><xfa:data><form1><Applicant>'
                b"<FamilyName>Okonkwo-Lindqvist</FamilyName><GivenName>Adaeze</GivenName><Middle/></Applicant>"
                b"<Permit><Number>HX-4471</Number></Permit></form1></xfa:data>"
                b'<dd:dataDescription xmlns:dd="http://ns.adobe.com/data-description/"><form1/></dd:dataDescription>'
                b"</xfa:datasets>")
    loaded = load_file(_xfa_pdf(tmp_path, datasets))
    assert section_texts(loaded) == ["FamilyName: Okonkwo-Lindqvist\nGivenName: Adaeze\nNumber: HX-4471"]
    assert loaded.left_out == ""
    # A form whose data does not parse is named, with what to do.
    loaded = load_file(_xfa_pdf(tmp_path, b"<xfa:datasets broken"))
    assert section_texts(loaded) == [PLACEHOLDER]
    assert loaded.left_out == ("XFA form not read, only its placeholder page (print xfa.pdf to a new PDF from a viewer "
                               "that renders XFA, such as Adobe Acrobat Reader, and ingest that)")


def test_text_under_a_filled_box_or_white_on_white_is_left_out_and_named(tmp_path: Path) -> None:
    # Before, a line "redacted" by a black box drawn over it was indexed and `ask --extract` quoted the SSN, verified;
    # white text on the white page was indexed too.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, "Personnel record", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(30)
    pdf.cell(0, 8, "Employee SSN 078-05-1120 and name Quentin Marlowe-Frobisher.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_fill_color(0, 0, 0)
    pdf.rect(10, 28, 190, 12, "F")
    pdf.set_y(50)
    pdf.cell(0, 8, "The employee joined the company in March 2019.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(255, 255, 255)
    pdf.cell(0, 8, "Hidden keywords for search engines.", new_x="LMARGIN", new_y="NEXT")
    # Shown: white text on a box drawn under it, dark text on a shaded row.
    pdf.set_fill_color(20, 40, 120)
    pdf.cell(0, 8, "Section header white on blue", fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_fill_color(230, 230, 230)
    pdf.cell(0, 8, "Shaded row stays", fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "redacted.pdf"))
    loaded = load_file(tmp_path / "redacted.pdf")
    assert loaded.text == ("Personnel record\n\nThe employee joined the company in March 2019.\n"
                           "Section header white on blue\nShaded row stays")
    assert loaded.left_out == ("page 1: 1 line under a filled box (a redaction that left its text) not read; "
                               "page 1: 1 line drawn in the page's colour (white on white, unseen) not read")
