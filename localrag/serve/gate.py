"""One model, many callers: a bounded first-come queue in front of the generator.

llama.cpp runs one generation at a time per loaded model, so requests that need the model take
turns. Up to `queue_size` requests wait behind the running one; a request arriving when the queue
is full is refused at once with `QueueFullError`, whose `retry_after` is the recent mean service
time (a place frees when the running request ends), so a client backs off instead of piling up
connections. The gate lives on the server's event loop: `reserve()` and the waiting are asyncio,
the model work itself runs in a worker thread while the ticket is held.
"""

from __future__ import annotations

import asyncio
import math
import time
from types import TracebackType

from localrag.errors import LocalRagError


class QueueFullError(LocalRagError):
    title = "Server busy"

    def __init__(self, what: str, running: int, waiting: int, retry_after: int) -> None:
        super().__init__(f"{what} is busy ({running} running, {waiting} waiting)", f"retry in about {retry_after} s")
        self.retry_after = retry_after


class Ticket:
    """A place in the queue; `async with ticket:` waits for the model and gives it back after."""

    def __init__(self, gate: ModelGate) -> None:
        self._gate = gate
        self._held = False
        self._done = False
        self._started = 0.0

    async def acquire(self) -> None:
        await self._gate._lock.acquire()
        self._held = True
        self._started = time.monotonic()

    def release(self) -> None:
        """Idempotent, so both a response's own cleanup and an error path may call it."""
        if self._done:
            return
        self._done = True
        self._gate._reserved -= 1
        if self._held:
            self._gate._record(time.monotonic() - self._started)
            self._gate._lock.release()

    async def __aenter__(self) -> Ticket:
        try:
            await self.acquire()
        except BaseException:
            self.release()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class ModelGate:
    def __init__(self, queue_size: int = 8, what: str = "the model") -> None:
        self.queue_size = queue_size
        self.what = what
        self._lock = asyncio.Lock()
        self._reserved = 0
        # Mean seconds per request, smoothed; seeded with a guess until the first request finishes.
        self._mean_seconds = 5.0

    @property
    def running(self) -> int:
        return 1 if self._lock.locked() else 0

    @property
    def waiting(self) -> int:
        return self._reserved - self.running

    def reserve(self) -> Ticket:
        """A ticket, or QueueFullError when `queue_size` requests already wait behind the running one."""
        if self._reserved >= self.queue_size + 1:
            # A place frees when the running request ends: about one mean service time from now.
            raise QueueFullError(self.what, self.running, self.waiting, max(1, math.ceil(self._mean_seconds)))
        self._reserved += 1
        return Ticket(self)

    def _record(self, seconds: float) -> None:
        self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * seconds
