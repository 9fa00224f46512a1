"""Whether a process is still running: stale temporary files and scratch copies are named by their pid."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True while `pid` runs (or belongs to another user, so cannot be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
