"""Research papers as PDFs, made with fpdf as a writing tool sets them: a title wrapped over two lines, a 9pt
abstract, a 10pt body, words hyphenated at line ends, and a list of references in 8pt."""

from __future__ import annotations

from pathlib import Path

from localrag.answer import verify_quotes
from localrag.answer.summary import document_sentences
from localrag.ingest.loaders import load_file
from localrag.types import Chunk, Hit, LoadedText, QuoteStatus

TITLE = "DenseLink: Efficient Dense Passage Retrieval with Late Linking"
ABSTRACT = ("We present DenseLink, a dense retriever that links passages late, after a cheap first stage has chosen "
            "candidates. Linking late keeps the index small and the latency low.")
INTRO = ("Dense passage retrieval encodes questions and passages into one vector space and ranks passages by their "
         "inner product with the question. It is accurate but costly when the collection grows. ")
TRAINING = ("We train with AdamW at a learning rate of 2e-5 with linear warmup over the first 1,000 steps, a batch "
            "size of 128 and in-batch negatives. Training takes nine hours on a single accelerator.")
# Lines as a typesetter broke them: two words hyphenated at the line's end, and two real hyphens there.
BROKEN_LINES = ["Dense retrieval finds passages by their seman-", "tic similarity to the question. It is a well-",
                "known method and the state-of-the-", "art in open-domain question answering. A well-known",
                "weakness is its cost at retrie-", "val time."]
JOINED = ("Dense retrieval finds passages by their semantic similarity to the question. It is a well-known method "
          "and the state-of-the-art in open-domain question answering. A well-known weakness is its cost at "
          "retrieval time.")


def make_paper(path: Path, references: int) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(120, 7, TITLE, new_x="LMARGIN", new_y="NEXT")  # wraps after "with"
    pdf.ln(3)
    sections = [("Abstract", 12, 9, [ABSTRACT]), ("1 Introduction", 12, 10, [INTRO * 3]),
                ("2 Background", 12, 10, BROKEN_LINES), ("3 Method", 12, 10, [INTRO * 2]),
                ("3.2 Training Details", 11, 10, [TRAINING]), ("4 Experiments", 12, 10, [INTRO * 2])]
    for heading, heading_size, size, lines in sections:
        pdf.set_font("Helvetica", "B", heading_size)
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        pdf.set_font("Helvetica", "", size)
        for line in lines:
            pdf.multi_cell(0, size * 0.45, line.strip(), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 6, "References", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    for i in range(1, references + 1):
        pdf.multi_cell(0, 3.6, f"[{i}] Guu, K., Chen, W., and Patel, R. Retrieval-augmented language model "
                       f"pre-training, part {i}. In Proceedings of ACL, pages 108-118, 2020.",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.output(str(path))
    return path


def _sections(loaded: LoadedText) -> list[tuple[str, tuple[str, ...], str]]:
    return [(s.kind, s.headings, loaded.text[s.start : s.end]) for s in loaded.sections]


def _body(loaded: LoadedText) -> list[tuple[str, tuple[str, ...], str]]:
    """The sections before the references."""
    sections = _sections(loaded)
    return sections[: [text for _, _, text in sections].index("References")]


def test_a_long_list_of_references_in_small_type_leaves_the_body_as_it_reads(tmp_path: Path) -> None:
    # 40 references in 8pt outweighed the 10pt body: 8pt was taken for the body's size, every body line became a
    # heading, and "3.2 Training Details"'s sentence was cut in two.
    long, short = (load_file(make_paper(tmp_path / f"{n}.pdf", n)) for n in (40, 5))
    assert _body(long) == _body(short)
    body = _body(long)
    assert [(kind, headings[-1]) for kind, headings, _ in body if kind != "heading"] == [
        ("paragraph", "Abstract"), ("paragraph", "1 Introduction"), ("paragraph", "2 Background"),
        ("paragraph", "3 Method"), ("paragraph", "3.2 Training Details"), ("paragraph", "4 Experiments")]
    assert ("paragraph", (TITLE, "3 Method", "3.2 Training Details"), TRAINING) in body
    assert ("paragraph", (TITLE, "Abstract"), ABSTRACT) in body


def test_a_title_wrapped_over_two_lines_is_one_heading(tmp_path: Path) -> None:
    loaded = load_file(make_paper(tmp_path / "paper.pdf", 5))
    assert loaded.title == TITLE
    assert _sections(loaded)[0] == ("heading", (TITLE,), TITLE)
    assert {s.headings[0] for s in loaded.sections} == {TITLE}


def test_a_word_broken_at_a_line_end_is_joined_and_a_real_hyphen_kept(tmp_path: Path) -> None:
    loaded = load_file(make_paper(tmp_path / "paper.pdf", 5))
    background = [text for _, headings, text in _sections(loaded) if headings[-1] == "2 Background"]
    # "seman- tic" and "retrie- val" were stored so: a search for "semantic" found no word of it.
    assert background == ["2 Background", JOINED]
    # A quote of the joined words is found in the text as loaded.
    hit = Hit(Chunk("p:0", "p", str(tmp_path / "paper.pdf"), 0, JOINED, 0, len(JOINED)), 1.0)
    quotes = verify_quotes('It finds passages by "their semantic similarity to the question" [1], at a '
                           '"cost at retrieval time" [1].', [hit])
    assert [q.status for q in quotes] == [QuoteStatus.VERIFIED, QuoteStatus.VERIFIED]


def test_a_papers_references_are_not_key_sentences(tmp_path: Path) -> None:
    loaded = load_file(make_paper(tmp_path / "paper.pdf", 40))
    chunks = [Chunk(f"p:{i}", "p", "/p.pdf", i, loaded.text[s.start : s.end], s.start, s.end,
                    heading=" > ".join(s.headings)) for i, s in enumerate(loaded.sections)]
    sentences = [chunk.text[s:e] for chunk, s, e in document_sentences(chunks)]
    assert "We train with AdamW at a learning rate of 2e-5 with linear warmup over the first 1,000 steps, a batch " \
           "size of 128 and in-batch negatives." in sentences
    assert not [s for s in sentences if "Guu" in s or "Proceedings" in s]
    # An entry is known by its shape under any heading; prose citing a work by its number is kept.
    text = ("Guu, K., Chen, W., and Patel, R. Retrieval-augmented pre-training of language models. "
            "In Proceedings of ACL, pages 108-118, Online, 2020. We follow the training recipe of [39] for all runs. "
            "[59] did not provide a web server for their method, see pages 10-12.")
    chunk = Chunk("n:0", "n", "/n.md", 0, text, 0, len(text), heading="Notes")
    assert [text[s:e] for _, s, e in document_sentences([chunk])] == [
        "We follow the training recipe of [39] for all runs.",
        "[59] did not provide a web server for their method, see pages 10-12."]


LEFT = ("The left column opens the paper. It says that dense retrieval is accurate but slow when the collection "
        "grows large, and that every passage must be encoded.")
RIGHT = ("The right column goes on with the method. Late linking keeps the index small by linking passages only "
         "after a cheap first stage has chosen them.")


def make_two_columns(
    path: Path, row_by_row: bool, cells: list[tuple[str, str]] | None = None, left: str = LEFT
) -> Path:
    """A page of two 80mm columns under a full-width line, written a row of both columns at a time or one column
    and then the other: `LEFT` and `RIGHT` wrapped, or `cells`' lines."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)

    def wrap(text: str) -> list[str]:
        lines = [""]
        for word in text.split():
            if pdf.get_string_width(f"{lines[-1]} {word}".strip()) > 80:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        return lines

    pdf.text(15, 15, "A full-width line across both columns of this page, opening it before the columns begin.")
    columns = [(15, [left for left, _ in cells]), (110, [right for _, right in cells])] if cells else [
        (15, wrap(left)), (110, wrap(RIGHT))]
    writes = [(x, 25 + row * 5, line) for x, lines in columns for row, line in enumerate(lines)]
    for x, y, line in sorted(writes, key=lambda w: (w[1], w[0])) if row_by_row else writes:
        pdf.text(x, y, line)
    pdf.output(str(path))
    return path


def test_a_two_column_page_written_row_by_row_reads_column_by_column(tmp_path: Path) -> None:
    # pypdf joined the two columns' lines at one height: "...It says that The right column goes on...".
    expected = ["A full-width line across both columns of this page, opening it before the columns begin.",
                LEFT, RIGHT]
    for row_by_row in (True, False):
        loaded = load_file(make_two_columns(tmp_path / f"{row_by_row}.pdf", row_by_row))
        assert [text for _, _, text in _sections(loaded)] == expected


def test_a_left_column_longer_than_the_right_one_is_read_whole(tmp_path: Path) -> None:
    # Its lines under the right column's end, a few characters longer than those cut from a row, were read after
    # the right column.
    left = f"{LEFT} {LEFT} It ends here after a long while."
    loaded = load_file(make_two_columns(tmp_path / "long.pdf", True, left=left))
    assert [text for _, _, text in _sections(loaded)][1:] == [left, RIGHT]


def test_a_table_of_two_columns_keeps_its_rows(tmp_path: Path) -> None:
    cells = [(city, f"{cap} euros a night, {cap // 4} a day;")
             for city, cap in [("London", 210), ("Paris", 190), ("Berlin", 170), ("Madrid", 150), ("Lisbon", 140)]]
    loaded = load_file(make_two_columns(tmp_path / "t.pdf", True, cells))
    # Read as rows of cells, one a line, as the other readers read a table (before 2026-12-08 in order, but as one
    # line: "London 210 euros a night, 52 a day; Paris 190 euros ...").
    assert loaded.text.endswith("\n".join(f"{city} | {rest}" for city, rest in cells))


LEFT_BEFORE = ("Dense retrieval reads every passage of the collection into one vector space, and the cost of that "
               "grows with the collection.")
RIGHT_BEFORE = ("On the legal set the hybrid index found the contract clause ninety percent of the time, where "
                "keywords alone found it seventy.")
LEFT_AFTER = ("The second stretch opens the discussion. Latency stays low because the first stage is cheap and "
              "the linking runs on few passages.")
RIGHT_AFTER = ("Its right column ends the paper. Future work reads tables and figures as well as the prose around "
               "them.")
CAPTION = "Table 1: Recall at five"
TABLE = [("Method", "Recall at five", "Latency"), ("BM25", "0.70", "12 ms"), ("Hybrid index", "0.90", "35 ms")]


def make_table_between_stretches(path: Path) -> Path:
    """A full-width abstract, a stretch of two columns written row by row, a full-width table of three columns under
    a bold caption, and a second stretch of two columns."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)

    def wrap(text: str) -> list[str]:
        lines = [""]
        for word in text.split():
            if pdf.get_string_width(f"{lines[-1]} {word}".strip()) > 80:
                lines.append("")
            lines[-1] = f"{lines[-1]} {word}".strip()
        return lines

    def stretch(top: float, left: str, right: str) -> float:
        rows = [(x, top + row * 5, line)
                for x, text in ((15, left), (110, right)) for row, line in enumerate(wrap(text))]
        for x, y, line in sorted(rows, key=lambda w: (w[1], w[0])):
            pdf.text(x, y, line)
        return max(y for _, y, _ in rows)

    pdf.set_xy(15, 10)
    pdf.multi_cell(180, 5, ABSTRACT + " " + ABSTRACT, new_x="LMARGIN", new_y="NEXT")
    bottom = stretch(42, LEFT_BEFORE, RIGHT_BEFORE)
    pdf.set_font("Helvetica", "B", 10)
    pdf.text(15, bottom + 12, CAPTION)
    pdf.set_font("Helvetica", "", 10)
    for row, cells in enumerate(TABLE):
        for x, cell in zip((15, 80, 145), cells, strict=True):
            pdf.text(x, bottom + 19 + row * 5, cell)
    stretch(bottom + 19 + len(TABLE) * 5 + 8, LEFT_AFTER, RIGHT_AFTER)
    pdf.output(str(path))
    return path


def test_a_full_width_table_between_two_stretches_of_two_columns_ends_the_first(tmp_path: Path) -> None:
    """Before, the table's caption and rows were short enough to be read as the left column's: the first stretch's
    right column came after the table and the second stretch's left column, under the caption's heading."""
    loaded = load_file(make_table_between_stretches(tmp_path / "paper.pdf"))
    sections = _sections(loaded)
    texts = [text for _, _, text in sections]
    assert texts[1:4] == [LEFT_BEFORE, RIGHT_BEFORE, CAPTION]
    assert texts[-2:] == [LEFT_AFTER, RIGHT_AFTER]
    # Its rows one a line, their cells parted as other readers part a table's (before 2026-12-08 one line).
    assert texts[4] == "\n".join(" | ".join(row) for row in TABLE) and len(texts) == 7
    assert next(headings for _, headings, text in sections if text == RIGHT_BEFORE) == ()


def make_page_break(path: Path, pages: list[list[str]]) -> Path:
    """A page for each list of lines, set as a typesetter broke them."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", "", 10)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_a_word_broken_over_a_page_break_is_joined_on_the_page_it_starts(tmp_path: Path) -> None:
    """Before, each page was read alone: "instru-" ended page 1 and "ments" opened page 2, and a search for
    "instruments" found neither."""
    first = ["The laboratory keeps its measuring devices in a dry room, and every one of the instru-"]
    loaded = load_file(make_page_break(tmp_path / "p.pdf", [
        first, ["ments is calibrated each spring by the technician on duty."],
        ["the last page opens in lower case without a broken word before it."]]))
    paragraphs = [(s.page, loaded.text[s.start : s.end]) for s in loaded.sections]
    # The sentence goes on to its end on the page where it starts (`test_pdf_books`), its page 2 part with it.
    assert paragraphs == [
        (1, "The laboratory keeps its measuring devices in a dry room, and every one of the instruments is "
            "calibrated each spring by the technician on duty."),
        (3, "the last page opens in lower case without a broken word before it.")]
    # A page whose text is the word's second part alone gives it up whole.
    loaded = load_file(make_page_break(tmp_path / "q.pdf", [first, ["ments."]]))
    assert [(s.page, loaded.text[s.start : s.end]) for s in loaded.sections] == [
        (1, "The laboratory keeps its measuring devices in a dry room, and every one of the instruments.")]
