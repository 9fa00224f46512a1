"""Inverse-cloze pairs and how the embedder tuning picks its training and judging pairs from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.evaluate.metrics import MIN_QUESTIONS
from localrag.tune.ict import ICT_ORIGIN, ict_pairs
from localrag.tune.retriever import (
    MinedPair,
    RetrieverConfig,
    judged_pairs,
    source_pairs,
    training_pairs,
)
from localrag.tune.runs import TuneError
from localrag.types import Chunk

_TEXT = (
    "Coronaviruses are enveloped viruses with a positive sense RNA genome. "
    "The spike protein binds the host receptor before the membranes fuse. "
    "Short line. "
    "Antibodies against the receptor binding domain block entry into the cells."
)


def _chunk(i: int, text: str = _TEXT) -> Chunk:
    return Chunk(f"c{i}", f"d{i % 7}", f"/docs/{i % 7}.txt", i, text, 0, len(text))


def test_a_sentence_becomes_the_question_and_is_mostly_cut_from_its_chunk() -> None:
    chunks = [_chunk(i) for i in range(200)]
    pairs = ict_pairs(chunks, seed=3)
    assert len(pairs) == 200 and all(p.origin == ICT_ORIGIN and p.answer == "" for p in pairs)
    cut = 0
    for pair, chunk in zip(pairs, chunks, strict=True):
        assert pair.question in chunk.text and pair.question != "Short line."
        assert pair.chunk.chunk_id == chunk.chunk_id
        if pair.question not in pair.chunk.text:
            cut += 1
            assert len(pair.chunk.text) < len(chunk.text)
        else:
            assert pair.chunk.text == chunk.text
    # About 90 % cut out (the paper's share), never all: the index holds whole chunks.
    assert 160 <= cut < 200
    assert ict_pairs(chunks, seed=3) == pairs


def test_chunks_without_two_usable_sentences_give_no_pair_and_limit_samples() -> None:
    assert ict_pairs([_chunk(0, "One sentence only, with enough words in it."), _chunk(1, "Tiny. Bits.")]) == []
    assert len(ict_pairs([_chunk(i) for i in range(50)], limit=10)) == 10


def test_a_question_of_code_or_data_is_one_line() -> None:
    # Read as prose, a YAML file's keys were one sentence, the question, and nothing was left of the chunk.
    text = ("name: Carol Diaz, who joined the company in spring\nrole: Marketing lead for the northern region\n"
            "budget: forty thousand dollars for the whole year")
    yaml = Chunk("c0", "d0", "/team.yaml", 0, text, 0, len(text), file_type="code:yaml")
    (pair,) = ict_pairs([yaml])
    assert pair.question in text.split("\n")


def _mined(origin: str, held_out: bool) -> MinedPair:
    return MinedPair("q", _chunk(0), "p", None, held_out, origin)


def test_training_and_judging_pairs_follow_the_source() -> None:
    pairs = [_mined("generated", False), _mined(ICT_ORIGIN, False), _mined("generated", True), _mined(ICT_ORIGIN, True)]
    assert training_pairs(pairs, "model") == [pairs[0], pairs[2]]
    assert training_pairs(pairs, "ict") == [pairs[1], pairs[3]]
    assert training_pairs(pairs, "both") == pairs
    # Written questions judge alone only when there are enough of them to show a difference.
    assert judged_pairs(pairs) == [pairs[2], pairs[3]]
    many = [_mined("generated", True) for _ in range(MIN_QUESTIONS)]
    assert judged_pairs([*many, pairs[3]]) == many
    assert judged_pairs([pairs[0], pairs[3]]) == [pairs[3]]


def test_an_unknown_pair_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match="unknown pair source 'gold'"):
        source_pairs(tmp_path, None, RetrieverConfig(pairs="gold"))  # type: ignore[arg-type]
