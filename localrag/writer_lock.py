"""One writer at a time per store: concurrent ingests and forgets wait for each other, by design.

LanceDB's commits are atomic, and two writers used to work by the luck of that; but an ingest reads
the stored hashes at its start and deletes documents that vanished at its end, so two interleaved
runs could each undo the other's view. An exclusive `flock` on a file next to the store serialises
writers across processes and threads (a flock belongs to an open file, so two threads of one
process wait for each other too); readers (`ask`, `status`, search) never take it, except to bring a new
or older store up to date on first opening it (`Store._migrate`). The lock goes with the process, so a
killed writer never leaves it held.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_file(store_dir: Path) -> Path:
    return store_dir.with_name(store_dir.name + ".writer.lock")


# The lock files this thread holds: a block under the lock that opens the store (which may take the lock to
# migrate it) must not wait for itself, as a second flock of the same file would.
_held = threading.local()


@contextmanager
def writer_lock(store_dir: Path) -> Iterator[None]:
    """Hold the store's writer lock for the block, waiting while another writer holds it; a thread already
    holding it goes on."""
    path = lock_file(store_dir)
    key = os.path.abspath(path)
    held: set[str] = _held.__dict__.setdefault("paths", set())
    if key in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)
