"""Filling a small real file system (the `small_disk` fixture in conftest.py) to test what a full disk does."""

from __future__ import annotations

import os
from pathlib import Path


def fill_disk(disk: Path, leave: int) -> Path:
    """Fill `disk` but for `leave` bytes, with one file: delete it to free the space."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 2**16)
    except OSError:
        pass
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler
