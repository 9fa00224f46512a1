"""The browser guard's words on the server's terminal (localrag/serve/browsers.py)."""

from __future__ import annotations

import asyncio

import pytest

from localrag.serve.browsers import MAX_TOLD, BrowserGuard, checked_origins, private_network_notes


def test_a_refusal_is_said_once_an_origin_a_few_a_kind_and_as_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    # The headers went to the terminal raw (an Origin holding ESC c reset it), and a page sending a new Host with
    # each request printed a line each (20,000 lines for 20,000 requests). Then only the first refusal of a kind was
    # said: the user's own page, refused after a stranger's, was never named with the flag that lets it.
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
        for _ in range(3):
            await call([(b"host", b"localhost"), (b"origin", b"http://app.test:8800")])
        await call([(b"host", b"localhost"), (b"origin", b"null")])
        for n in range(10):
            await call([(b"host", b"localhost"), (b"origin", f"https://s{n}.stranger.example".encode())])
        await call([(b"host", b"localhost"), (b"origin", b"http://192.168.1.5:3000")])  # after strangers filled it
        await call([(b"host", b"localhost"), (b"origin", b"tauri://localhost")])

    asyncio.run(requests())
    said = capsys.readouterr().err.splitlines()
    hosts = [line for line in said if "addressed to" in line]
    assert len(hosts) == MAX_TOLD and "further refusals of this kind are not said" in hosts[-1]
    assert "\x1b" not in "".join(said) and "\x07" not in "".join(said)
    assert sum("--allow-origin http://app.test:8800" in line for line in said) == 1
    null = [line for line in said if "web page at null" in line]
    assert len(null) == 1 and "http://localhost:PORT needs no flag" in null[0]
    assert sum("--allow-origin http://192.168.1.5:3000" in line for line in said) == 1
    assert not any("s9.stranger.example" in line for line in said)  # five strangers fill the lines said of them
    tauri = [line for line in said if "tauri://localhost" in line]
    assert len(tauri) == 1 and "only http(s) pages and browser extensions" in tauri[0] and "null" not in tauri[0]


def test_an_extension_may_be_allowed_and_a_remote_http_page_is_warned_of() -> None:
    # `--allow-origin chrome-extension://ID` was refused as "not an origin a browser sends", so an extension front end
    # could not search or chat at all; and an allowed http page on the LAN failed in the browser with nothing said.
    assert checked_origins(("chrome-extension://cmglfniljlllomiiiiooadocgjlgeheo",)) == (
        "chrome-extension://cmglfniljlllomiiiiooadocgjlgeheo",)
    origins = checked_origins(("http://192.0.2.2:8800", "https://chat.example", "http://localhost:3000"))
    notes = private_network_notes(origins, loopback_only=True)
    assert len(notes) == 1 and "http://192.0.2.2:8800" in notes[0] and "Private Network Access" in notes[0]
    assert private_network_notes(origins, loopback_only=False) == []
