"""The browser guard's words on the server's terminal (localrag/serve/browsers.py)."""

from __future__ import annotations

import asyncio

import pytest

from localrag.serve.browsers import BrowserGuard


def test_a_refusal_is_said_once_a_kind_and_as_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    # The headers went to the terminal raw (an Origin holding ESC c reset it), and a page sending a new Host with
    # each request printed a line each (20,000 lines for 20,000 requests).
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("a refused request reached the app")

    guard = BrowserGuard(app, loopback_only=True)  # type: ignore[arg-type]

    async def call(headers: list[tuple[bytes, bytes]]) -> None:
        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b""}

        async def send(message: object) -> None:
            return None

        await guard({"type": "http", "method": "GET", "path": "/", "headers": headers}, receive, send)

    async def requests() -> None:
        for n in range(50):
            await call([(b"host", f"a{n}.attacker.example".encode())])
        await call([(b"host", b"localhost"), (b"origin", b"http://x\x1bc\x1bP0;owned\x07.example")])
        await call([(b"host", b"localhost"), (b"origin", b"https://other.example")])

    asyncio.run(requests())
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 2 and "\x1b" not in "".join(said) and "\x07" not in "".join(said)
