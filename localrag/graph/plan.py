"""Relation-path planning: which relations, in which order, lead from the question's entity to the answer.

Two planners, each tagging the paths it returns with its name:

- `GrammarPlanner` asks the GGUF model, held to a GBNF grammar whose alternatives are relation
  paths the graph can follow. With linked entities the alternatives are the exact relation
  sequences reachable from them (`GraphIndex.relation_sequences`); without, any sequence of 1 to
  `max_hops` of the graph's relation names. Top-k is greedy decoding without replacement: after
  each answer that path is removed from the grammar and the model is asked again, so k calls give
  the model's k preferred distinct paths, deterministically (sampling with llama.cpp's fixed seed
  would repeat itself). Given a `ranker` (an EmbeddingPlanner, as the engine and `eval --format
  kgqa` give it), the alternatives are the ranker's best `offer` paths instead of every reachable
  sequence: the word alignment prunes what the model may choose, and the grammar stays small
  when an entity reaches hundreds of three-hop sequences.
- `EmbeddingPlanner` needs no generator. A relation sequence's score is its alignment with the
  question's cue words (`align`: words in order of distance from the entity mention, assigned in
  order to the sequence's relations, which decides the relations, their order and the length)
  plus SENTENCE_WEIGHT times the cosine similarity of the verbalised sequence
  (("plays_in_club", "is_in_country") -> "plays in club is in country") with the question, the
  entity mentions taken out (they say who the question is about, not which relations it asks
  for). `aligned=False` keeps the similarity alone (the planner before alignment, for
  benchmarks). Sequences are grown by beam search, one hop at a time, only along relations the
  graph has from the entities reached so far (at most `max_entities` of them per sequence): every
  relation out of the beam is scored, and the `beam` best sequences of this length are the only
  ones extended. A sequence that scores no better than its own prefix (a relation that adds
  nothing the question asks for) is ranked after every sequence that does; within each group,
  sequences of all lengths are ranked together by score, so `max_hops` (1 to MAX_HOPS) only
  bounds the search. A sequence scoring under `floor` is not planned: the question asks for
  something no relation path says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from localrag.graph.align import Landings, alignment_scores, cue_words, relation_words, shared_stems, stem
from localrag.graph.paths import GraphIndex, LinkedEntity, question_tokens

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.generate import Generator

SEPARATOR = " -> "
MAX_HOPS = 4
# Weight of the whole-path similarity beside the word alignment: it settles what the alignment
# cannot see, e.g. two relations that fit a question's words equally well. Chosen among 0, 0.1,
# 0.25, 0.5 and 1 on WC-P2 and the three-hop set (benchmarks/README.md, "Aligning relations").
SENTENCE_WEIGHT = 0.25
# The least score of a relation path that answers: below it the question asks for something the graph's
# relations do not say ("What is Maria Lopez's favourite food?" scored 0.218 for manages -> manages -> wrote).
# Measured with the bundled MiniLM: seventeen off-topic questions about known entities (WC2014 players, a
# tester's notes) scored 0.18 to 0.37; the paths that answered WC2014's KGQA questions right 0.385 and up,
# one of 4,280 under 0.4. Not every off-topic question falls under it: "Who taught Alice Chen to cook?" scores
# 0.44 (`wrote`; benchmarks/README.md, "a path never steps straight back"). Another embedder has other
# similarities: the floor is MiniLM's.
FLOOR = 0.4
# How many relation paths the grammar planner offers the model when it has a ranker (the embedding
# planner): its best ones, so the grammar stays small and the choice is among paths that fit the question.
OFFER = 5


@dataclass(frozen=True)
class PlannedPath:
    relations: tuple[str, ...]
    score: float
    planner: str  # "grammar" or "embedding"


class Planner(Protocol):
    name: str

    def plan(
        self, question: str, index: GraphIndex, linked: Sequence[LinkedEntity], k: int = 3
    ) -> list[PlannedPath]: ...


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def relation_path_grammar(relations: Sequence[str], max_hops: int = 2) -> str:
    """GBNF for any path of 1..max_hops relations from `relations`, joined by ' -> '."""
    if not relations or max_hops < 1:
        raise ValueError("a relation-path grammar needs at least one relation and one hop")
    body = "rel" + f" ({_literal(SEPARATOR)} rel" * (max_hops - 1) + ")?" * (max_hops - 1)
    rel = " | ".join(_literal(r) for r in sorted(set(relations)))
    return f"root ::= {body}\nrel ::= {rel}\n"


def path_choice_grammar(paths: Sequence[Sequence[str]]) -> str:
    """GBNF whose alternatives are exactly these relation paths."""
    if not paths:
        raise ValueError("a path-choice grammar needs at least one path")
    alternatives = " | ".join(_literal(SEPARATOR.join(p)) for p in dict.fromkeys(tuple(p) for p in paths))
    return f"root ::= {alternatives}\n"


def parse_path(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.strip().split(SEPARATOR.strip()) if part.strip())


def verbalise(relations: Sequence[str]) -> str:
    return " ".join(r.replace("_", " ") for r in relations)


def strip_mentions(question: str, linked: Sequence[LinkedEntity]) -> str:
    text = " ".join(question_tokens(question))
    for entity in linked:
        text = text.replace(entity.mention, " ")
    return " ".join(text.split())


PLAN_SYSTEM = (
    "You plan how to answer questions over a knowledge graph. Given a question and the relations the "
    "graph has, write the sequence of relations that leads from the entity named in the question to "
    "the answer, joined by ' -> '."
)


def plan_messages(question: str, relations: Sequence[str], linked: Sequence[LinkedEntity]) -> list[dict[str, str]]:
    names = ", ".join(e.name for e in linked) or "unknown"
    user = (
        f"Relations: {', '.join(sorted(set(relations)))}\n"
        f"Entity in the question: {names}\n"
        f"Question: {question}\n"
        "Relation path:"
    )
    return [{"role": "system", "content": PLAN_SYSTEM}, {"role": "user", "content": user}]


def _check_hops(max_hops: int) -> int:
    if not 1 <= max_hops <= MAX_HOPS:
        raise ValueError(f"max_hops must be 1 to {MAX_HOPS}, not {max_hops}")
    return max_hops


class EmbeddingPlanner:
    name = "embedding"

    def __init__(
        self,
        embedder: Embedder,
        max_hops: int = 3,
        *,
        beam: int = 8,
        max_entities: int = 2000,
        margin: float = 0.0,
        aligned: bool = True,
        floor: float = FLOOR,
    ) -> None:
        self.embedder = embedder
        self.max_hops = _check_hops(max_hops)
        self.beam = beam
        self.max_entities = max_entities
        self.margin = margin
        self.aligned = aligned
        self.floor = floor
        self._cache: dict[str, np.ndarray] = {}
        self._landings: Landings | None = None

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self._cache[t] for t in texts])

    def _hop_similarities(
        self, index: GraphIndex, relations: Sequence[str], cues: np.ndarray, flat: np.ndarray
    ) -> np.ndarray:
        """(cue words, relations): each word's similarity to each relation as a hop (its words and its landing);
        the `flat` words' the same for every relation."""
        if self._landings is None or self._landings.index is not index:
            self._landings = Landings(index)
        landings = self._landings
        own = cues @ self._encode([relation_words(r) for r in relations]).T
        landed = cues @ self._encode([relation_words(landings.of(r)) for r in relations]).T
        hops = (own + landed) / 2
        if flat.any():  # words the relation names share fit every hop alike (localrag.graph.align)
            every = cues[flat] @ self._encode(sorted({relation_words(r) for r in index.relations})).T
            hops[flat] = every.mean(axis=1, keepdims=True)
        return hops

    def _scores(
        self,
        index: GraphIndex,
        sequences: Sequence[tuple[str, ...]],
        query: np.ndarray,
        cues: np.ndarray,
        flat: np.ndarray,
    ) -> np.ndarray:
        """Each sequence's score (all of one length): word alignment plus the weighted whole-path similarity."""
        whole = self._encode([verbalise(s) for s in sequences]) @ query
        if not self.aligned:
            return whole
        relations = sorted({r for s in sequences for r in s})
        column = {r: i for i, r in enumerate(relations)}
        hops = self._hop_similarities(index, relations, cues, flat)
        sims = np.stack([hops[:, [column[r] for r in s]] for s in sequences])
        return alignment_scores(sims) + SENTENCE_WEIGHT * whole

    def plan(self, question: str, index: GraphIndex, linked: Sequence[LinkedEntity], k: int = 3) -> list[PlannedPath]:
        starts = index.reach([e.entity_id for e in linked])
        if not len(starts):
            return []
        cues = cue_words(question, linked) if self.aligned else []
        shared = shared_stems(index.relations)
        flat = np.array([stem(w) in shared for w in cues], dtype=bool)
        vectors = self._encode([strip_mentions(question, linked) or question, *cues])
        query, cue_vectors = vectors[0], vectors[1:]
        scores: dict[tuple[str, ...], float] = {}
        layer: list[tuple[tuple[str, ...], np.ndarray]] = [((), starts)]
        for hop in range(self.max_hops):
            onward = hop < self.max_hops - 1
            grown = [
                ext
                for prefix, ents in layer
                for ext in index.extend(prefix, ents, onward=onward, max_entities=self.max_entities)
            ]
            if not grown:
                break
            sims = self._scores(index, [seq for seq, _ in grown], query, cue_vectors, flat)
            for (seq, _), sim in zip(grown, sims, strict=True):
                scores[seq] = float(sim)
            best = np.argsort(-sims, kind="stable")[: self.beam]
            layer = [grown[i] for i in best]
        # A path that matches the question no better than its own prefix comes after every path that does.
        adds = {seq: len(seq) == 1 or score > scores[seq[:-1]] + self.margin for seq, score in scores.items()}
        answering = (seq for seq in scores if scores[seq] >= self.floor)
        ranked = sorted(answering, key=lambda seq: (not adds[seq], -scores[seq]))
        return [PlannedPath(seq, scores[seq], self.name) for seq in ranked[:k]]


class GrammarPlanner:
    name = "grammar"

    def __init__(
        self,
        generator: Generator,
        max_hops: int = 3,
        max_tokens: int = 48,
        *,
        ranker: EmbeddingPlanner | None = None,
        offer: int = OFFER,
    ) -> None:
        self.generator = generator
        self.max_hops = _check_hops(max_hops)
        self.max_tokens = max_tokens
        self.ranker = ranker
        self.offer = offer

    def candidates(self, question: str, index: GraphIndex, linked: Sequence[LinkedEntity]) -> list[tuple[str, ...]]:
        """The relation paths the model may choose among: the ranker's best `offer`, else every reachable one."""
        if not linked:
            return []
        if self.ranker is not None:
            return [p.relations for p in self.ranker.plan(question, index, linked, k=self.offer)]
        return index.relation_sequences([e.entity_id for e in linked], self.max_hops)

    def plan(self, question: str, index: GraphIndex, linked: Sequence[LinkedEntity], k: int = 3) -> list[PlannedPath]:
        candidates = self.candidates(question, index, linked)
        if self.ranker is not None and not candidates:
            return []  # no path the ranker would answer by (below its floor): the model may not pick any other
        relations = sorted({r for seq in candidates for r in seq}) if candidates else index.relations
        if not relations:
            return []
        messages = plan_messages(question, relations, linked)
        remaining = list(candidates)
        planned: list[PlannedPath] = []
        for rank in range(k):
            if candidates and not remaining:
                break
            grammar = path_choice_grammar(remaining) if candidates else relation_path_grammar(relations, self.max_hops)
            text = self.generator.complete(messages, max_tokens=self.max_tokens, temperature=0.0, grammar=grammar)
            path = parse_path(text)
            if not path or any(p.relations == path for p in planned):
                break
            planned.append(PlannedPath(path, 1.0 / (rank + 1), self.name))
            if not candidates:
                break  # without an explicit list a path cannot be taken out of the grammar
            remaining = [seq for seq in remaining if seq != path]
        return planned
