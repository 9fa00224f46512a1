"""`serve` and `mcp` on a full disk: a write that fails for want of space is said as such, not as a damaged index
(`repair` frees no space) nor as an internal error. A real tmpfs where the tests may mount one (root); skipped
elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from disks import fill_disk
from test_serve_http import Running

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.serve.mcp import build_server

pytestmark = pytest.mark.integration


def test_writes_on_a_full_disk_are_answered_as_a_full_disk(small_disk: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALRAG_HOME", str(small_disk / "home"))
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"note-{n}.md").write_text(f"Note {n}: the harbour keeper lit lamp {n}.\n" * 200, encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=384))
    engine.ingest([docs / "note-0.md"])
    filler = fill_disk(small_disk, leave=0)
    running = Running(engine)
    try:
        # The ingest's was 500 `index_damaged`, which sends a client to `localrag repair`; the forget's a 500
        # "internal error", with a LanceDB traceback in the server's log.
        for path, body in (("/ingest", {"paths": [str(docs)]}), ("/forget", {"paths": [str(docs / "note-0.md")]})):
            status, _, reply = running.request("POST", path, body)
            assert (status, reply["error"]["code"]) == (507, "insufficient_storage"), (path, reply)
            assert "the disk is full (" in reply["error"]["message"]
    finally:
        running.stop()

    async def forget() -> Any:
        return await build_server(engine).call_tool("forget", {"paths": [str(docs / "note-0.md")]})

    # MCP's client read only "Error executing tool forget".
    with pytest.raises(Exception, match="the disk is full \\("):
        anyio.run(forget)
    filler.unlink()
    assert len(engine.documents()) == 1


def test_a_purge_without_room_to_write_the_tables_anew_is_a_full_disk_not_damage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `forget --purge` measures the room it needs first; short of it, it said so as a StoreError, which the API
    # answered 500 `index_damaged`.
    import shutil
    from collections import namedtuple

    from localrag.store import Store

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("The harbour keeper lit the lamp.\n", encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32),
                    store=Store(tmp_path / "db", embedder_name="hash-embedder", dim=32))
    engine.ingest([docs])
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(1, 1, 0))  # mocked: the room it measures
    running = Running(engine)
    try:
        status, _, reply = running.request("POST", "/forget", {"paths": [str(docs / "note.md")], "purge": True})
    finally:
        running.stop()
    assert (status, reply["error"]["code"]) == (507, "insufficient_storage"), reply
    assert "erasing needs about" in reply["error"]["message"]
