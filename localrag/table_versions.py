"""What a table keeps of its old versions: ten minutes' worth after a compaction, none after a purge.

Every commit makes a version and, for an append, a small fragment. A compaction merges the fragments and
drops the versions older than KEEP_OLD_VERSIONS, which a reader in another process may still be reading;
the chunks are compacted after each ingest (`store_indexes`), the graph's tables after each build or import
(`GraphStore.compact`).

`forget --purge` keeps none, and a compaction alone would not do for it. LanceDB deletes a row by marking it
in a deletion file, and compaction rewrites a fragment only once about a tenth of its rows are deleted, so a
small document forgotten from a large index stays in its fragment's data file (measured: one row of 100 in
one fragment, still there after `optimize`), and a delete's predicate (entity names, for the graph's
entities) stays in the newest manifest. `rewrite_table` writes the rows left into new files in one commit,
so a kill before it leaves the old version whole; the cleanup after it removes every older file. An overwrite
has no index: the caller makes them again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from localrag.store_damage import is_commit_conflict, make_key_index

if TYPE_CHECKING:
    from lancedb.db import DBConnection
    from lancedb.table import Table

# Old versions stay this long so a reader in another process that opened one can still finish.
KEEP_OLD_VERSIONS = timedelta(minutes=10)
# Rows read and written at a time: the table is streamed, never held whole.
_BATCH = 4096


def compact(table: Table) -> None:
    """Merge `table`'s small fragments and drop its versions older than KEEP_OLD_VERSIONS.

    A commit by another Store meanwhile (the meta table is the whole folder's: a collection being made, a
    graph) makes LanceDB refuse; a compaction changes no row, so it is left to the next one.
    """
    try:
        table.optimize(cleanup_older_than=KEEP_OLD_VERSIONS)
    except Exception as exc:
        if not is_commit_conflict(exc):
            raise


def keep_no_old_version(table: Table) -> None:
    """Compact `table` and delete every version but the newest, with the files only they used."""
    with warnings.catch_warnings():
        # LanceDB warns that a reader of an old version then fails: the callers say so to theirs.
        warnings.filterwarnings("ignore", message=r"optimize\(cleanup_older_than=0\)")
        table.optimize(cleanup_older_than=timedelta(0))


def rewrite_table(db: DBConnection, table: Table, remake: Callable[[Table, Any], None] | None = None) -> Table:
    """`table` written anew from the rows it has now, each of its indexes made again by `remake(table, index)`
    (index: LanceDB's IndexConfig; without `remake` the caller makes them), and no old version kept; returns
    the new handle."""
    indexes = list(table.list_indices()) if remake is not None else []
    rows = table.search().limit(None).to_batches(_BATCH)
    fresh = db.create_table(table.name, rows, schema=table.schema, mode="overwrite")
    if remake is not None:
        for index in indexes:
            remake(fresh, index)
    keep_no_old_version(fresh)
    return fresh


def remake_key_index(table: Table, index: Any) -> None:
    """A BTREE index on the column `index` was on (the tables' key and filter columns)."""
    make_key_index(table, index.columns[0])
