"""A write that failed for want of a place to write: a full disk, a read-only one, a temporary folder gone.

`ingest` says itself that the disk is full, with the space it needs (`Store.disk_full_error`). Other writers
(`config set`, `graph import`, a saved conversation, the writer lock's file on a read-only disk) met these errors
deep inside a library, as an OSError or as LanceDB's RuntimeError holding the OS message, and printed a
traceback. `disk_trouble` makes them the one line the CLI shows.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from localrag import paths
from localrag.errors import DiskError
from localrag.sizes import megabytes

# numpy's `tofile` (an export's GGUF tensors) raises an OSError with no errno and words of its own.
_FULL = ("No space left on device", "Disk quota exceeded", "Not enough free space to write")


def is_disk_full(exc: BaseException) -> bool:
    """LanceDB reports ENOSPC from its Rust side as an OSError or a RuntimeError holding the OS message."""
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or any(t in str(exc) for t in _FULL)


def on_read_only_disk(place: Path) -> bool:
    """Whether `place` (or its nearest folder that exists) lies on a file system mounted read-only."""
    try:
        return bool(os.statvfs(_existing(place)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def is_read_only(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.EROFS or "Read-only file system" in str(exc)


def lacks_temp_folder(exc: BaseException) -> bool:
    """LanceDB writes index files under TMPDIR, and fails when it names no folder (Python's tempfile falls back)."""
    return "Failed to create temp dir" in str(exc)


def disk_trouble(exc: BaseException) -> DiskError | None:
    """One line for an error of these kinds, naming the place and what to do; None for any other error."""
    named = getattr(exc, "filename", None)
    # LanceDB's and safetensors' errors name no file: the disk is the data folder's, the cache's (models
    # converted for training, ONNX exports), the models folder's (an export; LOCALRAG_MODELS_DIR may put it on
    # a disk of its own), or TMPDIR's, where LanceDB writes index files.
    places = ([Path(os.fsdecode(named))] if named
              else [paths.data_dir(), paths.cache_dir(), paths.models_dir(), Path(tempfile.gettempdir())])
    where = places[0]
    if is_disk_full(exc):
        disks = {_disk(place): place for place in reversed(places)}  # one line per disk, the data folder's first
        free = "; ".join(f"{place}: {free_space(place)}" for place in sorted(disks.values(), key=places.index))
        return DiskError(f"the disk is full ({free})",
                             "free space on the full disk, or point LOCALRAG_HOME (or LOCALRAG_CACHE_DIR, "
                             "LOCALRAG_MODELS_DIR, TMPDIR) at another one, then run the command again: what was "
                             "written before is kept")
    if is_read_only(exc):
        return DiskError(f"{where}: the disk is read-only",
                             "this command writes to localrag's folders: point LOCALRAG_HOME at a folder on a "
                             "writable disk (asking, searching and listing work on a read-only one)")
    if lacks_temp_folder(exc):
        return DiskError(f"{os.environ.get('TMPDIR', '')}: the temporary folder (TMPDIR) does not exist",
                             "create it, or unset TMPDIR")
    return None


def as_disk_trouble(exc: BaseException) -> DiskError:
    """`exc` as `disk_trouble` says it; `exc` itself raised again when it is no such trouble."""
    trouble = disk_trouble(exc)
    if trouble is None:
        raise exc
    return trouble


def _disk(place: Path) -> int:
    try:
        return _existing(place).stat().st_dev
    except OSError:
        return id(place)


def free_space(place: Path) -> str:
    """"12.3 MB free" on the disk of `place` (or of its nearest folder that exists)."""
    try:
        return f"{megabytes(shutil.disk_usage(_existing(place)).free)} free"
    except OSError:
        return "free space unknown"


def _existing(path: Path) -> Path:
    """The path or its nearest folder that exists, whose disk is the one to measure."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
