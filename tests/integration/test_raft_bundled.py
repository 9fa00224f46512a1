"""RAFT build with the bundled SmolLM2 over the sample corpus: the pipeline's guarantees, not quality.

The 135M model writes poor questions; what must hold is that every reply is grammar-valid JSON or
counted, every kept pair passes the grounding checks, and every kept example's quotes are verbatim
in its oracle chunk.
"""

from __future__ import annotations

import json
from pathlib import Path

from localrag.answer.citations import verify_quotes
from localrag.engine import Engine
from localrag.generate import LlamaGenerator
from localrag.ingest.discover import sample_corpus_dir
from localrag.raft.build import build_raft
from localrag.raft.dataset import RaftConfig, RaftExample
from localrag.raft.qa import QAPair, rejection, store_chunks
from localrag.types import Hit, QuoteStatus


def test_bundled_model_builds_a_checked_raft_set(engine: Engine, real_generator: LlamaGenerator,
                                                  tmp_path: Path) -> None:
    corpus = sample_corpus_dir()
    engine.ingest([corpus / name for name in ("beekeeping-basics.txt", "kestrel-point-lighthouse.md",
                                              "quillpad-formatting-codes.md")])
    chunks = store_chunks(engine.store)
    assert len({c.doc_id for c in chunks}) >= 3

    out = tmp_path / "raft"
    report = build_raft(out, chunks, generator=real_generator, search=engine.retriever.search, max_chunks=3,
                        config=RaftConfig(k=2, p_oracle=1.0), count_tokens=real_generator.count_tokens)
    assert report.qa.made + sum(report.qa.skipped.values()) == 3
    assert "reply not valid JSON" not in report.qa.skipped
    pairs = [QAPair.from_json(json.loads(line)) for line in (out / "qa.jsonl").read_text().splitlines()]
    assert len(pairs) == report.qa.made
    assert all(rejection(p.question, p.answer, p.chunk) is None for p in pairs)

    examples = [RaftExample.from_json(json.loads(line)) for line in (out / "examples.jsonl").read_text().splitlines()]
    assert len(examples) + sum(report.dataset.dropped.values()) == len(pairs)
    for example in examples:
        assert example.oracle_index is not None
        assert all(c.doc_id != example.oracle.doc_id for c in example.documents if c != example.oracle)
        quotes = verify_quotes(example.cot, [Hit(example.oracle, 0.0)])
        assert quotes and all(q.status is QuoteStatus.VERIFIED for q in quotes)

    rerun = build_raft(out, chunks, generator=real_generator, search=engine.retriever.search, max_chunks=3,
                       config=RaftConfig(k=2, p_oracle=1.0), count_tokens=real_generator.count_tokens)
    assert rerun.skipped_stages == ["qa", "examples", "formats"]
