"""Entity linking and relation-path following over an in-memory adjacency index.

`GraphIndex.load(store)` reads the entities and triples tables once into dicts: `(entity, relation)
-> [(tail, source)]` and `entity -> {relations out of it}`. Following a 2-hop path is then a few
dict lookups instead of a LanceDB query per hop, which is what keeps path retrieval in the
milliseconds on a graph of a million triples. The caller (the engine) keeps the index and reloads it
when `GraphStore.version()` changes.

Linking goes from cheap and certain to costly and fuzzy: the question's word n-grams (longest first,
non-overlapping) are looked up among normalised entity names and aliases; only when nothing matches
are the n-grams embedded and compared with the entity-name vectors, keeping matches above a
threshold.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from localrag.graph.store import GraphStore, entity_vectors, normalise_entity

if TYPE_CHECKING:
    from localrag.embed import Embedder

_TOKEN = re.compile(r"[^\s]+")
_EDGE_PUNCT = "?!,;:\"'()[]{}"


@dataclass(frozen=True)
class LinkedEntity:
    entity_id: str
    name: str
    score: float
    how: str  # "exact", "alias" or "embedding"
    mention: str


@dataclass(frozen=True)
class Step:
    head: str
    relation: str
    tail: str
    source: str


@dataclass(frozen=True)
class ReasoningPath:
    """e0 -r1-> e1 -r2-> e2: the steps in order; each step keeps the triple's source."""

    steps: tuple[Step, ...]

    @property
    def start(self) -> str:
        return self.steps[0].head

    @property
    def end(self) -> str:
        return self.steps[-1].tail

    @property
    def relations(self) -> tuple[str, ...]:
        return tuple(s.relation for s in self.steps)

    def render(self, names: dict[str, str]) -> str:
        parts = [names.get(self.start, self.start)]
        for s in self.steps:
            parts.append(f"-> {s.relation} -> {names.get(s.tail, s.tail)}")
        return " ".join(parts)


def question_tokens(question: str) -> list[str]:
    """Normalised words of a question, edge punctuation stripped (entity names keep inner dots, dashes)."""
    out = []
    for raw in _TOKEN.findall(normalise_entity(question)):
        word = raw.strip(_EDGE_PUNCT)
        if word.endswith(".") and word.count(".") == 1:
            word = word[:-1]
        if word:
            out.append(word)
    return out


def _inverses(a: str, b: str) -> bool:
    return a != b and a.removesuffix("_inverse") == b.removesuffix("_inverse")


class GraphIndex:
    """The graph as dicts, built once; see the module docstring."""

    def __init__(
        self,
        names: dict[str, str],
        aliases: dict[str, str],
        vectors: np.ndarray,
        triples: Iterable[tuple[str, str, str, str]],
    ) -> None:
        self.names = names
        self.entity_ids = list(names)
        self.aliases = aliases
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.adjacency: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.out_relations: dict[str, set[str]] = {}
        count = 0
        for head, relation, tail, source in triples:
            self.adjacency.setdefault((head, relation), []).append((tail, source))
            self.out_relations.setdefault(head, set()).add(relation)
            count += 1
        self.n_triples = count
        self.relations = sorted({rel for _, rel in self.adjacency})
        self.max_ngram = max((len(e.split()) for e in [*names, *aliases]), default=1)

    @classmethod
    def load(cls, store: GraphStore) -> GraphIndex:
        entities = store.entity_rows()
        triples = store.triple_rows()
        ids = entities["entity_id"].to_pylist()
        names = dict(zip(ids, entities["name"].to_pylist(), strict=True))
        aliases = {
            alias: eid for eid, als in zip(ids, entities["aliases"].to_pylist(), strict=True) for alias in als or []
        }
        rows = zip(
            triples["head"].to_pylist(),
            triples["relation"].to_pylist(),
            triples["tail"].to_pylist(),
            triples["source"].to_pylist(),
            strict=True,
        )
        return cls(names, aliases, entity_vectors(entities), rows)

    # --- linking -------------------------------------------------------------------------------

    def link(
        self,
        question: str,
        embedder: Embedder | None = None,
        *,
        threshold: float = 0.75,
        limit: int = 3,
    ) -> list[LinkedEntity]:
        """The question's entities: exact/alias n-gram matches, else the nearest names by embedding."""
        tokens = question_tokens(question)
        found: list[LinkedEntity] = []
        used = [False] * len(tokens)
        for n in range(min(self.max_ngram, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                if any(used[i : i + n]):
                    continue
                mention = " ".join(tokens[i : i + n])
                if mention in self.names:
                    found.append(LinkedEntity(mention, self.names[mention], 1.0, "exact", mention))
                elif mention in self.aliases:
                    eid = self.aliases[mention]
                    found.append(LinkedEntity(eid, self.names[eid], 1.0, "alias", mention))
                else:
                    continue
                used[i : i + n] = [True] * n
        if found or embedder is None or not len(self.vectors):
            return found[:limit]
        return self._link_by_embedding(tokens, embedder, threshold, limit)

    def _link_by_embedding(
        self, tokens: Sequence[str], embedder: Embedder, threshold: float, limit: int
    ) -> list[LinkedEntity]:
        span = min(self.max_ngram, 4)
        mentions = sorted({" ".join(tokens[i : i + n]) for n in range(1, span + 1) for i in range(len(tokens) - n + 1)})
        if not mentions:
            return []
        sims = embedder.embed(mentions) @ self.vectors.T
        best: dict[str, LinkedEntity] = {}
        for row, col in zip(*np.nonzero(sims >= threshold), strict=True):
            eid = self.entity_ids[col]
            score = float(sims[row, col])
            if eid not in best or score > best[eid].score:
                best[eid] = LinkedEntity(eid, self.names[eid], score, "embedding", mentions[row])
        return sorted(best.values(), key=lambda e: -e.score)[:limit]

    # --- following -----------------------------------------------------------------------------

    def follow(
        self, starts: Sequence[str], relations: Sequence[str], *, max_paths: int = 50, max_fanout: int = 200
    ) -> list[ReasoningPath]:
        """Breadth-first along `relations` from each start; at most `max_paths` complete paths.

        `max_fanout` caps the tails taken per (entity, relation), so a hub entity cannot blow up
        the frontier; the bound on length is the length of `relations`.
        """
        if not relations:
            return []
        frontier: deque[tuple[Step, ...]] = deque()
        for start in starts:
            for tail, source in self.adjacency.get((start, relations[0]), [])[:max_fanout]:
                frontier.append((Step(start, relations[0], tail, source),))
        done: list[ReasoningPath] = []
        while frontier and len(done) < max_paths:
            steps = frontier.popleft()
            depth = len(steps)
            if depth == len(relations):
                done.append(ReasoningPath(steps))
                continue
            here, relation = steps[-1].tail, relations[depth]
            for tail, source in self.adjacency.get((here, relation), [])[:max_fanout]:
                frontier.append((*steps, Step(here, relation, tail, source)))
        return done

    def relation_sequences(self, starts: Sequence[str], max_hops: int = 2, limit: int = 2000) -> list[tuple[str, ...]]:
        """Every relation sequence of length 1..max_hops that can be followed from the starts."""
        seen: dict[tuple[str, ...], None] = {}
        layer: dict[tuple[str, ...], set[str]] = {(): set(starts)}
        for _ in range(max_hops):
            nxt: dict[tuple[str, ...], set[str]] = {}
            for prefix, ents in layer.items():
                for ent in ents:
                    for rel in self.out_relations.get(ent, ()):
                        seq = (*prefix, rel)
                        if prefix and _inverses(prefix[-1], rel):
                            continue  # going a relation and straight back along its inverse leads home
                        seen.setdefault(seq, None)
                        nxt.setdefault(seq, set()).update(t for t, _ in self.adjacency[(ent, rel)])
                        if len(seen) >= limit:
                            return list(seen)
            layer = nxt
        return list(seen)
