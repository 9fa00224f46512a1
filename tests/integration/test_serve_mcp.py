"""`localrag mcp` as a subprocess over stdio, driven by the `mcp` SDK's own client.

One session walks every tool and both resources on the bundled models: ingest two sample files,
list, search, ask, read a document and a chunk, ask the graph and list related entities (imported
beforehand into the same LOCALRAG_HOME), and checks that a bad argument and a user error come back as tool errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from network_probe import child_args, probe_env, reached_out, users_env

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"search", "ask", "ask_graph", "related", "graph_triples", "summarize", "ingest", "forget", "status",
         "list_documents"}
SAMPLES = ("kestrel-point-lighthouse.md", "beekeeping-basics.txt")
FILMS = "Tom_Hanks\tstarred_in\tBig\nBig\tdirected_by\tPenny_Marshall\nA_League\tdirected_by\tPenny_Marshall\n"


async def _session(home: Path) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    # The SDK gives the server a bare environment (no CI variable, as on a user's machine): the session's
    # cache is named so that the server reuses the embedder's ONNX export instead of making its own. The
    # server runs under tests/network_probe.py's hook, with a home of its own.
    env = {"LOCALRAG_HOME": str(home), "LOCALRAG_TOP_K": "2", "LOCALRAG_MAX_ANSWER_TOKENS": "48",
           "LOCALRAG_CACHE_DIR": os.environ["LOCALRAG_CACHE_DIR"],
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env |= probe_env(home.parent / "user-home")
    params = StdioServerParameters(command=sys.executable, args=child_args("mcp"), env=env, cwd=str(ROOT))
    seen: dict[str, Any] = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        seen["tools"] = {t.name: t for t in (await session.list_tools()).tools}
        seen["templates"] = {t.uri_template for t in (await session.list_resource_templates()).resource_templates}

        async def call(name: str, **arguments: Any) -> Any:
            result = await session.call_tool(name, arguments)
            if result.is_error:
                return ("error", result.content[0].text)
            return result.structured_content

        seen["ingest"] = await call("ingest", paths=[str(sample_corpus_dir() / name) for name in SAMPLES])
        seen["reread"] = await call("ingest", paths=[str(sample_corpus_dir() / SAMPLES[0])], force=True)
        seen["stale"] = await call("ingest", stale=True)
        seen["no_paths"] = await call("ingest")
        seen["documents"] = await call("list_documents")
        seen["stale_documents"] = await call("list_documents", stale=True)  # as `documents --stale` (none here)
        # `search`'s filters, a limit and the count, as `documents --path/--type/--limit` and GET /documents.
        seen["documents_md"] = await call("list_documents", file_types=["md", "txt"], limit=1)
        seen["documents_bees"] = await call("list_documents", path_glob="*bee*")
        seen["documents_none"] = await call("list_documents", limit=0)
        seen["documents_pdff"] = await call("list_documents", file_types=["pdff"])
        seen["search"] = await call("search", query="lighthouse first lit", k=3)
        seen["ask"] = await call("ask", question="When was the Kestrel Point lighthouse first lit?")
        seen["ask_graph"] = await call("ask_graph", question="Who directed the film that Tom Hanks starred in?")
        seen["ask_like"] = await call("ask_graph", question="What else is like Big?")
        seen["related"] = await call("related", entities=["Big"], score="pagerank", k=5)
        seen["bad_score"] = await call("related", entities=["Big"], score="walk")
        seen["triples"] = await call("graph_triples", entity="penny marshall", limit=1)
        seen["summary"] = await call("summarize", path=str(sample_corpus_dir() / SAMPLES[0]), sentences=2)
        seen["summary_folder"] = await call("summarize", path=str(sample_corpus_dir()))
        seen["status"] = await call("status")
        seen["bad_k"] = await call("search", query="lighthouse", k="many")
        seen["too_many"] = await call("search", query="lighthouse", k=101)
        seen["k_text"] = await call("search", query="lighthouse", k="3")
        seen["force_text"] = await call("ingest", paths=[str(sample_corpus_dir() / SAMPLES[0])], force="true")
        seen["ask_k"] = await call("ask", question="When was it lit?", k=101)
        seen["ask_filtered"] = await call("ask", question="When was the Kestrel Point lighthouse first lit?",
                                          path_glob="*nosuch*", file_types=["md"])
        seen["no_entities"] = await call("related", entities=[])
        seen["no_sentences"] = await call("summarize", path=str(sample_corpus_dir() / SAMPLES[0]), sentences=0)
        seen["empty"] = await call("ask", question="   ")
        seen["nothing"] = await call("ask", question="")
        seen["long"] = await call("search", query="crane " * 1000)
        seen["collection"] = await call("search", query="lighthouse", collection="work")
        seen["file_type"] = await call("search", query="lighthouse", file_type=["md"])
        seen["nul"] = await call("ingest", paths=["/x\0y"])
        seen["many_seeds"] = await call("related", entities=["Big"] * 21, k=5)
        seen["long_entity"] = await call("graph_triples", entity="x" * 401)
        seen["no_limit"] = await call("graph_triples", limit=0)
        seen["k_null"] = await call("search", query="lighthouse", k=None)
        seen["sentences_null"] = await call("summarize", path=str(sample_corpus_dir() / SAMPLES[0]), sentences=None)
        seen["stale_null"] = await call("list_documents", stale=None)
        doc_id = seen["documents"]["documents"][0]["doc_id"]
        chunk_id = seen["search"]["hits"][0]["chunk"]["chunk_id"]
        seen["doc"] = json.loads((await session.read_resource(f"localrag://doc/{doc_id}")).contents[0].text)
        seen["chunk"] = json.loads((await session.read_resource(f"localrag://chunk/{chunk_id}")).contents[0].text)
        seen["forget"] = await call("forget", paths=[str(sample_corpus_dir() / SAMPLES[1])])
        seen["forget_again"] = await call("forget", paths=[str(sample_corpus_dir() / SAMPLES[1])])
        seen["documents_after"] = await call("list_documents")
    return seen


def test_every_tool_and_resource_over_stdio(
    localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    films = tmp_path / "films.tsv"
    films.write_text(FILMS, encoding="utf-8")
    Engine(load_settings(), embedder=real_embedder).graph_import(films)

    seen = asyncio.run(_session(localrag_home))

    assert set(seen["tools"]) == TOOLS
    assert all(t.description and "Returns" in t.description or t.name in ("status", "list_documents")
               for t in seen["tools"].values())
    assert seen["tools"]["search"].input_schema["properties"]["k"]["maximum"] == 100
    assert seen["templates"] == {"localrag://doc/{doc_id}", "localrag://chunk/{chunk_id}"}
    assert seen["ingest"]["added"] == 2 and seen["ingest"]["errors"] == []
    assert (seen["reread"]["updated"], seen["reread"]["unchanged"]) == (1, 0)
    assert (seen["stale"]["updated"], seen["stale"]["stale"]) == (0, 0)  # nothing is stale: the same settings
    assert seen["no_paths"][0] == "error" and "nothing to ingest" in seen["no_paths"][1]
    assert seen["documents"]["documents"][0]["read_with"].endswith("; chunks 2 200/32")
    assert {d["stale"] for d in seen["documents"]["documents"]} == {""}
    assert len(seen["documents"]["documents"]) == 2 and seen["status"]["documents"] == 2
    assert (seen["forget"]["documents"], seen["forget"]["purged"]) == (1, False) and seen["forget"]["chunks_removed"]
    assert seen["forget_again"][0] == "error" and "not in the index" in seen["forget_again"][1]
    assert len(seen["documents_after"]["documents"]) == 1
    assert [Path(d["path"]).name for d in seen["documents_md"]["documents"]] == [SAMPLES[1]]  # path order
    listed = seen["documents"]
    assert (seen["documents_md"]["total"], listed["total"], listed["stale_documents"]) == (2, 2, 0)
    assert [Path(d["path"]).name for d in seen["documents_bees"]["documents"]] == [SAMPLES[1]]
    assert seen["documents_none"][0] == "error" and "a limit of 0" in seen["documents_none"][1]
    assert seen["documents_pdff"][0] == "error" and "file type 'pdff' is not one localrag reads" in seen[
        "documents_pdff"][1]
    assert seen["search"]["hits"][0]["chunk"]["path"].endswith("kestrel-point-lighthouse.md")
    answer = seen["ask"]
    assert answer["text"] and answer["sources"] and not answer["refused"]
    assert all(q["status"] in ("verified", "close", "not_found") for q in answer["quotes"])
    assert "1871" in answer["evidence"]["text"]
    assert seen["ask_graph"]["answer"] == "Penny_Marshall" and seen["ask_graph"]["paths"][0]["supports_answer"]
    like = seen["ask_like"]  # a recommendation question gets `related`'s shape, as `ask --graph --json` does
    assert (like["intent"], [s["entity_id"] for s in like["seeds"]]) == ("related", ["big"])
    assert [r["entity_id"] for r in like["related"]] == ["a league"] and "films.tsv:" in json.dumps(like["related"])
    assert seen["tools"]["related"].input_schema["properties"]["score"]["enum"] == ["shared", "pagerank"]
    assert seen["related"]["scoring"] == "pagerank" and [r["entity_id"] for r in seen["related"]["related"]] == [
        "a league"]
    assert seen["bad_score"][0] == "error"
    assert seen["summary"]["path"].endswith(SAMPLES[0]) and len(seen["summary"]["sentences"]) == 2
    assert seen["summary_folder"][0] == "error" and "a folder of 2 indexed documents" in seen["summary_folder"][1]
    assert seen["triples"] == {"total": 2, "triples": [{"head": "A_League", "relation": "directed_by",
                                                        "tail": "Penny_Marshall", "source": f"{films}:3",
                                                        "where": f"{films}:3"}]}
    assert seen["bad_score"][1].endswith("score 'walk' is not known (use one of: shared, pagerank)")
    assert seen["bad_k"][0] == "error" and "k" in seen["bad_k"][1]
    # The SDK's own checks of the schema, on one line naming the argument (not pydantic's text and link).
    # Strictly, as the HTTP API checks them: a number or a flag sent as a string is not read as one.
    for key, words in (("bad_k", "`k`: input should be a valid integer"),
                       ("k_text", "`k`: input should be a valid integer (given '3')"),
                       ("force_text", "`force`: input should be a valid boolean (given 'true')"),
                       ("no_entities", "`entities`: list should have at least 1 item")):
        assert seen[key][0] == "error" and words in seen[key][1], seen[key]
        assert "\n" not in seen[key][1] and "pydantic" not in seen[key][1]
    # A value out of range gets the Engine's words, as the CLI and the API give them, not a validation dump.
    assert seen["too_many"][1].endswith("101 passages: a search returns from 1 to 100 (ask for 1 to 100 passages)")
    assert seen["ask_k"][1].endswith("101 sources: an answer reads from 1 to 100 (ask for 1 to 100 sources)")
    assert seen["tools"]["ask"].input_schema["properties"]["k"]["maximum"] == 100
    # An answer's filters are the search's: nothing passes these, and the refusal says which.
    assert seen["ask_filtered"]["refused"]
    assert seen["ask_filtered"]["refusal"] == "no indexed passage passes the filters (type md; path *nosuch*)"
    assert seen["no_sentences"][1].endswith("0 sentences: a summary has from 1 to 50 (ask for 1 to 50)")
    assert seen["search"]["schema"] == 2 and seen["search"]["hits"][0]["rank"] == 1
    assert seen["empty"][0] == "error"
    assert seen["empty"][1].endswith("the question is empty (type a question about your documents)")
    # The Engine's words and the HTTP API's, not the schema validator's.
    assert seen["nothing"][1].endswith("the question is empty (type a question about your documents)")
    assert seen["long"][1].endswith("the query has 5999 characters; the limit is 4000")  # as the Engine reads it
    # Arguments no tool takes were passed over, and the call answered as if they had not been sent.
    assert seen["collection"] == ("error", "Error executing tool search: `collection` is not taken by the tool "
                                  "`search`: this server serves collection 'default'; start `localrag mcp "
                                  "--collection NAME` to serve another")
    assert seen["file_type"][0] == "error" and "(did you mean `file_types`?)" in seen["file_type"][1]
    assert seen["nul"][0] == "error" and "a path holding a NUL byte" in seen["nul"][1]
    # Bounds of MCP's own: 21 names and a 401-character one, which the CLI and the HTTP API take, were refused.
    assert seen["stale_documents"]["documents"] == [] and seen["documents"]["documents"]
    assert seen["many_seeds"]["seeds"] and seen["long_entity"] == {"total": 0, "triples": []}
    # The HTTP API's words for one rule (pydantic's were "input should be greater than or equal to 1"), and null
    # the default, as for `ask`'s k (search refused it).
    assert seen["no_limit"][1].endswith("0 triples: a listing returns from 1 to 1000 (ask for 1 to 1000 triples)")
    assert seen["k_null"]["hits"] and seen["sentences_null"]["sentences"] and seen["stale_null"]["documents"]
    assert seen["doc"]["chunks"] and seen["doc"]["document"]["doc_id"] == seen["documents"]["documents"][0]["doc_id"]
    assert seen["chunk"]["chunk_id"] == seen["search"]["hits"][0]["chunk"]["chunk_id"]
    assert reached_out(localrag_home.parent / "user-home") == ""


def _started(localrag_home: Path, **settings: str) -> subprocess.Popen[str]:
    """`localrag mcp` started by hand (with these LOCALRAG_ settings), its first answer (to `initialize`) read."""
    env = users_env(localrag_home, localrag_home.parent / "user-home") | settings
    server = subprocess.Popen([sys.executable, *child_args("mcp")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    assert server.stdin is not None and server.stdout is not None
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}}
    server.stdin.write(json.dumps(hello) + "\n")
    server.stdin.flush()
    assert json.loads(server.stdout.readline())["id"] == 1
    server.stdin.write('{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
    return server


def _reply(server: subprocess.Popen[str], seconds: float) -> dict[str, Any]:
    assert server.stdout is not None
    assert select.select([server.stdout], [], [], seconds)[0], f"no answer in {seconds} s"
    reply: dict[str, Any] = json.loads(server.stdout.readline())
    return reply


def _tool_call(server: subprocess.Popen[str], number: int, name: str, **arguments: Any) -> None:
    assert server.stdin is not None
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": number, "method": "tools/call",
                                   "params": {"name": name, "arguments": arguments}}) + "\n")
    server.stdin.flush()


def test_half_an_emoji_gets_an_answer(localrag_home: Path) -> None:
    """A client that cut a string between the halves of a UTF-16 pair: the SDK's parser refused the line and,
    knowing no id, answered nothing, so the client waited for ever. The half is read as U+FFFD."""
    server = _started(localrag_home)
    try:
        assert server.stdin is not None and server.stdout is not None
        # Written by hand: json.dumps of a lone surrogate writes the escape, but a client's bytes are the point.
        server.stdin.write('{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", '
                           '"arguments": {"query": "crane \\ud83d \\\\ud83d", "k": 1}}}\n')
        server.stdin.flush()
        reply = _reply(server, 60)
        assert reply["id"] == 2 and not reply["result"]["isError"]
        # The escaped backslash stays a backslash followed by letters: only a real half is replaced.
        assert reply["result"]["structuredContent"]["query"] == "crane \ufffd \\ud83d"
    finally:
        server.kill()
        server.communicate()


def test_a_cancelled_call_stops_and_gives_the_engine_back(localrag_home: Path, tmp_path: Path) -> None:
    """The SDK dropped a cancelled call's reply but let the work run to its end holding the Engine: the next call
    waited for an answer (or an ingest) nobody would read. Cancelled, an ingest stops at its next file and an
    answer at its next token (the same code; an ingest's stop is the one a test can count)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(100):
        (docs / f"note-{n:03d}.txt").write_text(f"Note {n} is about the harbour crane and its keeper.\n")
    server = _started(localrag_home)
    try:
        assert server.stdin is not None
        _tool_call(server, 2, "ingest", paths=[str(docs)])
        server.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                       "params": {"requestId": 2, "reason": "the user stopped it"}}) + "\n")
        _tool_call(server, 3, "list_documents")
        reply = _reply(server, 300)
        assert reply["id"] == 3 and len(reply["result"]["structuredContent"]["documents"]) < 100
    finally:
        server.kill()
        server.communicate()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_stdio_server_at_once(localrag_home: Path, stop: signal.Signals) -> None:
    """Started by hand, with its input still open: the SDK alone would wait for another line before ending. A
    SIGTERM (a service manager's stop) killed it in silence, status -15."""
    server = _started(localrag_home)  # serving, and reading its input again
    try:
        assert server.stderr is not None
        server.send_signal(stop)
        assert server.wait(timeout=15) == 0
        assert server.stderr.read() == "stopped\n"
    finally:
        server.kill()
    assert reached_out(localrag_home.parent / "user-home") == ""


def test_a_client_that_dies_mid_call_ends_the_server_quietly(localrag_home: Path) -> None:
    """A desktop client killed during a call: the reply met a closed pipe, and the server ended with status 1 and a
    61-line traceback in the client's MCP log. It ends as when the client closes its input."""
    server = _started(localrag_home)
    try:
        assert server.stdin is not None and server.stdout is not None and server.stderr is not None
        server.stdout.close()  # the client is gone: nothing reads the replies any more
        _tool_call(server, 2, "status")
        time.sleep(3)  # its reply written to the closed pipe while the input is still open
        server.stdin.close()
        assert server.wait(timeout=60) == 0
        assert server.stderr.read() == ""
    finally:
        server.kill()


def test_a_collection_that_does_not_exist_is_refused_at_start(localrag_home: Path) -> None:
    """It started and answered every call with the error, in a client's log at best."""
    env = users_env(localrag_home, localrag_home.parent / "user-home")
    done = subprocess.run([sys.executable, *child_args("mcp"), "--collection", "nosuch"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("localrag: collection 'nosuch' does not exist (`localrag collections` lists them")


def test_the_question_limit_is_set_as_serves_is() -> None:
    """`serve --max-question-chars` had no MCP counterpart: the same question was answered by one server and
    refused by the other."""
    import anyio

    from localrag.serve.limits import Limits
    from localrag.serve.mcp import build_server

    server = build_server(Engine(load_settings()), Limits(max_question_chars=10))

    async def called() -> Any:
        return await server.call_tool("search", {"query": "lighthouse keepers"})

    with pytest.raises(Exception, match="the query has 18 characters; the limit is 10"):
        anyio.run(called)
