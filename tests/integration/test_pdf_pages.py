"""PDF pages that are not what they seem: lines repeated at pages' edges that are the text's own. Real PDFs made
with fpdf2."""

from __future__ import annotations

from pathlib import Path

from localrag.ingest.loaders import load_file

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
