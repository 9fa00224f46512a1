"""`ask --extract` over a key-value table in a real index: a schedule's first record is no header, whatever its value
(before 2026-12-08 a name there made it one, and the question it answers was answered by a row under it)."""

from __future__ import annotations

from pathlib import Path

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine


def test_a_schedules_first_record_answers_its_question_in_markdown_and_word(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    import docx

    folder = tmp_path / "insurance"
    folder.mkdir()
    # No |---| line: no Markdown table, so no header row.
    (folder / "car.md").write_text(
        "# Car insurance schedule\n\n| Policy holder | Anneliese Brandt |\n| Vehicle | 2021 Skoda Octavia, reg. HB21 "
        "XKQ |\n| Annual premium | €588.40 |\n| Excess | €250 |\n| Renewal date | 2 September 2026 |\n",
        encoding="utf-8")
    document = docx.Document()
    document.add_heading("Home insurance schedule", 1)
    rows = [("Insured", "Ottoline Varga"), ("Property", "Rose Cottage, Mill Lane, Ashford"),
            ("Buildings cover", "£320,000"), ("Insurer", "Northwind Mutual")]
    table = document.add_table(rows=len(rows), cols=2)
    for row, cells in zip(table.rows, rows, strict=True):
        row.cells[0].text, row.cells[1].text = cells
    document.save(str(folder / "home.docx"))
    engine = Engine(load_settings().replace(answer_mode="extract"), embedder=real_embedder)
    engine.ingest([folder])

    car = engine.ask("Who is the policy holder on the car insurance schedule?")
    assert car.text == '"| Policy holder | Anneliese Brandt |" [1]', car.text
    home = engine.ask("Who is insured on the home insurance schedule?")
    assert home.text == '"Insured | Ottoline Varga" [1]', home.text


def test_a_header_row_the_word_file_marks_heads_its_table_whatever_its_words(tmp_path: Path) -> None:
    """A header Word marks (bold, shaded or "Repeat as header row") is followed by a rule line, as Markdown marks one:
    "Setting | Value" over values of several kinds reads, by its words alone, as a key-value table's first record."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from localrag.ingest.loaders import load_file
    from localrag.sentences import is_label, table_header

    rows = [("Setting", "Value"), ("Port", "8080"), ("Host", "db.internal"), ("Mode", "strict")]
    marked = {}
    for mark in ("bold", "repeat", "none"):
        document = docx.Document()
        table = document.add_table(rows=len(rows), cols=2)
        for row, cells in zip(table.rows, rows, strict=True):
            row.cells[0].text, row.cells[1].text = cells
        if mark == "bold":
            for cell in table.rows[0].cells:
                cell.paragraphs[0].runs[0].bold = True
        elif mark == "repeat":
            table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
            assert table.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
        path = tmp_path / f"{mark}.docx"
        document.save(str(path))
        marked[mark] = load_file(path).text
    for mark in ("bold", "repeat"):
        text = marked[mark]
        assert text == "Setting | Value\n--- | ---\nPort | 8080\nHost | db.internal\nMode | strict", mark
        assert table_header(text, text.index("Host")) == (0, len("Setting | Value"))
        rule = text.index("---")
        assert is_label(text, rule, rule + len("--- | ---"), "", "docx")  # layout, no sentence to quote
    # Unmarked, its words alone tell, and values of several kinds under it make it a record.
    assert marked["none"] == "Setting | Value\nPort | 8080\nHost | db.internal\nMode | strict"
    assert table_header(marked["none"], marked["none"].index("Host")) is None
