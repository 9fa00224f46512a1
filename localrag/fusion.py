"""Fusion chosen per corpus: how to combine the vector and BM25 legs for this index.

Why: no fixed rule wins everywhere. On COVID-QA BM25 alone beats every fusion of it with MiniLM
(biomedical vocabulary MiniLM does not know); on MuSiQue the vector leg leads; on HotpotQA fusion
beats both (benchmarks/README.md, "Fusion against its best leg"). So each index measures which of
a few candidates (RRF with several k and leg weights, or one leg alone) finds its own text best.

How, without gold questions: a sampled chunk gives one whole sentence, the sentence is cut out of its
chunk in a scratch copy of the index (localrag/fusion_cut.py), and the chunk must then be found by what
surrounds the sentence, as a question must find the passage that answers it. Each leg's top `FETCH` for
every sentence is fetched once from the copy, every candidate fuses the same lists, and `pick_keeping_default`
chooses: the better leg alone unless a fusion beats it by more than one standard error, and a leg alone only
where it finds more than the default fusion too.
`choose_fusion(queries=...)` takes questions a local model wrote per chunk instead (a RAFT build's),
measured on the index itself.

Measured (benchmarks/README.md, "Fusion chosen on cut-out sentences"): sentences left in their chunk
favoured BM25 on every corpus, wrongly on MuSiQue (0.525 where the vector leg gets 0.613); cut out,
the choice was at or above the better leg on COVID-QA, HotpotQA and MuSiQue. It was no better than the
default fusion, which already ties or beats the better leg on those three Engine-built indexes, so the
choice is made only when the index's owner asks (`localrag retrieval tune-fusion`), and such an index
is measured again after it has grown by `REGROW`.

The choice and its figures live in the store's `meta` table, so they travel with the index.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from localrag.evaluate.metrics import MIN_QUESTIONS
from localrag.retrieve import RRF_K, TEXT_WEIGHT, VECTOR_WEIGHT, reciprocal_rank_fusion

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.store import Store
    from localrag.types import Chunk

META_KEY = "fusion"
FETCH = 20
TOP = 5
N_QUERIES = 200
# Below this many chunks top-5 retrieval is too easy to tell the candidates apart: keep the default.
MIN_CHUNKS = 50
# Choose again once the index has grown by half since the last choice.
REGROW = 1.5
# What a choice was measured on: pseudo-queries cut from chunks, or questions a model wrote per chunk.
PSEUDO, WRITTEN = "pseudo-queries", "written questions"
# pick_guarded: a fusion replaces the better leg only when it wins by more than this many standard errors.
GUARD_Z = 1.0
# Pseudo-queries keep this share of a sentence's content words, between these bounds.
KEEP_SHARE = 0.6
MIN_WORDS, MAX_WORDS = 3, 10
SENTENCE_WORDS = 6  # a sentence shorter than this is no query to cut out

_WORD = re.compile(r"[^\W_][\w'\-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such
    than that the their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your yours yourself
    yourselves may might must shall et al""".split()
)


@dataclass(frozen=True)
class Fusion:
    """Reciprocal rank fusion: score = vector_weight / (rrf_k + vector rank) + text_weight / (rrf_k + BM25 rank).

    A zero weight leaves that leg out of the order (its candidates only fill up behind the other's).
    """

    rrf_k: int = RRF_K
    vector_weight: float = VECTOR_WEIGHT
    text_weight: float = TEXT_WEIGHT

    @property
    def label(self) -> str:
        if self.text_weight == 0:
            return "vector only"
        if self.vector_weight == 0:
            return "BM25 only"
        return f"RRF k={self.rrf_k}, vector x{self.vector_weight:g}, BM25 x{self.text_weight:g}"

    def fuse(self, vector_ids: Sequence[str], text_ids: Sequence[str]) -> list[tuple[str, float]]:
        return reciprocal_rank_fusion(
            [vector_ids, text_ids], k=self.rrf_k, weights=[self.vector_weight, self.text_weight]
        )


DEFAULT = Fusion()
CANDIDATES: tuple[Fusion, ...] = (
    DEFAULT,
    Fusion(text_weight=0.0),
    Fusion(vector_weight=0.0),
    Fusion(text_weight=0.5),
    Fusion(text_weight=2.0),
    Fusion(text_weight=0.25),
    Fusion(text_weight=4.0),
    Fusion(rrf_k=60),
    Fusion(rrf_k=60, text_weight=0.5),
    Fusion(rrf_k=60, text_weight=2.0),
)


@dataclass
class FusionChoice:
    """The fusion chosen for one index, and what it was chosen on.

    `hit_at_5` and `mrr` are per candidate label, measured on `queries` questions of kind `source`
    (PSEUDO, or WRITTEN: questions a model wrote per chunk) when the index held `chunks` chunks.
    `note` says why the default was kept ("" when the choice is measured to beat it, or is it by `pick_guarded`).
    """

    fusion: Fusion
    queries: int
    chunks: int
    hit_at_5: dict[str, float] = field(default_factory=dict)
    mrr: dict[str, float] = field(default_factory=dict)
    chosen_at: str = ""
    seconds: float = 0.0
    source: str = PSEUDO
    note: str = ""

    def summary(self) -> str:
        label = self.fusion.label
        if self.note:
            return f"{label} (default: {self.note})"
        if not self.queries:
            return f"{label} (default)"
        legs = ", ".join(
            f"{name} {self.hit_at_5[key]:.2f}"
            for name, key in (("vector", "vector only"), ("BM25", "BM25 only"), ("default", DEFAULT.label))
            if key in self.hit_at_5 and key != label
        )
        return (
            f"{label}: hit@5 {self.hit_at_5.get(label, 0.0):.2f} on {self.queries} {self.source} "
            f"({legs}); chosen {self.chosen_at} at {self.chunks} chunks"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FusionChoice:
        data: dict[str, Any] = json.loads(text)
        return cls(**{**data, "fusion": Fusion(**data["fusion"])})


@dataclass(frozen=True)
class PseudoQuery:
    text: str
    chunk_id: str
    sentence: str


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(_WORD.findall(s)) >= SENTENCE_WORDS]


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 1]


def make_query(sentence: str, df: Counter[str], rng: random.Random) -> str | None:
    """A question-like query from one sentence: its commoner content words, shuffled; None if too short."""
    words = list(dict.fromkeys(content_words(sentence)))
    if len(words) < MIN_WORDS + 1:
        return None
    keep = max(MIN_WORDS, min(MAX_WORDS, round(KEEP_SHARE * len(words))))
    # The rarest words go first: a question lacks its answer, and the answer is the specific part.
    common = sorted(words, key=lambda w: (-df[w.lower()], rng.random()))[:keep]
    rng.shuffle(common)
    return " ".join(common)


QueryMaker = Callable[[str, Counter[str], random.Random], "str | None"]


def whole_sentence(sentence: str, df: Counter[str], rng: random.Random) -> str | None:
    """The sentence itself: the query `choose_fusion` cuts out of its chunk (localrag/fusion_cut.py)."""
    return sentence


def pseudo_queries(chunks: Sequence[Chunk], n: int, seed: int = 0, make: QueryMaker = make_query) -> list[PseudoQuery]:
    """Up to `n` pseudo-queries, one per sampled chunk, deterministic for a seed.

    `make` turns a sentence into a query (benchmarks/bench_fusion.py compares other ways).
    """
    rng = random.Random(seed)
    df: Counter[str] = Counter()
    for chunk in chunks:
        df.update({w.lower() for w in _WORD.findall(chunk.text)})
    order = list(range(len(chunks)))
    rng.shuffle(order)
    out: list[PseudoQuery] = []
    for i in order:
        sentences = _sentences(chunks[i].text)
        if not sentences:
            continue
        sentence = rng.choice(sentences)
        query = make(sentence, df, rng)
        if query:
            out.append(PseudoQuery(query, chunks[i].chunk_id, sentence))
            if len(out) >= n:
                break
    return out


Case = tuple[list[str], list[str], set[str]]


def _rank_of_first(ranked: Sequence[str], gold: set[str]) -> int | None:
    return next((i for i, item in enumerate(ranked, start=1) if item in gold), None)


def candidate_ranks(cases: Sequence[Case], candidates: Sequence[Fusion] = CANDIDATES) -> dict[Fusion, list[int | None]]:
    """Per candidate, the rank of each case's first hit in the fused top FETCH (None: not there)."""
    return {
        fusion: [_rank_of_first([item for item, _ in fusion.fuse(v, t)][:FETCH], gold) for v, t, gold in cases]
        for fusion in candidates
    }


def hit_mrr(ranks: Sequence[int | None]) -> tuple[float, float]:
    n = max(len(ranks), 1)
    return (sum(r is not None and r <= TOP for r in ranks) / n, sum(1.0 / r for r in ranks if r) / n)


def score_candidates(
    cases: Sequence[Case], candidates: Sequence[Fusion] = CANDIDATES
) -> dict[Fusion, tuple[float, float]]:
    """(hit@5, MRR over the fused top FETCH) of each candidate on the same leg lists."""
    return {fusion: hit_mrr(ranks) for fusion, ranks in candidate_ranks(cases, candidates).items()}


def pick(scores: dict[Fusion, tuple[float, float]]) -> Fusion:
    """Best hit@5, then MRR; an exact tie keeps the earlier candidate (the default first)."""
    order = {fusion: i for i, fusion in enumerate(scores)}
    return max(scores, key=lambda f: (scores[f][0], scores[f][1], -order[f]))


def _gain(ranks: Sequence[int | None], base: Sequence[int | None], z: float) -> float | None:
    """The share of questions `ranks` finds in the top TOP beyond `base`, when it beats `base` by more than `z`
    standard errors of the paired difference (None when it does not)."""
    hits, was = [r is not None and r <= TOP for r in ranks], [r is not None and r <= TOP for r in base]
    gained = sum(a and not b for a, b in zip(hits, was, strict=True))
    lost = sum(b and not a for a, b in zip(hits, was, strict=True))
    n = max(len(hits), 1)
    gain = (gained - lost) / n
    return gain if gain > z * math.sqrt(gained + lost) / n else None


def pick_guarded(ranks: dict[Fusion, list[int | None]], z: float = GUARD_Z) -> Fusion:
    """The better leg alone, unless a fusion beats it by more than `z` standard errors of the paired difference.

    On the choice set the result is never below its better leg, by construction; the margin keeps a
    fusion that won by chance on a few dozen questions from being preferred to a leg. A tie between the
    legs goes to the vector leg: chosen knowing that on MuSiQue the legs tie on written questions while
    the vector leg leads on the gold ones (benchmarks/README.md), so not a gold-free rule.
    `pick_keeping_default` is the rule an index's choice is made by.
    """
    vector, text = Fusion(text_weight=0.0), Fusion(vector_weight=0.0)
    leg = vector if hit_mrr(ranks[vector])[0] >= hit_mrr(ranks[text])[0] else text
    best, best_gain = leg, 0.0
    for fusion, fused in ranks.items():
        gain = _gain(fused, ranks[leg], z)
        if gain is not None and gain > best_gain:
            best, best_gain = fusion, gain
    return best


def pick_keeping_default(ranks: dict[Fusion, list[int | None]], z: float = GUARD_Z) -> Fusion:
    """`pick_guarded`'s choice, except that a leg alone replaces the default fusion only when it finds more
    questions in its top TOP than the default does; a tie keeps the default.

    A leg alone switches a whole kind of match off (BM25: a word only one chunk holds; the vector leg: a paraphrase),
    which a fusion's other weights do not. Before, `pick_guarded` alone gave a tie between the legs to the vector leg
    even where the default tied them as well: three written questions that every candidate found switched BM25 off
    for good. A margin of one standard error as well was tried and not kept: it kept the default on COVID-QA, where
    BM25 alone beat it by 1 question of 49 and is better by 0.07 on the gold questions (benchmarks/README.md, "The
    default kept unless a leg beats it"); the MIN_QUESTIONS floor is what keeps a handful of questions from choosing.
    """
    chosen = pick_guarded(ranks, z)
    if chosen.vector_weight and chosen.text_weight:
        return chosen
    return chosen if _gain(ranks[chosen], ranks[DEFAULT], 0.0) is not None else DEFAULT


def leg_cases(store: Store, embedder: Embedder, queries: Sequence[PseudoQuery]) -> list[Case]:
    """Each leg's top FETCH chunk ids per pseudo-query, with the chunks that count as its hit."""
    vectors = embedder.embed_queries([q.text for q in queries])
    cases: list[Case] = []
    for query, vector in zip(queries, vectors, strict=True):
        vector_hits = store.vector_search(vector, FETCH)
        text_hits = store.text_search(query.text, FETCH)
        gold = {query.chunk_id}
        if query.sentence:
            gold |= {c.chunk_id for c, _ in (*vector_hits, *text_hits) if query.sentence in c.text}
        cases.append(([c.chunk_id for c, _ in vector_hits], [c.chunk_id for c, _ in text_hits], gold))
    return cases


def choose_fusion(
    store: Store,
    embedder: Embedder,
    *,
    n_queries: int = N_QUERIES,
    seed: int = 0,
    queries: Sequence[PseudoQuery] | None = None,
) -> FusionChoice:
    """Measure every candidate on sentences cut out of this store's chunks and return `pick_keeping_default`'s choice.

    `queries`: questions written per chunk (a RAFT build's) instead, measured on the index itself.
    The cut is made in a scratch copy beside the store (localrag/fusion_cut.py), never in the index.
    Under MIN_CHUNKS chunks nothing is measured, under MIN_QUESTIONS questions nothing is chosen: the default stays,
    with a note saying why.
    """
    started = time.monotonic()
    total = store.chunk_count()
    source = WRITTEN if queries else PSEUDO
    queries = list(queries or [])
    cases: list[Case] = []
    # Written questions too: in a few dozen chunks every candidate finds nearly every chunk in its top 5 (before
    # 2026-12-07 three questions on 44 chunks, all found by all, switched BM25 off).
    if total >= MIN_CHUNKS and queries:
        cases = leg_cases(store, embedder, queries)
    elif total >= MIN_CHUNKS:
        from localrag.fusion_cut import cut_cases, sampled_chunks, scratch_copy

        chunks = sampled_chunks(store, seed)
        # A few times more chunks than queries leaves room for chunks without a usable sentence.
        sample = random.Random(seed).sample(chunks, min(len(chunks), 4 * n_queries))
        queries = pseudo_queries(sample, n_queries, seed, make=whole_sentence)
        if queries:
            with scratch_copy(store, embedder, chunks, queries) as copy:
                cases = cut_cases(copy, embedder, queries, {c.chunk_id: c.text for c in chunks}, FETCH)
    if not cases:
        # Text without spaces between words (Chinese, Japanese) holds no sentence of SENTENCE_WORDS words.
        note = (f"{total} chunks: too few to measure (from {MIN_CHUNKS} on)" if total < MIN_CHUNKS else
                f"no sentence of {SENTENCE_WORDS} or more words to cut out of the {total} chunks")
        return FusionChoice(DEFAULT, 0, total, chosen_at=time.strftime("%Y-%m-%dT%H:%M:%S"), source=source,
                            note=note)
    ranks = candidate_ranks(cases)
    scores = {fusion: hit_mrr(r) for fusion, r in ranks.items()}
    fusion, note = _choice_and_note(ranks, scores, f"{len(queries)} {source}")
    return FusionChoice(
        fusion=fusion,
        note=note,
        queries=len(queries),
        chunks=total,
        hit_at_5={f.label: round(s[0], 4) for f, s in scores.items()},
        mrr={f.label: round(s[1], 4) for f, s in scores.items()},
        chosen_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
        seconds=round(time.monotonic() - started, 2),
        source=source,
    )


def _choice_and_note(ranks: dict[Fusion, list[int | None]], scores: dict[Fusion, tuple[float, float]],
                     measured: str) -> tuple[Fusion, str]:
    """The fusion to keep, and why it is the default where it is ("" where it was measured to be best)."""
    n = len(ranks[DEFAULT])
    if not any(hit for hit, _ in scores.values()):
        # Near-identical documents, say: every candidate ties at 0, and the guarded pick's tie rule would switch
        # BM25 off on no evidence.
        return DEFAULT, f"none of the fusions found the chunk of any of the {measured} in its top {TOP}"
    if n < MIN_QUESTIONS:
        return DEFAULT, f"{measured}: too few to tell the fusions apart (from {MIN_QUESTIONS} on)"
    chosen = pick_keeping_default(ranks)
    leg = pick_guarded(ranks)
    if chosen == DEFAULT and leg != DEFAULT:
        return DEFAULT, (f"{leg.label} (hit@5 {scores[leg][0]:.2f}) does not beat it ({scores[DEFAULT][0]:.2f}) on "
                         f"the {measured}")
    return chosen, ""


def load_choice(store: Store) -> FusionChoice | None:
    text = store.get_meta(META_KEY)
    return FusionChoice.from_json(text) if text else None


def save_choice(store: Store, choice: FusionChoice) -> None:
    store.set_meta(META_KEY, choice.to_json())


def needs_choice(choice: FusionChoice | None, chunks: int) -> bool:
    """True when a choice was asked for and the index has since grown by REGROW (or first became big enough).

    An index with no choice keeps the default: a measured choice did not beat it (module doc).
    A choice made from written questions is kept until it is asked for again: no new ones exist.
    """
    if chunks < MIN_CHUNKS or choice is None or choice.source != PSEUDO:
        return False
    return not choice.queries or chunks >= REGROW * max(choice.chunks, 1)
