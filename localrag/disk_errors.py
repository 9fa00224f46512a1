"""A write that failed for want of a place to write: a full disk, a read-only one, a folder the user may not write
in, a temporary folder gone.

`ingest` says itself that the disk is full, with the space it needs (`Store.disk_full_error`). Other writers
(`config set`, `graph import`, a saved conversation, the writer lock's file on a read-only disk) met these errors
deep inside a library, as an OSError or as LanceDB's RuntimeError holding the OS message, and printed a
traceback. `disk_trouble` makes them the one line the CLI shows.

A folder the user lacks permission for (another user's home, read-only to them; a group-shared one where a member's
umask left the group out) is the same trouble as a read-only disk where writing is optional: an answer is shown
and its saving said to have failed, a server starts. Its line names the folder at fault, its owner and mode, and
the fix; the generic "check that LOCALRAG_HOME names a folder" sent a user to a setting that was right.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localrag import paths
from localrag.errors import DiskError
from localrag.sizes import megabytes

# numpy's `tofile` (an export's GGUF tensors) raises an OSError with no errno and words of its own.
_FULL = ("No space left on device", "Disk quota exceeded", "Not enough free space to write")


def is_disk_full(exc: BaseException) -> bool:
    """LanceDB reports ENOSPC from its Rust side as an OSError or a RuntimeError holding the OS message."""
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or any(t in str(exc) for t in _FULL)


def is_read_only(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == errno.EROFS or "Read-only file system" in str(exc)


def lacks_permission(exc: BaseException) -> bool:
    """EACCES or EPERM on a file, from Python (one naming no file, a signal to another user's process, say, is no
    folder's) or inside LanceDB's Rust side ("Permission denied (os error 13)")."""
    named = getattr(exc, "filename", None) is not None
    return named and getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM) or any(
        t in str(exc) for t in ("Permission denied (os error 13)", "Operation not permitted (os error 1)"))


# LanceDB names the file it failed on: `... (os error 13) at path "/home/x/data/lancedb/chunks.lance/data/.tmpA"`.
_AT_PATH = re.compile(r'at path "([^"]+)"')


def denied_place(exc: BaseException) -> Path:
    """The file or folder whose permissions refused `exc`: the first folder on its path the user cannot enter, else
    the path itself if it exists and cannot be used, else its nearest folder that exists (where a new file was to
    be made). The data folder when the error names no path."""
    named = getattr(exc, "filename", None)
    found = _AT_PATH.search(str(exc))
    path = Path(os.fsdecode(named)) if named else Path(found.group(1)) if found else paths.data_dir()
    path = path.absolute()
    for folder in reversed(path.parents):
        if folder.is_dir() and not os.access(folder, os.X_OK):
            return folder
    if path.exists() and not os.access(path, os.W_OK | os.R_OK):
        return path
    return existing_place(path)


def permission_trouble(place: Path) -> DiskError:
    """What the user lacks at `place`, whose it is, and how to get it."""
    try:
        info = place.stat()
    except OSError:
        return PermissionTrouble(f"{place}: permission denied",
                                 "check its permissions and those of the folders above it (ls -ld)")
    folder = place.is_dir()
    needs = [("read", os.R_OK), ("enter", os.X_OK), ("write in", os.W_OK)] if folder else \
        [("read", os.R_OK), ("write", os.W_OK)]
    lacks = [word for word, mode in needs if not os.access(place, mode)]
    what = f"you cannot {' or '.join(lacks)} this {'folder' if folder else 'file'}" if lacks else "permission denied"
    owner, group = _name(pwd.getpwuid, info.st_uid), _name(grp.getgrgid, info.st_gid)
    said = f"{place}: {what} (owner {owner}, group {group}, mode {stat.filemode(info.st_mode)})"
    if info.st_uid == os.geteuid():
        # Inside localrag's own folders the whole folder is named, as for a group: a home made read-only
        # (`chmod -R a-w`, a copy with its modes) is so all through, and a fix of the one folder or file named was
        # followed by the next refusal, one folder at a time.
        roots = (paths.data_dir().absolute(), paths.config_dir().absolute(), paths.models_dir().absolute())
        own = next((root for root in roots if place.absolute().is_relative_to(root)), None)
        fix = f"chmod -R u+rwX '{own}'" if own is not None else \
            f"chmod -R u+rwX '{place}'" if folder else f"chmod u+rw '{place}'"
        return PermissionTrouble(said, f"give yourself access: {fix}")
    # A home shared with a group on purpose (by the rule its folders were made by, `paths.shared_root`): the other
    # member's umask (022) made this group-read-only, and most likely all they wrote beside it, so the fix names the
    # whole of localrag's folder that holds it. Group membership alone is no such sign: where every account is in
    # `users`, a user pointed at another's private home was told to have it opened to every account.
    whole = paths.shared_root(place)
    if whole is not None and (info.st_gid in os.getgroups() or info.st_gid == os.getegid()):
        return PermissionTrouble(said, f"{owner} can give the group access: chmod -R g+rwX '{whole}' (and set umask "
                                       "002, so that what they write next stays the group's)")
    return PermissionTrouble(said, f"ask {owner} to give you access (chmod, chown), or point LOCALRAG_HOME at a "
                                   "folder of your own (asking, searching and listing need only read access)")


class PermissionTrouble(DiskError):
    """A folder or file the user may not write (or read): not their disk's fault, and not the index's damage. The
    API answers 403 `permission_denied`, not a disk's 507."""

    title = "No permission to write"


def _name(lookup: Callable[[int], Any], ident: int) -> str:
    try:
        return str(lookup(ident)[0])
    except KeyError:  # an id with no name here (a disk from another machine)
        return str(ident)


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
                             "writable disk (`search`, `ask` without `--conversation`, `documents`, `status` and "
                             "`repair --check` only read, and work on a read-only one)")
    if lacks_permission(exc):
        return permission_trouble(denied_place(exc))
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
        return existing_place(place).stat().st_dev
    except OSError:
        return id(place)


def free_space(place: Path) -> str:
    """"12.3 MB free" on the disk of `place` (or of its nearest folder that exists)."""
    try:
        return f"{megabytes(shutil.disk_usage(existing_place(place)).free)} free"
    except OSError:
        return "free space unknown"


def existing_place(path: Path) -> Path:
    """The path or its nearest folder that exists: whose disk is the one to measure, and whose modes say whether a
    file can be made there."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def on_read_only_disk(path: Path) -> bool:
    """Whether `path` (or the nearest folder of it that exists) is on a disk mounted read-only: the one trouble a
    write refused there has that no mode or owner explains."""
    try:
        return bool(os.statvfs(existing_place(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def after(trouble: DiskError, failed: str) -> DiskError:
    """`trouble` said after what it stopped (`failed`: "the answer was not saved in the conversation"), its kind and
    its fix kept: the CLI, the chat app and the conversations' store each say a failed save so."""
    return type(trouble)(f"{failed}: {trouble.message}", trouble.hint)
