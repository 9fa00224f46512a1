"""Long work that Ctrl-C or SIGTERM stops gracefully: the work runs in a worker thread while the main thread waits
and takes the signals: the first becomes the work's cancel event, and the work keeps what it finished and says so;
a second one quits at once."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

from rich.console import Console
from rich.text import Text

from localrag.processes import run_exit_handlers

T = TypeVar("T")

_Handler = Callable[[int, FrameType | None], None]


def run_cancellable(work: Callable[[threading.Event], T], err: Console, stopping: str) -> T:
    """`work(cancel)` in a worker thread; the first Ctrl-C or SIGTERM sets `cancel`, a second one quits the process
    with status 130."""
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

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set():
            # Quit now, as asked and as a kill would: what was committed is kept. Never by leaving this function:
            # the interpreter's exit then ends the work's thread inside the embedder's native code, which aborts
            # the process ("terminate called without an active exception", status 134 or -6).
            for name in (signal.SIGINT, signal.SIGTERM):  # a third Ctrl-C would start this exit over
                signal.signal(name, signal.SIG_IGN)
            try:
                err.print(Text("localrag: interrupted", style="red"))
                err.show_cursor(True)  # the progress bar hid it, and its end will not run
                sys.stdout.flush()
                sys.stderr.flush()
                run_exit_handlers(within=3.0)  # a quantizer child and its partial file go; never a wait for good
            finally:
                # Whatever they raise: short of memory, "can't start new thread" for the handlers' thread left here
                # as the command's error (a traceback, status 1, then the handlers run again at exit, unbounded).
                os._exit(130)
        cancel.set()
        err.print(Text(stopping + " (Ctrl-C again to quit now)", style="yellow"))

    # A handler that raises nothing, where KeyboardInterrupt was raised: the second signal came while the first's
    # message was still being written (its text out, the print not yet returned), and its KeyboardInterrupt left
    # here as the command's end while the work still ran: the abort above, 1 run in 5 to 10 of the ingest test.
    with _signals_call(on_signal):
        threading.Thread(target=target, name="localrag-work", daemon=True).start()
        # Woken each 0.2 s: a signal the kernel hands to another thread does not interrupt this wait, and its
        # handler runs only when this thread runs Python again.
        while not done.wait(0.2):
            pass
    if "error" in box:
        raise box["error"]
    return box["value"]


@contextlib.contextmanager
def _signals_call(handler: _Handler) -> Iterator[None]:
    """For the block, SIGTERM (a service manager's stop, `kill`, `timeout`: a training run keeps its checkpoint, an
    ingest's script gets its report) and Ctrl-C call `handler`; Ctrl-C not where it is ignored (a background job's).
    The handlers before are put back after. Only the main thread may set them: in another the block runs as it is,
    and no signal reaches it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [signal.SIGTERM] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) != signal.SIG_IGN else [])
    before = {name: signal.signal(name, handler) for name in names}
    try:
        yield
    finally:
        for name, previous in before.items():
            signal.signal(name, previous)
