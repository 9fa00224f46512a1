"""Relations the vocabulary does not phrase: the joining words matched by meaning, and the object's kind.

The focused extraction (localrag/graph/focused.py) relates two names only through a vocabulary
phrasing the passage uses between them, so it is as good as the vocabulary: on WC2014 profiles
written after the vocabulary ("joined X", "on the books of X", "in the Spain squad") it kept a
quarter of the facts. `RelationMatcher` scores every relation of the vocabulary for a pair the
model related, with the bundled embedder and no training:
- words: the cosine between the words joining subject and object (for a number, with the words
  beside it: "26 years old") and the relation's phrasings (its name in words and its synonyms),
  the best of them; 1 for the relation whose phrasing the passage uses verbatim (the vocabulary's
  longest-phrase rule) and for those with a phrasing that holds that phrase ("plays for" is
  `plays_in_club`'s phrasing and part of the name `plays_for_country`);
- kind: the cosine between the object's name and what the relation lands on, the last word of its
  name when that names a kind of thing (`plays_for_country`: country), weighted by `KIND_WEIGHT`. So
  "plays for Spain" is `plays_for_country` and "plays for Ajax" `plays_in_club`; a tie goes to the
  verbatim phrasing's own. A relation whose name says nothing of its object (`located_in`, `manages`)
  is judged on its words alone: its kind term is the one that brings a verbatim phrasing (words 1) to
  the threshold, so its phrasing found verbatim passes and its meaning alone does not. (Before
  2026-12-07 it got the mean kind of the relations that say theirs, so "Budget 2027 was written by Alice
  Chen" kept created_by or not by how close "Alice Chen" reads to has_part's "part", and a vocabulary
  none of whose names says a kind scored every pair below the threshold and kept nothing.)
The best relation is kept when its score reaches the threshold, else the pair gets no triple; the
relation whose own phrasing the words hold verbatim counts at least the threshold, so when it is the
best it is kept, however its object's name reads.
`KIND_WEIGHT` and `THRESHOLD` were chosen on the first WC2014 profile templates only and then run
once on two held-out template sets (benchmarks/README.md, "Graph mode, fifth round").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from localrag.graph.align import FUNCTION_WORDS
from localrag.graph.triples import normalise_relation

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.graph.vocabulary import RelationVocabulary

# Chosen on the first profile templates only, by the rule "most triple recall at precision >= 0.75, then the
# smallest kind weight, then the highest threshold" over thresholds 0.5-2.0 and kind weights 0-4
# (benchmarks/README.md, "Graph mode, fifth round"): the kind outweighs the words, as the vocabulary's "plays for"
# otherwise takes every "for".
KIND_WEIGHT = 3.0
THRESHOLD = 1.6


def relation_kind(relation: str) -> str:
    """What a relation's name says its object is: the last word of a name of two or more words, unless a
    function word ("is_in_country": country; "located_in", "date": nothing said, as a one-word name may be a verb)."""
    parts = relation.split("_")
    return parts[-1] if len(parts) > 1 and parts[-1] not in FUNCTION_WORDS else ""


class RelationMatcher:
    """The vocabulary relation a passage's joining words mean, by embedding similarity (the module docstring)."""

    def __init__(
        self,
        embedder: Embedder,
        vocabulary: RelationVocabulary,
        *,
        threshold: float = THRESHOLD,
        kind_weight: float = KIND_WEIGHT,
    ) -> None:
        self.embedder = embedder
        self.vocabulary = vocabulary
        self.threshold = threshold
        self.kind_weight = kind_weight
        self.relations = [r for r in vocabulary.names if r != vocabulary.fallback]
        self._cache: dict[str, np.ndarray] = {}
        phrasings = [(r, p) for r in self.relations for p in dict.fromkeys(_phrasings(r, vocabulary))]
        self._owner = np.array([self.relations.index(r) for r, _ in phrasings])
        self._phrasing_vectors = self._encode([p for _, p in phrasings])
        kinds = [relation_kind(r) for r in self.relations]
        self._kinded = np.array([bool(k) for k in kinds])
        self._kind_vectors = self._encode([k or r for k, r in zip(kinds, self.relations, strict=True)])
        # A relation that names no kind is judged on its words: this kind brings words of 1 (a verbatim phrasing) to
        # the threshold and no further (the module docstring).
        self._unkinded_kind = (threshold - 1.0) / kind_weight if kind_weight else 0.0

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, np.asarray(self.embedder.embed(missing), dtype=np.float32), strict=True))
        return np.stack([self._cache[t] for t in texts])

    def scores(self, words: Sequence[str], obj: str, verbatim: Sequence[str] = ()) -> dict[str, float]:
        """Each relation's score for `obj` joined to its subject by `words`; `verbatim`: the relations whose
        phrasing the words hold (`RelationVocabulary.worded_by`), which count 1 for the words."""
        if not self.relations or not words:
            return {}
        joined, thing = self._encode([" ".join(words), obj])
        best = np.full(len(self.relations), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, self._phrasing_vectors @ joined)
        for relation in verbatim:
            if relation in self.relations:
                best[self.relations.index(relation)] = 1.0
        kind = self._kind_vectors @ thing
        kind[~self._kinded] = self._unkinded_kind
        total = best + self.kind_weight * kind
        own = verbatim[0] if verbatim else None
        if own in self.relations:
            # Its own phrasing, written out: a pass, though the kind may still make another relation the best.
            at = self.relations.index(own)
            total[at] = max(total[at], self.threshold)
        return {r: float(s) for r, s in zip(self.relations, total, strict=True)}

    def match(self, words: Sequence[str], obj: str, verbatim: Sequence[str] = ()) -> str | None:
        """The best-scoring relation when it reaches the threshold, else None; a tie goes to the first of `verbatim`."""
        scores = self.scores(words, obj, verbatim)
        if not scores:
            return None
        top = max(scores.values())
        relation = next((r for r in verbatim if scores.get(r, -np.inf) >= top), max(scores, key=scores.__getitem__))
        return relation if scores[relation] >= self.threshold else None


def _phrasings(relation: str, vocabulary: RelationVocabulary) -> list[str]:
    synonyms = next((s for name, s in vocabulary.canonical.items() if normalise_relation(name) == relation), ())
    return [relation.replace("_", " "), *(" ".join(s.lower().split()) for s in synonyms if s.strip())]
