"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The text goes to a temporary file beside the target (same filesystem, so the rename is atomic),
is flushed and fsynced so a crash cannot leave an empty file behind the rename, and then replaces
the target. The process id in the temporary name keeps two writers from sharing one.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
