"""Source sentences are embedded once per answer: the prompt's choice and the evidence share the vectors; the
question is embedded once for retrieval, the prompt's choice and the evidence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from localrag.answer.pipeline import answer_events
from localrag.answer.vector_cache import SentenceVectors
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.types import DoneEvent
from tests.unit.test_prompt_sentences import HANDBOOK, PARKING, QUESTION, Recorder, hit


class Counting(HashEmbedder):
    """HashEmbedder that keeps every text it was asked to embed as a passage."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.embedded.extend(texts)
        return super().embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.asked.extend(texts)
        return super().embed(texts)


def test_an_answer_embeds_each_source_sentence_once_and_its_evidence_is_unchanged() -> None:
    embedder = Counting()
    sources = [hit(PARKING, "parking"), hit(HANDBOOK, "handbook", heading="Vacation")]
    events = list(answer_events(QUESTION, QUESTION, sources, generator=Recorder(), embedder=embedder,
                                settings=Settings(prompt_sentences=2)))
    done = next(e for e in events if isinstance(e, DoneEvent))
    assert embedder.embedded and len(embedder.embedded) == len(set(embedder.embedded))
    assert done.answer.evidence is not None
    assert done.answer.evidence.text == "Employees get 25 days of paid vacation per year."
    # The same question again: every sentence is known, nothing is embedded.
    before = len(embedder.embedded)
    list(answer_events(QUESTION, QUESTION, sources, generator=Recorder(), embedder=embedder,
                       settings=Settings(prompt_sentences=2)))
    assert len(embedder.embedded) == before


def test_cached_vectors_are_the_embedders_own_kept_per_embedder_and_bounded() -> None:
    cache = SentenceVectors(size=3)
    first, second = Counting(), Counting()
    texts = ["alpha beta", "gamma delta", "alpha beta", "epsilon"]
    assert np.array_equal(cache.embed(first, texts), HashEmbedder().embed(texts))
    assert first.embedded == ["alpha beta", "gamma delta", "epsilon"]  # a repeated text once
    cache.embed(second, ["alpha beta"])
    assert second.embedded == ["alpha beta"]  # another embedder's vector is never reused
    cache.embed(first, ["zeta", "alpha beta"])  # "gamma delta", the least recently used, makes room
    cache.embed(first, ["gamma delta"])
    assert first.embedded[-2:] == ["zeta", "gamma delta"]
    assert cache.embed(first, []).shape == (0, first.dim)


def test_an_answer_embeds_its_question_once_and_a_rewritten_follow_up_twice(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    embedder = Counting()
    # Any hash-vector cosine counts as relevant: the answer path, not the refusal, is under test.
    engine = Engine(Settings(prompt_sentences=2, min_similarity=-1.0), embedder=embedder, generator=Recorder())  # type: ignore[arg-type]
    engine.ingest([folder])
    embedder.asked.clear()
    answer = engine.ask(QUESTION)
    assert embedder.asked == [QUESTION]
    assert answer.evidence is not None and answer.evidence.text == "Employees get 25 days of paid vacation per year."
    # A follow-up leaning on the one before is retrieved with that question prepended, and scored as asked.
    embedder.asked.clear()
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": answer.text}]
    engine.ask("Do they carry over?", history=history)
    assert embedder.asked == [f"{QUESTION} Do they carry over?", "Do they carry over?"]
