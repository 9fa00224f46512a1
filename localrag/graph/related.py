"""Entities related to given ones, each with the concrete graph paths that connect them.

Two entities are linked when they share a neighbour through the same relation in the same
direction: `X -> directed_by -> D <- directed_by <- Y` (both point at D) or
`X <- member_of <- G -> member_of -> Y` (D points at both). Each shared (relation, neighbour)
adds `1 / log2(1 + degree)` to Y's score, where `degree` is how many entities share that
neighbour through that relation (X included): a director of two films says more than a country
of seven hundred players, so hubs do not dominate, and no weight is learned. A relation and its
`*_inverse` state one fact, so they count once. Neighbours shared by more than `max_degree`
entities are skipped (they say little and cost much). Several seeds ("because you liked A and
B") add up; `relations` restricts which relations count.

`scoring="pagerank"` (`localrag related --score pagerank`) ranks the same entities, each still with
its shared neighbours as the paths that explain it, by personalized PageRank instead: a random
walk over the triples in both directions (only the counted relations) that jumps back to a seed
with probability `RESTART` at each step, `ITERATIONS` steps; an entity's score is the walk's share
of time on it, so what is near the seeds through many specific paths, at any length, ranks first.
Measured on WC2014 (benchmarks/README.md, "Graph mode, sixth round"): recovering held-out clubs,
hit@10 0.540 against the shared-neighbour score's 0.360 with every relation counted (paired
+0.180 [+0.125, +0.240]); with `plays_for_country` only, both rank alike. Not the default yet: the score
has no simple reading for a user ("shared neighbours, each ...") and the chat app shows the default.

`question_related` answers questions that ask for such entities ("what else is like Big?", "films
like Big and Cast Away", "because I liked Big"): a cue ("like", "similar to", "liked", ...) directly
followed by entity mentions (as the graph links them) joined by "and", "or" or commas, articles
allowed; those entities are the seeds. A cue followed by anything else ("what is Big like?", "I would like to
know") is no such question.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from localrag.errors import LocalRagError
from localrag.graph.paths import GraphIndex, LinkedEntity, Step, question_tokens
from localrag.graph.scorings import SCORINGS
from localrag.graph.triples import normalise_entity, normalise_relation

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.types import Chunk


@dataclass(frozen=True)
class SharedLink:
    """seed and other joined at `via`: `seed_step` and `other_step` are the two triples, as stored."""

    seed_step: Step
    other_step: Step
    via: str
    pointing_at_via: bool  # True: seed -> r -> via <- r <- other; False: seed <- r <- via -> r -> other
    weight: float

    def render(self, names: Mapping[str, str]) -> str:
        get = names.get
        seed = self.seed_step.head if self.pointing_at_via else self.seed_step.tail
        other = self.other_step.head if self.pointing_at_via else self.other_step.tail
        r = self.seed_step.relation
        arrow = f"-> {r} -> {{}} <- {r} <-" if self.pointing_at_via else f"<- {r} <- {{}} -> {r} ->"
        return f"{get(seed, seed)} {arrow.format(get(self.via, self.via))} {get(other, other)}"


@dataclass
class RelatedEntity:
    entity_id: str
    name: str
    score: float
    links: list[SharedLink] = field(default_factory=list)


def _base(relation: str) -> str:
    return relation.removesuffix("_inverse")


# The usual restart probability of personalized PageRank and enough steps for it to settle; not tuned.
RESTART = 0.15
ITERATIONS = 30


def pagerank(index: GraphIndex, seeds: Sequence[int], relations: set[str] | None = None) -> np.ndarray:
    """Personalized PageRank mass per entity position from `seeds` (positions), over the triples both ways."""
    cols = index.columns
    keep = np.ones(len(cols.rel), dtype=bool)
    if relations is not None:
        wanted = [i for i, r in enumerate(index.relations) if _base(r) in relations]
        keep = np.isin(cols.rel, wanted)
    src = np.concatenate([cols.head[keep], cols.tail[keep]]).astype(np.int64)
    dst = np.concatenate([cols.tail[keep], cols.head[keep]]).astype(np.int64)
    n = len(index.entity_ids)
    degree = np.maximum(np.bincount(src, minlength=n), 1).astype(np.float64)
    start = np.zeros(n)
    start[list(seeds)] = 1.0 / len(seeds)
    mass = start.copy()
    for _ in range(ITERATIONS):
        mass = RESTART * start + (1 - RESTART) * np.bincount(dst, weights=mass[src] / degree[src], minlength=n)
    return mass


def related_entities(
    index: GraphIndex,
    seeds: Sequence[str],
    *,
    relations: Sequence[str] | None = None,
    k: int = 10,
    max_degree: int = 5000,
    scoring: str = "shared",
) -> list[RelatedEntity]:
    """The `k` entities that share the most specific neighbours with the seeds (entity ids), best first;
    `scoring="pagerank"`: the entities sharing a neighbour, ranked by personalized PageRank (module docstring)."""
    cols = index.columns
    seed_pos = {cols.position[s] for s in seeds if s in cols.position}
    wanted = None if relations is None else {_base(r) for r in relations}
    found: dict[int, RelatedEntity] = {}
    counted: set[tuple[int, int, str]] = set()  # (other, via, base relation): one fact counts once
    for seed in sorted(seed_pos):
        for pointing in (True, False):
            ends = cols.edges(np.asarray([seed]), incoming=not pointing)
            for edge in (cols.out_edge if pointing else cols.in_edge)[ends].tolist():
                relation = index.relations[cols.rel[edge]]
                if wanted is not None and _base(relation) not in wanted:
                    continue
                via = int(cols.tail[edge] if pointing else cols.head[edge])
                back = cols.edges(np.asarray([via]), int(cols.rel[edge]), incoming=pointing)
                others = (cols.in_edge if pointing else cols.out_edge)[back]
                # Entities, not triples: one fact from two sources (built and imported) is one entity sharing it.
                sharing = len(np.unique((cols.head if pointing else cols.tail)[others]))
                if sharing < 2 or sharing > max_degree:
                    continue
                weight = 1.0 / math.log2(1 + sharing)
                for other_edge in others.tolist():
                    other = int(cols.head[other_edge] if pointing else cols.tail[other_edge])
                    key = (other, via, _base(relation))
                    if other in seed_pos or key in counted:
                        continue
                    counted.add(key)
                    entry = found.get(other)
                    if entry is None:
                        eid = index.entity_ids[other]
                        entry = found[other] = RelatedEntity(eid, index.names[eid], 0.0)
                    entry.score += weight
                    entry.links.append(
                        SharedLink(index.step(edge), index.step(other_edge), index.entity_ids[via], pointing, weight)
                    )
    if scoring == "pagerank" and found:
        mass = pagerank(index, sorted(seed_pos), wanted)
        for position, entry in found.items():
            entry.score = float(mass[position])
    ranked = sorted(found.values(), key=lambda e: (-e.score, e.entity_id))[:k]
    for entry in ranked:
        entry.links.sort(key=lambda link: -link.weight)
    return ranked


class RelatedError(LocalRagError):
    title = "Cannot find related entities"


@dataclass
class RelatedResult:
    seeds: list[LinkedEntity]
    relations: list[str] | None
    related: list[RelatedEntity]
    scoring: str = "shared"
    # What a user should know of how the names were read: a name given that is no entity, the one taken for it and
    # the others holding its words ("'Pixel' is not an entity of the graph: took Pixel 8; also: Pixel Buds").
    notes: list[str] = field(default_factory=list)

    def steps(self) -> list[Step]:
        """Both steps of every joining path, for looking up their sources."""
        return [s for r in self.related for link in r.links for s in (link.seed_step, link.other_step)]


@dataclass
class RelatedView:
    """What showing a RelatedResult needs besides it: entity id -> name, the chunks its steps came
    from (`file:line` steps have none), and the names merged into each seed (aliases)."""

    names: Mapping[str, str]
    chunks: dict[str, Chunk]
    aliases: dict[str, list[str]]


def find_related(
    index: GraphIndex,
    names: Sequence[str],
    *,
    relations: Sequence[str] | None = None,
    k: int = 10,
    embedder: Embedder | None = None,
    scoring: str = "shared",
) -> RelatedResult:
    """`related_entities` for entity names as a user writes them (exact, alias, else the nearest name)."""
    if scoring not in SCORINGS:
        raise RelatedError(f"score '{scoring}' is not known", f"use one of: {', '.join(SCORINGS)}")
    seeds: list[LinkedEntity] = []
    notes: list[str] = []
    for name in names:
        norm = normalise_entity(name)
        eid = norm if norm in index.names else index.aliases.get(norm)
        if eid is not None:
            seeds.append(LinkedEntity(eid, index.names[eid], 1.0, "exact", norm))
            continue
        near = index.link(name, embedder, limit=1)
        holding = names_holding(index, name)
        if not near:
            hint = (f"entities whose names hold '{name}': {_listed(holding)}" if holding
                    else "check the spelling (case and underscores do not matter)")
            raise RelatedError(f"'{name}' is not an entity of the graph", hint)
        others = [n for n in holding if n != near[0].name]
        notes.append(f"'{name}' is not an entity of the graph: took {near[0].name}"
                     + (f"; also holding its words: {_listed(others)}" if others else ""))
        seeds.append(near[0])
    wanted = None
    if relations:
        wanted = [normalise_relation(r) for r in relations]
        unknown = [r for r in wanted if r not in index.relations and f"{r}_inverse" not in index.relations]
        if unknown:
            raise RelatedError(
                f"relation '{unknown[0]}' is not in the graph", f"use one of: {', '.join(index.relations[:20])}"
            )
    found = related_entities(index, [s.entity_id for s in seeds], relations=wanted, k=k, scoring=scoring)
    return RelatedResult(seeds, wanted, found, scoring, notes)


MAX_NAMED = 5  # entities a note or a hint names before "and N more"


def names_holding(index: GraphIndex, name: str) -> list[str]:
    """The graph's entity names that hold every word of `name` ("Galaxy": Galaxy S24, Galaxy Tab S9), shortest
    first: where a partial name links to none or to one of several, these are what the user may have meant."""
    words = set(normalise_entity(name).split())
    if not words:
        return []
    found = [shown for eid, shown in index.names.items() if words <= set(eid.split())]
    return sorted(found, key=lambda n: (len(n), n))


def _listed(names: Sequence[str]) -> str:
    more = len(names) - MAX_NAMED
    return ", ".join(names[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


# Cues that ask for entities like the ones named right after them.
RECOMMENDATION_CUES = (
    "like", "likes", "liked", "similar to", "resembling", "related to", "enjoyed", "loved", "reminds me of",
)
_JOINERS = frozenset({"and", "or", "both", "also", "as", "well", "the", "a", "an", "&", "+"})


def recommendation_seeds(question: str, index: GraphIndex, embedder: Embedder | None = None) -> list[LinkedEntity]:
    """The entities a question asks for things like (see the module docstring); [] when it asks no such thing."""
    tokens = question_tokens(question)
    cues = [cue.split() for cue in RECOMMENDATION_CUES]
    starts = [i + len(c) for i in range(len(tokens)) for c in cues if tokens[i : i + len(c)] == c]
    if not starts:
        return []
    linked = index.link(question, embedder, limit=10)
    for start in starts:
        seeds: list[LinkedEntity] = []
        at = start
        while at < len(tokens):
            here = next((e for e in linked if tokens[at : at + len(e.mention.split())] == e.mention.split()), None)
            if here is not None:
                if here.entity_id not in {s.entity_id for s in seeds}:
                    seeds.append(here)
                at += len(here.mention.split())
            elif tokens[at] in _JOINERS:
                at += 1
            else:
                break
        if seeds:
            return seeds
    return []


def question_related(
    index: GraphIndex, question: str, *, k: int = 10, embedder: Embedder | None = None
) -> RelatedResult | None:
    """`related_entities` for a question asking for entities like the ones it names; None for any other question."""
    seeds = recommendation_seeds(question, index, embedder)
    if not seeds:
        return None
    return RelatedResult(seeds, None, related_entities(index, [s.entity_id for s in seeds], k=k))
