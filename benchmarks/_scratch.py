"""Scratch folders a benchmark makes for its index or corpus, removed when it exits: each run left its index (about
87 MB for the sample corpus) in TMPDIR, and five runs 434 MB."""

from __future__ import annotations

import atexit
import shutil
import tempfile


def scratch_dir(prefix: str) -> str:
    """A new folder in TMPDIR, removed with all it holds when the benchmark's process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path
