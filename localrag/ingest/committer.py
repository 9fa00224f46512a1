"""One batch embedded and written on a worker thread while the ingest reads and chunks the next.

Why: beside a fast embedder (bf16 torch) the rest of an ingest showed. Reading, chunking with token
counts and the LanceDB writes were a few seconds of every minute spent encoding
(benchmarks/README.md, "Ingest: where the seconds beside encoding go"). Torch and ONNX Runtime release
the GIL inside a forward pass, so that Python work runs on a second core meanwhile.

The ingest's guarantees stay those of a synchronous commit:
- At most one batch is in flight and one is being filled, so memory stays two batches.
- Batches are written in the order they were read, one at a time, through the same `Store.write_batch`.
- A job's error (a failed store write) comes back to the ingest's thread at the next `submit` or `drain`.
- Whatever the ingest's thread raises, `settle` waits for the batch in flight first. So the writer
  lock is never released while a write is still running.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")


class BackgroundCommitter(Generic[T]):
    """Runs one job at a time on a worker thread; `on_done` gets each job's result on the caller's thread."""

    def __init__(self, on_done: Callable[[T], None]) -> None:
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localrag-commit")
        self._in_flight: Future[T] | None = None
        self.in_flight_chunks = 0
        self.failed = False  # a job raised: the store may be unusable, so nothing more is written

    def submit(self, job: Callable[[], T], chunks: int) -> None:
        """Wait for the job in flight (re-raising its error), then start `job` and return at once."""
        self.drain()
        self._in_flight = self._pool.submit(job)
        self.in_flight_chunks = chunks

    def drain(self) -> None:
        """Wait for the job in flight; its result goes to `on_done`, its error is raised here."""
        future = self._in_flight
        if future is None:
            return
        try:
            result = future.result()
        except BaseException:
            # A Ctrl-C while waiting leaves the job in flight, for `settle` to wait for.
            if future.done():
                self._in_flight, self.in_flight_chunks = None, 0
                self.failed = future.exception() is not None
            raise
        self._in_flight, self.in_flight_chunks = None, 0
        self._on_done(result)

    def settle(self) -> None:
        """Wait for the job in flight, keeping its result but not its error: the caller is already failing."""
        try:
            self.drain()
        except Exception:  # the caller's exception is the one to report; this job's is the same store failing
            pass

    def close(self) -> None:
        self._pool.shutdown(wait=True)
