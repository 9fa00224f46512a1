"""The collections registry of a store folder: which collections there are, and their tables' ids.

`Store` (localrag/store.py) inherits these methods; they act on the whole folder, not on the collection a
Store is bound to. The registry is one row of the folder's `meta` table (collection.py reads and writes its
text), and a registry write is each change's commit point: a collection's tables are made before it is
registered and dropped after it is unregistered, so a killed change leaves unregistered tables, which the
next change drops.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.collection import (
    DEFAULT_COLLECTION,
    REGISTRY_KEY,
    CollectionError,
    check_name,
    dump_registry,
    missing,
    new_id,
    parse_registry,
    suffix,
    table_id,
)
from localrag.store_migrations import index_keys, new_tables
from localrag.store_schema import meta_schema, sql_literal

if TYPE_CHECKING:
    from lancedb.db import DBConnection
    from lancedb.table import Table


class CollectionRegistry:
    """The registry methods of a Store, and the folder's own `meta` values."""

    path: Path
    dim: int
    collection: str
    suffix: str
    _lock: threading.RLock
    _db: DBConnection
    _meta: Table

    def registry(self) -> dict[str, str]:
        """Collection name -> id, for every collection in the folder."""
        return parse_registry(self._folder_meta(REGISTRY_KEY))

    def current_name(self) -> str:
        """This collection's name now: another process may have renamed it since this one opened it (a server
        then goes on serving it, and must not report it by a name that may be another collection's by now)."""
        if not self.suffix:
            return self.collection
        return next((name for name, ident in self._current_registry().items() if suffix(ident) == self.suffix),
                    self.collection)

    def _current_registry(self) -> dict[str, str]:
        """The registry as another process may have just written it (changes hold the writer lock).

        Reads otherwise see other processes' writes up to a second late; a change made on a stale
        registry would drop a collection created meanwhile.
        """
        self._meta.checkout_latest()
        return self.registry()

    def create_collection(self, name: str, ident: str | None = None) -> str:
        """Make an empty collection's tables, then register it (the commit point); returns its id.

        `ident`: the id to use (a re-embedding keeps each collection's); a collection already
        registered under that id is left as it is, so a resumed copy goes on.
        """
        check_name(name)
        registry = self._current_registry()
        if name in registry and ident is not None and registry[name] == ident:
            return ident
        if name in registry:
            raise CollectionError(f"collection '{name}' already exists", "pick another name")
        self._drop_unregistered(registry)
        ident = ident or new_id()
        new_tables(self._db, suffix(ident), self.dim)
        index_keys(self._db, suffix(ident))
        self._set_folder_meta(REGISTRY_KEY, dump_registry({**registry, name: ident}))
        return ident

    def rename_collection(self, old: str, new: str) -> None:
        """One registry write: the tables keep their names."""
        check_name(new)
        registry = self._current_registry()
        if old == DEFAULT_COLLECTION:
            raise CollectionError("the 'default' collection cannot be renamed", "create a new collection instead")
        if old not in registry:
            raise missing(old)
        if new in registry:
            raise CollectionError(f"collection '{new}' already exists", "pick another name")
        registry[new] = registry.pop(old)
        self._set_folder_meta(REGISTRY_KEY, dump_registry(registry))
        if self.collection == old:
            self.collection = new

    def delete_collection(self, name: str) -> None:
        """Unregister (the commit point: it is gone), then drop its tables and files."""
        registry = self._current_registry()
        if name == DEFAULT_COLLECTION:
            raise CollectionError(
                "the 'default' collection cannot be deleted", "forget its documents with `localrag forget PATH`"
            )
        if name not in registry:
            raise missing(name)
        del registry[name]
        self._set_folder_meta(REGISTRY_KEY, dump_registry(registry))
        self._drop_unregistered(registry)

    def _drop_unregistered(self, registry: dict[str, str]) -> None:
        """Tables and files of collections no longer registered: what a delete (or a killed one) left."""
        live = set(registry.values())
        for table in self._db.list_tables().tables:
            if table_id(table) and table_id(table) not in live:
                self._db.drop_table(table)
        for file in self.path.iterdir():
            if file.is_file() and table_id(file.stem) and table_id(file.stem) not in live:
                file.unlink()

    def _folder_meta(self, key: str) -> str | None:
        def read() -> list[dict[str, str]]:
            return self._meta.search().where(f"key = {sql_literal(key)}").limit(None).to_arrow().to_pylist()

        try:
            rows = read()
        except (RuntimeError, OSError) as exc:
            # Read at the version this process last saw, whose files another process's purge (which keeps no old
            # version) has deleted: the table as it is now holds the value. A server read it on every search.
            if "Not found" not in str(exc):
                raise
            self._meta.checkout_latest()
            rows = read()
        return rows[-1]["value"] if rows else None

    def _set_folder_meta(self, key: str, value: str) -> None:
        import pyarrow as pa

        with self._lock:
            (
                self._meta.merge_insert("key")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(pa.Table.from_pylist([{"key": key, "value": value}], schema=meta_schema()))
            )
