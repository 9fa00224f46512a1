"""The Engine's writes, one collection each: a switch of collection waits for the writes under way in this process.

The writer lock (writer_lock.py) keeps two writers apart, but not a write apart from a change of the collection it
writes to: the chat app's Library switches collection on one thread while an ingest, a forget or a watched folder's
round runs on another. That write found the newly chosen collection's graph and indexes half-way through (an
ingest deleted the triples of the other collection's documents) and a watch round forgot and read files in it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def one_collection(method: F) -> F:
    """Hold the Engine's `_writes` (a re-entrant lock) for the whole of `method`, which writes the index."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._writes:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)
