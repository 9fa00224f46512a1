"""The long-running localrag processes of a data folder: `serve`, `mcp`, `watch` and the chat app.

Each reads its settings once, at its start, and keeps them: after `localrag config set top_k 2` a running server
went on answering from 4 sources, and a running watch went on reading files with the chunk settings of its start
(so the files it read again counted as stale at once). Each such process leaves a mark here while it runs, and
`config set` names those running, to be started again. A mark says which data folder it is for and when its
process started: a copy of the folder (a backup, restored) carried the marks of the processes serving the
original, and `config set` there named them, or, once their pids were given again, a `sleep`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.disk_errors import as_disk_trouble
from localrag.processes import process_alive, process_started

RUNNING_FOLDER = "running"


@dataclass(frozen=True)
class Running:
    pid: int
    command: str


def _folder() -> Path:
    return paths.data_dir() / RUNNING_FOLDER


@contextmanager
def marked_running(command: str) -> Iterator[None]:
    """Leave a mark naming `command` ("serve --port 8765") while the block runs; a killed process's mark is
    passed over (and removed) by `running_now`."""
    mark = _folder() / f"{os.getpid()}.json"
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(mark, json.dumps({"command": command, "folder": str(paths.data_dir().resolve()),
                                            "started": process_started(os.getpid())}))
        marked = True
    except OSError as exc:
        as_disk_trouble(exc)
        # A full or read-only disk, or a data folder this user may only read, where asking and searching still
        # work: the server, the chat app or the watch (which says itself when it cannot write) start all the same
        # (they refused to, for this mark), and only `config set`'s word that this process would not see the change
        # is lost. Nothing is taken away at the end either: a read-only disk refuses even the unlink of a file that
        # is not there.
        marked = False
    try:
        yield
    finally:
        if marked:
            mark.unlink(missing_ok=True)


def running_now() -> list[Running]:
    """The other processes of this data folder marked running, by pid."""
    found = []
    here = str(paths.data_dir().resolve())
    for mark in _folder().glob("*.json") if _folder().is_dir() else []:
        if not mark.stem.isdigit() or int(mark.stem) == os.getpid():
            continue
        pid = int(mark.stem)
        try:
            said = json.loads(mark.read_text(encoding="utf-8"))
            said = said if isinstance(said, dict) else {}
        except (OSError, ValueError):
            said = {}
        elsewhere = said.get("folder", here) != here  # a copy's: that process serves the folder it was made in
        started = process_started(pid)  # another than the mark's: the pid was given to another process since
        if elsewhere or not process_alive(pid) or said.get("started", started) != started:
            mark.unlink(missing_ok=True)
            continue
        found.append(Running(pid, str(said.get("command", ""))))
    return sorted(found, key=lambda r: r.pid)
