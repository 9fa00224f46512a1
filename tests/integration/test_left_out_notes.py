"""What a loader left out of a document is stored with it: `documents` marks it, `--json` (the API's and MCP's shape)
says what, `status` counts it, and an unchanged file read no more keeps it. With the bundled MiniLM, a real LanceDB
and real files (a PDF with an attached file, a workbook whose formulas have no stored values)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from localrag.cli import run
from localrag.config import Settings, load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.shapes import documents_json
from localrag.store import Store
from localrag.store_schema import LEFT_OUT
from localrag.types import Chunk, Document

ATTACHED = "1 attached file not read: suppliers.txt"
FORMULAS = "3 formulas have no stored values in Sheet, read as empty"


def _documents(folder: Path) -> Path:
    """A report PDF with suppliers.txt attached, a workbook of margins computed by formulas saved without values, and
    a plain note that leaves nothing out."""
    import openpyxl
    from fpdf import FPDF

    folder.mkdir()
    attached = folder.parent / "suppliers.txt"
    attached.write_text("Acme Ltd supplies the bolts.\n", encoding="utf-8")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, "Quarterly report. Our suppliers are listed in the attached file. Sales rose this quarter.")
    pdf.embed_file(str(attached))
    pdf.output(str(folder / "report.pdf"))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Product", "Price", "Cost", "Margin"])
    for row, (product, price, cost) in enumerate((("Widget", 10, 4), ("Gadget", 20, 15), ("Doohickey", 30, 5)), 2):
        sheet.append([product, price, cost, f"=B{row}-C{row}"])
    book.save(folder / "margins.xlsx")
    (folder / "note.md").write_text("# Note\n\nThe office opens at nine.\n", encoding="utf-8")
    return folder


def test_what_a_loader_left_out_is_kept_listed_and_counted(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import localrag.cli.common

    monkeypatch.setattr(localrag.cli.common, "engine_from_args", lambda args, **overrides: Engine(
        load_settings(getattr(args, "config", None), **overrides), embedder=real_embedder))
    folder = _documents(tmp_path / "docs")
    assert run(["ingest", str(folder)]) == 0
    assert ATTACHED in capsys.readouterr().err  # said once by the ingest, as before
    for path in folder.iterdir():
        os.utime(path)  # touched: the same bytes, not read again, so the ingest says nothing of them
    assert run(["ingest", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["unchanged"], report["notes"]) == (3, [])

    # Before, nothing after the first ingest said it again: `documents --json` had no `left_out`.
    assert run(["documents", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    left_out = {Path(d["path"]).name: d["left_out"] for d in listed["documents"]}
    assert left_out["report.pdf"].startswith(ATTACHED) and "pdfdetach" in left_out["report.pdf"]
    assert left_out["margins.xlsx"].startswith(FORMULAS)
    assert left_out["note.md"] == ""
    assert listed["left_out_documents"] == 2

    assert run(["documents"]) == 0  # in a pipe: a header, then one tab-separated line a document
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split("\t") == ["document", "type", "chunks", "size", "title", "stale", "left out"]
    assert {Path(line.split("\t")[0]).name: line.split("\t")[-1] for line in lines[1:]} == {
        "margins.xlsx": "yes", "note.md": "", "report.pdf": "yes"}
    assert captured.err.strip() == ("3 documents, 2 left something out: `localrag documents --json` says what")
    assert run(["documents", "--type", "md"]) == 0
    assert capsys.readouterr().err.strip() == "1 document passes the filters (type md)"

    assert run(["status"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("left something out"))
    assert line.split("  ")[-1].strip() == "2 (`localrag documents --json` says what)"
    assert run(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["left_out_documents"] == 2

    # Saved with its values, the workbook leaves nothing out: read again, its note goes.
    import openpyxl

    book = openpyxl.load_workbook(folder / "margins.xlsx")
    sheet = book.active
    assert sheet is not None
    for row in range(2, 5):
        sheet[f"D{row}"] = sheet[f"B{row}"].value - sheet[f"C{row}"].value
    book.save(folder / "margins.xlsx")
    engine = Engine(Settings(), embedder=real_embedder)
    assert engine.ingest([folder]).updated == 1
    assert {Path(d.path).name for d in engine.document_list().documents if d.left_out} == {"report.pdf"}
    assert documents_json(engine.document_list())["left_out_documents"] == engine.status().left_out_documents == 1


def test_an_index_written_before_the_record_opens_with_nothing_left_out(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", embedder_name="e", dim=4)
    docs = [Document(f"d{i}", f"/docs/{i}.md", "md", f"h{i}", 1, 0.0, read_with="md 7; chunks 2 200/32")
            for i in range(2)]
    chunks = [Chunk(f"d{i}:0", f"d{i}", f"/docs/{i}.md", 0, f"text {i}", 0, 6, file_type="md") for i in range(2)]
    store.write_batch(docs, chunks, np.eye(2, 4, dtype=np.float32))
    store.documents_table.drop_columns([LEFT_OUT])
    store._meta.delete("key = 'migration:0011_document_left_out'")
    assert store.left_out_count() == 0  # read as nothing left out, even before the column is added
    assert [d.left_out for d in store.documents()] == ["", ""]

    old = Store(tmp_path / "db", embedder_name="e", dim=4)
    assert LEFT_OUT in old.documents_table.schema.names
    assert [d.left_out for d in old.documents()] == ["", ""] and old.left_out_count() == 0
    old.write_batch([Document("d0", "/docs/0.md", "md", "h0", 1, 0.0, left_out="1 hidden sheet left out")],
                    chunks[:1], np.eye(1, 4, dtype=np.float32))
    assert old.left_out_count() == 1
    assert old.document("/docs/0.md") == Document("d0", "/docs/0.md", "md", "h0", 1, 0.0, n_chunks=1,
                                                  left_out="1 hidden sheet left out")
