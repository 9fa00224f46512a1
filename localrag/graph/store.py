"""The knowledge-graph tables: entities and triples, in the same LanceDB folder as the chunks.

- `entities`: one row per entity: `entity_id` (its normalised name, so the same entity written as
  "Tom_Hanks", "tom hanks" or "Tom  Hanks" is one row: exact duplicates merge by construction), the
  first surface `name` seen, `aliases` (other normalised names that mean it) and a `vector` of the
  name for embedding-based linking.
- `triples`: head id, relation, tail id, `source` (a chunk id, or `file:line` for imported triples)
  and `doc_id`, so forgetting a document deletes its triples (`delete_for_documents`) and then the
  entities no triple mentions any more.
- `graph_built`: one row per chunk that extraction has finished (`chunk_id`, `doc_id`, the
  document's `content_hash`, the triples it gave), so `graph build` resumes where it stopped and
  re-extracts a document only when its content changed. Imported triples have no rows here.

Relations are normalised to lower_snake_case, the form a GBNF grammar and a prompt can list
(`normalise_relation`, with the `Triple` value, in localrag/graph/triples.py); a user's TSV or CSV
file of triples is read by localrag/graph/triple_file.py.
Reading for question answering goes through `columns()`: the graph as `columns.GraphColumns`
(numbered entities and relations, sorted adjacency), saved beside the tables as `graph_index.npz`
so a start reads one file instead of every row. Each write here (`add_triples`,
`delete_for_documents`) applies itself to the columns in memory too, and the file is written again
when `columns()` is next asked for; a file or cache whose key (table versions and row counts) is
not the tables' current one is never used: the columns are built again from the tables.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from localrag.errors import StoreError
from localrag.graph.columns import GraphColumns, IndexKey
from localrag.graph.triple_file import ImportReport, imported_doc_id, read_triple_file
from localrag.graph.triples import Triple, normalise_entity, normalise_relation
from localrag.store_damage import graph_damage_error, graph_guarded, is_damage
from localrag.store_schema import sql_in, sql_literal
from localrag.table_versions import compact, remake_key_index, rewrite_table

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.table import Table

    from localrag.embed import Embedder

ENTITIES, TRIPLES, BUILT = "entities", "triples", "graph_built"
INDEX_FILE = "graph_index.npz"
_IN_BATCH = 500
# Ids looked up by one `IN`: with the entity_id index, 5,000 took about as long as 500 (~0.03 s at 188k entities),
# so the 39,000 names of a hub's listing are 8 lookups rather than 78.
_NAMES_BATCH = 5_000
# Below this many triples a listing's scan is a few milliseconds, and its indexes would only slow each import.
INDEXED_TRIPLES = 10_000


@dataclass
class GraphStats:
    entities: int
    triples: int
    relations: dict[str, int]
    documents: int


def entities_schema(dim: int) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("entity_id", pa.string(), nullable=False),
            pa.field("name", pa.string()),
            pa.field("aliases", pa.list_(pa.string())),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _triples_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("head", pa.string(), nullable=False),
            pa.field("relation", pa.string(), nullable=False),
            pa.field("tail", pa.string(), nullable=False),
            pa.field("source", pa.string()),
            pa.field("doc_id", pa.string()),
        ]
    )


def _built_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("chunk_id", pa.string(), nullable=False),
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("content_hash", pa.string()),
            pa.field("triples", pa.int32()),
        ]
    )


class GraphStore:
    """Entities and triples of one collection; `embedder` makes the entity-name vectors.

    `table_suffix` is the collection's (`Store.suffix`): a collection's graph is built from its own
    chunks, so it has its own tables and index file.
    """

    def __init__(self, db_dir: Path, embedder: Embedder, table_suffix: str = "") -> None:
        import lancedb

        self.path = Path(db_dir)
        self.index_file = self.path / f"{Path(INDEX_FILE).stem}{table_suffix}.npz"
        self.embedder = embedder
        self.dim = embedder.dim
        self._lock = threading.RLock()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(str(self.path), read_consistency_interval=timedelta(seconds=1))
            self._entities: Table = self._made(ENTITIES + table_suffix, entities_schema(self.dim))
            self._triples: Table = self._made(TRIPLES + table_suffix, _triples_schema())
            self._built: Table = self._made(BUILT + table_suffix, _built_schema())
        except Exception as exc:
            if is_damage(exc):  # a damaged newest manifest: the table does not open
                raise graph_damage_error(self.path, exc) from exc
            if not isinstance(exc, OSError):
                raise
            raise StoreError(
                f"{self.path}: cannot open the graph tables ({exc})", "check the folder's permissions"
            ) from exc
        self._columns: GraphColumns | None = None
        self._columns_saved = False
        stored = self._entities.schema.field("vector").type.list_size
        if stored != self.dim:
            raise StoreError(
                f"{self.path}: graph entities were embedded with dimension {stored}, not {self.dim}",
                "use the embedder the store was built with, or delete the entities and triples tables",
            )

    def _made(self, name: str, schema: pa.Schema) -> Table:
        """The table, made when missing. One made half (a full disk in its first write) has no version that opens:
        its folder is taken away, so the next command makes it whole instead of `repair --check` calling it
        damaged."""
        folder = self.path / f"{name}.lance"
        existed = folder.exists()
        try:
            return self._db.create_table(name, schema=schema, exist_ok=True)
        except BaseException:
            if not existed:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    # --- reading -------------------------------------------------------------------------------

    @graph_guarded
    def entity_rows(self) -> pa.Table:
        return self._entities.search().limit(None).to_arrow()

    @graph_guarded
    def triple_rows(self, where: str | None = None) -> pa.Table:
        """Every triple row, or those matching a SQL `where` (filtered by LanceDB, not in Python)."""
        query = self._triples.search()
        return (query.where(where) if where else query).limit(None).to_arrow()

    @graph_guarded
    def entity_names(self, entity_ids: Iterable[str]) -> dict[str, str]:
        """id -> display name of these entities; an id the table lacks, or one without a name, is its own name."""
        ids = list(dict.fromkeys(entity_ids))
        names = {i: i for i in ids}
        for i in range(0, len(ids), _NAMES_BATCH):
            rows = self._entities.search().where(sql_in("entity_id", ids[i : i + _NAMES_BATCH]))
            table = rows.select(["entity_id", "name"]).limit(None).to_arrow()
            names.update((e, n) for e, n in zip(table["entity_id"].to_pylist(), table["name"].to_pylist(),
                                                strict=True) if n is not None)
        return names

    @graph_guarded
    def entities_named(self, name: str) -> set[str]:
        """The ids of the entity called `name` (as linking normalises names) and of any holding it as an alias."""
        wanted = normalise_entity(name)
        # A filter LanceDB applies: reading every entity's aliases into Python was ~0.2 s at 188k entities.
        holders = self._entities.search().where(f"array_has(aliases, {sql_literal(wanted)})").select(["entity_id"])
        return {wanted, *holders.limit(None).to_arrow()["entity_id"].to_pylist()}

    def version(self) -> tuple[int, int]:
        """Changes whenever either table does; a cached `GraphIndex` compares it to know it is stale."""
        return self._entities.version, self._triples.version

    def index_key(self) -> IndexKey:
        """What a saved or cached `GraphColumns` must match to be current: versions and row counts."""
        return (
            self._entities.version,
            self._triples.version,
            self._entities.count_rows(),
            self._triples.count_rows(),
        )

    @graph_guarded
    def columns(self) -> GraphColumns:
        """The graph as columns, current with the tables: cached, else the saved file, else built and saved."""
        with self._lock:
            key = self.index_key()
            if self._columns is None or self._columns.key != key:
                self._columns = GraphColumns.load(self.index_file, key)
                self._columns_saved = self._columns is not None
            if self._columns is None:
                self._columns = GraphColumns.from_tables(
                    self._entities.search().select(["entity_id", "name", "aliases"]).limit(None).to_arrow(),
                    self.triple_rows(),
                    key,
                )
            if not self._columns_saved:
                try:
                    self._columns.save(self.index_file)
                    self._columns_saved = True
                except OSError:
                    pass  # a read-only folder: the columns still serve this process, built again next start
            return self._columns

    def _current_columns(self) -> GraphColumns | None:
        """The cached or saved columns if they are current (before a write, to apply it to them)."""
        key = self.index_key()
        if self._columns is not None and self._columns.key == key:
            return self._columns
        saved = GraphColumns.load(self.index_file, key)
        self._columns, self._columns_saved = saved, saved is not None
        return saved

    @graph_guarded
    def vectors_of(self, entity_ids: Sequence[str]) -> np.ndarray:
        """The entity-name vectors of these ids, in their order (zeros for an id the table lacks)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        table = self._entities.search().select(["entity_id", "vector"]).limit(None).to_arrow()
        found = pc.index_in(pa.array(list(entity_ids), type=pa.string()), value_set=table["entity_id"])
        rows = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        stored = entity_vectors(table)
        out = np.zeros((len(rows), self.dim), dtype=np.float32)
        out[rows >= 0] = stored[rows[rows >= 0]]
        return out

    @graph_guarded
    def relations(self) -> list[str]:
        column = self._triples.search().select(["relation"]).limit(None).to_arrow()["relation"]
        return sorted(set(column.to_pylist()))

    @graph_guarded
    def stats(self) -> GraphStats:
        table = self._triples.search().select(["relation", "doc_id"]).limit(None).to_arrow()
        relations: dict[str, int] = {}
        for rel in table["relation"].to_pylist():
            relations[rel] = relations.get(rel, 0) + 1
        return GraphStats(
            entities=self._entities.count_rows(),
            triples=table.num_rows,
            relations=dict(sorted(relations.items())),
            documents=len(set(table["doc_id"].to_pylist())),
        )

    @graph_guarded
    def built_chunks(self) -> dict[str, tuple[str, str]]:
        """chunk_id -> (doc_id, content_hash) of every chunk whose extraction finished."""
        table = self._built.search().limit(None).to_arrow()
        return {
            c: (d, h or "")
            for c, d, h in zip(
                table["chunk_id"].to_pylist(),
                table["doc_id"].to_pylist(),
                table["content_hash"].to_pylist(),
                strict=True,
            )
        }

    # --- writing -------------------------------------------------------------------------------

    @graph_guarded
    def mark_built(self, rows: Sequence[tuple[str, str, str, int]]) -> None:
        """Record (chunk_id, doc_id, content_hash, triples) for chunks whose extraction finished."""
        import pyarrow as pa

        if not rows:
            return
        records = [{"chunk_id": c, "doc_id": d, "content_hash": h, "triples": n} for c, d, h, n in rows]
        with self._lock:
            self._built.add(pa.Table.from_pylist(records, schema=_built_schema()))

    @graph_guarded
    def add_triples(
        self, triples: Sequence[Triple], aliases: Mapping[str, Iterable[str]] | None = None
    ) -> tuple[int, int]:
        """Add triples (surface names; entities are created as needed); exact duplicates are skipped.

        `aliases` maps an entity's surface name to other names for it: a triple that uses an alias
        lands on the entity, and linking finds it by either name. Returns (new triples, new entities).
        """
        import pyarrow as pa

        alias_of = self._alias_map()
        for name, others in (aliases or {}).items():
            for other in others:
                alias_of.setdefault(
                    normalise_entity(other), alias_of.get(normalise_entity(name), normalise_entity(name))
                )
        resolve = _resolver(alias_of)

        with self._lock:
            base = self._current_columns()
            written_entities: pa.Table | None = None
            written_triples: pa.Table | None = None
            existing = self._entity_ids()
            new_names: dict[str, str] = {}
            rows: dict[tuple[str, str, str, str], Triple] = {}
            for t in triples:
                head, tail = resolve(t.head), resolve(t.tail)
                for eid, surface in ((head, t.head), (tail, t.tail)):
                    if eid not in existing and eid not in new_names:
                        new_names[eid] = surface.strip()
                key = (head, normalise_relation(t.relation), tail, t.doc_id)
                rows.setdefault(key, Triple(head, key[1], tail, t.source, t.doc_id))
            present = self._existing_keys({k[3] for k in rows})
            fresh = [t for k, t in rows.items() if k not in present]
            if new_names:
                ids = list(new_names)
                vectors = self.embedder.embed([new_names[i].replace("_", " ") for i in ids])
                wanted = aliases or {}
                alias_lists = [
                    sorted({normalise_entity(a) for n, al in wanted.items() if resolve(n) == i for a in al} - {i})
                    for i in ids
                ]
                named = pa.table(
                    {
                        "entity_id": pa.array(ids, type=pa.string()),
                        "name": pa.array([new_names[i] for i in ids], type=pa.string()),
                        "aliases": pa.array(alias_lists, type=pa.list_(pa.string())),
                    }
                )
                written_entities = entities_table(named, vectors, self.dim)
                self._entities.add(written_entities)
            if fresh:
                written_triples = pa.Table.from_pylist(
                    [
                        {"head": t.head, "relation": t.relation, "tail": t.tail, "source": t.source, "doc_id": t.doc_id}
                        for t in fresh
                    ],
                    schema=_triples_schema(),
                )
                self._triples.add(written_triples)
            grown = self._grow_aliases({resolve(n): al for n, al in (aliases or {}).items()}, existing)
            if base is not None and grown:
                base = replace(base, aliases={**base.aliases, **grown},
                               max_ngram=max(base.max_ngram, *(len(a.split()) for a in grown)))
            if base is not None and (written_entities is not None or written_triples is not None or grown):
                self._columns = base.extended(
                    written_entities if written_entities is not None else entities_schema(self.dim).empty_table(),
                    written_triples if written_triples is not None else _triples_schema().empty_table(),
                    self.index_key(),
                )
                self._columns_saved = False
        return len(fresh), len(new_names)

    def _grow_aliases(self, wanted: Mapping[str, Iterable[str]], existing: set[str]) -> dict[str, str]:
        """Store new aliases of entities already in the table on their rows; returns alias -> entity id added.

        Entity linking merges a spelling into a known entity; without this the next build and
        `related` would not know that spelling, and the user could not see what was merged.
        """
        import pyarrow as pa

        targets = sorted(e for e in wanted if e in existing)
        if not targets:
            return {}
        rows = [
            row
            for i in range(0, len(targets), _IN_BATCH)
            for row in self._entities.search().where(sql_in("entity_id", targets[i : i + _IN_BATCH]))
            .limit(None).to_arrow().to_pylist()
        ]
        added: dict[str, str] = {}
        changed = []
        for row in rows:
            have = set(row["aliases"] or [])
            new = {normalise_entity(a) for a in wanted[row["entity_id"]]} - have - {row["entity_id"]}
            if new:
                row["aliases"] = sorted(have | new)
                changed.append(row)
                added.update(dict.fromkeys(new, row["entity_id"]))
        if changed:
            (
                self._entities.merge_insert("entity_id")
                .when_matched_update_all()
                .execute(pa.Table.from_pylist(changed, schema=entities_schema(self.dim)))
            )
        return added

    @graph_guarded
    def aliases_of(self, entity_id: str) -> list[str]:
        """The other names stored for an entity (normalised), for showing what entity linking merged into it."""
        rows = self._entities.search().where(f"entity_id = {sql_literal(entity_id)}").select(["aliases"])
        found = rows.limit(1).to_arrow()["aliases"].to_pylist()
        return sorted(found[0] or []) if found else []

    def _alias_map(self) -> dict[str, str]:
        table = self._entities.search().select(["entity_id", "aliases"]).limit(None).to_arrow()
        out: dict[str, str] = {}
        for eid, aliases in zip(table["entity_id"].to_pylist(), table["aliases"].to_pylist(), strict=True):
            for alias in aliases or []:
                out[alias] = eid
        return out

    def _file_rows(self, doc_id: str) -> set[tuple[str, str, str, str]]:
        """(head, relation, tail, source) of every triple an imported file gave."""
        table = self.triple_rows(f"doc_id = {sql_literal(doc_id)}")
        return set(zip(table["head"].to_pylist(), table["relation"].to_pylist(), table["tail"].to_pylist(),
                       table["source"].to_pylist(), strict=True))

    def _existing_keys(self, doc_ids: set[str]) -> set[tuple[str, str, str, str]]:
        keys: set[tuple[str, str, str, str]] = set()
        ids = sorted(doc_ids)
        for i in range(0, len(ids), _IN_BATCH):
            table = self._triples.search().where(sql_in("doc_id", ids[i : i + _IN_BATCH])).limit(None).to_arrow()
            keys.update(
                zip(
                    table["head"].to_pylist(),
                    table["relation"].to_pylist(),
                    table["tail"].to_pylist(),
                    table["doc_id"].to_pylist(),
                    strict=True,
                )
            )
        return keys

    def _entity_ids(self) -> set[str]:
        return set(self._entities.search().select(["entity_id"]).limit(None).to_arrow()["entity_id"].to_pylist())

    @graph_guarded
    def import_triples(self, path: Path, *, doc_id: str | None = None) -> ImportReport:
        """Import a TSV (tab) or CSV (.csv) file of head, relation, tail; a bad line is reported, not fatal.

        The triples' `doc_id` defaults to `file:<absolute path>`: importing the file again adds nothing when
        it is unchanged, only its new lines when lines were added, and replaces its triples when a line it had
        changed, moved or went (a kill between the two commits leaves none of them: importing again mends it).
        """
        path = Path(path)
        report = ImportReport()
        triples = read_triple_file(path, doc_id, report)
        doc = doc_id or imported_doc_id(path)
        with self._lock:
            before = self._file_rows(doc)
            resolve = _resolver(self._alias_map())
            after = {(resolve(t.head), normalise_relation(t.relation), resolve(t.tail), t.source) for t in triples}
            edited = bool(before - after)
            known = self._entity_ids() if edited else set()
            if edited:
                # Edited since its last import: a line gone, changed or moved (its `file:line` source with it).
                # Its triples are replaced, or the graph would answer from lines the file no longer holds.
                self.delete_for_documents([doc])
                # Told as the user sees the file: a fact whose line only moved is neither gone nor new.
                facts_before, facts_after = {row[:3] for row in before}, {row[:3] for row in after}
                report.removed = len(facts_before - facts_after)
                report.moved = len({row for row in after if row[:3] in facts_before} - before)
            written, new_entities = self.add_triples(triples)
            # The file's own entities were taken out with its triples and made again: not new to the graph.
            report.entities = len(self._entity_ids() - known) if edited else new_entities
            report.triples = len(facts_after - facts_before) if edited else written
        if written or edited:
            self.compact()
            self.index_columns()
            self.columns()  # saved now, so the next start reads the file instead of every row
        return report

    @graph_guarded
    def compact(self) -> None:
        """Merge the small fragments each commit leaves and drop versions older than KEEP_OLD_VERSIONS, as an
        ingest does for the chunks. Without it a build of 2,000 chunks left 250 fragments in each table, and
        reading the triples and entities took 0.207 s instead of 0.008 s (benchmarks/README.md, "Graph tables
        compacted")."""
        with self._lock:
            current = self._current_columns()
            for table in (self._entities, self._triples, self._built):
                compact(table)
            if current is not None:  # the same rows under new versions
                self._columns, self._columns_saved = replace(current, key=self.index_key()), False

    @graph_guarded
    def drop_old_versions(self) -> None:
        """Write the graph's tables anew from the rows they have, their indexes made again, and keep no old
        version, so deleted triples and entities lie in no file (`forget --purge`; localrag/table_versions.py)."""
        with self._lock:
            self._entities = rewrite_table(self._db, self._entities, remake_key_index)
            self._triples = rewrite_table(self._db, self._triples, remake_key_index)
            self._built = rewrite_table(self._db, self._built, remake_key_index)
            self.columns()

    @graph_guarded
    def index_columns(self) -> None:
        """Scalar indexes on the columns a listing filters by (`graph triples ENTITY`, `--relation`), made again
        after a build or an import: rows added since are scanned, so a stale index costs speed, never rows.

        A small graph gets none: a scan of it is as fast. Making an index moves the tables' versions, so the
        current columns are re-keyed rather than built again from every row.
        """
        from lancedb.index import BTree

        if self._triples.count_rows() < INDEXED_TRIPLES:
            return
        with self._lock:
            current = self._current_columns()
            for table, column in ((self._triples, "head"), (self._triples, "tail"), (self._triples, "relation"),
                                  (self._entities, "entity_id")):
                table.create_index(column, config=BTree(), replace=True)
            if current is not None:
                self._columns, self._columns_saved = replace(current, key=self.index_key()), False

    @graph_guarded
    def delete_for_documents(self, doc_ids: Sequence[str]) -> int:
        """Forget these documents' triples and build records, then the entities no triple mentions."""
        ids = list(doc_ids)
        removed = 0
        with self._lock:
            base = self._current_columns()
            for i in range(0, len(ids), _IN_BATCH):
                removed += self._triples.delete(sql_in("doc_id", ids[i : i + _IN_BATCH])).num_deleted_rows  # type: ignore[attr-defined]  # lancedb's stubs lag DeleteResult
                self._built.delete(sql_in("doc_id", ids[i : i + _IN_BATCH]))
            if removed:
                table = self._triples.search().select(["head", "tail"]).limit(None).to_arrow()
                used = set(table["head"].to_pylist()) | set(table["tail"].to_pylist())
                orphans = [e for e in self._entity_ids() if e not in used]
                for i in range(0, len(orphans), _IN_BATCH):
                    self._entities.delete(sql_in("entity_id", orphans[i : i + _IN_BATCH]))
                if base is not None:
                    self._columns = base.without_documents(ids, self.index_key())
                    self._columns_saved = False
                self.columns()
        return removed


def _resolver(alias_of: Mapping[str, str]) -> Callable[[str], str]:
    """A surface name -> its entity id: normalised, then an alias to the entity it names."""

    def resolve(name: str) -> str:
        norm = normalise_entity(name)
        return alias_of.get(norm, norm)

    return resolve


def entities_table(named: pa.Table, vectors: np.ndarray, dim: int) -> pa.Table:
    """Rows of `entity_id`, `name` and `aliases` with their vectors, in the entities table's schema."""
    import pyarrow as pa

    vector = pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(vectors, np.float32).reshape(-1)), dim)
    arrays = [named["entity_id"], named["name"], named["aliases"], vector]
    return pa.Table.from_arrays(arrays, schema=entities_schema(dim))


def entity_vectors(table: pa.Table) -> np.ndarray:
    """The `vector` column of an entities table as an (n, dim) float32 matrix."""
    column = table["vector"].combine_chunks()
    if len(column) == 0:
        return np.zeros((0, column.type.list_size), dtype=np.float32)
    return np.asarray(column.values.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(column), -1)
