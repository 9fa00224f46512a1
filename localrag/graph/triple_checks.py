"""The checks a small model's proposed triples go through before they reach the graph.

A 135M model invents names, copies Markdown and articles into them and spells one entity several ways:
`check_triples` cleans each name (`clean_entity`), maps the relation onto the vocabulary and drops a
triple whose subject or object the chunk does not contain (`occurs_in`); `EntityMerger` then maps each
kept name onto the entity it means. Used by localrag/graph/extract.py for both extraction methods.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from localrag.graph.store import GraphStore, entity_vectors
from localrag.graph.triples import normalise_entity
from localrag.graph.vocabulary import RelationVocabulary
from localrag.types import Chunk

if TYPE_CHECKING:
    from localrag.embed import Embedder

_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_EDGE = " \t\n.,;:!?\"'`()[]{}*_#"
_WORDS = re.compile(r"[a-z0-9]+")


def clean_entity(name: str) -> str:
    """The surface name to store: edge punctuation, Markdown emphasis and a leading article removed."""
    text = " ".join(name.replace("*", "").replace("`", "").split()).strip(_EDGE)
    text = _ARTICLE.sub("", text).strip(_EDGE)
    return text


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def occurs_in(name: str, text: str, *, cutoff: float = 0.8) -> bool:
    """Whether `name` appears in `text` allowing case, punctuation, plurals and small misspellings.

    Exact word-sequence containment first; otherwise every word of the name must closely match
    some word of the text (difflib ratio >= cutoff, or a shared 5-letter stem).
    """
    target = _words(name)
    if not target:
        return False
    words = _words(text)
    if " ".join(target) in " ".join(words):
        return True
    vocab = set(words)
    for word in target:
        if word in vocab:
            continue
        if len(word) >= 5 and any(w[:5] == word[:5] for w in vocab):
            continue
        if not difflib.get_close_matches(word, vocab, n=1, cutoff=cutoff):
            return False
    return True


class EntityMerger:
    """Maps a cleaned name to the entity it means: same normalised name or alias, else a close embedding of a name
    with the same numbers.

    Seeded with the graph's entities, it grows as the build meets new names, so two spellings met in
    the same build merge too. `aliases` collects canonical surface -> other surfaces for the store.
    """

    def __init__(self, embedder: Embedder, threshold: float = 0.9) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._surface: dict[str, str] = {}
        self._ids: list[str] = []
        self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        self.aliases: dict[str, set[str]] = {}
        self.merged = 0

    def seed(self, graph: GraphStore) -> None:
        rows = graph.entity_rows()
        ids = rows["entity_id"].to_pylist()
        for eid, name, aliases in zip(ids, rows["name"].to_pylist(), rows["aliases"].to_pylist(), strict=True):
            self._surface[eid] = name
            for alias in aliases or []:
                self._surface.setdefault(alias, name)
        self._ids = list(ids)
        self._vectors = entity_vectors(rows) if ids else self._vectors

    def resolve(self, names: Iterable[str]) -> dict[str, str]:
        """Cleaned name -> the surface name of the entity it merges into (itself when new)."""
        out: dict[str, str] = {}
        pending: list[str] = []
        for name in dict.fromkeys(names):
            key = normalise_entity(name)
            if key in self._surface:
                out[name] = self._surface[key]
            else:
                pending.append(name)
        if not pending:
            return out
        vectors = np.asarray(self.embedder.embed(pending), dtype=np.float32)
        for name, vector in zip(pending, vectors, strict=True):
            key = normalise_entity(name)
            if key in self._surface:  # an earlier name of this same batch
                out[name] = self._surface[key]
                continue
            if len(self._ids):
                sims = self._vectors @ vector
                # Names that differ in a number name different things however alike they read ("Apollo 11" and
                # "Apollo 12", "Born 27" and "Born 28"): a vector barely moves with a digit.
                digits = _digits(name)
                sims[[_digits(self._surface[i]) != digits for i in self._ids]] = -np.inf
                best = int(np.argmax(sims))
                if sims[best] >= self.threshold:
                    canonical = self._surface[self._ids[best]]
                    self._surface[key] = canonical
                    self.aliases.setdefault(canonical, set()).add(name)
                    self.merged += 1
                    out[name] = canonical
                    continue
            self._surface[key] = name
            self._ids.append(key)
            self._vectors = np.vstack([self._vectors, vector[None, :]])
            out[name] = name
        return out


def _digits(name: str) -> list[str]:
    return re.findall(r"\d+", name)


def check_triples(
    raw: Sequence[Mapping[str, str]], chunk: Chunk, vocabulary: RelationVocabulary
) -> tuple[list[tuple[str, str, str]], Counter[str]]:
    """Clean, map and verify proposed triples against the chunk text; returns kept triples and drops."""
    dropped: Counter[str] = Counter()
    kept: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for item in raw:
        subject, obj = clean_entity(item["subject"]), clean_entity(item["object"])
        relation = vocabulary.map(item["relation"])
        if not subject or not obj:
            dropped["empty name"] += 1
        elif normalise_entity(subject) == normalise_entity(obj):
            dropped["subject is the object"] += 1
        elif relation is None:
            dropped["relation not in vocabulary"] += 1
        elif not occurs_in(subject, chunk.text):
            dropped["subject not in chunk"] += 1
        elif not occurs_in(obj, chunk.text):
            dropped["object not in chunk"] += 1
        elif (normalise_entity(subject), relation, normalise_entity(obj)) in seen:
            dropped["duplicate"] += 1
        else:
            seen.add((normalise_entity(subject), relation, normalise_entity(obj)))
            kept.append((subject, relation, obj))
    return kept, dropped
