"""PDFs as their writers lay them out: records one to a line, clause titles over one-line clauses (`ingest/pdf.py`),
read from real files made with fpdf2."""

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
