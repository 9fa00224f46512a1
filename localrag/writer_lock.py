"""One writer at a time per store: concurrent ingests and forgets wait for each other, by design.

LanceDB's commits are atomic, and two writers used to work by the luck of that; but an ingest reads
the stored hashes at its start and deletes documents that vanished at its end, so two interleaved
runs could each undo the other's view. An exclusive `flock` on a file next to the store serialises
writers across processes and threads (a flock belongs to an open file, so two threads of one
process wait for each other too); readers (`ask`, `status`, search) never take it. The lock goes
with the process, so a killed writer never leaves it held.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_file(store_dir: Path) -> Path:
    return store_dir.with_name(store_dir.name + ".writer.lock")


@contextmanager
def writer_lock(store_dir: Path) -> Iterator[None]:
    """Hold the store's writer lock for the block, waiting while another writer holds it."""
    with _flock(lock_file(store_dir)):
        yield


# Inside the store's folder, so a scratch or evaluation store leaves no lock file behind when it is deleted.
MIGRATION_LOCK = ".migrations.lock"


@contextmanager
def migration_lock(store_dir: Path) -> Iterator[None]:
    """Held while a new store's meta table is made and while a store is brought up to date on opening: two first
    openings at once (the chat app's threads, `status` beside the first ingest) would each make the table and run
    every step, one commit failing on the other's. Apart from the writer lock, which a writer holds while it
    opens stores."""
    with _flock(Path(store_dir) / MIGRATION_LOCK):
        yield


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
