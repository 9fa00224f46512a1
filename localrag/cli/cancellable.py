"""Long work that Ctrl-C or SIGTERM stops gracefully: the work runs in a worker thread while the main thread waits,
so the signal reaches the main thread as KeyboardInterrupt and becomes the work's cancel event. The work keeps what
it finished and says so; a second signal quits at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console
from rich.text import Text

from localrag.processes import sigterm_as_ctrl_c

T = TypeVar("T")

# Set by a second signal: the process ends without the interpreter's shutdown (`localrag.cli.main`), since the
# work's thread may be inside native code. Raised as a plain KeyboardInterrupt and shut down as usual, the process
# aborted ("terminate called without an active exception", status 134; 2 times in 5 by hand).
QUIT_NOW = threading.Event()


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
            # Quit now, as asked: the stack unwinds (the progress bar gives the cursor back, locks and marks go),
            # what was committed is kept.
            QUIT_NOW.set()
            raise KeyboardInterrupt
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
