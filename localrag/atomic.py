"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The text goes to a temporary file beside the target (same filesystem, so the rename is atomic),
is flushed and fsynced so a crash cannot leave an empty file behind the rename, and then replaces
the target. The process and thread ids in the temporary name keep two writers from sharing one:
two threads of one process (a watcher purging a conversation's sources while the chat saves it)
would otherwise truncate each other's temporary file, and the second rename would find none.

A file replaced keeps its permissions (a settings file holding the API token, made 0600 by its user, came back
0644 at the next `config set`), and a link is written through, not replaced (a config.toml linked from the
user's dotfiles became a plain file there, the dotfiles' copy left as it was).
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = _through_link(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        kept = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        kept = None  # a new file: made as the umask says
    try:
        with tmp.open("wb") as f:
            if kept is not None:
                os.fchmod(f.fileno(), kept)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk, a folder in the file's place: no stray temp file left behind
        raise


def _through_link(path: Path) -> Path:
    """The file a link at `path` points to, where it can be written; else `path` itself, the link then replaced by
    the file (a link into a folder that is gone, or a loop: writing through it failed with a traceback)."""
    if not path.is_symlink():
        return path
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return path
    return target if target.parent.is_dir() else path


def replace_synced(tmp: Path, target: Path) -> None:
    """Rename a file another library wrote (`tmp`, beside `target`) over `target`, its bytes on disk first: a
    crash after the rename would otherwise leave a cut file under the final name, which a cache then reuses."""
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    tmp.replace(target)
