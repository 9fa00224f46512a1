"""PDF forms as a viewer shows them: a signature by its signer, a text stream's text, hidden fields and notes left
out, a blank form line no answer."""

from __future__ import annotations

from pathlib import Path

from localrag.ingest.loaders import load_file
from localrag.types import LoadedText


def _texts(loaded: LoadedText) -> list[str]:
    return [loaded.text[s.start : s.end] for s in loaded.sections]


def _annotated(tmp_path: Path, name: str, annotations: list[dict[str, object]]) -> Path:
    """A one-page form "Purchase agreement" whose page holds `annotations` (pypdf objects by key), each field also
    listed in the AcroForm."""
    from fpdf import FPDF
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, "Purchase agreement", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "blank.pdf"))
    writer = PdfWriter(clone_from=str(tmp_path / "blank.pdf"))
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
    assert _texts(load_file(path)) == [
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
    assert _texts(load_file(path)) == [
        "Purchase agreement", "Buyer: Odalys Fenwick-Trask", "Comment: Check the buyer's name."]
