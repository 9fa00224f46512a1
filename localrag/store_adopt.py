"""An index that holds nothing yet takes the embedder it is opened with.

A store records its embedder when it is first opened, and a search, `ask` or the chat app's start open it
before any ingest: on a fresh home, `localrag search` followed by `config set embed_backend onnx-int8` (or
another `embedder`) left an empty index that refused every ingest, its fix "re-ingest into a fresh store"
with nothing in it to re-ingest. The embedder of an index is only fixed by what it holds: while no table of
the folder has a row, the records change to the embedder at hand, and tables whose vectors have a size
(each collection's chunks, the graph's entities) are made again at its dimension. Collections and their
ids stay. It runs under the migration lock and looks again once it holds it, so two first openings do not
both rewrite the records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localrag.embedder_probe import PROBE_KEY
from localrag.store_migrations import index_keys, new_tables
from localrag.store_schema import CHUNKS, DOCUMENTS, sql_literal
from localrag.writer_lock import migration_lock

if TYPE_CHECKING:
    from lancedb.db import DBConnection
    from lancedb.table import Table

    from localrag.store import Store


def differs(meta: dict[str, str], name: str, dim: int) -> bool:
    """Whether the embedder these meta values record is another than `name` of size `dim`."""
    recorded = meta.get("embedder")
    return recorded is not None and (recorded != name or int(meta.get("dim") or 0) != dim)


def adopt_if_empty(store: Store, meta: Table) -> bool:
    """Record `store`'s embedder in place of the one an empty folder records; False when the folder holds rows."""
    # Here, not at the top: the graph's tables module is needed only on this rare path, not by every opening.
    from localrag.graph.store import ENTITIES

    with migration_lock(store.path):
        meta.checkout_latest()
        values = {r["key"]: r["value"] for r in meta.to_arrow().to_pylist()}
        if not differs(values, store.embedder_name, store.dim):
            return True  # another opening adopted it meanwhile
        db = store._db
        names = db.list_tables().tables
        if not _all_empty(db, names):
            return False
        if int(values.get("dim") or 0) != store.dim:
            for name in names:
                if name.partition("__")[0] == ENTITIES:
                    db.drop_table(name)
                elif name.partition("__")[0] == CHUNKS:
                    table_suffix = name.removeprefix(CHUNKS)
                    db.drop_table(name)
                    new_tables(db, table_suffix, store.dim)
                    if DOCUMENTS + table_suffix in names:
                        index_keys(db, table_suffix)
        meta.delete(f"key IN ('embedder', 'dim') OR key LIKE {sql_literal(PROBE_KEY + '%')}")
        meta.add([{"key": "embedder", "value": store.embedder_name}, {"key": "dim", "value": str(store.dim)}])
        return True


def _all_empty(db: DBConnection, names: list[str]) -> bool:
    try:
        return all(db.open_table(name).count_rows() == 0 for name in names if name != "meta")
    except (RuntimeError, OSError, ValueError):
        return False  # a table that does not read: not known to be empty, and `repair` is the one to look
