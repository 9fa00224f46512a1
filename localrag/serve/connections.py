"""Connections to `localrag serve`: how many may be open, how long one may take to send its request's headers,
and one line, not a flood, when the process has no file descriptor left to take another.

uvicorn closed no connection that had not finished its headers, and took every connection offered: 21,000
sockets each sending half a header held their descriptors until none was left, /healthz timed out, and each
refused accept printed a traceback (480,000 of them, 196 MB in 25 s).
"""

from __future__ import annotations

import asyncio
import resource
import sys
from typing import Any

import h11  # uvicorn's HTTP/1.1 parser, installed with it: the protocol below reads its states
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from localrag.serve.limits import Limits

_ACCEPT_FAILED = "socket.accept() out of system resource"


def connection_cap() -> int:
    """Connections open at once: 1,000, or half the descriptors this process may open when that is fewer (the
    index's files and the models need the rest)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(16, min(1000, soft // 2))


def _protocol(header_seconds: float, cap: int) -> type[asyncio.Protocol]:
    # The connections still waiting for a request's headers, oldest first.
    idle: dict[H11Protocol, None] = {}

    class PromptH11Protocol(H11Protocol):
        """uvicorn's HTTP/1.1, which closes a connection whose request line and headers have not all come
        `header_seconds` after it opened or after its last response (a byte now and then does not keep it, as it
        kept uvicorn's keep-alive timer off), and keeps at most `cap` open: past it, the oldest still waiting
        for headers is closed to make room (a flood of half-sent requests does not lock a real client out), or
        the new one when every connection has a request under way."""

        headers_due: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > cap:
                if not idle:
                    transport.close()
                    return
                oldest = next(iter(idle))
                idle.pop(oldest)
                oldest.transport.close()
            self._headers_due()

        def connection_lost(self, exc: Exception | None) -> None:
            self._headers_in()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the headers are in: the request is the app's to time
                self._headers_in()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._headers_due()  # the next request on a kept-alive connection has as long

        def _headers_due(self) -> None:
            self._headers_in()
            self.headers_due = self.loop.call_later(header_seconds, self._headers_late)
            idle[self] = None

        def _headers_in(self) -> None:
            idle.pop(self, None)
            if self.headers_due is not None:
                self.headers_due.cancel()
                self.headers_due = None

        def _headers_late(self) -> None:
            self.headers_due = None
            idle.pop(self, None)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return PromptH11Protocol


def uvicorn_config(app: ASGIApp, limits: Limits, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for `app` with `limits`' bounds on connections; `options`, the rest of uvicorn's."""
    # uvicorn's own `limit_concurrency` is not set: it answers 503 to a request while `cap` connections are open,
    # so half-sent requests held at the cap locked every real client out until they timed out; the protocol makes
    # room by closing the oldest of those instead. An idle kept-alive connection is closed after 5 s.
    cap = limits.max_connections or connection_cap()
    return uvicorn.Config(app, http=_protocol(limits.header_seconds, cap), timeout_keep_alive=5, **options)


def say_accept_failures_once(loop: asyncio.AbstractEventLoop) -> None:
    """A connection the process has no descriptor left for is said once on the terminal, with what to do; asyncio
    printed a traceback for each try, a hundred thousand a second. Other errors go to the loop's own handler."""
    told = False

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal told
        if context.get("message") != _ACCEPT_FAILED:
            loop.default_exception_handler(context)
            return
        if not told:
            told = True
            error = context.get("exception")
            why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            print(f"localrag: note: new connections wait: the server has no file descriptor left ({why}); too many "
                  "are open at once (`ulimit -n` raises the limit); said once", file=sys.stderr, flush=True)

    loop.set_exception_handler(handle)
