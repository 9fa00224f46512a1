"""The MCP server's tools in process (`build_server`) on a real index and the bundled embedder: which call waits for
which, a cancelled forget, a relative path, and messages that name the agent's tools rather than the CLI's commands.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.writer_lock import writer_lock

NOTES = {"boatwash.md": "# Boat wash\n\nThe boat wash at pier 4 opens at seven and takes cards only.\n",
         "harbour.md": "# Harbour\n\nThe harbour master's office closes at noon on Saturdays.\n"}


@pytest.fixture
def indexed(localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> tuple[Engine, Path]:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([notes])
    return engine, notes


async def _call(server: Any, name: str, **arguments: Any) -> Any:
    """The tool's structured reply, or ("error", its message)."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        return (await server.call_tool(name, arguments)).structured_content
    except ToolError as exc:
        return ("error", str(exc))


@contextmanager
def another_writer(engine: Engine, seconds: float) -> Iterator[threading.Thread]:
    """The index's writer lock held for `seconds` by another writer (as a CLI ingest holds it), from a thread."""
    held = threading.Event()

    def hold() -> None:
        with writer_lock(engine.store.path):
            held.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    try:
        yield thread
    finally:
        thread.join()


def test_a_cancelled_forget_removes_nothing_and_gives_the_server_back_at_once(indexed: tuple[Engine, Path]) -> None:
    """Cancelled by its client while another writer held the index, a forget still waited for it, then removed the
    document nobody asked about any more; every call sent meanwhile waited behind it (~30 s behind a CLI ingest)."""
    from localrag.serve.mcp import build_server

    engine, notes = indexed
    server = build_server(engine)
    seen: dict[str, Any] = {}

    async def session() -> None:
        with another_writer(engine, 6):
            with anyio.move_on_after(1):
                await _call(server, "forget", paths=[str(notes / "boatwash.md")])
            started = time.monotonic()
            seen["listed"] = await _call(server, "list_documents")
            seen["waited"] = time.monotonic() - started
        await anyio.sleep(1)  # the other writer is done: a forget still under way would remove it now

    anyio.run(session)
    assert seen["waited"] < 3 and seen["listed"]["total"] == 2
    assert len(engine.document_list(None).documents) == 2


def test_a_forget_whose_wait_is_cancelled_says_nothing_was_forgotten(indexed: tuple[Engine, Path]) -> None:
    engine, notes = indexed
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with another_writer(engine, 3), pytest.raises(Exception, match="nothing was forgotten"):
        engine.forget(notes / "boatwash.md", cancel=cancel)
    assert len(engine.document_list(None).documents) == 2


def test_reads_do_not_wait_for_a_write(indexed: tuple[Engine, Path]) -> None:
    """One lock for every call: a search sent 8 s into a 20 s ingest waited 13 s for it. A search, a listing,
    status and a summary answer while an ingest holds the server's write turn (here waiting for another writer)."""
    from localrag.serve.mcp import build_server

    engine, notes = indexed
    (notes / "ferry.md").write_text("# Ferry\n\nThe ferry leaves at noon.\n", encoding="utf-8")
    server = build_server(engine)
    seen: dict[str, Any] = {}

    async def session() -> None:
        with another_writer(engine, 8):
            async with anyio.create_task_group() as group:
                async def ingest() -> None:
                    seen["ingest"] = await _call(server, "ingest", paths=[str(notes)])

                group.start_soon(ingest)
                await anyio.sleep(0.5)  # the ingest has its turn, and waits for the other writer
                started = time.monotonic()
                seen["search"] = await _call(server, "search", query="boat wash hours", k=1)
                seen["listed"] = await _call(server, "list_documents")
                seen["status"] = await _call(server, "status")
                seen["summary"] = await _call(server, "summarize", path=str(notes / "harbour.md"), sentences=1)
                seen["waited"] = time.monotonic() - started
                seen["ingest_done_then"] = "ingest" in seen

    anyio.run(session)
    assert seen["waited"] < 5 and not seen["ingest_done_then"]
    assert seen["search"]["hits"][0]["chunk"]["path"].endswith("boatwash.md")
    assert seen["listed"]["total"] == seen["status"]["documents"] == 2 and seen["summary"]["sentences"]
    assert seen["ingest"]["added"] == 1


def test_a_relative_path_is_refused_naming_the_field_not_read_against_the_servers_folder(
    indexed: tuple[Engine, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the server started in `/`, `forget ["."]` forgot every document; `summarize "boatwash.md"` and `ingest`
    looked in the server's folder too. The schema says absolute paths."""
    from localrag.serve.mcp import build_server

    engine, notes = indexed
    monkeypatch.chdir(notes)  # where the relative paths would find the notes
    server = build_server(engine)

    async def session() -> dict[str, Any]:
        return {"forget": await _call(server, "forget", paths=["."]),
                "summarize": await _call(server, "summarize", path="boatwash.md"),
                "ingest": await _call(server, "ingest", paths=[str(notes), "harbour.md"]),
                "home": await _call(server, "forget", paths=["~/no-such-note.md"])}

    seen = anyio.run(session)
    for tool, field, given in (("forget", "paths", "."), ("summarize", "path", "boatwash.md"),
                               ("ingest", "paths", "harbour.md")):
        assert seen[tool][0] == "error", seen[tool]
        assert seen[tool][1].endswith(f"`{field}`: '{given}' is a relative path, and this server does not know your "
                                      "working folder (give an absolute path)")
    assert "relative" not in seen["home"][1] and "not in the index" in seen["home"][1]  # `~` names the home
    assert len(engine.document_list(None).documents) == 2


def test_messages_name_the_agents_tools_not_the_cli(indexed: tuple[Engine, Path], localrag_home: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    real_embedder: SentenceTransformerEmbedder) -> None:
    """An agent was sent to `localrag documents` and `localrag ingest PATH` (in the chat app, the Library), commands
    and an app it does not have; a search of an empty collection answered `"hits": []` and no reason."""
    from localrag.serve.mcp import build_server

    engine, notes = indexed
    monkeypatch.setenv("LOCALRAG_ANSWER_MODE", "extract")  # the refusal comes before any model
    engine.create_collection("empty")
    empty = build_server(Engine(load_settings().replace(collection="empty"), embedder=real_embedder))
    server = build_server(engine)

    async def session() -> dict[str, Any]:
        return {"summarize": await _call(server, "summarize", path=str(notes / "never.md")),
                "forget": await _call(server, "forget", paths=[str(notes / "never.md")]),
                "ask": await _call(empty, "ask", question="When does the boat wash open?"),
                "search": await _call(empty, "search", query="boat wash"),
                "found": await _call(server, "search", query="boat wash", k=1)}

    seen = anyio.run(session)
    for tool in ("summarize", "forget"):
        assert seen[tool][1].endswith("not in the index (the list_documents tool lists what is indexed)")
    # The collection that answers it is named, but not with an `ask` command: a server serves its one collection.
    assert seen["ask"]["refused"] and seen["ask"]["refusal"] == (
        "collection empty holds no documents yet: add some with the ingest tool (absolute paths); collection "
        "'default' holds a passage that answers it (a server serves one collection: start one with --collection "
        "default)")
    assert seen["search"]["hits"] == [] and seen["search"]["nothing_found"] == (
        "collection empty holds no documents yet: add some with the ingest tool (absolute paths)")
    assert "nothing_found" not in seen["found"]
