"""PDFs as their writers lay them out: records one to a line, clause titles over one-line clauses, filled forms,
comments and attached files (`ingest/pdf.py`), read from real files made with fpdf2 and pypdf."""

from __future__ import annotations

from pathlib import Path

from localrag.answer.evidence import best_sentence
from localrag.embed import SentenceTransformerEmbedder
from localrag.ingest.loaders import load_file
from localrag.sentences import sentence_spans
from localrag.types import Chunk, Hit, LoadedText

INVOICE = ["INVOICE #US-5521", "Invoice date: December 7, 2026", "Bill to: Greenfield Catering LLC",
           "Subtotal: $1,712.00", "Tax: $144.01", "Total due: $1,856.01", "Payment terms: 30 days"]
NOTE = ("Please quote the invoice number with your payment. Deliveries made after the invoice date are billed on the "
        "next invoice, and Greenfield Catering LLC may return damaged goods within fourteen days of delivery.")


def _texts(loaded: LoadedText) -> list[str]:
    return [loaded.text[s.start : s.end] for s in loaded.sections]


def _invoice(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in INVOICE:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, NOTE, new_x="LMARGIN", new_y="NEXT")  # wrapped: its lines reach the margin
    pdf.output(str(path))
    return path


def test_a_pdf_invoices_lines_keep_their_breaks_and_are_quoted_alone(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    # Joined with spaces, the seven lines were one sentence: `ask --extract` quoted all of them for the total.
    loaded = load_file(_invoice(tmp_path / "invoice.pdf"))
    assert _texts(loaded) == ["\n".join(INVOICE) + "\n" + NOTE]  # the wrapped note is still one line
    chunk = Chunk("c0", "d0", str(tmp_path / "invoice.pdf"), 0, loaded.text, 0, len(loaded.text), file_type="pdf")
    total = best_sentence("What is the total due on invoice US-5521?", [Hit(chunk, 1.0)], real_embedder)
    assert total is not None and total.text == "Total due: $1,856.01"


ITEMS = [("Description", "Qty", "Unit price", "Amount"),
         ("Consulting services, February", "15", "$150.00", "$2,250.00"),
         ("Software licence renewal", "1", "$625.23", "$625.23")]


def _acme_invoice(path: Path) -> Path:
    """An invoice as a small firm's tool writes it: a bold number, a table of line items, a bold total."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()

    def line(text: str, style: str = "", size: int = 11) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    line("Acme Corp - 12 Industrial Way, Springfield")
    line("INVOICE 2024-112", "B", 16)
    for text in ("Invoice date: February 29, 2024", "Due date: March 30, 2024",
                 "Bill to: Jane Doe, 4 Elm Street, Springfield"):
        line(text)
    pdf.ln(4)
    with pdf.table(col_widths=(90, 25, 35, 35)) as table:
        for item in ITEMS:
            row = table.row()
            for cell in item:
                row.cell(cell)
    pdf.ln(4)
    line("Subtotal: $2,875.23")
    line("Sales tax (8%): $230.02")
    line("Total due: $3,105.25", "B", 12)
    line("Payment status: PAID on 2024-03-07")
    pdf.output(str(path))
    return path


def test_a_bold_total_is_a_field_not_a_heading_and_is_quoted(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    # The bold total headed the line under it: `ask --extract` quoted "Payment status: PAID on 2024-03-07" for it.
    loaded = load_file(_acme_invoice(tmp_path / "invoice.pdf"))
    headings = [loaded.text[s.start : s.end] for s in loaded.sections if s.kind == "heading"]
    assert "INVOICE 2024-112" in headings and "Total due: $3,105.25" not in headings
    chunk = Chunk("c0", "d0", str(tmp_path / "invoice.pdf"), 0, loaded.text, 0, len(loaded.text), file_type="pdf")
    total = best_sentence("What is the total due on invoice 2024-112?", [Hit(chunk, 1.0)], real_embedder)
    assert total is not None and total.text == "Total due: $3,105.25"
    # A part's number before the colon still makes a bold title.
    from localrag.ingest.pdf import _is_field

    assert [_is_field(text) for text in ("Due date: March 30, 2024", "Chapter 3: 1914-1918", "Part II: The 1990s",
                                         "Step 4: Unpack", "Total due: USD 3,105.25")] == [True, False, False,
                                                                                         False, True]
    # So does a letter or a number word (they were fields: the chapter's bold title headed nothing).
    assert not any(_is_field(text) for text in ("Chapter Three: The War Years 1914-1918",
                                                "Appendix A: Survey data 2019", "Part One: 1939-1945",
                                                "PART TWENTY: 2020"))
    assert _is_field("Vitamin dose: 90 mg") and _is_field("Total one-off fee: $40")


def test_an_invoices_line_items_are_read_row_by_row(tmp_path: Path) -> None:
    # The Qty column started at 48 % of the page's width, its numbers made a right column of 20 characters a line:
    # summarize showed "Consulting services, February Software licence renewal" and "15 $150.00 $2,250.00 1 ...".
    text = load_file(_acme_invoice(tmp_path / "invoice.pdf")).text
    rows = [" | ".join(item) for item in ITEMS]
    assert "\n".join(rows) in text
    assert [text[a:b] for a, b in sentence_spans(text, file_type="pdf")][5:9] == [*rows, "Subtotal: $2,875.23"]


RECEIPT = ["HARDWARE BARN", "Store 0311  Springfield", "Date: 11/04/2024 14:32", "", "Cordless drill        129.99",
           "Drill bits set         24.50", "Wood glue x2           13.98", "SUBTOTAL              168.47",
           "TAX 8%                 13.48", "TOTAL                $181.95", "VISA ****4821", "Receipt no. R-558120",
           "Returns within 30 days with receipt"]


def test_a_receipts_lines_aligned_with_spaces_are_quoted_alone(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    # Its amounts right-aligned with spaces, every item line reached the margin: joined, they were one sentence, and
    # `ask --extract "How much was the cordless drill?"` quoted all of them.
    from fpdf import FPDF

    pdf = FPDF(format=(80, 200))
    pdf.add_page()
    pdf.set_font("Courier", size=9)
    for line in RECEIPT:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "receipt.pdf"))
    loaded = load_file(tmp_path / "receipt.pdf")
    sentences = [loaded.text[a:b] for a, b in sentence_spans(loaded.text, file_type="pdf")]
    assert sentences[2:8] == [" ".join(line.split()) for line in RECEIPT[4:10]]
    chunk = Chunk("c0", "d0", str(tmp_path / "receipt.pdf"), 0, loaded.text, 0, len(loaded.text), file_type="pdf")
    drill = best_sentence("How much was the cordless drill?", [Hit(chunk, 1.0)], real_embedder)
    assert drill is not None and drill.text == "Cordless drill 129.99"
    # Prose hard-wrapped by its writer keeps its sentences over its lines (one space between words, as typed).
    assert _texts(load_file(_invoice(tmp_path / "invoice.pdf")))[0].endswith(NOTE)


def test_a_pdf_logs_lines_are_sentences_of_their_own(tmp_path: Path) -> None:
    # A log of "Day N: ..." lines came back as quotes of 25 lines.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    log = [f"Day {n}: tank temperature {18 + n % 7}.{n % 10} C, pump ok" for n in range(1, 41)]
    for line in log:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "log.pdf"))
    text = load_file(tmp_path / "log.pdf").text
    assert [text[a:b] for a, b in sentence_spans(text, file_type="pdf")] == log


def test_bold_clause_titles_over_one_line_clauses_are_headings(tmp_path: Path) -> None:
    # Every paragraph one line: the usual gap was the paragraphs' spacing, no title stood apart, and page 1 was one
    # chunk under "COMMERCIAL LEASE" (page 2, where a clause wraps, had its title).
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "COMMERCIAL LEASE", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    clauses = {"1. Definitions": ["1.1 The Premises means Unit 4, Harbour Road.", "1.2 The Term means five years."],
               "5. Rent": ["5.1 The rent is 24,000 euros a year.", "5.2 Rent is paid quarterly in advance."]}
    for title, lines in clauses.items():
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(tmp_path / "lease.pdf"))
    loaded = load_file(tmp_path / "lease.pdf")
    lease = "COMMERCIAL LEASE"
    assert [(s.kind, s.headings[-1], loaded.text[s.start : s.end]) for s in loaded.sections] == [
        ("heading", lease, lease),
        ("heading", "1. Definitions", "1. Definitions"),
        ("paragraph", "1. Definitions", "\n".join(clauses["1. Definitions"])),
        ("heading", "5. Rent", "5. Rent"),
        ("paragraph", "5. Rent", "\n".join(clauses["5. Rent"])),
    ]


def _form(tmp_path: Path, appearances: bool) -> Path:
    """A supplier form with two filled text fields (NeedAppearances, or appearance streams pypdf draws), a sticky
    note and an attached file."""
    from fpdf import FPDF
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, BooleanObject, DictionaryObject, FloatObject, NameObject, TextStringObject

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ("Supplier registration", "Company name:", "VAT number:"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.text_annotation(150, 40, "Check the VAT number with the tax office before approving.")
    pdf.output(str(tmp_path / "blank.pdf"))

    writer = PdfWriter(clone_from=str(tmp_path / "blank.pdf"))
    page = writer.pages[0]
    values = {"company": "Zanzibar Quokka Holdings", "vat": "GB 123 4567 89"}
    fields = ArrayObject()
    for row, (name, shown) in enumerate([("company", "Company name"), ("vat", "VAT number")]):
        widget = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): TextStringObject(name),
            NameObject("/TU"): TextStringObject(shown), NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (150, 760 - 22 * row, 400, 775 - 22 * row)]),
        })
        fields.append(writer._add_object(widget))
    page[NameObject("/Annots")].extend(fields)
    helvetica = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                  NameObject("/Subtype"): NameObject("/Type1"),
                                  NameObject("/BaseFont"): NameObject("/Helvetica")})
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): fields, NameObject("/DA"): TextStringObject("/Helv 10 Tf 0 g"),
        NameObject("/DR"): DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/Helv"): helvetica})}),
    })
    if appearances:
        writer.update_page_form_field_values(page, values, auto_regenerate=False)
    else:
        for field in fields:
            field.get_object()[NameObject("/V")] = TextStringObject(values[str(field.get_object()["/T"])])
        writer._root_object["/AcroForm"][NameObject("/NeedAppearances")] = BooleanObject(True)
    writer.add_attachment("suppliers.txt", b"Approved suppliers: Harbour Tools Ltd\n")
    path = tmp_path / ("drawn.pdf" if appearances else "filled.pdf")
    writer.write(str(path))
    return path


def test_a_pdfs_form_values_and_comments_are_read_and_its_attachments_named(tmp_path: Path) -> None:
    # The values, the note and the attachment were none of the page's text: a search for the company found nothing.
    for appearances in (False, True):
        path = _form(tmp_path, appearances)
        loaded = load_file(path)
        assert _texts(loaded) == [
            "Supplier registration\nCompany name:\nVAT number:",
            "Company name: Zanzibar Quokka Holdings\nVAT number: GB 123 4567 89",
            "Comment: Check the VAT number with the tax office before approving.",
        ], path.name
        assert {s.page for s in loaded.sections} == {1}
        assert loaded.left_out == (f"1 attached file not read: suppliers.txt (save it out of the PDF, e.g. "
                                   f"`pdfdetach -saveall {path.name}`, and ingest it)")


def test_a_columns_wrapped_lines_are_joined_where_they_open_with_a_capital(tmp_path: Path) -> None:
    # A column's lines end well before the page's margin, at the column's edge: measured against the page, every
    # line of a column opening with a capital kept its break.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    words = [f"{name} {n}" for n in range(12) for name in ("Aurora", "Brewing", "Pressure", "Steam")]
    columns: list[list[str]] = []
    for column_words in (words, [word.replace("Aurora", "Boiler") for word in words]):
        lines = [""]
        for word in column_words:
            if pdf.get_string_width(f"{lines[-1]} {word}".strip()) > 85:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        columns.append(lines)
    for x, lines in zip((15, 110), columns, strict=True):
        for row, line in enumerate(lines):
            pdf.text(x, 25 + row * 5, line)
    pdf.output(str(tmp_path / "columns.pdf"))
    assert _texts(load_file(tmp_path / "columns.pdf")) == [" ".join(lines) for lines in columns]
