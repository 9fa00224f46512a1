"""Aligning a relation path with the question's words: which relations it asks for, in which order, how many.

A question names the hops of its path one after another, reading outwards from the entity it is
about: in "a player from the country where the club of X is" the word nearest X ("club") names the
first hop, "country" the second, "player" the third. So the question's cue words (its words less
the entity mentions and function words) are put in order of their distance from the nearest
mention, and a path of n relations is aligned with them monotonically: the nearest words go to the
first relation, each relation gets at least one word, and the words go to relations in order.
The path's alignment score is the best such assignment's mean word-relation similarity (BERTScore
style, but one-to-one in order): every cue word must be explained by some relation (a relation
missing from the path leaves its words to a relation that does not fit them), and every relation
must explain some word (a relation the question does not ask for takes words from one that fits
them better), which decides the path's length as well as its relations and their order.

A cue word whose stem three or more of the graph's relation names share, at least half of them
("play" on WC2014, in
plays_in_club, plays_for_country and plays_position) tells none of them apart, yet MiniLM finds it
nearest one of them ("play" to plays_position): it is given the same similarity to every hop (its
mean over the graph's relations), so it still holds its place in the order but chooses nothing.

Each hop is described by its relation's words and by what it lands on: a relation's name says
what its tail is (`plays_in_club` lands on a club), but an inverse relation lands on the inverted
relation's heads, which its name does not say (`is_in_country_inverse` lands on clubs). Those are
named by the graph itself: the forward relation whose tails hold most (at least half) of them
(`plays_in_club`). A word's similarity to a hop is the mean of its similarities to the two
descriptions (one description when they are the same).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from localrag.graph.paths import GraphIndex, LinkedEntity, question_tokens

INVERSE = "_inverse"
# Words that say nothing about which relation is meant. Question words that do ("where" asks for a
# place, "who" for a person, "when" for a time) are not among them.
FUNCTION_WORDS = frozenset(
    "a an the of in at for from to on by with as into about and or but not no is are was were be been being "
    "do does did has have had will would can could should may might must shall this that these those it its "
    "which what whose whom name give tell list show me my i you your we our they their he his she her "
    "there here than then so such any all some each every one s".split()
)
# A hop lands on the named relation's tails only when they hold at least this share of its entities.
LANDING_SHARE = 0.5


def cue_words(question: str, linked: Sequence[LinkedEntity]) -> list[str]:
    """The question's content words in order of distance from the nearest entity mention (ties: left first)."""
    tokens = [t.removesuffix("'s").removesuffix("'") for t in question_tokens(question)]  # "X's club": X, club
    mentions = [m.split() for m in dict.fromkeys(e.mention for e in linked) if m]
    words: list[str] = []  # the question's words, each mention as one empty word
    marks: list[int] = []  # where the mentions are
    i = 0
    while i < len(tokens):
        hit = next((m for m in mentions if tokens[i : i + len(m)] == m), None)
        if hit is not None:
            marks.append(len(words))
        words.append("" if hit is not None else tokens[i])
        i += len(hit) if hit is not None else 1
    cues = [(pos, w) for pos, w in enumerate(words) if w not in FUNCTION_WORDS and any(c.isalpha() for c in w)]
    if not marks:
        return [w for _, w in cues]
    return [w for _, w in sorted(cues, key=lambda c: (min(abs(c[0] - m) for m in marks), c[0]))]


def shared_stems(relations: Sequence[str]) -> set[str]:
    """Word stems that three or more relation names share, at least half of them (the module docstring)."""
    bases = {relation_words(r) for r in relations}
    counts: dict[str, int] = {}
    for base in bases:
        for word in {stem(w) for w in base.split()}:
            counts[word] = counts.get(word, 0) + 1
    return {word for word, n in counts.items() if n >= 3 and 2 * n >= len(bases)}


def stem(word: str) -> str:
    """`word` less an -ing, -ed or -s ending ("playing", "played", "plays": play; "player" stays)."""
    for ending in ("ing", "ed", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 3 and not word.endswith("ss"):
            return word[: -len(ending)]
    return word


def relation_words(relation: str) -> str:
    return relation.removesuffix(INVERSE).replace("_", " ")


class Landings:
    """Which forward relation's name says what each relation of one graph lands on (see the module docstring)."""

    def __init__(self, index: GraphIndex) -> None:
        self.index = index
        self._cache: dict[str, str] = {}
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None

    def _relation_tails(self) -> tuple[np.ndarray, np.ndarray]:
        """(relation, tail) of every distinct pair, as two arrays: one sort of the graph, made on first need."""
        if self._pairs is None:
            cols = self.index.columns
            width = max(len(cols.entity_ids), 1)
            pairs = np.unique(cols.rel.astype(np.int64) * width + cols.tail)
            self._pairs = (pairs // width, pairs % width)
        return self._pairs

    def of(self, relation: str) -> str:
        if relation not in self._cache:
            self._cache[relation] = self._find(relation)
        return self._cache[relation]

    def _find(self, relation: str) -> str:
        cols = self.index.columns
        rel = cols.relation_id(relation)
        if not relation.endswith(INVERSE) or rel is None:
            return relation
        pair_rel, pair_tail = self._relation_tails()
        tails = pair_tail[pair_rel == rel]
        shares = np.bincount(pair_rel[np.isin(pair_tail, tails)], minlength=len(cols.relations)) / max(len(tails), 1)
        forward = relation.removesuffix(INVERSE)
        for other_id in np.argsort(-shares, kind="stable").tolist():
            other = cols.relations[other_id]
            if shares[other_id] < LANDING_SHARE:
                break
            if not other.endswith(INVERSE) and other != forward:
                return other
        return relation


def alignment_scores(sims: np.ndarray) -> np.ndarray:
    """Best monotone alignment of cue words with each path's relations, as a mean similarity.

    `sims` is (paths, words, relations): the similarity of each cue word (nearest the entity first)
    with each relation of each path, all paths of one length. A path with more relations than the
    question has cue words scores 0.
    """
    n_paths, n_words, n_rel = sims.shape
    if n_words < n_rel or not n_words:
        return np.zeros(n_paths, dtype=np.float32)
    best = np.full((n_paths, n_rel), -np.inf, dtype=np.float64)
    best[:, 0] = sims[:, 0, 0]
    for word in range(1, n_words):
        moved = np.concatenate([np.full((n_paths, 1), -np.inf), best[:, :-1]], axis=1)
        best = np.maximum(best, moved) + sims[:, word, :]
    return (best[:, -1] / n_words).astype(np.float32)
