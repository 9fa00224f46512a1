"""`localrag backup DEST`: a copy of localrag's folders that a restore can use, taken while nothing writes to them.

A plain copy (`cp -a`, rsync, a backup tool) of a data folder an ingest was writing could pair tables of two
moments: a slow file-by-file copy took the chunks table before a commit and the documents table after it, and
the copy held documents without their text. This copy holds the index's writer lock while it runs, so the
writes of every collection (ingest, forget, watch, repair, graph build) wait for it and say so. An index this user
can only read (a read-only disk, another account's home) is backed up too, holding the lock's file open for
reading (`reading_lock`): it was refused for want of writing the lock's file, though a backup only reads. Saved
conversations and settings are written whole, each file at once, so each is copied whole.

The copy is `DEST/localrag-backup-<UTC time>/` holding `data/` and `config/` (and `models/` when asked): a
LOCALRAG_HOME as it stands, so `LOCALRAG_HOME=that-folder localrag status` reads it, and a restore puts each of
its folders in place of the one it was copied from (`BackupReport.restore` names both). Left out and named: the
cache (made again when needed), the marks of running processes, the chat app's log and lock files; and the
models folder unless asked (GGUF files of gigabytes, which an export can make again). The copy is written under
a `.partial` name and renamed at its end, so an interrupted one is never taken for whole; the next backup to the
same place removes what a killed one left.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from localrag import paths
from localrag.disk_errors import as_disk_trouble, is_read_only, lacks_permission
from localrag.errors import LocalRagError
from localrag.processes import remove_left_by_dead
from localrag.running import RUNNING_FOLDER
from localrag.sizes import count_text, size_text
from localrag.writer_lock import lock_file, lock_holder, writer_lock

PREFIX = "localrag-backup-"
_PARTIAL = re.compile(rf"\.{re.escape(PREFIX)}(\d+)\.partial$")  # the name `backup` writes under
# Not the user's: made again, or only true while a process runs.
_LEFT_OUT_NAMES = frozenset({RUNNING_FOLDER, "tui.log"})


@dataclass
class BackupReport:
    path: str
    size: int = 0
    files: int = 0
    seconds: float = 0.0
    # (what, where, its size) of each folder left out.
    left_out: list[tuple[str, str, int]] = field(default_factory=list)
    # (a folder of the copy, the folder it replaces in a restore): the data folder is `~/.local/share/localrag`
    # without LOCALRAG_HOME, not `.../data`, so "put its folders back" copied `data` one level too deep.
    restore: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"backed up to {self.path} ({size_text(self.size)}, {count_text(self.files, 'file')}, "
                f"{self.seconds:.1f} s)")


def backup(dest: Path, *, models: bool = False) -> BackupReport:
    """Copy the data, config (and, with `models`, models) folders into a new folder in `dest`, under the writer
    lock; the report names the folder, its size and what was left out."""
    started = time.monotonic()
    dest = paths.typed_path(dest).absolute()  # the report names it: `LOCALRAG_HOME=bk/...` read from anywhere
    data, config, model_dir = paths.data_dir(), paths.config_dir(), paths.models_dir()
    _check(dest, data)
    remove_left_by_dead(dest, _PARTIAL)
    partial = dest / f".{PREFIX}{os.getpid()}.partial"
    report = BackupReport("")
    left_out = {paths.cache_dir().resolve(): "the cache (made again when needed)"}
    if not models:
        left_out[model_dir.resolve()] = "the models folder (`--models` copies it)"
    try:
        with reading_lock(paths.db_dir()):
            partial.mkdir(mode=0o700)
            _copy(data, partial / "data", left_out, report)
            if config.is_dir():
                _copy(config, partial / "config", left_out, report)
            apart = model_dir.is_dir() and not model_dir.resolve().is_relative_to(data.resolve())
            if models and apart:
                _copy(model_dir, partial / "models", left_out, report)
            elif apart and any(model_dir.iterdir()):
                report.left_out.append((left_out[model_dir.resolve()], str(model_dir), _size(model_dir)))
            final = _renamed(partial, dest)
            report.path = str(final)
            report.restore = [(str(final / name), str(place.absolute())) for name, place in
                              (("data", data), ("config", config), ("models", model_dir))
                              if (final / name).is_dir()]
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)  # never half a backup under a backup's name
        if isinstance(exc, OSError):
            raise as_disk_trouble(exc) from exc
        raise
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def reading_lock(store_dir: Path) -> Iterator[None]:
    """The writer lock, for a command that only reads the tables (`backup`, `repair --check`), so that no writer
    changes them meanwhile. Where this user cannot write the lock's file (a disk mounted read-only, a home they may
    only read) it is held open for reading, which `flock` allows: a writer of an account that can write there
    still waits for it, and a writer at work now is named and the command refused, not waited for in silence."""
    with ExitStack() as stack:
        try:
            stack.enter_context(writer_lock(store_dir))
        except OSError as exc:
            if not (is_read_only(exc) or lacks_permission(exc)):
                raise
            stack.enter_context(_shared_lock(store_dir))
        yield


@contextmanager
def _shared_lock(store_dir: Path) -> Iterator[None]:
    try:
        handle = lock_file(store_dir).open("rb")
    except FileNotFoundError:  # no writer ever ran here (the first makes it), and this user cannot make one
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            # Read from this handle, whatever collection the writer records (an ingest records one):
            # `writer_at_work` names only a writer of the collection it is asked about, and asks the lock again.
            raise LocalRagError(f"{store_dir}: {lock_holder(handle)} is writing to the index, which this account "
                                "cannot lock to wait for it", "run the command again once it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _renamed(partial: Path, dest: Path) -> Path:
    """`partial` under its final name, the time it was finished (a second backup within the same second: -2)."""
    stamp = f"{PREFIX}{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    for number in range(1, 100):
        final = dest / (stamp if number == 1 else f"{stamp}-{number}")
        if not final.exists():
            partial.rename(final)
            return final
    raise LocalRagError(f"{dest}: 99 backups made this second", "wait a second")


def _check(dest: Path, data: Path) -> None:
    if not (data / "lancedb").is_dir():
        raise LocalRagError(f"{data}: there is no index to back up", "run `localrag ingest PATH` first")
    if dest.exists() and not dest.is_dir():
        raise LocalRagError(f"{dest}: a file, not a folder", "name the folder to make the backup in")
    if not dest.is_dir():
        # Made here, a backup to a drive that is not mounted would fill the laptop's own disk instead.
        raise LocalRagError(f"{dest}: no such folder (is its drive mounted?)", "create it first, or name another")
    if any(dest.resolve().is_relative_to(own) for own in paths.own_folders()):
        raise LocalRagError(f"{dest}: inside localrag's own folders, which a backup copies",
                            "name a folder outside them")


def _copy(source: Path, target: Path, left_out: dict[Path, str], report: BackupReport) -> None:
    """Copy the folder `source` as `target`, the backing-up user's own and private as the backup's folder is: folders
    0700, files 0600, whatever the modes copied. Copied with their modes, a `chmod -R a-w` home (or another
    account's) gave a read-only backup: its owner could not delete it, and a home restored from it refused every
    write."""
    target.mkdir(mode=0o700)
    for name in sorted(os.listdir(source)):
        path = source / name
        if (resolved := path.resolve()) in left_out:
            report.left_out.append((left_out[resolved], str(resolved), _size(path)))
        elif name in _LEFT_OUT_NAMES or name.endswith(".lock"):
            continue
        # Links followed: an index moved to another disk behind a link was "backed up" as that link, 0 bytes.
        elif path.is_dir():
            _copy(path, target / name, left_out, report)
        else:
            _copy_file(path, target / name, report)


def _copy_file(source: Path, target: Path, report: BackupReport) -> None:
    """`source`'s bytes and times as a new file `target`, 0600."""
    info = source.stat()
    with source.open("rb") as reading, \
            os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as writing:
        shutil.copyfileobj(reading, writing)
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    report.files += 1
    report.size += info.st_size


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
