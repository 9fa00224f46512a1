"""A damaged store: say which table cannot be read and how to recover; rebuild what can be rebuilt.

LanceDB reports a truncated or corrupt file as a RuntimeError (or OSError) holding "LanceError",
from whichever read first touches it, so every command failed with a traceback. `guarded` wraps the
Store's public methods: such an error becomes one `StoreError` that names the damaged table (found
by reading each table once, `diagnose`) and the recovery. The full-text index holds nothing that is
not in the chunks table, so a search that fails on it rebuilds it from the chunks and tries again
(`Store.text_search`). Everything else is `localrag repair`'s (store_repair.py): the hint says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from localrag.errors import StoreError

if TYPE_CHECKING:
    from localrag.store import Store

F = TypeVar("F", bound=Callable[..., Any])
REPAIR_HINT = "run `localrag repair`: it rebuilds what it can and reads the files of the rest again"


def is_damage(exc: BaseException) -> bool:
    """An error LanceDB raised reading a file that is not what its manifest says (cut, flipped)."""
    text = str(exc)
    if "No space left on device" in text:  # a full disk is not damage (store.is_disk_full)
        return False
    return isinstance(exc, (RuntimeError, OSError, ValueError)) and ("LanceError" in text or "lance error" in text)


def diagnose(store: Store) -> str:
    """The first table that cannot be read end to end, or "" if every table reads."""
    for name in ("meta", "documents", "chunks"):
        table = getattr(store, f"_{name}", None)  # None while the store is still being opened
        if table is None:
            continue
        try:
            table.to_arrow()
        except Exception as exc:
            if is_damage(exc):
                return name
            raise
    return ""


def damage_error(store: Store, exc: BaseException) -> StoreError:
    table = diagnose(store)
    # LanceDB appends the Rust source location of the error: noise to a user.
    first_line = re.sub(r",? */rustc/\S+", "", str(exc).splitlines()[0])[:200] if str(exc) else type(exc).__name__
    what = f"the {table} table cannot be read" if table else "an index cannot be read"
    return StoreError(f"{store.path}: the store is damaged, {what} ({first_line})", REPAIR_HINT)


def guarded(method: F) -> F:
    """Turn a LanceDB damage error inside a Store method into one StoreError naming the damage."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            if is_damage(exc):
                raise damage_error(self, exc) from exc
            raise

    return cast(F, wrapper)
