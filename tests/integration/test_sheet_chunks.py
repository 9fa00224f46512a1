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
