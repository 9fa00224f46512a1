"""Entity linking and relation-path following over the column-wise graph index.

`GraphIndex.load(store)` takes the store's `GraphColumns` (dictionary-encoded ids, sorted adjacency
both ways; kept on disk beside the tables and updated by the store's writes, see `columns`), so a
start reads one file instead of every triple. Following a path expands a whole frontier with one
`np.searchsorted` per hop; the entity-name vectors are read from LanceDB only when linking first
needs them. The caller (the engine) keeps the index and loads it again when
`GraphStore.version()` changes.

Linking goes from cheap and certain to costly and fuzzy: the question's word n-grams (longest first,
non-overlapping) are looked up among normalised entity names and aliases; only when nothing matches
are the n-grams embedded and compared with the entity-name vectors, keeping matches above a
threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from localrag.graph.columns import GraphColumns, ranges
from localrag.graph.triples import normalise_entity

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.graph.store import GraphStore

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

    def render(self, names: Mapping[str, str]) -> str:
        parts = [names.get(self.start, self.start)]
        for s in self.steps:
            parts.append(f"-> {s.relation} -> {names.get(s.tail, s.tail)}")
        return " ".join(parts)


def _trimmed_right(word: str) -> str:
    word = word.rstrip(_EDGE_PUNCT)
    return word[:-1] if word.endswith(".") and word.count(".") == 1 else word


def _question_words(question: str) -> list[tuple[str, str]]:
    """Each normalised word of a question as written and as `question_tokens` gives it; words of punctuation
    alone left out."""
    words = ((raw, _trimmed_right(raw.lstrip(_EDGE_PUNCT))) for raw in _TOKEN.findall(normalise_entity(question)))
    return [(raw, word) for raw, word in words if word]


def question_tokens(question: str) -> list[str]:
    """Normalised words of a question, edge punctuation stripped (entity names keep inner dots, dashes)."""
    return [word for _, word in _question_words(question)]


def _as_written(span: Sequence[tuple[str, str]]) -> str:
    """Words of a question joined with the punctuation between them ("paris, texas"), that of the span's ends
    stripped: a name holding a comma is found by it, not taken for the shorter name its first word is."""
    if len(span) == 1:
        return span[0][1]
    return " ".join([span[0][0].lstrip(_EDGE_PUNCT), *(raw for raw, _ in span[1:-1]), _trimmed_right(span[-1][0])])


def _inverses(a: str, b: str) -> bool:
    return a != b and a.removesuffix("_inverse") == b.removesuffix("_inverse")


class _Names(Mapping[str, str]):
    """Entity id -> surface name, over the columns' two lists (no third copy of every name)."""

    def __init__(self, columns: GraphColumns) -> None:
        self._columns = columns

    def __getitem__(self, eid: str) -> str:
        return self._columns.names[self._columns.position[eid]]

    def __contains__(self, eid: object) -> bool:
        return eid in self._columns.position

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.entity_ids)

    def __len__(self) -> int:
        return len(self._columns.entity_ids)


VectorReader = Callable[[Sequence[str]], np.ndarray]
_NONE = np.zeros(0, dtype=np.int64)
# Partial paths are expanded together in blocks, in order: a first small block (most questions need
# few paths), doubling up to the largest, so a hub neither costs one numpy call per path nor
# expands thousands of paths when fifty are wanted.
_FIRST_BLOCK, _BLOCK = 32, 4096


class GraphIndex:
    """The graph for question answering; see the module docstring."""

    def __init__(self, columns: GraphColumns, vectors: np.ndarray | VectorReader) -> None:
        self.columns = columns
        self.names: Mapping[str, str] = _Names(columns)
        self.entity_ids = columns.entity_ids
        self.aliases = columns.aliases
        self.relations = columns.relations
        self.n_triples = columns.n_triples
        self.max_ngram = columns.max_ngram
        self._vectors = None if callable(vectors) else np.asarray(vectors, dtype=np.float32)
        self._read_vectors = vectors if callable(vectors) else None

    @classmethod
    def load(cls, store: GraphStore) -> GraphIndex:
        return cls(store.columns(), store.vectors_of)

    @classmethod
    def from_triples(
        cls,
        names: dict[str, str],
        aliases: dict[str, str],
        vectors: np.ndarray,
        triples: Iterable[tuple[str, str, str, str]],
    ) -> GraphIndex:
        """An index of (head, relation, tail, source) id tuples; `names` (id -> name) orders `vectors`."""
        import pyarrow as pa

        rows = list(triples)
        by_id: dict[str, list[str]] = {}
        for alias, eid in aliases.items():
            by_id.setdefault(eid, []).append(alias)
        entities = pa.table(
            {
                "entity_id": pa.array(list(names), type=pa.string()),
                "name": pa.array(list(names.values()), type=pa.string()),
                "aliases": pa.array([by_id.get(e, []) for e in names], type=pa.list_(pa.string())),
            }
        )
        columns = ("head", "relation", "tail", "source")
        table = pa.table({c: pa.array([r[i] for r in rows], type=pa.string()) for i, c in enumerate(columns)})
        table = table.append_column("doc_id", pa.array([""] * len(rows), type=pa.string()))
        return cls(GraphColumns.from_tables(entities, table), vectors)

    @property
    def vectors(self) -> np.ndarray:
        """The entity-name vectors in entity order, (n, dim) float32; read from the store on first use."""
        if self._vectors is None:
            assert self._read_vectors is not None
            self._vectors = np.asarray(self._read_vectors(self.entity_ids), dtype=np.float32)
        return self._vectors

    def tails(self, entity: str, relation: str) -> list[tuple[str, str]]:
        """(tail id, source) of every triple (entity, relation, tail), in the triples' order."""
        pos, rel = self.columns.position.get(entity), self.columns.relation_id(relation)
        if pos is None or rel is None:
            return []
        edges = self.columns.out_edge[self.columns.edges(np.asarray([pos]), rel)]
        return [(self.entity_ids[self.columns.tail[e]], self.columns.source(int(e))) for e in edges]

    def out_relations(self, entity: str) -> set[str]:
        pos = self.columns.position.get(entity)
        if pos is None:
            return set()
        edges = self.columns.out_edge[self.columns.edges(np.asarray([pos]))]
        return {self.relations[r] for r in np.unique(self.columns.rel[edges])}

    # --- linking -------------------------------------------------------------------------------

    def in_relations(self, entity: str) -> dict[str, int]:
        """Each relation of the triples whose tail is `entity`, with how many entities it comes from."""
        pos = self.columns.position.get(entity)
        if pos is None:
            return {}
        edges = self.columns.in_edge[self.columns.edges(np.asarray([pos]), incoming=True)]
        heads: dict[str, set[int]] = {}
        for relation, head in zip(self.columns.rel[edges], self.columns.head[edges], strict=True):
            heads.setdefault(self.relations[relation], set()).add(int(head))
        return {relation: len(found) for relation, found in heads.items()}

    def link(
        self,
        question: str,
        embedder: Embedder | None = None,
        *,
        threshold: float = 0.75,
        limit: int = 3,
    ) -> list[LinkedEntity]:
        """The question's entities: exact/alias n-gram matches, else the nearest names by embedding."""
        words = _question_words(question)
        tokens = [word for _, word in words]
        found: list[LinkedEntity] = []
        used = [False] * len(tokens)
        for n in range(min(self.max_ngram, len(tokens)), 0, -1):
            for i in range(len(tokens) - n + 1):
                if any(used[i : i + n]):
                    continue
                # The mention is the span's tokens, which callers find again among the question's tokens.
                mention = " ".join(tokens[i : i + n])
                for name in dict.fromkeys((_as_written(words[i : i + n]), mention)):
                    if name in self.names:
                        found.append(LinkedEntity(name, self.names[name], 1.0, "exact", mention))
                    elif name in self.aliases:
                        eid = self.aliases[name]
                        found.append(LinkedEntity(eid, self.names[eid], 1.0, "alias", mention))
                    else:
                        continue
                    used[i : i + n] = [True] * n
                    break
        if found or embedder is None or not self.entity_ids:
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
        """The paths along `relations` from each start, in order (start, then each hop's triples); at most `max_paths`.

        A path never steps straight back to the entity it stood on one hop earlier: such a step only
        reads a triple backwards through its inverse ("Budget 2027 -> written_by -> Alice Chen -> wrote ->
        Budget 2027", "Alice Chen -> reports_to -> Robert Smith -> manages -> Alice Chen") and says
        nothing the shorter path did not. A longer loop is a path like any other and may end where it
        began: on WC2014 a player's country's club's players include the player, the one answer of a
        third of the three-hop questions (benchmarks/README.md, "a path never steps straight back").
        `max_fanout` caps the tails taken per (entity, relation), so a hub entity cannot blow up the
        frontier; the bound on length is the length of `relations`. Partial paths are expanded a block
        at a time, depth first, so following stops as soon as enough paths are found.
        """
        cols = self.columns
        rel_ids = [cols.relation_id(r) for r in relations]
        if not relations or max_paths < 1 or any(r is None for r in rel_ids):
            return []
        hops = [int(r) for r in rel_ids if r is not None]
        begin = np.asarray([cols.position[s] for s in starts if s in cols.position], dtype=np.int64)
        found: list[np.ndarray] = []
        wanted = max_paths

        def walk(paths: np.ndarray, ends: np.ndarray, before: np.ndarray) -> None:
            """Extend `paths` (triple numbers) one hop from `ends`; `before` is the entity each stood on a hop
            earlier (-1 at the start)."""
            nonlocal wanted
            depth = paths.shape[1]
            lo, hi = cols.edge_bounds(ends, hops[depth])
            hi = np.minimum(hi, lo + max_fanout)
            edges = cols.out_edge[ranges(lo, hi)].astype(np.int64)
            tails = cols.tail[edges].astype(np.int64)
            onward = tails != np.repeat(before, hi - lo)
            longer = np.column_stack([np.repeat(paths, hi - lo, axis=0), edges])[onward]
            froms, tails = np.repeat(ends, hi - lo)[onward], tails[onward]
            if depth + 1 == len(hops):
                found.append(longer[:wanted])
                wanted -= len(found[-1])
                return
            start, size = 0, _FIRST_BLOCK
            while start < len(longer) and wanted > 0:
                block = slice(start, start + size)
                walk(longer[block], tails[block], froms[block])
                start, size = start + size, min(2 * size, _BLOCK)

        walk(np.zeros((len(begin), 0), dtype=np.int64), begin, np.full(len(begin), -1, dtype=np.int64))
        return [self._path(row) for block in found for row in block]

    def _path(self, edges: np.ndarray) -> ReasoningPath:
        return ReasoningPath(tuple(self.step(int(e)) for e in edges))

    def step(self, triple: int) -> Step:
        """The triple with this number (its place in the triples table), as a path step."""
        cols, ids = self.columns, self.entity_ids
        head, tail = ids[cols.head[triple]], ids[cols.tail[triple]]
        return Step(head, self.relations[cols.rel[triple]], tail, cols.source(triple))

    def reach(self, starts: Sequence[str]) -> np.ndarray:
        """The entity numbers of the starts that are in the graph: where relation sequences begin."""
        return np.unique([self.columns.position[s] for s in starts if s in self.columns.position]).astype(np.int64)

    def extend(
        self, prefix: tuple[str, ...], ents: np.ndarray, *, onward: bool = True, max_entities: int | None = None
    ) -> list[tuple[tuple[str, ...], np.ndarray]]:
        """Each relation out of `ents` as (prefix + relation, the entities it leads to), relations sorted.

        A relation straight back along the inverse of the prefix's last one is left out (it leads
        home). `onward=False` skips gathering the entities (the last hop needs only the relations);
        `max_entities` keeps at most that many entities per prefix (the lowest numbers), so a hub
        does not carry its whole neighbourhood into the next hop.
        """
        cols = self.columns
        if max_entities is not None and len(ents) > max_entities:
            ents = ents[:max_entities]
        edges = cols.out_edge[cols.edges(ents)]
        rels = cols.rel[edges]
        if onward:  # group the tails by relation with one sort, not one mask per relation
            order = np.argsort(rels, kind="stable")
            rels, tails = rels[order], cols.tail[edges[order]]
        found, firsts = np.unique(rels, return_index=True)
        bounds = [*firsts.tolist(), len(rels)]
        out: list[tuple[tuple[str, ...], np.ndarray]] = []
        for i, rel in enumerate(found.tolist()):
            seq = (*prefix, self.relations[rel])
            if prefix and _inverses(prefix[-1], seq[-1]):
                continue
            reached = np.unique(tails[bounds[i] : bounds[i + 1]]).astype(np.int64) if onward else _NONE
            out.append((seq, reached))
        return out

    def relation_sequences(self, starts: Sequence[str], max_hops: int = 2, limit: int = 2000) -> list[tuple[str, ...]]:
        """Every relation sequence of length 1..max_hops that can be followed from the starts (sorted per prefix)."""
        seen: dict[tuple[str, ...], None] = {}
        layer: list[tuple[tuple[str, ...], np.ndarray]] = [((), self.reach(starts))]
        for hop in range(max_hops):
            nxt: list[tuple[tuple[str, ...], np.ndarray]] = []
            for prefix, ents in layer:
                for seq, reached in self.extend(prefix, ents, onward=hop < max_hops - 1):
                    seen.setdefault(seq, None)
                    if len(seen) >= limit:
                        return list(seen)
                    nxt.append((seq, reached))
            layer = nxt
        return list(seen)
