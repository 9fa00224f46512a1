"""Whether a process is still running: stale temporary files and scratch copies are named by their pid."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path


def process_alive(pid: int) -> bool:
    """True while `pid` runs (or belongs to another user, so cannot be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_left_by_dead(folder: Path, name: re.Pattern[str]) -> list[Path]:
    """Remove the files and folders in `folder` whose name matches `name` (its first group a pid) and whose
    process is gone: what a killed process left, which its own cleanup never ran for. Returns them."""
    removed: list[Path] = []
    for path in folder.iterdir() if folder.is_dir() else []:
        match = name.match(path.name)
        if match is None or process_alive(int(match.group(1))):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
