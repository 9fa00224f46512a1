"""A damaged store: say which table cannot be read and how to recover; rebuild what can be rebuilt.

LanceDB reports a truncated or corrupt file as a RuntimeError (or OSError) holding "LanceError",
from whichever read first touches it, so every command failed with a traceback. `guarded` wraps the
Store's public methods: such an error becomes one `StoreError` that names the damaged table (found
by reading each table once, `diagnose`) and the recovery. When every table reads, an index is what
failed; indexes hold nothing the tables do not, so each index whose probe fails is built again from
its table and the call is made once more. A damaged table is `localrag repair`'s (store_repair.py):
the hint says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from localrag.collection import CollectionError, deleted_since, suffix
from localrag.disk_errors import is_disk_full, is_read_only, lacks_permission, lacks_temp_folder
from localrag.errors import LocalRagError, StoreError
from localrag.store_schema import CHUNKS, DOCUMENTS, FTS_COLUMN, META, sql_literal

if TYPE_CHECKING:
    from pathlib import Path

    from lancedb.table import Table

    from localrag.store import Store

F = TypeVar("F", bound=Callable[..., Any])
REPAIR_HINT = "run `localrag repair`: it rebuilds what it can and reads the files of the rest again"


def is_commit_conflict(exc: BaseException) -> bool:
    """LanceDB refused a commit because another writer committed first: a race, not damage."""
    return "commit conflict" in str(exc)


def is_pattern_too_big(exc: BaseException) -> bool:
    """LanceDB could not compile a query's LIKE pattern (a path filter too long): the query's fault, not the
    store's, which a user was sent to `localrag repair` for."""
    return "Unable to build regex from LIKE pattern" in str(exc)


def is_damage(exc: BaseException) -> bool:
    """An error LanceDB raised reading a file that is not what its manifest says (cut, flipped)."""
    text = str(exc)
    if is_disk_full(exc) or is_read_only(exc) or lacks_permission(exc) or lacks_temp_folder(exc) \
            or is_commit_conflict(exc) or is_pattern_too_big(exc):
        # Nothing read was damaged: `disk_trouble` says what it was. A folder of the store another account made
        # under umask 022 in a group-shared home was called damaged, and `repair` then found no damage.
        return False
    if type(exc).__name__ == "RustPanic":  # LanceDB's reader panicked: seen on a manifest cut to a few bytes
        return True
    if isinstance(exc, ValueError) and text.startswith("Table '") and text.endswith("' was not found"):
        # A table whose folder is there (the store lists it) but none of whose manifests is: every version lost.
        return True
    if isinstance(exc, ValueError) and "does not appear to be a Lance file" in text:
        return True  # a data file overwritten (with zeros, say): its magic bytes are gone
    return isinstance(exc, (RuntimeError, OSError, ValueError)) and ("LanceError" in text or "lance error" in text)


def is_hollow(table: Table) -> bool:
    """A table that opened without a column: its newest manifest was overwritten (with zeros, say), which LanceDB
    reads as version 0 of an empty schema instead of failing; every read of a column then fails as a schema
    error, and a listing finds no rows. Every table localrag writes has columns."""
    return not table.schema.names


def hollow_error(path: Path, table: str) -> StoreError:
    return StoreError(f"{path}: the store is damaged, the {table} table cannot be read (its newest manifest holds "
                      "no columns)", REPAIR_HINT)


def diagnose(store: Store) -> str:
    """The first table that cannot be opened or read end to end, or "" if every table reads."""
    db = getattr(store, "_db", None)
    if db is None:  # the connection itself failed: nothing to read
        return ""
    suffix = getattr(store, "suffix", "")
    names = {"meta": META, "documents": DOCUMENTS + suffix, "chunks": CHUNKS + suffix}
    for name, table_name in names.items():
        table = getattr(store, f"_{name}", None)  # None while the store is still being opened
        if table is None and table_name not in db.list_tables().tables:
            continue
        try:
            (table if table is not None else db.open_table(table_name)).to_arrow()
        except Exception as exc:
            if is_damage(exc):
                return name
            raise
    return ""


def _first_line(exc: BaseException) -> str:
    # LanceDB appends the Rust source location of the error: noise to a user.
    return re.sub(r",? *\S+\.rs:\d+:\d+", "", str(exc).splitlines()[0])[:200] if str(exc) else type(exc).__name__


def damage_error(store: Store, exc: BaseException) -> StoreError:
    table = diagnose(store)
    what = f"the {table} table cannot be read" if table else "an index cannot be read"
    return StoreError(f"{store.path}: the store is damaged, {what} ({_first_line(exc)})", REPAIR_HINT)


def graph_guarded(method: F) -> F:
    """A GraphStore method: a LanceDB damage error becomes one StoreError pointing at `localrag repair`
    (graph/repair.py), instead of a traceback in every command that reads the graph or forgets a file."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if not is_damage(exc):
                raise
            raise graph_damage_error(self.path, exc) from exc

    return cast(F, wrapper)


def graph_damage_error(path: Path, exc: BaseException) -> StoreError:
    return StoreError(
        f"{path}: the knowledge graph is damaged, a graph table cannot be read ({_first_line(exc)})", REPAIR_HINT
    )


def _probe_text(store: Store, word: str) -> None:
    store.chunks_table.search(word, query_type="fts", fts_columns=FTS_COLUMN).limit(1).to_arrow()


def _probe_vector(store: Store, vector: list[float]) -> None:
    store.chunks_table.search(vector, vector_column_name="vector").limit(1).to_arrow()


def _probe_key(table: Table, column: str, value: str) -> None:
    table.search().where(f"{column} = {sql_literal(value)}").limit(1).to_arrow()


def make_key_index(table: Table, column: str) -> None:
    """A BTREE index on `column` (the keys lookups and deletes filter by), made anew if there is one."""
    from lancedb.index import BTree

    table.create_index(column, config=BTree(), replace=True)


def index_probes(store: Store) -> list[tuple[str, Callable[[], None], Callable[[], None]]]:
    """(label, probe, rebuild) for every index of the store.

    Each probe is a query that reads its index: a term of the first chunk for the BM25 index, its
    vector for the vector index, its ids for the key indexes.
    """
    first = store.chunks_table.search().select(["chunk_id", "doc_id", "text", "vector"]).limit(1).to_arrow()
    if not first.num_rows:
        return []
    row = first.to_pylist()[0]
    word = next((w for w in row["text"].split() if w.isalnum()), "the")
    probes: list[tuple[str, Callable[[], None], Callable[[], None]]] = []
    for table, table_name in ((store.chunks_table, "chunks"), (store.documents_table, "documents")):
        for index in table.list_indices():
            kind, column = str(index.index_type).upper(), index.columns[0]
            label = f"the {kind} index on {table_name}.{column}"
            if kind in ("FTS", "INVERTED"):
                probes.append((label, partial(_probe_text, store, word), store.rebuild_fts_index))
            elif "HNSW" in kind or "IVF" in kind:
                probes.append((label, partial(_probe_vector, store, row["vector"]), store.build_vector_index))
            else:
                probes.append(
                    (
                        label,
                        partial(_probe_key, table, column, str(row.get(column) or "")),
                        partial(make_key_index, table, column),
                    )
                )
    return probes


def damaged_indexes(store: Store) -> list[tuple[str, Callable[[], None]]]:
    """(label, rebuild) of every index whose probe fails as damage does."""
    damaged = []
    for label, probe, rebuild in index_probes(store):
        try:
            probe()
        except Exception as exc:
            if not is_damage(exc):
                raise
            damaged.append((label, rebuild))
    return damaged


def rebuild_damaged_indexes(store: Store) -> list[str]:
    """Build again every index whose probe fails; the labels of those rebuilt."""
    damaged = damaged_indexes(store)
    for _label, rebuild in damaged:
        rebuild()
    return [label for label, _rebuild in damaged]


def _rebuilt(store: Store) -> bool:
    if getattr(store, "_chunks", None) is None or getattr(store, "_documents", None) is None:
        return False  # still being opened: nothing to probe yet
    try:
        return bool(rebuild_damaged_indexes(store))
    except Exception as exc:
        if is_damage(exc):
            return False
        raise


def _caught_up(store: Store) -> bool:
    """Read the tables' newest versions. Reads lag up to a second behind other processes, and a `forget --purge`
    in another one deletes the files of the versions this one last read: a file "not found" that reads like
    damage, in a server or the chat app beside the CLI. False when the tables are not open yet or do not open."""
    opened = (getattr(store, name, None) for name in ("_documents", "_chunks", "_meta"))
    tables = [table for table in opened if table is not None]  # a Table with no rows is falsy
    if len(tables) < 3:
        return False
    try:
        for table in tables:
            table.checkout_latest()
    except Exception:  # truly damaged: the diagnosis says how
        return False
    return True


def collection_gone(store: Store) -> CollectionError | None:
    """The error for a store whose collection another process deleted (or deleted and made again) since it was
    opened: its tables are gone, which reads like damage, but `repair` has nothing to mend. None otherwise."""
    if not getattr(store, "suffix", ""):  # `default` is never deleted; a store still opening has no suffix yet
        return None
    try:
        registry = store._current_registry()
    except Exception:  # the registry itself unreadable: the damage path says so
        return None
    if any(suffix(ident) == store.suffix for ident in registry.values()):
        return None
    return deleted_since(store.collection, registry)


def guarded(method: F) -> F:
    """Turn a LanceDB damage error inside a Store method into one StoreError naming the damage."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            if is_pattern_too_big(exc):
                raise LocalRagError("the path filter (--path, path_glob) is too intricate for the index's search to "
                                    f"compile ({_first_line(exc)})", "give a shorter pattern, with fewer wildcards",
                                    field="path_glob") from exc
            if not is_damage(exc):
                raise
            gone = collection_gone(self)
            if gone is not None:
                raise gone from exc
            if _caught_up(self):
                try:
                    return method(self, *args, **kwargs)
                except Exception as again:
                    if not is_damage(again):
                        raise
                    exc = again
            if not diagnose(self) and _rebuilt(self):
                return method(self, *args, **kwargs)  # only an index was damaged, and it is rebuilt
            raise damage_error(self, exc) from exc

    return cast(F, wrapper)
