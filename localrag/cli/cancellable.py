"""Long work that Ctrl-C or SIGTERM stops gracefully: the work runs in a worker thread while the main thread waits,
so the signal reaches the main thread as KeyboardInterrupt and becomes the work's cancel event. The work keeps what
it finished and says so; a second signal quits at once."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console
from rich.text import Text

from localrag.processes import sigterm_as_ctrl_c

T = TypeVar("T")

def run_cancellable(work: Callable[[threading.Event], T], err: Console, stopping: str) -> T:
    """`work(cancel)` in a worker thread; the first Ctrl-C or SIGTERM sets `cancel`, a second one gives up
    waiting."""
    cancel = threading.Event()
    done = threading.Event()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work(cancel)
        except BaseException as exc:  # handed to the main thread, which raises it
            box["error"] = exc
        finally:
            done.set()

    def interrupted() -> None:
        if cancel.is_set():
            # Quit now, as asked and as a kill would: what was committed is kept. Neither by KeyboardInterrupt's
            # exit nor by unwinding the stack: both free the embedder's native objects under the work's thread, which
            # aborted the process ("terminate called without an active exception", status 134 or 6; 2 times in 5).
            err.print(Text("localrag: interrupted", style="red"))
            err.show_cursor(True)  # the progress bar hid it, and its end will not run
            sys.stdout.flush()
            sys.stderr.flush()
            atexit._run_exitfuncs()  # a quantizer child and its partial file go (tune/quantize.py)
            os._exit(130)
        cancel.set()
        err.print(Text(stopping + " (Ctrl-C again to quit now)", style="yellow"))

    # A service manager's stop, `kill` or `timeout` sends SIGTERM: as Ctrl-C's, it keeps what was done and reports
    # it (a training run its checkpoint, an ingest's script its report).
    with sigterm_as_ctrl_c():
        # `done`, not Thread.is_alive: a Ctrl-C inside start() leaves the thread running but not yet "alive".
        try:
            threading.Thread(target=target, name="localrag-work", daemon=True).start()
        except KeyboardInterrupt:
            interrupted()
        while not done.is_set():
            try:
                done.wait(0.2)
            except KeyboardInterrupt:
                interrupted()
    if "error" in box:
        raise box["error"]
    return box["value"]
