"""The chunks table's indexes: BM25 over heading and text, IVF_HNSW_SQ over the vectors, and compaction.

`Store` (localrag/store.py) inherits these methods. The BM25 index is created with the first rows. LanceDB
0.40 searches rows added after an index was built by a flat scan of the unindexed tail, so text search never
misses new rows; `refresh_indexes()` folds the tail into the indexes (`optimize`, which also compacts the many
small fragments that batched appends leave) and builds the ANN index once the table is big enough for it to
beat a flat scan. Compaction rewrites the table, so it is skipped (a note, not a failed ingest) when the free
space is smaller than the chunks table, or when it runs out of space midway.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.disk_errors import is_disk_full
from localrag.errors import DiskError
from localrag.sizes import megabytes
from localrag.store_damage import guarded, make_key_index
from localrag.store_schema import CHUNK_KEYS, DOCUMENT_KEYS, FTS_COLUMN
from localrag.table_versions import compact, keep_no_old_version, remake_key_index, rewrite_table

if TYPE_CHECKING:
    from lancedb.db import DBConnection
    from lancedb.table import Table


# LanceDB logs a warning to stderr each time it folds new rows into a vector index (its statistics will leave the
# centroids out in a later release): a raw Rust log line under every ingest into an index past 256 chunks, naming a
# setting the user never needs. Taking the coming behaviour now silences it; a user's own setting stays.
os.environ.setdefault("LANCE_INCLUDE_VECTOR_CENTROIDS", "false")

# HNSW graph: neighbours per node (LanceDB's default) and the candidate list while building. At 100k
# chunks a list of 100 instead of LanceDB's 300 built the index 2.4-2.7x faster (40.1 / 34.7 s against
# 97.7 / 92.2 s, the same sessions, a loaded machine) at the same recall@10 against exact search (0.989),
# with search `ef` as store_reader sets it: benchmarks/README.md, "Hybrid query at 100k chunks".
HNSW_M = 20
HNSW_EF_CONSTRUCTION = 100


# Bytes in the longest word the full-text index keeps. LanceDB's default, 40, left out a 20-letter Russian
# word or a long German compound, which no search then found; a longer run of letters (a pasted blob) still is.
MAX_WORD_BYTES = 160


def build_fts_index(table: Table) -> None:
    from lancedb.index import FTS

    table.create_index(FTS_COLUMN, config=FTS(with_position=False, max_token_length=MAX_WORD_BYTES), replace=True)


def _build_vector_index(table: Table) -> None:
    from lancedb.index import HnswSq

    # One IVF partition: a single HNSW graph is the most accurate and fits memory up to
    # millions of 384-dim SQ vectors; more partitions only pay off beyond that.
    partitions = max(1, table.count_rows() // 1_000_000)
    config = HnswSq(distance_type="cosine", num_partitions=partitions, m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION)
    table.create_index("vector", config=config, replace=True)


class StoreIndexes:
    """The index methods of a Store, over its tables."""

    path: Path
    vector_index_min_rows: int
    _lock: threading.RLock
    _meta: Table
    _db: DBConnection
    _chunks: Table | None
    _documents: Table | None

    if TYPE_CHECKING:

        @property
        def chunks_table(self) -> Table: ...

        @property
        def documents_table(self) -> Table: ...

        def size_bytes(self) -> int: ...

    def rebuild_fts_index(self) -> None:
        with self._lock:
            build_fts_index(self.chunks_table)

    def _index(self, column: str, kind: str) -> Any:
        for index in self.chunks_table.list_indices():
            if column in index.columns and kind in str(index.index_type).upper():
                return index
        return None

    def _fts_index(self) -> Any:
        return self._index(FTS_COLUMN, "FTS")

    def _vector_index(self) -> Any:
        return self._index("vector", "HNSW")

    def _ensure_indexes(self, vector_index_min_rows: int) -> None:
        """Every index the chunks and documents tables should have now, made where missing."""
        self._ensure_key_indexes()
        self._ensure_fts_index()
        if self._vector_index() is None and self.chunks_table.count_rows() >= max(vector_index_min_rows, 256):
            self.build_vector_index()

    def _ensure_key_indexes(self) -> None:
        """The BTREE indexes that lookups by id use (the first migration made them), made where missing."""
        for table, keys in ((self.chunks_table, CHUNK_KEYS), (self.documents_table, DOCUMENT_KEYS)):
            indexed = {column for index in table.list_indices() for column in index.columns}
            for key in keys:
                if key not in indexed:
                    make_key_index(table, key)

    def _ensure_fts_index(self) -> None:
        if self._fts_index() is None and self.chunks_table.count_rows() > 0:
            build_fts_index(self.chunks_table)

    @guarded
    def refresh_indexes(self, vector_index_min_rows: int | None = None) -> str:
        """Compact, fold new rows into the indexes, build the ANN index once the table is big enough.

        Returns "" or a one-line note saying what was skipped for lack of disk space.
        """
        try:
            needed = self.size_bytes()
            if shutil.disk_usage(self.path).free < needed:
                return f"compaction skipped: it needs about {megabytes(needed)} free in {self.path}"
            self._refresh_indexes(vector_index_min_rows)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            return f"compaction skipped: the disk holding {self.path} is full"
        return ""

    def build_vector_index(self) -> None:
        """(Re)build the ANN index over every row's vector."""
        with self._lock:
            _build_vector_index(self.chunks_table)

    @guarded
    def drop_old_versions(self) -> None:
        """Write this collection's tables anew from the rows they have, their indexes made again, and keep no
        old version, so deleted rows lie in no file of the store (`forget --purge`; localrag/table_versions.py).

        A query another process is running on an old version at that moment fails (asked again, it reads
        the new one); the caller holds the writer lock, so no writer is among them.
        """
        needed = self.size_bytes()
        if shutil.disk_usage(self.path).free < needed:  # each table is written whole again before the old goes
            raise DiskError(f"{self.path}: erasing needs about {megabytes(needed)} free on its disk",
                            "free some space, then run `localrag forget PATH --purge` again")
        with self._lock:
            self._chunks = rewrite_table(self._db, self.chunks_table)
            self._documents = rewrite_table(self._db, self.documents_table)
            self._meta = rewrite_table(self._db, self._meta, remake_key_index)
            # The indexes an ingest leaves, made from the rows left; also those a purge cut short left out.
            self._ensure_indexes(self.vector_index_min_rows)
            for table in (self._chunks, self._documents):
                keep_no_old_version(table)

    def _refresh_indexes(self, vector_index_min_rows: int | None) -> None:
        threshold = self.vector_index_min_rows if vector_index_min_rows is None else vector_index_min_rows
        with self._lock:
            self._ensure_indexes(threshold)
            for table in (self.chunks_table, self.documents_table, self._meta):
                compact(table)
