"""The per-corpus fusion chooser on leg lists whose better leg is known, and its pseudo-queries."""

from __future__ import annotations

import os
import random
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from localrag.fusion import (
    CANDIDATES,
    DEFAULT,
    MIN_CHUNKS,
    Fusion,
    FusionChoice,
    candidate_ranks,
    make_query,
    needs_choice,
    pick,
    pick_guarded,
    pick_keeping_default,
    pseudo_queries,
    score_candidates,
)
from localrag.fusion_cut import PREFIX, clean_stale, cut_out
from localrag.types import Chunk


def _cases(good_leg: str, n: int = 40) -> list[tuple[list[str], list[str], set[str]]]:
    """The good leg ranks the source 4th; the other leg never finds it and ranks other chunks first."""
    cases = []
    for q in range(n):
        source = f"src{q}"
        good = [f"g{q}-1", f"g{q}-2", f"g{q}-3", source] + [f"g{q}-{i}" for i in range(5, 21)]
        bad = [f"b{q}-{i}" for i in range(1, 21)]
        cases.append((good, bad, {source}) if good_leg == "vector" else (bad, good, {source}))
    return cases


def test_the_better_leg_alone_is_chosen_when_the_other_only_adds_noise() -> None:
    for leg, expected in (("vector", Fusion(text_weight=0.0)), ("text", Fusion(vector_weight=0.0))):
        scores = score_candidates(_cases(leg))
        assert pick(scores) == expected
        assert scores[expected] == (1.0, pytest.approx(1 / 4))
        # Equal-weight RRF interleaves the other leg's first ranks and pushes the source out of the top 5.
        assert scores[DEFAULT][0] == 0.0


def test_fusion_is_chosen_when_each_leg_finds_half_the_sources() -> None:
    cases = []
    for q in range(40):
        source = f"src{q}"
        found = [source] + [f"x{q}-{i}" for i in range(2, 21)]
        missed = [f"y{q}-{i}" for i in range(1, 21)]
        cases.append((found, missed, {source}) if q % 2 else (missed, found, {source}))
    scores = score_candidates(cases)
    chosen = pick(scores)
    assert chosen.vector_weight > 0 and chosen.text_weight > 0
    assert scores[chosen][0] == 1.0


def test_an_exact_tie_keeps_the_default() -> None:
    same = [([f"s{q}"] + [f"a{q}-{i}" for i in range(19)], [f"s{q}"] + [f"b{q}-{i}" for i in range(19)], {f"s{q}"})
            for q in range(10)]
    assert pick(score_candidates(same)) == DEFAULT
    assert CANDIDATES[0] == DEFAULT


def test_a_zero_weight_leg_only_fills_in_behind_the_other() -> None:
    fused = [item for item, _ in Fusion(text_weight=0.0).fuse(["a", "b"], ["c", "a", "d"])]
    assert fused[:2] == ["a", "b"]
    assert set(fused[2:]) == {"c", "d"}


def test_pseudo_queries_drop_stop_words_and_the_rarest_words() -> None:
    df = Counter({"lighthouse": 9, "keeper": 8, "lamp": 7, "lit": 6, "coast": 5, "kestrel": 1, "1871": 1})
    query = make_query("The Kestrel lighthouse keeper lit the lamp on the coast in 1871.", df, random.Random(0))
    assert query is not None
    words = set(query.split())
    assert words <= {"Kestrel", "lighthouse", "keeper", "lit", "lamp", "coast", "1871"}
    assert "the" not in words and "The" not in words
    assert "1871" not in words and "Kestrel" not in words
    assert make_query("Too short to ask.", df, random.Random(0)) is None


def test_pseudo_queries_are_deterministic_and_name_their_chunk() -> None:
    text = "Bees gather nectar from clover fields in early summer. Honey is extracted from the frames by spinning."
    chunks = [Chunk(f"c{i}", f"d{i}", f"/x/{i}.txt", 0, f"{text} Hive number {i} sits near the orchard wall.", 0, 1)
              for i in range(30)]
    first, again = pseudo_queries(chunks, 10, seed=3), pseudo_queries(chunks, 10, seed=3)
    assert first == again and len(first) == 10
    for q in first:
        source = next(c for c in chunks if c.chunk_id == q.chunk_id)
        assert q.sentence in source.text


def test_a_chosen_fusion_is_chosen_again_after_the_index_grows_by_half() -> None:
    choice = FusionChoice(Fusion(text_weight=2.0), queries=200, chunks=1000)
    assert not needs_choice(choice, 1400)
    assert needs_choice(choice, 1500)
    # Never asked for: the default stays (the pseudo-query measure favours BM25, see fusion.py).
    assert not needs_choice(None, 100_000)
    # Asked for while too small to measure: measured once the index is big enough.
    assert not needs_choice(FusionChoice(DEFAULT, queries=0, chunks=10), MIN_CHUNKS - 1)
    assert needs_choice(FusionChoice(DEFAULT, queries=0, chunks=10), MIN_CHUNKS)


def test_choice_survives_its_json_form() -> None:
    choice = FusionChoice(Fusion(rrf_k=60, vector_weight=0.0), 120, 4000, {"BM25 only": 0.9}, {"BM25 only": 0.7},
                          "2026-01-01T00:00:00", 3.5)
    assert FusionChoice.from_json(choice.to_json()) == choice
    assert "BM25 only: hit@5 0.90 on 120 pseudo-queries" in choice.summary()


def test_the_guarded_pick_keeps_the_better_leg_when_the_other_only_adds_noise() -> None:
    for leg, expected in (("vector", Fusion(text_weight=0.0)), ("text", Fusion(vector_weight=0.0))):
        assert pick_guarded(candidate_ranks(_cases(leg))) == expected


def test_the_guarded_pick_takes_a_fusion_that_wins_clearly() -> None:
    cases = []
    for q in range(40):
        source = f"src{q}"
        found = [source] + [f"x{q}-{i}" for i in range(2, 21)]
        missed = [f"y{q}-{i}" for i in range(1, 21)]
        cases.append((found, missed, {source}) if q % 2 else (missed, found, {source}))
    chosen = pick_guarded(candidate_ranks(cases))
    assert chosen.vector_weight > 0 and chosen.text_weight > 0


def test_the_guarded_pick_keeps_the_leg_when_a_fusion_wins_by_one_question() -> None:
    # The vector leg finds 30 of 40 sources at rank 1; on one more the BM25 leg finds it at rank 1 too,
    # which only fusion can use: a gain of one question in forty is within chance.
    cases = []
    for q in range(40):
        source = f"src{q}"
        vector = ([source] if q < 30 else []) + [f"v{q}-{i}" for i in range(1, 20)]
        text = ([source] if q == 30 else []) + [f"t{q}-{i}" for i in range(1, 20)]
        cases.append((vector, text, {source}))
    ranks = candidate_ranks(cases)
    assert pick(score_candidates(cases)) != Fusion(text_weight=0.0)
    assert pick_guarded(ranks) == Fusion(text_weight=0.0)


def test_a_sentence_is_cut_out_of_its_chunk_once() -> None:
    text = "Bees gather nectar. The hive is by the wall. Honey is spun. The hive is by the wall."
    assert cut_out(text, "The hive is by the wall.") == "Bees gather nectar. Honey is spun. The hive is by the wall."
    assert cut_out(text, "Not in the text.") == text


def test_only_a_scratch_copy_whose_process_is_gone_is_removed(tmp_path: Path) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead, alive = tmp_path / f"{PREFIX}{finished.pid}", tmp_path / f"{PREFIX}{os.getpid()}"
    unnamed = tmp_path / f"{PREFIX}notes"
    for folder in (dead, alive, unnamed):
        (folder / "chunks.lance").mkdir(parents=True)
    assert clean_stale(tmp_path) == [dead]
    assert not dead.exists() and alive.is_dir() and unnamed.is_dir()
    assert clean_stale(tmp_path / "absent") == []


def test_a_carried_choice_of_another_collection_alone_is_named(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # With a choice in collection `other` only, use-embedder said "fusion chosen again ...: vector only ...", which
    # read as the choice of the collection it ran in.
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine
    from localrag.fusion import WRITTEN, FusionChoice

    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path))
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    choice = FusionChoice(DEFAULT, queries=20, chunks=60, source=WRITTEN)
    assert engine._carry_fusions({"other": choice}, HashEmbedder(dim=32)).startswith("other: kept (")
    assert engine._carry_fusions({"default": choice}, HashEmbedder(dim=32)).startswith("kept (")


def test_a_leg_that_ties_the_default_does_not_replace_it() -> None:
    # Every candidate finds every chunk (3 written questions on 44 chunks, all at 1.000): the tie between the legs
    # went to the vector leg, and BM25 was off for good.
    found = [([f"s{q}"] + [f"a{q}-{i}" for i in range(19)], [f"s{q}"] + [f"b{q}-{i}" for i in range(19)], {f"s{q}"})
             for q in range(40)]
    ranks = candidate_ranks(found)
    assert pick_guarded(ranks) == Fusion(text_weight=0.0)
    assert pick_keeping_default(ranks) == DEFAULT


def test_a_leg_replaces_the_default_only_when_it_finds_more() -> None:
    # The vector leg finds every source 4th, BM25 none; equal-weight RRF pushes `n_lost` of them out of its top 5.
    def cases(n_lost: int) -> list[tuple[list[str], list[str], set[str]]]:
        out = []
        for q in range(40):
            source = f"src{q}"
            vector = [f"v{q}-1", f"v{q}-2", f"v{q}-3", source] + [f"v{q}-{i}" for i in range(5, 21)]
            # BM25 ranks the vector leg's first three (it agrees) except on the questions the default is to lose.
            text = ([f"t{q}-{i}" for i in range(1, 21)] if q < n_lost else
                    [f"v{q}-1", f"v{q}-2", f"v{q}-3"] + [f"t{q}-{i}" for i in range(4, 21)])
            out.append((vector, text, {source}))
        return out

    none, one = candidate_ranks(cases(0)), candidate_ranks(cases(1))
    assert score_candidates(cases(1))[DEFAULT][0] == pytest.approx(39 / 40)
    assert pick_keeping_default(none) == DEFAULT  # every question found by both: the default stays
    assert pick_keeping_default(one) == Fusion(text_weight=0.0)
    # The leg as clearly ahead as in the leg-only lists above: the leg.
    for leg, expected in (("vector", Fusion(text_weight=0.0)), ("text", Fusion(vector_weight=0.0))):
        assert pick_keeping_default(candidate_ranks(_cases(leg))) == expected
