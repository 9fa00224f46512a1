"""A recipe run of the RAFT benchmark reuses the base run's evaluation index without adding its documents twice.

An index copied beside a fresh copy of the corpus would hold every document twice (the copied paths are new
documents to ingest), and distractors would then duplicate the oracle; the benchmark links the corpus folder
instead. Real ingest and a real LanceDB store in the temp dir; the hash embedder stands in for the bundled one.
"""

from __future__ import annotations

import sys
from pathlib import Path

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.evaluate.runner import append_record
from localrag.ingest.pipeline import run_ingest
from localrag.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_rag_vs_raft import reuse_base_records  # noqa: E402


def ingest(folder: Path) -> tuple[Store, int]:
    embedder = HashEmbedder()
    store = Store(folder / "index", embedder_name=embedder.name, dim=embedder.dim)
    report = run_ingest([folder / "corpus"], store=store, embedder=embedder, settings=Settings())
    return store, report.added


def test_the_base_runs_index_is_reused_and_no_document_is_added_twice(tmp_path: Path) -> None:
    base = tmp_path / "base" / "eval"
    (base / "corpus").mkdir(parents=True)
    for i in range(3):
        (base / "corpus" / f"{i:06d}.txt").write_text(f"Document {i} says the code word is word{i}.\n")
    store, added = ingest(base)
    assert added == 3 and store.document_count() == 3
    append_record(base, {"spec": "bundled", "mode": "rag", "qid": "1", "scored": "word1"})
    append_record(base, {"spec": "other", "mode": "rag", "qid": "1", "scored": "word2"})

    run = tmp_path / "recipe" / "eval"
    reuse_base_records(base, run)
    assert (run / "corpus").is_symlink() and not (run / "index").is_symlink()
    assert [line.count('"bundled"') for line in (run / "records.jsonl").read_text().splitlines()] == [1]
    store, added = ingest(run)
    assert added == 0 and store.document_count() == 3
    # A resumed run keeps what it has: nothing is linked or copied over an index of its own.
    reuse_base_records(base, run)
    assert store.document_count() == 3
