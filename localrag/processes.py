"""Whether a process is still running: stale temporary files and scratch copies are named by their pid; and
SIGTERM taken as Ctrl-C for long work that stops gracefully."""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def process_alive(pid: int) -> bool:
    """True while `pid` runs (or belongs to another user, so cannot be signalled). A zombie, killed but not yet
    waited for by its parent (a script that started the run, the chat app), runs no more: signalled, it answered
    as if it did, and its run was "running" until the parent ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(pid)
    return fields is None or fields[0] != "Z"  # no /proc (macOS), or it ended meanwhile: as the signal said


def process_started(pid: int) -> str | None:
    """When `pid` started, in the system's clock ticks since boot (None where /proc does not tell): a pid the
    system gave to another process since shows another start."""
    fields = _stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from its third field (the state) on; None without one."""
    try:
        # They follow the name in parentheses, which may itself hold spaces and parentheses.
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split() or None
    except OSError:
        return None


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


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """For the block, SIGTERM (a service manager's stop, `kill`, `timeout`) raises KeyboardInterrupt as Ctrl-C does,
    where by default it ended the process at once; the handler before is put back after. Only the main thread may
    set a handler: in another the block runs as it is."""
    before = signal.signal(signal.SIGTERM, signal.default_int_handler) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        yield
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)


def run_exit_handlers(within: float) -> None:
    """The process's atexit handlers (a quantizer child and its partial file go: tune/quantize.py), given at most
    `within` seconds, for a process that quits at once after them. LanceDB registers one that shuts its runtime
    down and waits for its tasks: after one of its threads panicked (too little memory to start a thread), it
    waited for good, and a second Ctrl-C or SIGTERM printed "localrag: interrupted" and never quit (gdb showed
    the main thread in `atexit_callfuncs`, in LanceDB, asleep)."""
    import atexit

    worker = threading.Thread(target=atexit._run_exitfuncs, name="localrag-exit", daemon=True)
    worker.start()
    worker.join(within)
