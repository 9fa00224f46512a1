"""Spreadsheet chunks with the real MiniLM tokenizer: every chunk of a table starts with its header row."""

from __future__ import annotations

from pathlib import Path

from localrag.embed import SentenceTransformerEmbedder
from localrag.ingest.chunker import chunk_document
from localrag.ingest.loaders import load_file


def test_every_table_chunk_starts_with_the_header(real_embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Trials"
    header = ["Trial", "Country", "Participants", "Outcome"]
    sheet.append(header)
    for number in range(300):
        sheet.append([f"NCT{4000000 + number}", ["Brazil", "Kenya", "Norway"][number % 3], 40 + number,
                      "reduced viral load" if number % 2 else "no significant difference"])
    path = tmp_path / "trials.xlsx"
    workbook.save(path)

    loaded = load_file(path)
    chunks = chunk_document(loaded, doc_id="d", path=str(path), file_type="xlsx",
                            token_counts=real_embedder.token_counts, max_tokens=200, overlap=32)
    table_chunks = [c for c in chunks if "NCT" in c.text]
    assert len(table_chunks) > 5
    for chunk in table_chunks:
        body = chunk.text.removeprefix("Trials\n\n")  # the sheet heading travels with the first chunk
        assert body.startswith("Trial | Country | Participants | Outcome\n"), chunk.text[:80]
        assert chunk.n_tokens <= 200
    rows = [line for c in table_chunks for line in c.text.split("\n") if line.startswith("NCT")]
    assert len(set(rows)) == 300  # every row is in some chunk


def test_a_block_of_numbers_longer_than_a_chunk_is_cut_by_rows_under_its_header(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # 500 characters of numbers are ~300 MiniLM tokens: the chunker alone cut such blocks between rows, and 91 of
    # 117 chunks of a 2,000-row sheet started without the column names.
    import openpyxl

    from localrag.config import Settings
    from localrag.ingest.pipeline import embedding_texts

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["id", "name", "score"])
    for number in range(2000):
        sheet.append([number, f"row{number}", number * 1.5])
    path = tmp_path / "scores.xlsx"
    workbook.save(path)

    texts = embedding_texts(path, real_embedder, Settings())
    assert len(texts) > 100
    rows: set[str] = set()
    for text in texts:
        lines = text.split("\n")
        at = lines.index("id | name | score")  # after the title and heading prefix the pipeline embeds
        table = lines[at:]
        # Only whole blocks, each led by the header: a row never follows a blank line.
        assert all(line.count(" | ") == 2 for line in table if line), text[:120]
        assert all(after == "id | name | score" for before, after in zip(table, table[1:], strict=False) if not before)
        rows.update(line for line in table if line and line != "id | name | score")
    assert len(rows) == 2000
    # Shared evenly: filled greedily, a block one row over its room left a block of one row.
    sizes = [sum(1 for line in text.split("\n") if line.count(" | ") == 2) - 1 for text in texts]
    assert min(sizes) >= 5, sorted(sizes)[:5]


def test_a_row_too_wide_for_a_chunk_under_its_header_is_read_as_named_fields_led_by_its_id(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # A 40-column header is ~120 MiniLM tokens, and header and row did not fit in one chunk: the chunker cut rows
    # from the header, and "Discount code of order ORD-001" was answered from ORD-005's row.
    import openpyxl

    from localrag.config import Settings
    from localrag.ingest.pipeline import embedding_texts

    names = [f"Field {n} name" for n in range(2, 40)]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Order ID", "Discount Code", *names])
    for number in range(1, 21):
        sheet.append([f"ORD-{number:03d}", f"DISC{number:02d}X", *(f"value {number}-{n}" for n in range(2, 40))])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)

    texts = embedding_texts(path, real_embedder, Settings())
    for number in range(1, 21):
        mine = [text for text in texts if f"value {number}-" in text or f"DISC{number:02d}X" in text]
        # Each part of the row starts with its ID, and every value is named by its column.
        assert mine and all(f"\nOrder ID: ORD-{number:03d}\n" in text for text in mine)
        assert f"Discount Code: DISC{number:02d}X" in "\n".join(mine)
        fields = {line for text in mine for line in text.split("\n") if line.startswith("Field ")}
        assert fields == {f"Field {n} name: value {number}-{n}" for n in range(2, 40)}
    assert max(real_embedder.token_counts(texts)) <= Settings().chunk_tokens + 40  # the title and heading prefix
