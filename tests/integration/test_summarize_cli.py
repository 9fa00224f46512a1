"""`localrag summarize` over the sample corpus as ingested with the bundled MiniLM into a real LanceDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.ingest.discover import sample_corpus_dir


def test_key_sentences_of_one_document_quoted_in_reading_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    capsys.readouterr()
    manual = sample_corpus_dir() / "aurora-espresso-manual.pdf"
    assert run(["summarize", str(manual), "-n", "3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["path"] == str(manual) and summary["sentences_read"] == summary["sentences_total"] > 3
    sentences = summary["sentences"]
    assert len(sentences) == 3 and all(s["page"] for s in sentences)
    assert [(s["chunk_id"], s["start"]) for s in sentences] == sorted((s["chunk_id"], s["start"]) for s in sentences)

    lighthouse = sample_corpus_dir() / "kestrel-point-lighthouse.md"
    assert run(["summarize", str(lighthouse)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(lighthouse) and len(lines) == 6
    text = " ".join(lighthouse.read_text(encoding="utf-8").split())
    # Each line quotes a sentence word for word (a sentence wrapped over lines is read as one), then where it is.
    assert all(line.startswith("“") and line.split("”")[0][1:] in text for line in lines[1:])
    assert all("(Kestrel Point Lighthouse: A Short History" in line for line in lines[1:])


def test_a_folder_or_a_document_not_indexed_is_one_error_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    capsys.readouterr()
    assert run(["summarize", str(sample_corpus_dir())]) == 2
    assert "a folder of 7 indexed documents (summarize one document of it)" in capsys.readouterr().err
    assert run(["summarize", str(tmp_path / "nope.md")]) == 2
    assert "not in the index" in capsys.readouterr().err
    assert run(["summarize", str(sample_corpus_dir() / "SOURCE.md"), "-n", "0"]) == 2
    assert "a summary has from 1 to 50" in capsys.readouterr().err
    assert run(["summarize", str(sample_corpus_dir() / "SOURCE.md"), "-n", "51"]) == 2
    assert "a summary has from 1 to 50" in capsys.readouterr().err


def test_a_document_of_references_alone_is_said_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Every sentence left out as a reference entry was told as "no sentence of 6 words or more to quote".
    entries = [f"[{n}] Guu, K., Chen, W., and Patel, R. Dense retrieval at scale, part {n}. In Proceedings of ACL, "
               f"pages {100 + n}-{118 + n}." for n in range(1, 9)]
    (tmp_path / "refs.md").write_text("# Reading list\n\n## References\n\n" + "\n\n".join(entries) + "\n")
    assert run(["ingest", str(tmp_path)]) == 0
    capsys.readouterr()
    assert run(["summarize", str(tmp_path / "refs.md")]) == 0
    err = capsys.readouterr().err
    assert "no sentence to quote: its" in err and "are a list of references" in err, err
