"""The resumable build: stages, manifest, skipping finished stages, cancellation, output files."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from pathlib import Path

import pytest
from fakes import SAMPLE_CHUNKS as CHUNKS
from fakes import QAGenerator

from localrag.raft.build import HF_MISSING, MANIFEST, build_raft
from localrag.raft.dataset import SPLITS, RaftConfig
from localrag.types import Hit


def test_build_writes_every_split_and_format(tmp_path: Path) -> None:
    generator = QAGenerator()
    seen: list[str] = []
    report = build_raft(tmp_path / "raft", CHUNKS, generator=generator, config=RaftConfig(k=2, distractors="random"),
                        count_tokens=generator.count_tokens, progress=lambda p: seen.append(p.stage))
    out = tmp_path / "raft"
    assert generator.calls == 20 and report.qa.made == 20 and report.dataset.examples == 20
    assert set(seen) == {"qa", "examples"} and not report.skipped_stages
    split_of_doc: dict[str, str] = {}
    total = 0
    for split in SPLITS:
        chat = [json.loads(line) for line in (out / f"{split}.chat.jsonl").read_text().splitlines()]
        completion = (out / f"{split}.completion.jsonl").read_text().splitlines()
        assert len(chat) == len(completion)
        total += len(chat)
        for record in chat:
            assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
            assert "<ANSWER>: topic" in record["messages"][2]["content"]
            doc = re.search(r"in document (\d+)", record["messages"][1]["content"]).group(1)  # type: ignore[union-attr]
            assert split_of_doc.setdefault(doc, split) == split
    assert total == 20
    stats = json.loads((out / "stats.json").read_text())
    assert stats["all"]["examples"] == 20 and stats["train"]["examples"] >= 14
    assert set(json.loads((out / MANIFEST).read_text())["stages"]) == {"qa", "examples", "formats"}
    if importlib.util.find_spec("datasets") is None:
        assert report.notes == [HF_MISSING] and not (out / "hf").exists()
    else:
        assert (out / "hf").is_dir()


def test_rerun_skips_finished_stages_and_redoes_changed_ones(tmp_path: Path) -> None:
    build_raft(tmp_path, CHUNKS, generator=QAGenerator(), config=RaftConfig(k=2, distractors="random"))
    before = (tmp_path / "train.chat.jsonl").read_text()
    again = QAGenerator()
    report = build_raft(tmp_path, CHUNKS, generator=again, config=RaftConfig(k=2, distractors="random"))
    assert again.calls == 0 and report.skipped_stages == ["qa", "examples", "formats"]
    assert report.qa.made == 20 and report.dataset.examples == 20
    changed = build_raft(tmp_path, CHUNKS, generator=again, config=RaftConfig(k=3, distractors="random"))
    assert again.calls == 0 and changed.skipped_stages == ["qa"]
    assert (tmp_path / "train.chat.jsonl").read_text() != before


def test_a_missing_output_file_reruns_its_stage(tmp_path: Path) -> None:
    build_raft(tmp_path, CHUNKS, generator=QAGenerator(), config=RaftConfig(distractors="random"))
    (tmp_path / "examples.jsonl").unlink()
    report = build_raft(tmp_path, CHUNKS, generator=QAGenerator(), config=RaftConfig(distractors="random"))
    assert report.skipped_stages == ["qa", "formats"]
    assert (tmp_path / "examples.jsonl").exists()


def test_changed_chunks_invalidate_the_qa_stage(tmp_path: Path) -> None:
    build_raft(tmp_path, CHUNKS, generator=QAGenerator(), config=RaftConfig(distractors="random"))
    generator = QAGenerator()
    report = build_raft(tmp_path, CHUNKS[:-2], generator=generator, config=RaftConfig(distractors="random"))
    assert generator.calls == 18 and report.skipped_stages == []


def test_cancel_records_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    report = build_raft(tmp_path, CHUNKS, generator=QAGenerator(), cancel=cancel)
    assert report.cancelled and not (tmp_path / MANIFEST).exists() and not (tmp_path / "qa.jsonl").exists()


def _stopped_after_eight(out: Path, config: RaftConfig) -> None:
    cancel = threading.Event()
    stopped = build_raft(out, CHUNKS, generator=QAGenerator(), config=config, cancel=cancel,
                         progress=lambda p: cancel.set() if p.stage == "qa" and p.done == 8 else None)
    assert stopped.cancelled and not (out / "qa.jsonl").exists()


def test_a_qa_stage_stopped_half_way_goes_on_where_it_stopped(tmp_path: Path) -> None:
    """It said "what was finished is kept" and kept nothing: the re-run asked the model for every chunk again."""
    config = RaftConfig(k=2, distractors="random")
    _stopped_after_eight(tmp_path / "raft", config)
    with (tmp_path / "raft" / "qa.partial.jsonl").open("a") as journal:
        journal.write('{"chunk": "cut by a ki')  # a kill in the middle of a line
    again = QAGenerator()
    resumed = build_raft(tmp_path / "raft", CHUNKS, generator=again, config=config)
    assert again.calls == 12 and resumed.notes[0] == "resumed: 8 chunks already had Q&A written"
    build_raft(tmp_path / "whole", CHUNKS, generator=QAGenerator(), config=config)
    for name in ("qa.jsonl", "train.chat.jsonl"):
        assert (tmp_path / "raft" / name).read_text() == (tmp_path / "whole" / name).read_text()
    assert not (tmp_path / "raft" / "qa.partial.jsonl").exists()

    _stopped_after_eight(tmp_path / "other", config)
    other = QAGenerator()  # other chunks: the replies kept are not theirs
    build_raft(tmp_path / "other", CHUNKS[:-2], generator=other, config=config)
    assert other.calls == 18


def test_imported_qa_and_hard_negatives(tmp_path: Path) -> None:
    qa_file = tmp_path / "mine.jsonl"
    qa_file.write_text(json.dumps({"question": "What does part one of doc three cover?", "answer": "topic 31",
                                   "path": "/docs/doc3.txt"}) + "\n")

    def search(query: str, k: int) -> list[Hit]:
        return [Hit(c, 1.0) for c in CHUNKS[:k]]

    report = build_raft(tmp_path / "out", CHUNKS, qa_files=[qa_file], search=search,
                        config=RaftConfig(k=2, p_oracle=1.0))
    (example,) = [json.loads(line) for line in (tmp_path / "out" / "examples.jsonl").read_text().splitlines()]
    assert example["origin"] == f"{qa_file}:1"
    assert sorted(d["chunk_id"] for d in example["documents"] if d["doc_id"] != "d3") == ["d0:0", "d0:1"]
    assert report.qa.made == 1


def test_needs_a_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="generator or Q&A files"):
        build_raft(tmp_path, CHUNKS)


def test_max_chunks_spreads_over_documents(tmp_path: Path) -> None:
    generator = QAGenerator()
    report = build_raft(tmp_path, CHUNKS, generator=generator, max_chunks=12, config=RaftConfig(distractors="random"))
    assert generator.calls == 12 and report.qa.made == 12
    pairs = [json.loads(line) for line in (tmp_path / "qa.jsonl").read_text().splitlines()]
    assert len({p["chunk"]["doc_id"] for p in pairs}) == 10
