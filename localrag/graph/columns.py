"""The knowledge graph as columns: dictionary-encoded ids, sorted adjacency both ways, kept on disk.

Entities and relations are numbered (an entity's number is its row in the entities table, a
relation's its place in the sorted relation names); each triple is four int32 columns (head,
relation, tail, document) plus its source string, stored as one byte buffer and offsets so a
million sources are not a million Python objects. Adjacency is CSR in both directions, keyed by
`entity * n_relations + relation` and sorted (stably, so the edges of one (entity, relation) keep
the triples' table order): the edges of any batch of (entity, relation) pairs are one
`np.searchsorted` away, and a whole frontier is expanded without a Python loop per edge.

`GraphColumns.save` writes one `.npz` file atomically; `load` returns it only when its key (the
tables' versions and row counts) is the store's current one, so a stale file is never read.
`extended` and `without_documents` apply a write to the columns without reading LanceDB again:
the new rows are appended (or the forgotten ones dropped) and the two adjacency sorts redone in
numpy.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from localrag.atomic import write_bytes_atomic

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = 1
IndexKey = tuple[int, int, int, int]  # entities version, triples version, entity rows, triple rows
_ARRAYS = ("head", "rel", "tail", "doc", "src_off", "src_data", "out_key", "out_edge", "in_key", "in_edge")


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """np.arange(lo[i], hi[i]) for every i, concatenated in order, without a Python loop."""
    lengths = np.maximum(hi - lo, 0).astype(np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(lo.astype(np.int64) - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)


def _strings(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64 of n+1, utf-8 bytes uint8) of a string column, nulls as empty strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.fill_null(column, "")
    arr = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.large_string())
    n = len(arr)
    offsets_buf, data_buf = arr.buffers()[1], arr.buffers()[2]
    if offsets_buf is None:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    data = data[offsets[0] : offsets[-1]].copy()
    return (offsets - offsets[0]).copy(), data


def _positions(column: pa.ChunkedArray | pa.Array, values: Sequence[str]) -> np.ndarray:
    """Each value's place in `values` (int64), -1 where it is not there."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(column, value_set=pa.array(list(values), type=pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _csr(entity: np.ndarray, rel: np.ndarray, n_rel: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted entity * n_rel + relation, triple number) of every edge; ties keep the triples' order."""
    key = entity.astype(np.int64) * max(n_rel, 1) + rel
    order = np.argsort(key, kind="stable")
    return key[order], order.astype(np.int32)


def _max_ngram(names: Sequence[str]) -> int:
    return max((len(n.split()) for n in names), default=1)


@dataclass
class GraphColumns:
    """One snapshot of the graph; see the module docstring. Arrays are never changed in place."""

    entity_ids: list[str]
    names: list[str]
    aliases: dict[str, str]  # alias -> entity id
    relations: list[str]  # sorted
    doc_ids: list[str]
    head: np.ndarray
    rel: np.ndarray
    tail: np.ndarray
    doc: np.ndarray
    src_off: np.ndarray
    src_data: np.ndarray
    key: IndexKey = (0, 0, 0, 0)
    max_ngram: int = 1
    out_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    out_edge: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    in_key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    in_edge: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    _position: dict[str, int] | None = None
    _relation_position: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if len(self.out_key) != len(self.head):
            self._sort()

    def _sort(self) -> None:
        n_rel = len(self.relations)
        self.out_key, self.out_edge = _csr(self.head, self.rel, n_rel)
        self.in_key, self.in_edge = _csr(self.tail, self.rel, n_rel)

    # --- lookups -------------------------------------------------------------------------------

    @property
    def n_triples(self) -> int:
        return len(self.head)

    @property
    def position(self) -> dict[str, int]:
        """Entity id -> entity number (built on first use: a start that never links does not pay for it)."""
        if self._position is None:
            self._position = {eid: i for i, eid in enumerate(self.entity_ids)}
        return self._position

    def relation_id(self, relation: str) -> int | None:
        if self._relation_position is None:
            self._relation_position = {r: i for i, r in enumerate(self.relations)}
        return self._relation_position.get(relation)

    def edges(self, entities: np.ndarray, relation: int | None = None, *, incoming: bool = False) -> np.ndarray:
        """Positions in the out (or in) adjacency of the edges of `entities` (with `relation`, or any), in order."""
        keys, n_rel = (self.in_key if incoming else self.out_key), max(len(self.relations), 1)
        base = np.asarray(entities, dtype=np.int64) * n_rel
        if relation is None:
            lo, hi = np.searchsorted(keys, base), np.searchsorted(keys, base + n_rel)
        else:
            lo, hi = np.searchsorted(keys, base + relation), np.searchsorted(keys, base + relation, side="right")
        return ranges(lo, hi)

    def edge_bounds(self, entities: np.ndarray, relation: int) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) in the out adjacency of each entity's edges with `relation`."""
        key = np.asarray(entities, dtype=np.int64) * max(len(self.relations), 1) + relation
        return np.searchsorted(self.out_key, key), np.searchsorted(self.out_key, key, side="right")

    def source(self, triple: int) -> str:
        return bytes(self.src_data[self.src_off[triple] : self.src_off[triple + 1]]).decode("utf-8")

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def from_tables(cls, entities: pa.Table, triples: pa.Table, key: IndexKey = (0, 0, 0, 0)) -> GraphColumns:
        """Columns of an entities table (entity_id, name, aliases) and a triples table (as `GraphStore` keeps them)."""
        ids, names, aliases = _entity_lists(entities)
        t = _encode_triples(triples, ids)
        ids, names = [*ids, *t.missing], [*names, *t.missing]
        return cls(
            entity_ids=ids,
            names=names,
            aliases=aliases,
            relations=t.relations,
            doc_ids=t.doc_ids,
            head=t.head,
            rel=t.rel,
            tail=t.tail,
            doc=t.doc,
            src_off=t.src_off,
            src_data=t.src_data,
            key=key,
            max_ngram=_max_ngram([*ids, *aliases]),
        )

    def extended(self, entities: pa.Table, triples: pa.Table, key: IndexKey) -> GraphColumns:
        """These columns plus newly written entity and triple rows (appended, as LanceDB appends them)."""
        new_ids, new_names, new_aliases = _entity_lists(entities)
        ids, names = [*self.entity_ids, *new_ids], [*self.names, *new_names]
        t = _encode_triples(triples, ids)
        ids, names = [*ids, *t.missing], [*names, *t.missing]
        relations = sorted({*self.relations, *t.relations})
        old_rel = np.searchsorted(np.asarray(relations, dtype=object), np.asarray(self.relations, dtype=object))
        new_rel = np.searchsorted(np.asarray(relations, dtype=object), np.asarray(t.relations, dtype=object))
        doc_ids = list(dict.fromkeys([*self.doc_ids, *t.doc_ids]))
        where = {d: i for i, d in enumerate(doc_ids)}
        new_doc = np.asarray([where[d] for d in t.doc_ids], dtype=np.int32)
        return GraphColumns(
            entity_ids=ids,
            names=names,
            aliases={**self.aliases, **new_aliases},
            relations=relations,
            doc_ids=doc_ids,
            head=np.concatenate([self.head, t.head]),
            rel=np.concatenate([old_rel[self.rel], new_rel[t.rel]]).astype(np.int32),
            tail=np.concatenate([self.tail, t.tail]),
            doc=np.concatenate([self.doc, new_doc[t.doc]]).astype(np.int32),
            src_off=np.concatenate([self.src_off, t.src_off[1:] + self.src_off[-1]]),
            src_data=np.concatenate([self.src_data, t.src_data]),
            key=key,
            max_ngram=max(self.max_ngram, _max_ngram([*new_ids, *t.missing, *new_aliases])),
        )

    def without_documents(self, doc_ids: Sequence[str], key: IndexKey) -> GraphColumns:
        """These columns less the triples of `doc_ids`, then less the entities no triple mentions any more."""
        forget = set(doc_ids)
        gone = np.asarray([i for i, d in enumerate(self.doc_ids) if d in forget], dtype=np.int32)
        rows = np.nonzero(~np.isin(self.doc, gone))[0]
        used = np.zeros(len(self.entity_ids), dtype=bool)
        used[self.head[rows]] = True
        used[self.tail[rows]] = True
        kept = np.nonzero(used)[0]
        entity_ids = [self.entity_ids[i] for i in kept]
        still = set(entity_ids)
        aliases = {a: e for a, e in self.aliases.items() if e in still}
        rel_used, rel = np.unique(self.rel[rows], return_inverse=True)
        doc_used, doc = np.unique(self.doc[rows], return_inverse=True)
        lengths = self.src_off[rows + 1] - self.src_off[rows]
        return GraphColumns(
            entity_ids=entity_ids,
            names=[self.names[i] for i in kept],
            aliases=aliases,
            relations=[self.relations[i] for i in rel_used],
            doc_ids=[self.doc_ids[i] for i in doc_used],
            head=(np.cumsum(used) - 1)[self.head[rows]].astype(np.int32),
            rel=rel.astype(np.int32),
            tail=(np.cumsum(used) - 1)[self.tail[rows]].astype(np.int32),
            doc=doc.astype(np.int32),
            src_off=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            src_data=self.src_data[ranges(self.src_off[rows], self.src_off[rows + 1])],
            key=key,
            max_ngram=_max_ngram([*entity_ids, *aliases]),
        )

    # --- disk ----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """One .npz file, written beside the tables atomically (a reader sees the old file or the new one)."""
        meta = {
            "format": FORMAT,
            "key": list(self.key),
            "max_ngram": self.max_ngram,
            "entity_ids": self.entity_ids,
            "names": self.names,
            "aliases": self.aliases,
            "relations": self.relations,
            "doc_ids": self.doc_ids,
        }
        buffer = io.BytesIO()
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays)
        write_bytes_atomic(Path(path), buffer.getvalue())

    @classmethod
    def load(cls, path: Path, key: IndexKey) -> GraphColumns | None:
        """The saved columns when they were saved for `key`; None when missing, stale or unreadable."""
        try:
            with np.load(Path(path)) as saved:
                meta = json.loads(bytes(saved["meta"]).decode("utf-8"))
                if meta.get("format") != FORMAT or tuple(meta.get("key", ())) != tuple(key):
                    return None
                arrays = {name: saved[name] for name in _ARRAYS}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            return None
        return cls(
            entity_ids=meta["entity_ids"],
            names=meta["names"],
            aliases=meta["aliases"],
            relations=meta["relations"],
            doc_ids=meta["doc_ids"],
            key=tuple(meta["key"]),  # type: ignore[arg-type]
            max_ngram=int(meta["max_ngram"]),
            **arrays,
        )


def _entity_lists(entities: pa.Table) -> tuple[list[str], list[str], dict[str, str]]:
    """(ids, names, alias -> id) of entity rows; a missing name is the id."""
    ids = entities["entity_id"].to_pylist()
    names = [n if n is not None else i for n, i in zip(entities["name"].to_pylist(), ids, strict=True)]
    aliases = {a: eid for eid, als in zip(ids, entities["aliases"].to_pylist(), strict=True) for a in als or []}
    return ids, names, aliases


@dataclass
class _Encoded:
    head: np.ndarray
    rel: np.ndarray
    tail: np.ndarray
    doc: np.ndarray
    src_off: np.ndarray
    src_data: np.ndarray
    relations: list[str]
    doc_ids: list[str]
    missing: list[str]  # entities the triples use that `ids` lacks, numbered after it


def _encode_triples(triples: pa.Table, ids: list[str]) -> _Encoded:
    """Triple rows as numbers: entities by their place in `ids`, relations sorted, documents by first use."""
    import pyarrow.compute as pc

    head, tail = _positions(triples["head"], ids), _positions(triples["tail"], ids)
    missing: list[str] = []
    if (head < 0).any() or (tail < 0).any():
        # A triple whose entity row is missing (a write cut short): the entity is named by its id.
        missing = sorted(
            {*np.asarray(triples["head"].to_pylist(), dtype=object)[head < 0],
             *np.asarray(triples["tail"].to_pylist(), dtype=object)[tail < 0]}
        )
        head, tail = _positions(triples["head"], [*ids, *missing]), _positions(triples["tail"], [*ids, *missing])
    relations = sorted(set(pc.unique(triples["relation"]).to_pylist()))
    doc_column = pc.fill_null(triples["doc_id"], "")
    doc_ids = list(pc.unique(doc_column).to_pylist())
    src_off, src_data = _strings(triples["source"])
    return _Encoded(
        head=head.astype(np.int32),
        rel=_positions(triples["relation"], relations).astype(np.int32),
        tail=tail.astype(np.int32),
        doc=_positions(doc_column, doc_ids).astype(np.int32),
        src_off=src_off,
        src_data=src_data,
        relations=relations,
        doc_ids=doc_ids,
        missing=missing,
    )
