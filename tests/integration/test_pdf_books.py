"""Books as PDFs: a contents page with dot leaders, sentences running over page breaks, page labels (front matter
numbered i, ii, iii), and pages whose only line repeats with its number. Real PDFs made with fpdf2 and pypdf."""

from __future__ import annotations

import random
from pathlib import Path

from localrag.ingest.loaders import load_file
from localrag.sentences import sentence_spans
from localrag.types import LoadedText

_WORDS = ("soil weather river forest harvest winter summer cattle orchard village market bridge harbour mill granary "
          "meadow lantern quarry barley vineyard").split()


def _prose(sentences: int, seed: int) -> str:
    """Sentences of varied words: a page of one sentence repeated would repeat its lines at pages' edges."""
    rng = random.Random(seed)
    return " ".join(" ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                    for _ in range(sentences))


def _book(path: Path, contents: list[tuple[str, int]], chapters: list[str]) -> Path:
    """A title page, a contents page of dot-leader entries, then a chapter a page: an 18pt title over 11pt prose,
    the page number at each page's foot."""
    from fpdf import FPDF

    class Book(FPDF):
        def footer(self) -> None:
            self.set_font("Helvetica", size=9)
            self.set_xy(100, 285)
            self.cell(10, 5, str(self.page_no()))

    pdf = Book()
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=24)
    pdf.cell(0, 20, "The Book of Seasons")
    pdf.add_page()
    pdf.set_font("Helvetica", size=18)
    pdf.cell(0, 12, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for entry, page in contents:
        dots = "." * int((150 - pdf.get_string_width(f"{entry} {page}")) / pdf.get_string_width("."))
        pdf.cell(0, 7, f"{entry} {dots} {page}", new_x="LMARGIN", new_y="NEXT")
    for number, chapter in enumerate(chapters, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=18)
        pdf.cell(0, 12, chapter, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, _prose(6, number))
    pdf.output(str(path))
    return path


def _on_page(loaded: LoadedText, text: str) -> int | None:
    start = loaded.text.index(text)
    return next(s.page for s in loaded.sections if s.start <= start < s.end)


CHAPTERS = [f"Chapter {n}: The {name.title()} Years" for n, name in enumerate(_WORDS[:12], start=1)]
CHAPTERS[6] = "Chapter 7: The Migration of Arctic Terns"


def test_a_contents_page_is_left_out_and_the_chapters_keep_their_titles(tmp_path: Path) -> None:
    # Before 2026-12-07 the contents page was indexed: `search "Chapter 17"` ranked its chunks first, and `ask
    # --extract "What is chapter 30 about?"` quoted "320 Chapter 31: ... ........" as verified.
    contents = [(title, 10 * n + 7) for n, title in enumerate(CHAPTERS, start=1)]
    loaded = load_file(_book(tmp_path / "book.pdf", contents, CHAPTERS))
    assert "...." not in loaded.text
    assert "Contents" not in loaded.text
    assert loaded.text.count("Chapter 7: The Migration of Arctic Terns") == 1
    assert _on_page(loaded, "Chapter 7: The Migration of Arctic Terns") == 9
    assert any(s.headings[-1:] == ("Chapter 7: The Migration of Arctic Terns",) for s in loaded.sections)


def test_a_price_list_with_dot_leaders_is_text(tmp_path: Path) -> None:
    # Its numbers go up and down: no contents points at pages so.
    prices = [("Espresso", 3), ("Cappuccino", 4), ("Tea", 2), ("Hot chocolate", 5), ("Water", 1)]
    loaded = load_file(_book(tmp_path / "menu.pdf", prices, CHAPTERS[:3]))
    assert "Cappuccino" in loaded.text and "Hot chocolate" in loaded.text


def _sentence_over_a_page_break(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    # 91 sentences put the page break after "may progress", at the end of page 2's last line.
    pdf.multi_cell(0, 6, f"{_prose(91, 1)} In addition, it is accepted that a small percentage of tremor patients "
                   "presenting symptoms and signs of possible disease may progress over years. The cohort was "
                   f"followed for ten years. {_prose(40, 2)}")
    pdf.output(str(path))
    return path


def test_a_sentence_over_a_page_break_is_read_whole_on_the_page_where_it_starts(tmp_path: Path) -> None:
    # Before 2026-12-07 page 2 ended "... tremor patients presenting symptoms and signs of possible disease may
    # progress" and page 3 opened "over years.": `summarize` and `ask --extract` quoted either half as a sentence.
    loaded = load_file(_sentence_over_a_page_break(tmp_path / "study.pdf"))
    sentence = ("In addition, it is accepted that a small percentage of tremor patients presenting symptoms and signs "
                "of possible disease may progress over years.")
    assert _on_page(loaded, sentence) == 2
    for page in (2, 3):
        text = "\n".join(loaded.text[s.start:s.end] for s in loaded.sections if s.page == page)
        spans = sentence_spans(text, file_type="pdf")
        assert sentence in [text[a:b] for a, b in spans] or page == 3
        assert text[spans[-1][0]:spans[-1][1]].endswith("."), page  # no page ends inside a sentence
        assert text[:1].isupper(), page  # nor opens inside one
    assert _on_page(loaded, "The cohort was followed for ten years.") == 3


def test_a_page_is_cited_by_the_label_a_viewer_shows(tmp_path: Path) -> None:
    from fpdf import FPDF
    from pypdf import PdfWriter

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for place in range(1, 9):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        # The sheet's line among others: at a page's edge, repeated with its number, it would be a running line.
        lines = [*_prose(3, place).split(". "), f"The lighthouse log kept on sheet {place} of the file.",
                 *_prose(3, place + 10).split(". ")]
        for row, line in enumerate(lines):
            pdf.text(20, 20 + 6 * row, line)
    pdf.output(str(tmp_path / "raw.pdf"))
    writer = PdfWriter(clone_from=str(tmp_path / "raw.pdf"))
    writer.set_page_label(0, 2, style="/r")  # i, ii, iii
    writer.set_page_label(3, 7, style="/D", start=1)  # 1 to 5
    writer.write(str(tmp_path / "labelled.pdf"))
    loaded = load_file(tmp_path / "labelled.pdf")
    # Before 2026-12-07: page 7, its place in the file.
    assert _on_page(loaded, "sheet 7 of") == 4
    assert _on_page(loaded, "sheet 4 of") == 1
    # "iii" is the third page, and "page 3" is the sixth's: it is cited by its heading alone.
    assert _on_page(loaded, "sheet 3 of") is None
    # Without labels, a page is cited by its place.
    assert _on_page(load_file(tmp_path / "raw.pdf"), "sheet 7 of") == 7


def test_a_title_page_joined_to_chapter_one_cites_the_page_of_its_text(tmp_path: Path) -> None:
    """A title page, its one heading joined to the chapter's text after it, names the chapter's page: before
    2026-12-07 the chunk was named by the title page, labelled "i" and so cited by no number, and `ask` cited
    page 1's sentence with no page."""
    from pypdf import PdfWriter

    from localrag.ingest.chunker import chunk_document

    raw = _book(tmp_path / "raw.pdf", [(chapter, n) for n, chapter in enumerate(CHAPTERS[:4], start=1)],
                CHAPTERS[:4])
    writer = PdfWriter(clone_from=str(raw))
    writer.set_page_label(0, 1, style="/r")  # the title page i, the contents ii
    writer.set_page_label(2, 5, style="/D", start=1)  # the chapters 1 to 4
    writer.write(str(tmp_path / "almanac.pdf"))

    def pages(path: Path) -> list[tuple[int | None, str]]:
        chunks = chunk_document(load_file(path), doc_id="d", path=str(path), file_type="pdf",
                                token_counts=lambda texts: [len(t.split()) for t in texts], max_tokens=200, overlap=0)
        return [(c.page, c.text[:60]) for c in chunks]

    labelled = pages(tmp_path / "almanac.pdf")
    assert labelled[0][1].startswith(f"The Book of Seasons\n\n{CHAPTERS[0]}")  # the title heads chapter 1
    assert [page for page, _ in labelled] == [1, 2, 3, 4]
    # Without labels the chapter's own page too (its place, 3), not the title page's.
    assert [page for page, _ in pages(raw)] == [3, 4, 5, 6]


def test_a_pages_only_line_is_its_text_not_a_running_header(tmp_path: Path) -> None:
    # Before 2026-12-07 each page's line, the same but for its number, was taken for a running header, left out of
    # every page, and the PDF failed: "no extractable text, and OCR found none on its pages".
    from fpdf import FPDF

    for lines in (1, 2):  # two lines a page, both repeated: all the document's text is still its text
        pdf = FPDF()
        pdf.set_auto_page_break(False)
        for sheet in range(1, 4):
            pdf.add_page()
            pdf.set_font("Helvetica", size=11)
            pdf.text(20, 20, f"Sheet {sheet}. General narrative text about the voyage and the crew of the ship.")
            if lines == 2:
                pdf.text(20, 30, f"Sheet {sheet}. Notes on the cargo and the harbour dues paid.")
        pdf.output(str(tmp_path / "sheets.pdf"))
        loaded = load_file(tmp_path / "sheets.pdf")
        for sheet in range(1, 4):
            assert _on_page(loaded, f"Sheet {sheet}. General narrative text") == sheet


def test_a_page_holding_only_the_running_header_is_no_passage(tmp_path: Path) -> None:
    # Page 4 is blank but for the report's header: it is the header, read once where it first opens a page, not a
    # passage of its own cited as page 4 (as it was for a while on 2026-12-07, when a page's only line was its text).
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for page in range(1, 7):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.text(20, 12, "Acme Annual Report")
        if page == 4:
            continue
        pdf.set_font("Helvetica", size=11)
        pdf.set_xy(20, 30)
        pdf.multi_cell(0, 6, _prose(4, page))
        pdf.set_font("Helvetica", size=9)
        pdf.text(100, 285, f"Page {page} of 6")
    pdf.output(str(tmp_path / "report.pdf"))
    loaded = load_file(tmp_path / "report.pdf")
    assert loaded.text.count("Acme Annual Report") == 1
    assert _on_page(loaded, "Acme Annual Report") == 1
    assert 4 not in {s.page for s in loaded.sections}
    assert "Page 2 of 6" not in loaded.text


def _lines(*texts: str) -> list:
    from localrag.ingest.pdf import _PdfLine, _Run

    return [_PdfLine([_Run(text, 20.0, 11.0, False)], y=800.0 - 14 * n) for n, text in enumerate(texts)]


def test_a_price_list_rising_a_step_at_a_time_is_text_and_a_roman_number_is_a_whole_numeral() -> None:
    from localrag.ingest.pdf import _without_contents

    def kept(*texts: str) -> list[str]:
        return [line.text for line in _without_contents(_lines(*texts))]

    prices = ("Opening hours", "Tea ..... 2", "Coffee ..... 3", "Cake ..... 4")
    assert kept(*prices) == list(prices)  # before: [], the page taken for a contents
    # Words of roman letters after a leader are no page numbers, in either case.
    said = ("He paused ... did", "She waited ... mid", "They argued ... civil", "Then ... LIVID")
    assert kept(*said) == list(said)
    mixed = ("Contents", "Preface ..... Ix", "Foreword ..... xI", "Notes ..... Xiv")  # no numeral mixes its case
    assert kept(*mixed) == list(mixed)
    # A contents: under its title a page a chapter; without one, pages apart; roman front matter before arabic.
    assert kept("Contents", "One ..... 1", "Two ..... 2", "Three ..... 3") == []
    assert kept("Preface ..... vii", "Introduction ..... ix", "Chapter 1 ..... 1", "Chapter 2 ..... 14") == []
    assert kept("Table of contents", "Preface ..... iv", "One ..... 1", "Two ..... 2") == []


def test_a_one_page_menu_keeps_its_lines(tmp_path: Path) -> None:
    # Its prices rise and jump, as a contents' pages do: read as a contents, the menu had no text left.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for item in ("Tea ..... 2", "Coffee ..... 5", "Cake ..... 7", "Lunch ..... 12"):
        pdf.cell(0, 7, item, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "menu.pdf"))
    assert "Lunch ..... 12" in load_file(tmp_path / "menu.pdf").text


def test_a_finished_japanese_sentence_at_a_pages_foot_keeps_the_next_pages_sentence_there() -> None:
    # Before, "。" was no sentence's end at a page break: the next page's first sentence was pulled back.
    from localrag.ingest.pdf import _join_page_breaks

    for last in ("第一章の本文はここで終わる。", "彼は「終わりだ。」", "यह पहला वाक्य है।", "هل انتهى؟"):
        blocks = [[(last, 0)], [("次のページの最初の文です。二番目の文です。", 0)]]
        _join_page_breaks(blocks, frozenset(), [True, True])
        assert blocks == [[(last, 0)], [("次のページの最初の文です。二番目の文です。", 0)]], last
