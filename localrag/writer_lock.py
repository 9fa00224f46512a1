"""One writer at a time per store: concurrent ingests and forgets wait for each other, by design.

LanceDB's commits are atomic, and two writers used to work by the luck of that; but an ingest reads
the stored hashes at its start and deletes documents that vanished at its end, so two interleaved
runs could each undo the other's view. An exclusive `flock` on a file next to the store serialises
writers across processes and threads (a flock belongs to an open file, so two threads of one
process wait for each other too); readers (`ask`, `status`, search) never take it. The lock goes
with the process, so a killed writer never leaves it held.

A writer that has to wait says so, through the function `tell_waits` was given (the CLI prints it): a `forget`
behind a long ingest printed nothing at all, and looked hung. The holder writes its pid and command name
("localrag forget") into the lock file, so the notice names who to wait for. Only the name: the lock file outlives the
command, and its arguments (a file's name, a folder's) can be as confidential as the text a purge erased.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from localrag.processes import process_alive

_notice: Callable[[str], None] | None = None


class LockWaitCancelled(Exception):
    """The wait for another writer was given up: its cancel was set (Ctrl-C, a server's stop)."""


def lock_file(store_dir: Path) -> Path:
    return store_dir.with_name(store_dir.name + ".writer.lock")


def tell_waits(notice: Callable[[str], None] | None) -> None:
    """Have `notice` told, in one line, when a writer waits for another (None: wait in silence)."""
    global _notice
    _notice = notice


@contextmanager
def writer_lock(store_dir: Path, cancel: threading.Event | None = None, collection: str = "") -> Iterator[None]:
    """Hold the store's writer lock for the block, waiting while another writer holds it; LockWaitCancelled when
    `cancel` is set meanwhile. `collection`: the one collection the block writes to ("": any or all of them)."""
    with file_lock(lock_file(store_dir), on_wait=_said_waiting, cancel=cancel) as handle:
        handle.seek(0)
        handle.truncate()
        # The collection on a line of its own: one lock serves every collection of the data folder, and an
        # ingest into notes is no reason for collection work to be empty.
        line = f"{os.getpid()} {command_name(sys.argv)}" + (f"\n{collection}" if collection else "")
        handle.write(line.encode("utf-8", "surrogateescape"))
        handle.flush()
        yield


# A sub-command's shape: what the command line's first word after the program's name is, when it is not a path.
_COMMAND_WORD = re.compile(r"[a-z][a-z0-9-]*")


def command_name(argv: list[str]) -> str:
    """The program and its sub-command from `argv`, none of its arguments: "localrag forget" of `localrag forget
    docs/client --purge`, "localrag" of the chat app. `--config FILE` (or `--conf FILE`) before the command is passed
    over."""
    program = Path(argv[0]).name if argv else "python"
    if program == "__main__.py":  # `python -m localrag`
        program = Path(argv[0]).parent.name
    words = iter(argv[1:])
    for word in words:
        # argparse takes any prefix of an option (`--conf FILE`), and `--config` is the only top-level one with a
        # value; "--" alone ends the options.
        if len(word) > 2 and "--config".startswith(word):
            next(words, None)
        elif not word.startswith("-"):
            return f"{program} {word}" if _COMMAND_WORD.fullmatch(word) else program
    return program


def writer_at_work(store_dir: Path, collection: str) -> str:
    """Who holds the store's writer lock now to write to `collection` ("localrag ingest (pid 123)"), "" when no one
    does (a writer of another collection neither): asked without waiting (an empty collection while its first ingest
    embeds is not a collection no one has added to)."""
    try:
        handle = lock_file(store_dir).open("rb")
    except FileNotFoundError:
        return ""
    with handle:
        try:
            # Shared, and let go at once: a writer that comes meanwhile waits the instant this takes.
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            writing_to = _recorded(handle)[2]
            return lock_holder(handle) if writing_to in ("", collection) else ""
        fcntl.flock(handle, fcntl.LOCK_UN)
        return ""


def _said_waiting(handle: IO[bytes]) -> None:
    if _notice is not None:
        _notice(f"waiting for {lock_holder(handle)} to finish writing to the index (Ctrl-C gives up)")


def lock_holder(handle: IO[bytes]) -> str:
    """Who holds the lock open in `handle`, as its holder wrote it: "localrag ingest (pid 123)"."""
    pid, command, _ = _recorded(handle)
    if not pid.isdigit() or not process_alive(int(pid)):
        return "another localrag command"
    if int(pid) == os.getpid():
        return "another task of this localrag"
    return f"{command} (pid {pid})" if command else f"pid {pid}"


def _recorded(handle: IO[bytes]) -> tuple[str, str, str]:
    """The pid, command name and collection ("": any) the lock's holder wrote."""
    handle.seek(0)
    first, _, collection = handle.read(400).decode("utf-8", "replace").partition("\n")
    pid, _, command = first.partition(" ")
    return pid, command, collection


def _wait_unless_cancelled(handle: IO[bytes], cancel: threading.Event) -> None:
    while True:
        if cancel.wait(0.2):
            raise LockWaitCancelled
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            continue


# Inside the store's folder, so a scratch or evaluation store leaves no lock file behind when it is deleted.
MIGRATION_LOCK = ".migrations.lock"


@contextmanager
def migration_lock(store_dir: Path) -> Iterator[None]:
    """Held while a new store's meta table is made and while a store is brought up to date on opening: two first
    openings at once (the chat app's threads, `status` beside the first ingest) would each make the table and run
    every step, one commit failing on the other's. Apart from the writer lock, which a writer holds while it
    opens stores."""
    with file_lock(Path(store_dir) / MIGRATION_LOCK):
        yield


@contextmanager
def file_lock(path: Path, on_wait: Callable[[IO[bytes]], None] | None = None,
              cancel: threading.Event | None = None) -> Iterator[IO[bytes]]:
    """An exclusive flock on `path` (made if missing) for the block, the file open; `on_wait(file)` is called
    once when another holds it, before waiting for it; with `cancel`, the wait ends in LockWaitCancelled once it is
    set (a wait run in a worker thread, as the CLI's ingest is, heard no Ctrl-C)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(handle)
            if cancel is None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            else:
                _wait_unless_cancelled(handle, cancel)
                if cancel.is_set():
                    # Set while the lock came free: the work it waited to do is no longer wanted (the file's
                    # closing frees it). Only after a wait: a stop with no other writer is the work's own to say.
                    raise LockWaitCancelled from None
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
