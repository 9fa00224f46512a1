"""`localrag serve` on the loopback interface: the `openai` client and plain HTTP against a real server.

One Engine (bundled MiniLM and SmolLM2, two sample files in a real LanceDB) is shared by the
module; each server is uvicorn in a thread on a port the kernel picks. Answers are kept short
(top_k 2, 48 answer tokens): the tests are about the API, not the answers' quality.
"""

from __future__ import annotations

import http.client
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from network_probe import start_cli

from localrag.config import Settings
from localrag.embed import HashEmbedder, SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.generate import LlamaGenerator
from localrag.ingest.discover import sample_corpus_dir
from localrag.serve.connections import uvicorn_config
from localrag.serve.http import create_app
from localrag.serve.limits import Limits
from localrag.shapes import graph_reply_json
from localrag.store import Store

QUESTION = "When was the Kestrel Point lighthouse first lit?"
TOKEN = "s3cret-token"


class Running:
    def __init__(self, engine: Engine, token: str = "", limits: Limits | None = None,
                 stopping: threading.Event | None = None, origins: tuple[str, ...] = ()) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        limits = limits or Limits()
        config = uvicorn_config(create_app(engine, token=token, limits=limits, stopping=stopping, origins=origins),
                                limits, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            self.thread.join(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        is_json = response.getheader("content-type", "").startswith("application/json")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(data) if is_json else data


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder,
           real_generator: LlamaGenerator) -> Engine:
    db = tmp_path_factory.mktemp("serve-db")
    store = Store(db, embedder_name=real_embedder.name, dim=real_embedder.dim)
    engine = Engine(Settings(top_k=2, max_answer_tokens=48), embedder=real_embedder, generator=real_generator,
                    store=store)
    engine.ingest([sample_corpus_dir() / name for name in ("kestrel-point-lighthouse.md", "beekeeping-basics.txt")])
    return engine


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[Running]:
    running = Running(engine, limits=Limits(max_body_bytes=10_000, max_question_chars=500))
    yield running
    running.stop()


def test_openai_client_chat_stream_models_embeddings(server: Running, engine: Engine) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(model="any", messages=[{"role": "user", "content": QUESTION}])
    text = reply.choices[0].message.content
    extra = reply.model_extra["localrag"]
    assert text and text == extra["text"] and not extra["refused"]
    assert extra["sources"][0]["chunk"]["path"].endswith(".md") and extra["cited"]
    assert "1871" in extra["evidence"]["text"]  # the sources' best sentence reaches API clients too
    assert reply.usage is not None and reply.usage.completion_tokens > 0

    chunks = list(client.chat.completions.create(
        model="any", messages=[{"role": "user", "content": QUESTION}], stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    final = chunks[-1].model_extra["localrag"]
    assert chunks[-1].choices[0].finish_reason == ("length" if final["stats"]["hit_token_limit"] else "stop")
    assert streamed.strip() == final["text"].strip() and final["sources"]
    # The citation localrag added is streamed and in the answer's text, not in the model's raw text.
    assert final["text"].startswith(final["raw_text"]) and (final["text"] != final["raw_text"]) == final["attributed"]

    # With `include_usage`, the last chunk carries the usage, as OpenAI's streams do (it was never sent).
    chunks = list(client.chat.completions.create(model="any", messages=[{"role": "user", "content": QUESTION}],
                                                 stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0

    assert [m.id for m in client.models.list().data] == [engine.model_name(), engine.embedder.name]
    vectors = client.embeddings.create(model="any", input=["lighthouse", "espresso"]).data
    assert [len(v.embedding) for v in vectors] == [384, 384]
    assert len(client.embeddings.create(model="any", input="lighthouse", dimensions=384).data[0].embedding) == 384


def test_what_changes_a_replys_shape_and_cannot_be_given_is_refused_by_name(server: Running) -> None:
    # Passed over, each came back as one answer in prose: a client that forced a tool call or parsed JSON failed
    # later, somewhere else.
    asked = [{"role": "user", "content": QUESTION}]
    for extra, name in (({"n": 3}, "n"), ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
                        ({"tool_choice": "required"}, "tool_choice"),
                        ({"response_format": {"type": "json_object"}}, "response_format"),
                        ({"logprobs": True}, "logprobs"), ({"stop": ["1871"]}, "stop")):
        status, _, error = server.request("POST", "/v1/chat/completions", {"messages": asked, **extra})
        assert (status, error["error"]["param"], error["error"]["code"]) == (400, name, "unsupported_parameter")
        assert error["error"]["message"].startswith(f"`{name}` is not supported: localrag gives ")
    status, _, error = server.request("POST", "/v1/embeddings", {"input": "lighthouse", "dimensions": 64})
    assert status == 400 and error["error"]["message"] == "`dimensions` 64 is not supported: this embedder gives 384"
    # What OpenAI's own clients send and mean nothing by: a default, an assistant turn that called a tool.
    status, _, reply = server.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": None},
                     *asked], "stream": None, "n": 1, "response_format": {"type": "text"}, "tool_choice": "auto"})
    assert status == 200 and reply["choices"][0]["message"]["content"]
    status, _, error = server.request("POST", "/v1/chat/completions", {"messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}]})
    assert status == 400 and "localrag reads text, not images or audio" in error["error"]["message"]


def test_a_client_gone_mid_stream_gives_the_model_back(server: Running, engine: Engine) -> None:
    # The body left suspended at a yield held the model's lock: every later chat waited for ever.
    kept = engine.settings
    engine.settings = kept.replace(max_answer_tokens=400)  # still writing when the client goes
    try:
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", server.port), timeout=60)
            body = json.dumps({"messages": [{"role": "user", "content": "Describe the Kestrel Point lighthouse, "
                               "its keepers and its tower in detail."}], "stream": True}).encode()
            client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                           + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            seen = b""
            while seen.count(b"data: ") < 3:  # the role, then two pieces of the answer: it is being written
                part = client.recv(4096)
                assert part, seen  # the server answered and closed: no stream
                seen += part
            client.close()
    finally:
        engine.settings = kept
    status, _, reply = server.request("POST", "/v1/chat/completions",
                                      {"messages": [{"role": "user", "content": QUESTION}]})
    assert status == 200 and reply["choices"][0]["message"]["content"]
    assert server.request("GET", "/healthz")[2]["queue"]["running"] == 0


def test_a_plain_answer_whose_client_has_gone_gives_its_place_back(engine: Engine) -> None:
    # A non-streamed answer went on to its end for nobody, and its place in the queue with it: clients that timed
    # out and retried filled the queue, and new ones were told the model was busy.
    kept = engine.settings
    engine.settings = kept.replace(max_answer_tokens=400)
    running = Running(engine, limits=Limits(queue_size=1))
    try:
        body = json.dumps({"messages": [{"role": "user", "content": "Describe the Kestrel Point lighthouse, "
                           "its keepers and its tower in detail."}]}).encode()
        for _ in range(2):  # one answering, one waiting: the queue is full
            client = socket.create_connection(("127.0.0.1", running.port), timeout=60)
            client.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                           + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            threading.Event().wait(0.5)
            client.close()
        queue: dict[str, int] = {}
        for _ in range(100):
            queue = running.request("GET", "/healthz")[2]["queue"]
            if queue["running"] == queue["waiting"] == 0:
                break
            threading.Event().wait(0.1)
        assert queue["running"] == queue["waiting"] == 0, queue
    finally:
        engine.settings = kept
        running.stop()


def test_a_server_told_to_stop_ends_an_ingest_at_its_next_file_and_answers_with_the_report(tmp_path: Path) -> None:
    # Ctrl-C left the ingest running to its end while uvicorn's grace ran out: its client got a plain-text 500.
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(30):
        (docs / f"note-{n:02d}.txt").write_text(f"Note {n} is about the harbour and its keeper.\n")
    stopping = threading.Event()
    store = Store(tmp_path / "db", embedder_name="hash-embedder", dim=32)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32), store=store)
    running = Running(engine, stopping=stopping)
    try:
        first = running.request("POST", "/ingest", {"paths": [str(docs / "note-00.txt")]})[2]
        assert first["added"] == 1 and not first["cancelled"]
        stopping.set()  # what the server's signal handler does (serve's uvicorn.Server.handle_exit)
        status, _, report = running.request("POST", "/ingest", {"paths": [str(docs)]})
        assert status == 200 and report["cancelled"] and report["added"] == 0
    finally:
        running.stop()


def test_an_ingest_whose_client_has_gone_stops_and_frees_the_index_for_the_next_write(
        tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> None:
    # A curl killed 2 s into an ingest left it running to its end for nobody: every write was refused meanwhile,
    # 503 `queue_full` "an ingest is busy (1 running, 0 waiting)", though no queue was full.
    docs = tmp_path / "docs"
    docs.mkdir()
    words = "harbour keeper lamp tower storm ship rock light oil wick glass bell fog tide gull cliff".split()
    for n in range(8):  # some 20 chunks each: tens of seconds of embedding on two cores
        paragraphs = (" ".join(words[(n + p + i) % len(words)] for i in range(60)) + "." for p in range(20))
        (docs / f"note-{n}.txt").write_text("\n\n".join(paragraphs))
    store = Store(tmp_path / "db", embedder_name=real_embedder.name, dim=real_embedder.dim)
    engine = Engine(Settings(), embedder=real_embedder, store=store)
    running = Running(engine)
    try:
        client = socket.create_connection(("127.0.0.1", running.port), timeout=60)
        body = json.dumps({"paths": [str(docs)]}).encode()
        client.sendall(b"POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                       + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        threading.Event().wait(1.0)
        status, headers, error = running.request("POST", "/forget", {"paths": [str(docs)]})
        assert (status, error["error"]["code"]) == (503, "write_in_progress"), error
        assert error["error"]["message"].startswith("an ingest is running") and headers["retry-after"]
        assert running.request("GET", "/healthz")[2]["write"] == "ingest"
        client.close()
        for _ in range(600):  # the write is free once the ingest stops: a forget is answered, not refused
            status, _, error = running.request("POST", "/forget", {"paths": [str(tmp_path / "never-indexed.md")]})
            if status != 503:
                break
            threading.Event().wait(0.1)
        assert status == 400 and "not in the index" in error["error"]["message"]
        assert len(engine.documents()) < 8  # it stopped: what it committed stays, the rest was not read
        assert running.request("GET", "/healthz")[2]["write"] is None
    finally:
        running.stop()


def test_a_chat_whose_turn_comes_once_the_server_stops_is_refused_not_answered_empty(tmp_path: Path) -> None:
    # Requests still queued when Ctrl-C came were run with their cancel set: 200, no text, finish_reason "stop",
    # which no OpenAI client could tell from an answer. They are refused, to be sent again.
    stopping = threading.Event()
    store = Store(tmp_path / "db", embedder_name="hash-embedder", dim=32)
    running = Running(Engine(Settings(), embedder=HashEmbedder(dim=32), store=store), stopping=stopping)
    question = {"messages": [{"role": "user", "content": "Who kept the light?"}]}
    try:
        stopping.set()
        status, headers, body = running.request("POST", "/v1/chat/completions", question)
        assert status == 503 and body["error"]["code"] == "server_stopping" and headers["retry-after"] == "5"
        status, _, streamed = running.request("POST", "/v1/chat/completions", {**question, "stream": True})
        assert status == 200 and b'"code": "server_stopping"' in streamed and b'"role"' not in streamed
        assert streamed.rstrip().endswith(b"data: [DONE]")
    finally:
        running.stop()


def test_half_an_emoji_or_a_byte_that_is_no_utf8_is_a_question_like_any_other(server: Running) -> None:
    # A client that cut a string between an emoji's halves sends "\ud83d": the tokenizer refused it, and /search,
    # /v1/embeddings and the chat answered 500, a stream was cut without an error or [DONE].
    raw = b'{"query": "lighthouse \\ud83d", "k": 1}'
    status, _, found = server.request("POST", "/search", raw=raw)
    assert status == 200 and found["query"] == "lighthouse \ufffd" and found["hits"]
    status, _, vectors = server.request("POST", "/v1/embeddings", raw=b'{"input": ["keeper \\udcff"]}')
    assert status == 200 and len(vectors["data"][0]["embedding"]) == 384
    chat = b'{"stream": true, "messages": [{"role": "user", "content": "old"}, {"role": "assistant", ' \
           b'"content": "\\ud800"}, {"role": "user", "content": "When was the lighthouse lit? \\ud83d"}]}'
    status, _, streamed = server.request("POST", "/v1/chat/completions", raw=chat)
    assert status == 200 and streamed.rstrip().endswith(b"data: [DONE]") and b'"error"' not in streamed
    nested = b"[" * 9_000  # under this server's 10,000-byte limit, past the JSON parser's depth
    status, _, refused = server.request("POST", "/search", raw=nested)
    assert status == 400 and "nested too deep" in refused["error"]["message"]


def test_an_answer_cut_at_the_token_limit_finishes_with_length(server: Running, engine: Engine) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="unused", max_retries=0)
    kept = engine.settings
    engine.settings = kept.replace(max_answer_tokens=3, attribution_turn=False)
    try:
        reply = client.chat.completions.create(model="any", messages=[{"role": "user", "content": QUESTION}])
        chunks = list(client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": QUESTION}], stream=True))
    finally:
        engine.settings = kept
    assert reply.choices[0].finish_reason == "length" and reply.usage is not None
    assert reply.usage.completion_tokens == 3
    assert chunks[-1].choices[0].finish_reason == "length"


def test_plain_http_search_ingest_health_and_limits(server: Running, tmp_path: Path) -> None:
    status, _, health = server.request("GET", "/healthz")
    assert status == 200 and health["status"] == "ok"

    status, _, found = server.request("POST", "/search", {"query": "lighthouse first lit", "k": 3})
    assert status == 200 and len(found["hits"]) == 3
    assert found["hits"][0]["chunk"]["path"].endswith("kestrel-point-lighthouse.md")
    assert {"vector_rank", "text_rank", "score"} <= set(found["hits"][0])
    assert found["schema"] == 2 and [h["rank"] for h in found["hits"]] == [1, 2, 3]  # `search --json`'s shape

    # A chat takes the search's filters and an answer's `k`, and the Engine's words for a `k` out of range.
    question = {"messages": [{"role": "user", "content": "When was the Kestrel Point lighthouse first lit?"}]}
    status, _, chat = server.request("POST", "/v1/chat/completions", {**question, "path_glob": "*nosuch*"})
    assert status == 200 and chat["localrag"]["refused"]
    assert chat["localrag"]["refusal"] == "no indexed passage passes the filters (path *nosuch*)"
    # A follow-up is searched for with the question answered before it, and `query` says so; a refused one
    # (sent back, as clients do) is passed over, as in a saved conversation.
    refused = {"role": "assistant", "content": chat["localrag"]["text"]}
    answered = {"role": "assistant", "content": "It was first lit on 14 March 1871."}
    follow = {"messages": [*question["messages"], answered, {"role": "user", "content": "What was its colour?"},
                           refused, {"role": "user", "content": "And who kept it?"}], "k": 1}
    status, _, chat = server.request("POST", "/v1/chat/completions", follow)
    assert status == 200
    assert chat["localrag"]["query"] == "When was the Kestrel Point lighthouse first lit? And who kept it?"
    # Out of range and empty: the Engine's words, as the CLI and MCP give them.
    for path, body, words in (
            ("/search", {"query": "lighthouse", "k": 101}, "101 passages: a search returns from 1 to 100"),
            ("/search", {"query": "  "}, "the query is empty (type some words to search for)"),
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": " "}]},
             "the question is empty (type a question about your documents)")):
        status, _, error = server.request("POST", path, body)
        assert status == 400 and error["error"]["message"].startswith(words), error
    status, _, error = server.request("POST", "/v1/chat/completions", {**question, "k": 0})
    assert status == 400
    assert error["error"]["message"] == "0 sources: an answer reads from 1 to 100 (ask for 1 to 100 sources)"

    lighthouse = next(h["chunk"]["path"] for h in found["hits"] if h["chunk"]["path"].endswith("lighthouse.md"))
    status, _, summary = server.request("POST", "/summarize", {"path": lighthouse, "sentences": 2})
    assert status == 200 and summary["path"] == lighthouse and len(summary["sentences"]) == 2
    status, _, error = server.request("POST", "/summarize", {"path": str(tmp_path / "nope.md")})
    assert status == 400 and "not in the index" in error["error"]["message"]
    assert server.request("POST", "/summarize", {"path": lighthouse, "sentences": 0})[0] == 400
    # The Engine's bound, the one the CLI and MCP have.
    status, _, error = server.request("POST", "/summarize", {"path": lighthouse, "sentences": 51})
    assert status == 400 and "from 1 to 50" in error["error"]["message"]

    note = tmp_path / "note.md"
    note.write_text("# Tide tables\n\nThe harbour tide gauge was installed in 1902.\n", encoding="utf-8")
    status, _, report = server.request("POST", "/ingest", {"paths": [str(note)]})
    assert status == 200 and report["added"] == 1 and report["errors"] == []
    status, _, report = server.request("POST", "/ingest", {"paths": [str(note)], "force": True})
    assert status == 200 and (report["unchanged"], report["updated"]) == (0, 1)
    status, _, error = server.request("POST", "/ingest", {"paths": [str(note)], "force": "yes"})
    assert status == 400 and "`force`" in error["error"]["message"]
    status, _, report = server.request("POST", "/ingest", {"stale": True})
    assert status == 200 and (report["updated"], report["stale"]) == (0, 0)  # nothing is stale: the same settings
    status, _, error = server.request("POST", "/ingest", {"paths": [str(note)], "stale": 1})
    assert status == 400 and "`stale`" in error["error"]["message"]
    status, _, error = server.request("POST", "/ingest", {})
    assert status == 400 and "nothing to ingest" in error["error"]["message"]

    status, _, listed = server.request("GET", "/documents")
    assert status == 200 and {Path(d["path"]).name for d in listed["documents"]} == {
        "kestrel-point-lighthouse.md", "beekeeping-basics.txt", "note.md"}
    assert {d["stale"] for d in listed["documents"]} == {""} and all(d["read_with"] for d in listed["documents"])
    assert server.request("GET", "/documents?stale=true")[2] == {"documents": [], "total": 0, "stale_documents": 0,
                                                                             "left_out_documents": 0}

    assert server.request("GET", "/documents?stale=yes")[0] == 400
    status, _, state = server.request("GET", "/status")
    assert status == 200 and (state["documents"], state["stale_documents"]) == (3, 0)
    # The model as `localrag status` names it, though this server's is loaded and the CLI's is not.
    assert state["model"] == Engine(Settings()).model_name() == "SmolLM2-135M-Instruct.Q4_1"

    status, _, error = server.request("POST", "/forget", {"paths": [str(note)], "purge": "yes"})
    assert status == 400 and "`purge`" in error["error"]["message"]
    status, _, error = server.request("POST", "/forget", {"paths": str(note)})
    assert status == 400 and "`paths` must be a list" in error["error"]["message"]
    status, _, forgotten = server.request("POST", "/forget", {"paths": [str(note)], "purge": True})
    assert status == 200 and (forgotten["documents"], forgotten["chunks_removed"], forgotten["purged"]) == (1, 1, True)
    assert forgotten["paths"] == [str(note.resolve())] and forgotten["conversations"] == []
    assert "note.md" not in {Path(d["path"]).name for d in server.request("GET", "/documents")[2]["documents"]}
    found = server.request("POST", "/search", {"query": "harbour tide gauge installed", "k": 3})[2]
    assert not any(h["chunk"]["path"].endswith("note.md") for h in found["hits"])
    status, _, error = server.request("POST", "/forget", {"paths": [str(note)]})
    assert status == 400 and "not in the index" in error["error"]["message"]

    assert server.request("POST", "/search", raw=b"{not json")[0] == 400
    status, _, error = server.request("POST", "/search", {"query": "x", "k": "3"})
    assert status == 400 and "`k`" in error["error"]["message"]
    long = {"messages": [{"role": "user", "content": "why " * 200}]}
    status, _, error = server.request("POST", "/v1/chat/completions", long)
    assert status == 400 and error["error"]["code"] == "question_too_long"
    status, _, error = server.request("POST", "/v1/chat/completions", {"messages": [{"role": "assistant"}]})
    assert status == 400 and "last message" in error["error"]["message"]
    status, _, error = server.request("POST", "/search", raw=b"{" + b" " * 20_000 + b"}")
    assert status == 413 and error["error"]["code"] == "body_too_large"
    # A text part that is not text was a bare 500; "no" as `stream` was true, and streamed.
    status, _, error = server.request("POST", "/v1/chat/completions",
                                      {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]})
    assert status == 400 and "string `text`" in error["error"]["message"]
    status, _, error = server.request("POST", "/v1/chat/completions",
                                      {"messages": [{"role": "user", "content": QUESTION}], "stream": "no"})
    assert status == 400 and "`stream` must be true or false" in error["error"]["message"]
    # A route or method the API has not answers in the OpenAI error shape its clients read, not plain text.
    status, headers, error = server.request("POST", "/v1/completions", {"prompt": "x"})
    assert (status, error["error"]["code"]) == (404, "not_found") and headers["content-type"] == "application/json"
    assert "POST /v1/completions" in error["error"]["message"]
    status, _, error = server.request("GET", "/v1/chat/completions")
    assert (status, error["error"]["code"]) == (405, "method_not_allowed")


def test_documents_takes_searchs_filters_and_a_limit_and_says_how_many_passed(server: Running) -> None:
    """`GET /documents` listed every document, and `?path_glob=` was passed over in silence: now `search`'s filters
    as query parameters, `limit`, and `total`; a parameter it does not take is refused by name."""
    folder = sample_corpus_dir()
    lighthouse, bees = (str(folder / n) for n in ("kestrel-point-lighthouse.md", "beekeeping-basics.txt"))
    for query, paths, total in (("?path_glob=*kestrel*", [lighthouse], 1),
                                (f"?file_types=txt&file_types=md&path_glob={folder}", [bees, lighthouse], 2),
                                (f"?path_glob={folder}&limit=1", [bees], 2),
                                ("?file_types=pdf", [], 0)):
        status, _, listed = server.request("GET", "/documents" + query)
        assert status == 200 and [d["path"] for d in listed["documents"]] == paths, query
        assert (listed["total"], listed["stale_documents"]) == (total, 0)
    for query, param, code, words in (
        ("?path=x", "path", "unknown_parameter", "(did you mean `path_glob`?)"),
        ("?limit=many", "limit", "invalid_type", "`limit` must be a whole number"),
        ("?limit=--5", "limit", "invalid_type", "`limit` must be a whole number"),
        ("?limit=%C2%B2", "limit", "invalid_type", "`limit` must be a whole number"),
        ("?limit=0", "limit", "invalid_value", "a limit of 0: a listing shows 1 document or more"),
        ("?file_types=pdff", None, "invalid_value", "file type 'pdff' is not one localrag reads"),
    ):
        status, _, error = server.request("GET", "/documents" + query)
        assert (status, error["error"]["code"]) == (400, code) and words in error["error"]["message"], query
        assert param is None or error["error"]["param"] == param


def test_documents_refuses_a_repeated_single_value_and_splits_types_on_commas(server: Running) -> None:
    # `?limit=1&limit=2` took the last in silence; `?file_types=md,txt` was one type 'md,txt', refused.
    for query, param in (("limit=1&limit=2", "limit"), ("stale=true&stale=false", "stale"),
                         ("offset=1&offset=2", "offset")):
        status, _, error = server.request("GET", f"/documents?{query}")
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", param), error
    status, _, listed = server.request("GET", "/documents?file_types=md,txt")
    assert status == 200 and sorted(Path(d["path"]).suffix for d in listed["documents"]) == [".md", ".txt"], listed
    assert server.request("GET", "/documents?file_types=md&file_types=txt")[2] == listed
    # A repeated `path_glob` is any of its patterns (before 2026-12-08 it was refused as given twice).
    assert server.request("GET", "/documents?path_glob=*.md&path_glob=*.txt")[2] == listed


def test_token_is_required_and_checked(engine: Engine) -> None:
    guarded = Running(engine, token=TOKEN)
    try:
        status, headers, error = guarded.request("GET", "/healthz")
        assert status == 401 and headers["www-authenticate"] == "Bearer"
        assert guarded.request("GET", "/healthz", headers={"Authorization": "Bearer nope"})[0] == 401
        assert guarded.request("GET", "/healthz", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
        # The scheme is case-insensitive (RFC 7235): `bearer` was refused 401. The token is not.
        for scheme in ("bearer", "BEARER", "bEaReR"):
            assert guarded.request("GET", "/healthz", headers={"Authorization": f"{scheme} {TOKEN}"})[0] == 200
        assert guarded.request("GET", "/healthz", headers={"Authorization": f"Bearer {TOKEN.upper()}"})[0] == 401
        assert guarded.request("GET", "/healthz", headers={"Authorization": f"Basic {TOKEN}"})[0] == 401
        assert guarded.request("GET", "/healthz", headers={"Authorization": TOKEN})[0] == 401
    finally:
        guarded.stop()


def test_no_token_no_start_beyond_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    from localrag.cli import run

    assert run(["serve", "--host", "0.0.0.0"]) == 2
    assert "--token" in capsys.readouterr().err


def test_twenty_concurrent_requests_are_answered_or_refused_cleanly(engine: Engine) -> None:
    busy = Running(engine, limits=Limits(queue_size=2))
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    try:
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(lambda _: busy.request("POST", "/v1/chat/completions", body), range(20)))
    finally:
        busy.stop()
    answered = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 503]
    assert len(answered) + len(refused) == 20
    assert answered and all(r[2]["choices"][0]["message"]["content"] for r in answered)
    assert refused and all(int(r[1]["retry-after"]) >= 1 and r[2]["error"]["code"] == "queue_full" for r in refused)


def test_related_over_http_takes_the_cli_s_score_choices(tmp_path: Path) -> None:
    # A graph-only engine (no model is needed to rank related entities): the films graph, imported.
    engine = Engine(Settings(), embedder=HashEmbedder(dim=16))
    films = tmp_path / "films.tsv"
    films.write_text("Tom_Hanks\tstarred_in\tBig\nBig\tdirected_by\tPenny_Marshall\n"
                     "A_League\tdirected_by\tPenny_Marshall\n", encoding="utf-8")
    engine.graph_import(films)
    running = Running(engine)
    try:
        status, _, shared = running.request("POST", "/related", {"entities": ["Big"]})
        assert status == 200 and shared["scoring"] == "shared"
        assert [r["entity_id"] for r in shared["related"]] == ["a league"] and "films.tsv:" in json.dumps(shared)
        status, _, walked = running.request("POST", "/related", {"entities": ["Big"], "score": "pagerank", "k": 3})
        assert status == 200 and walked["scoring"] == "pagerank" and walked["related"][0]["entity_id"] == "a league"
        status, _, bad = running.request("POST", "/related", {"entities": ["Big"], "score": "walk"})
        assert status == 400 and bad["error"]["message"] == "score 'walk' is not known (use one of: shared, pagerank)"
        assert running.request("POST", "/related", {"entities": []})[0] == 400
        assert running.request("POST", "/related", {"entities": ["Big"], "k": 0})[0] == 400
        status, _, listed = running.request("POST", "/triples", {"entity": "penny marshall", "limit": 1})
        assert status == 200 and listed == {"total": 2, "triples": [
            {"head": "A_League", "relation": "directed_by", "tail": "Penny_Marshall", "source": f"{films}:3",
             "where": f"{films}:3"}]}
        assert running.request("POST", "/triples", {"limit": 0})[0] == 400

        # Graph questions had no endpoint (MCP's ask_graph and `ask --graph` had them): the same shape here.
        question = "Who directed the film Tom Hanks starred in?"
        status, _, answered = running.request("POST", "/graph/ask", {"question": question})
        assert status == 200 and answered == graph_reply_json(engine, question)
        assert answered["question"] == question and answered["paths"] and "linked" in answered
        status, _, like = running.request("POST", "/graph/ask", {"question": "what else is like Big?"})
        assert status == 200 and like["intent"] == "related" and like["related"][0]["entity_id"] == "a league"
        status, _, bad = running.request("POST", "/graph/ask", {"question": question, "planner": "oracle"})
        assert status == 400 and bad["error"]["message"].startswith("unknown graph planner 'oracle'")
        assert running.request("POST", "/graph/ask", {"question": 3})[0] == 400
        assert running.request("POST", "/graph/ask", {"question": "x" * 5000})[0] == 400
    finally:
        running.stop()


def test_a_bug_is_answered_in_the_error_shape(server: Running, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "status", broken)
    status, headers, error = server.request("GET", "/status")
    assert (status, error["error"]["code"]) == (500, "internal_error") and "a bug" not in json.dumps(error)
    assert "(RuntimeError); the server's log has the details" in error["error"]["message"]


def test_a_collection_deleted_under_the_server_is_the_servers_error_not_the_clients(
    localrag_home: Path, tmp_path: Path
) -> None:
    # It came back as 400 invalid_request_error: a client told it sent something wrong, which it had not.
    (tmp_path / "note.txt").write_text("The ferry leaves at noon.\n")
    Engine(Settings(), embedder=HashEmbedder(dim=32)).create_collection("work")
    served = Engine(Settings(collection="work"), embedder=HashEmbedder(dim=32))
    served.ingest([tmp_path / "note.txt"])
    running = Running(served)
    try:
        assert running.request("POST", "/search", {"query": "ferry"})[0] == 200
        Engine(Settings(), embedder=HashEmbedder(dim=32)).delete_collection("work")
        status, _, error = running.request("POST", "/search", {"query": "ferry"})
        assert (status, error["error"]["type"], error["error"]["code"]) == (
            409, "server_error", "collection_unavailable")
        assert error["error"]["message"].startswith("the collection this process opened as 'work' was deleted")
        # Its health said "ok" while every request got 409, so no supervisor started it again.
        status, _, health = running.request("GET", "/healthz")
        assert (status, health["status"], health["error"]["code"]) == (503, "unavailable", "collection_unavailable")
    finally:
        running.stop()


def test_sigterm_stops_the_server_as_ctrl_c_does(localrag_home: Path) -> None:
    """A service manager's stop: uvicorn raised SIGTERM again once the requests in flight were done, and the
    process died of it (status -15) before it said "stopped". A token on the command line is said to be seen by
    every account on the machine (the process list), with the ways that keep it private."""
    server = start_cli("serve", "--port", "0", "--token", "s3cret-0123456789", home=localrag_home,
                       user_home=localrag_home.parent / "user-home")
    try:
        assert server.stderr is not None
        assert "can read --token in the process list; LOCALRAG_API_TOKEN" in server.stderr.readline()
        line = server.stderr.readline()
        assert "serving" in line, line + server.stderr.read()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert server.stderr.read().strip() == "stopped"
    finally:
        server.kill()


def test_a_field_no_endpoint_takes_is_refused_naming_it(server: Running, tmp_path: Path) -> None:
    """Fields passed over were answered as if asked right: `collection` searched the server's own collection,
    `file_type` (for `file_types`) and `path` (for `path_glob`) filtered nothing."""
    for body, param, words in (
        ({"query": "bees", "collection": "work"}, "collection",
         "`collection` is not taken by POST /search: this server serves collection 'default'; start `localrag "
         "serve --collection NAME` to serve another"),
        ({"query": "bees", "file_type": ["md"]}, "file_type", "(did you mean `file_types`?)"),
        ({"query": "bees", "path": "*bee*"}, "path", "(did you mean `path_glob`?)"),
        ({"query": "bees", "top_k": 1}, "top_k",
         "(did you mean `k`?); it takes query, k, offset, path_glob, file_types"),
    ):
        status, _, error = server.request("POST", "/search", body)
        assert (status, error["error"]["param"], error["error"]["code"]) == (400, param, "unknown_parameter")
        assert words in error["error"]["message"]
    chat = {"messages": [{"role": "user", "content": "When was it lit?"}], "collection": "work", "user": "me"}
    status, _, error = server.request("POST", "/v1/chat/completions", chat)  # OpenAI's `user` is passed over
    assert (status, error["error"]["param"]) == (400, "collection")
    status, _, error = server.request("POST", "/v1/embeddings", {"input": "a", "collection": "work", "user": "me"})
    assert (status, error["error"]["param"]) == (400, "collection")
    status, _, error = server.request("POST", "/ingest", {"path": str(tmp_path)})
    assert (status, error["error"]["param"]) == (400, "path") and "(did you mean `paths`?)" in error["error"]["message"]
    # A path holding a NUL byte was a 500 "internal error"; a type unknown named the CLI's `--type`; the codes
    # were Python class names ("LoaderError", "LocalRagError").
    for route, body in (("/ingest", {"paths": ["/x\u0000y"]}), ("/forget", {"paths": ["/x\u0000y"]}),
                        ("/summarize", {"path": "/x\u0000y"})):
        status, _, error = server.request("POST", route, body)
        assert (status, error["error"]["code"]) == (400, "invalid_value"), (route, error)
        assert "a path holding a NUL byte" in error["error"]["message"]
    status, _, error = server.request("POST", "/search", {"query": "bees", "file_types": ["pdff"]})
    assert error["error"]["message"].startswith("file type 'pdff' is not one localrag reads")
    assert error["error"]["code"] == "invalid_value"
    # A byte that is not UTF-8 is read as U+FFFD, as the README says and the CLI does; the body was refused.
    status, _, found = server.request("POST", "/search", raw=b'{"query": "lighthouse caf\xe9", "k": 1}')
    assert status == 200 and found["query"] == "lighthouse caf\ufffd"
    # One count of a question's length, as the Engine reads it: spaces around it counted on /search only.
    padded = "When was the lighthouse lit?" + " " * 480
    assert server.request("POST", "/search", {"query": padded, "k": 1})[0] == 200
    status, headers, _ = server.request("GET", "/search")
    assert status == 405 and headers["allow"] == "POST"


def test_a_chat_refuses_a_near_miss_of_its_own_fields_and_passes_openais_over(server: Running) -> None:
    # `path_glb`, `path-glob` or `filetypes` in a chat were passed over: 200, the answer from every document, while
    # /search refused `path_glb` naming `path_glob`.
    asked = [{"role": "user", "content": QUESTION}]
    for name, meant in (("path_glb", "path_glob"), ("path-glob", "path_glob"), ("filetypes", "file_types"),
                        ("file_typs", "file_types"), ("pathglob", "path_glob")):
        status, _, error = server.request("POST", "/v1/chat/completions", {"messages": asked, name: "x"})
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "unknown_parameter", name), name
        assert f"(did you mean `{meant}`?)" in error["error"]["message"]
    status, _, reply = server.request("POST", "/v1/chat/completions", {
        "messages": asked, "temperature": 0.2, "top_p": 0.9, "user": "me", "top_k": 40, "a_newer_openai_field": 1})
    assert status == 200 and reply["choices"][0]["message"]["content"]


def test_a_streamed_chats_bad_filter_is_refused_before_the_stream_as_when_not_streamed(server: Running) -> None:
    # A type no loader reads or a path filter longer than any path was a 200 and then an error event when
    # streamed, a 400 when not; the type's refusal named no field.
    asked = [{"role": "user", "content": QUESTION}]
    for filters, param in (({"file_types": ["zzz"]}, "file_types"), ({"path_glob": "*" * 5000}, "path_glob")):
        plain = server.request("POST", "/v1/chat/completions", {"messages": asked, **filters})
        streamed = server.request("POST", "/v1/chat/completions", {"messages": asked, "stream": True, **filters})
        assert plain[0] == streamed[0] == 400 and plain[2] == streamed[2], (plain, streamed)
        assert (plain[2]["error"]["code"], plain[2]["error"]["param"]) == ("invalid_value", param)
    status, _, error = server.request("POST", "/search", {"query": "bees", "file_types": ["docx2"]})
    assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", "file_types")
    status, _, error = server.request("GET", "/documents?file_types=docx2")
    assert (status, error["error"]["param"]) == (400, "file_types")


def test_the_engines_refusals_name_the_field_at_fault(server: Running, tmp_path: Path) -> None:
    # Each was `param: null`, though the README says `param` names the field at fault.
    for route, body, param in (
            ("/graph/ask", {"question": "Who directed Big?", "planner": "magic"}, "planner"),
            ("/graph/ask", {"question": "Who directed Big?"}, "question"),  # the graph is empty
            ("/graph/ask", {"question": "  "}, "question"),
            ("/related", {"entities": ["Big"]}, "entities"),  # the graph is empty
            ("/forget", {"paths": [str(tmp_path / "never-indexed.md")]}, "paths"),
            ("/summarize", {"path": str(tmp_path / "never-indexed.md")}, "path"),
            ("/summarize", {"path": str(tmp_path)}, "path"),
            ("/ingest", {"paths": [str(tmp_path / "missing")]}, "paths"),
            ("/ingest", {"paths": []}, "paths"),
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": "  "}]}, "messages")):
        status, _, error = server.request("POST", route, body)
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", param), error


def test_the_engines_rules_word_the_refusals_of_every_front_end(server: Running) -> None:
    """`/related` restated the Engine's range of `k`, and `/forget`, `/summarize`, `/ingest` the empty path rule,
    each in words of its own (and `/ingest` refused "" but let " " through to the Engine's)."""
    status, _, error = server.request("POST", "/related", {"entities": ["Big"], "k": 101})
    assert (status, error["error"]["code"]) == (400, "invalid_value")
    assert error["error"]["message"].startswith("101 entities: related lists from 1 to 100")
    for route, body in (("/forget", {"paths": [" "]}), ("/summarize", {"path": " "}), ("/ingest", {"paths": [""]}),
                        ("/ingest", {"paths": [" "]})):
        status, _, error = server.request("POST", route, body)
        assert (status, error["error"]["code"]) == (400, "invalid_value"), route
        assert error["error"]["message"].startswith("an empty path (an unset shell variable?)"), route


def test_one_code_per_kind_of_refusal_with_the_field_at_fault(server: Running) -> None:
    # A value out of range named no field (param null) where the Engine refused it; a wrong type was
    # `invalid_type` for `k` and `invalid_request` for `sentences`, `limit` or `stream`; `"k": null` was the
    # default in a chat and refused by /search.
    for route, body, param in (("/search", {"query": "lighthouse", "k": 0}, "k"),
                               ("/related", {"entities": ["Big"], "k": 101}, "k"),
                               ("/summarize", {"path": "/x.md", "sentences": 0}, "sentences"),
                               ("/triples", {"limit": 0}, "limit"),
                               ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}],
                                                         "k": 0}, "k")):
        status, _, error = server.request("POST", route, body)
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", param), route
    for route, body, param in (("/search", {"query": "lighthouse", "k": "5"}, "k"),
                               ("/summarize", {"path": "x.md", "sentences": "5"}, "sentences"),
                               ("/triples", {"limit": "5"}, "limit"),
                               ("/search", {"query": 5}, "query"),
                               ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}],
                                                         "stream": "yes"}, "stream")):
        status, _, error = server.request("POST", route, body)
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_type", param), route
    status, _, found = server.request("POST", "/search", {"query": "lighthouse", "k": None})
    assert status == 200 and found["hits"]


def test_a_server_that_extracts_names_no_model_as_answering(engine: Engine) -> None:
    # /healthz, /v1/models and each streamed chunk named SmolLM2 while every answer was extracted without it.
    from localrag.answer.evidence import EXTRACT_MODEL

    kept = engine.settings
    engine.settings = kept.replace(answer_mode="extract")
    running = Running(engine)
    try:
        assert running.request("GET", "/healthz")[2]["model"] == EXTRACT_MODEL
        assert running.request("GET", "/v1/models")[2]["data"][0]["id"] == EXTRACT_MODEL
        _, _, body = running.request("POST", "/v1/chat/completions",
                                     {"messages": [{"role": "user", "content": QUESTION}], "stream": True})
        chunks = [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: {")]
        assert chunks and {chunk["model"] for chunk in chunks} == {EXTRACT_MODEL}
        assert engine.status().answered_by == EXTRACT_MODEL != engine.status().model
    finally:
        engine.settings = kept
        running.stop()


def test_a_web_page_may_not_call_the_server_unless_it_is_on_this_machine_or_named(engine: Engine) -> None:
    # Any site the user visited could POST /forget {"paths": ["/"], "purge": true} as text/plain and erase the
    # index, and a page renamed to 127.0.0.1 (DNS rebinding) could read /search as its own origin.
    running = Running(engine, origins=("https://chat.example",))
    try:
        before = len(engine.documents())
        page = {"Origin": "http://evil.example", "Content-Type": "text/plain;charset=UTF-8"}
        status, _, error = running.request("POST", "/forget", {"paths": ["/"], "purge": True}, headers=page)
        assert (status, error["error"]["code"]) == (403, "origin_not_allowed")
        assert "--allow-origin http://evil.example" in error["error"]["message"]
        assert len(engine.documents()) == before
        status, _, error = running.request("POST", "/search", {"query": "lighthouse"},
                                           headers={"Host": f"rebind.evil.example:{running.port}"})
        assert (status, error["error"]["code"]) == (403, "host_not_allowed")
        for origin in ("http://localhost:3000", "https://chat.example"):
            status, headers, found = running.request("POST", "/search", {"query": "lighthouse"},
                                                     headers={"Origin": origin})
            assert status == 200 and found["hits"] and headers["access-control-allow-origin"] == origin
            status, headers, _ = running.request("OPTIONS", "/search", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"})
            assert status == 204 and "POST" in headers["access-control-allow-methods"]
        assert running.request("GET", "/healthz", headers={"Host": f"localhost:{running.port}"})[0] == 200
    finally:
        running.stop()


def test_what_openai_clients_send_is_read_or_refused_by_name(server: Running) -> None:
    # Text parts were glued ("Who kept thelighthouse?"); audio was passed over; "include_usage": "true" streamed
    # without the usage, in silence; tools offered with tool_choice "none" were refused though none could be
    # called; an empty embedding input got a vector; a gzip body was "not valid JSON".
    def chat(**fields: Any) -> tuple[int, Any]:
        status, _, body = server.request("POST", "/v1/chat/completions", {"messages": [
            {"role": "user", "content": QUESTION}], **fields})
        return status, body

    parts = [{"type": "text", "text": "When was the Kestrel Point"}, {"type": "text", "text": "lighthouse first lit?"}]
    status, _, body = server.request("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": parts}]})
    assert status == 200 and body["localrag"]["question"] == "When was the Kestrel Point\nlighthouse first lit?"
    status, body = chat(modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"})
    assert (status, body["error"]["param"], body["error"]["code"]) == (400, "modalities", "unsupported_parameter")
    status, body = chat(stream=True, stream_options={"include_usage": "true"})
    assert (status, body["error"]["code"]) == (400, "invalid_type")
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    assert chat(tools=[tool], tool_choice="none")[0] == 200
    assert chat(tools=[tool])[1]["error"]["param"] == "tools"
    status, _, body = server.request("POST", "/v1/embeddings", {"input": ["lighthouse", "  "]})
    assert (status, body["error"]["param"], body["error"]["code"]) == (400, "input", "invalid_value")
    import gzip

    packed = gzip.compress(json.dumps({"query": "lighthouse"}).encode())
    status, _, body = server.request("POST", "/search", raw=packed, headers={"Content-Encoding": "gzip"})
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")


def test_null_is_the_default_of_every_field(server: Running, tmp_path: Path) -> None:
    # `"purge": null` and `"force": null` were "must be true or false" where `"k": null` was the default.
    status, _, report = server.request("POST", "/forget", {"paths": [str(tmp_path / "never-indexed.md")],
                                                            "purge": None})
    assert status == 400 and "not in the index" in report["error"]["message"]
    status, _, report = server.request("POST", "/ingest", {"paths": [str(tmp_path)], "force": None, "stale": None})
    assert status in (200, 400) and report.get("error", {}).get("code") != "invalid_type", report
    status, _, error = server.request("POST", "/related", {"entities": []})
    assert (status, error["error"]["code"]) == (400, "invalid_value")


def test_an_origin_any_site_can_send_or_none_can_is_refused_at_start(engine: Engine) -> None:
    # `--allow-origin null`, which the refusal of a sandboxed page suggested, let any site erase the index (every
    # site can frame a sandboxed page); `chat.example` and `*` started and never matched.
    from localrag.errors import ConfigError
    from localrag.serve.browsers import checked_origins

    for origin in ("null", "*", "chat.example", "chat.example:3000", "https://chat.example/app", "file:///x",
                   "http://[::1", "https://bücher.example"):
        with pytest.raises(ConfigError, match="--allow-origin"):
            checked_origins((origin,))
    assert checked_origins(("https://Chat.example:443", "http://[::1]:80")) == ("https://chat.example", "http://[::1]")
    running = Running(engine, origins=("https://chat.example:443",))
    try:
        status, _, error = running.request("GET", "/healthz", headers={"Origin": "null"})
        assert status == 403 and "--allow-origin null" not in error["error"]["message"]
        assert running.request("GET", "/healthz", headers={"Origin": "http://[::1"})[0] == 403  # was a 500
        # OpenAI's JS SDK asks for its own headers: a fixed list made the browser drop every call.
        asked = "authorization,content-type,x-stainless-os,x-stainless-retry-count"
        status, headers, _ = running.request("OPTIONS", "/v1/chat/completions", headers={
            "Origin": "https://chat.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked})
        assert status == 204 and headers["access-control-allow-headers"] == asked
        assert "access-control-allow-private-network" not in headers
        status, headers, _ = running.request("OPTIONS", "/search", headers={
            "Origin": "https://chat.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Private-Network": "true"})
        assert status == 204 and headers["access-control-allow-private-network"] == "true"
        status, headers, _ = running.request("GET", "/healthz", headers={"Origin": "https://chat.example"})
        assert status == 200 and "Retry-After" in headers["access-control-expose-headers"]
    finally:
        running.stop()


def test_a_second_ctrl_c_answers_the_ingest_under_way_503_not_a_bare_500(tmp_path: Path) -> None:
    # uvicorn's second signal quits without waiting, cancelling the requests under way: the ingest's client got a
    # plain-text 500 and the server's terminal a traceback.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("The harbour keeper lit the lamp.\n")
    embedding, release = threading.Event(), threading.Event()

    class Held(HashEmbedder):
        def embed(self, texts: Any) -> Any:
            embedding.set()
            release.wait(30)
            return super().embed(texts)

    stopping = threading.Event()
    store = Store(tmp_path / "db", embedder_name="hash-embedder", dim=32)
    running = Running(Engine(Settings(), embedder=Held(dim=32), store=store), stopping=stopping)
    replies: list[tuple[int, dict[str, str], Any]] = []
    asking = threading.Thread(target=lambda: replies.append(running.request("POST", "/ingest", {"paths": [str(docs)]})))
    asking.start()
    try:
        assert embedding.wait(30)
        stopping.set()  # the first signal, as serve's handle_exit sets it; then uvicorn's own second one:
        running.server.should_exit = running.server.force_exit = True
        asking.join(30)
        [(status, headers, body)] = replies
        assert status == 503 and body["error"]["code"] == "server_quit" and headers["retry-after"] == "5"
    finally:
        release.set()
        running.stop()


def test_a_path_longer_than_any_files_is_refused_naming_it_not_a_crash(server: Running, engine: Engine) -> None:
    # A name over 255 bytes reached the OS (`exists()`, `resolve()`): ENAMETOOLONG came back as a 500 internal
    # error here, a traceback from the CLI and "Error executing tool" from MCP, which share the Engine's check.
    long_name, deep = "/tmp/" + "a" * 300, "/tmp" + "/abc" * 1100
    for route, body in (("/ingest", {"paths": [long_name]}), ("/forget", {"paths": [long_name]}),
                        ("/summarize", {"path": long_name}), ("/ingest", {"paths": [deep]})):
        status, _, error = server.request("POST", route, body)
        assert (status, error["error"]["code"]) == (400, "invalid_value"), (route, error)
        assert error["error"]["message"].startswith(f"'{body.get('path') or body['paths'][0]}': a path longer than")
        assert error["error"]["param"] == next(iter(body))  # it was null: a client could not tell which field
    # A name of 255 bytes is a file's: it is looked for, and found not to be there.
    status, _, error = server.request("POST", "/summarize", {"path": "/tmp/" + "b" * 255})
    assert status == 400 and "longer than" not in error["error"]["message"]
    # Half an emoji in a path (JSON's "\ud800"): the check itself raised, a 500; in a path filter too.
    status, _, error = server.request("POST", "/ingest", {"paths": ["/tmp/\ud800"]})
    assert (status, error["error"]["code"]) == (400, "invalid_value") and "half of a UTF-16 pair" in str(error)
    assert server.request("POST", "/search", {"query": "lighthouse", "path_glob": "*\ud800*"})[0] == 200


def test_a_path_glob_longer_than_any_path_is_refused_naming_it_not_the_store_called_damaged(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # LanceDB could not compile the LIKE pattern of "*/" * 10200 ("Compiled regex exceeds size limit"), which was
    # called a damaged store (500 index_damaged: "run `localrag repair`"), on /search, a chat, MCP and the CLI.
    from localrag import retrieve

    huge = "*/" * 10200
    server = Running(engine)  # the module's server takes bodies of 10,000 bytes
    try:
        for route, body in (("/search", {"query": "lighthouse", "path_glob": huge}),
                            ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}],
                                                      "path_glob": huge})):
            status, _, error = server.request("POST", route, body)
            assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", "path_glob")
            assert error["error"]["message"].startswith("the path filter (--path, path_glob) has 20400 characters")
        longest = "*" + "?" * (retrieve.MAX_PATH_GLOB_CHARS - 1)  # the hardest glob to compile that is taken
        assert server.request("POST", "/search", {"query": "lighthouse", "path_glob": longest})[0] == 200
        # Were a glob under the cap still too much for LanceDB, it is the request's fault, not the store's damage.
        monkeypatch.setattr(retrieve, "MAX_PATH_GLOB_CHARS", 100_000)
        status, _, error = server.request("POST", "/search", {"query": "lighthouse", "path_glob": "?" * 20_000})
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", "path_glob")
        assert "too intricate" in error["error"]["message"] and "repair" not in error["error"]["message"]
    finally:
        server.stop()


def test_a_page_on_this_machine_not_named_may_search_but_not_ingest_or_forget_a_tokenless_server(
        engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Any local program's page (a dev server, `python -m http.server` serving a downloaded file) could ingest
    # /home/me/private as text/plain, with no preflight, then read it back through /search, or forget with purge.
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.txt").write_text("The vault combination is 31-41-59, kept by the quartermaster.\n")
    running = Running(engine, origins=("http://localhost:4000",))
    try:
        before = {d.path for d in engine.documents()}
        page = {"Origin": "http://127.0.0.1:18800", "Content-Type": "text/plain"}
        for route, body in (("/ingest", {"paths": [str(private)]}), ("/forget", {"paths": ["/"], "purge": True})):
            status, _, error = running.request("POST", route, body, headers=page)
            assert (status, error["error"]["code"]) == (403, "origin_not_allowed"), route
            assert "may search and ask this server but not read files into the index" in error["error"]["message"]
            assert "--allow-origin http://127.0.0.1:18800" in error["error"]["message"]
            assert "LOCALRAG_API_TOKEN" in error["error"]["message"]
        assert {d.path for d in engine.documents()} == before
        status, headers, _ = running.request("OPTIONS", "/ingest", headers={
            "Origin": "http://127.0.0.1:18800", "Access-Control-Request-Method": "POST"})
        assert status == 403 and "access-control-allow-origin" not in headers
        status, headers, found = running.request("POST", "/search", {"query": "lighthouse"}, headers=page)
        assert status == 200 and found["hits"] and headers["access-control-allow-origin"] == "http://127.0.0.1:18800"
        assert "refused a web page at http://127.0.0.1:18800 reading files" in capsys.readouterr().err
        # A page the user named may: it reads the folder in, and forgets it again.
        named = {"Origin": "http://localhost:4000", "Content-Type": "text/plain"}
        assert running.request("POST", "/ingest", {"paths": [str(private)]}, headers=named)[0] == 200
        assert running.request("POST", "/forget", {"paths": [str(private)]}, headers=named)[0] == 200
        assert {d.path for d in engine.documents()} == before
    finally:
        running.stop()
    guarded = Running(engine, token=TOKEN)  # with a token, the token decides
    try:
        status, _, error = guarded.request("POST", "/forget", {"paths": [str(private)]}, headers={
            "Origin": "http://127.0.0.1:18800", "Authorization": f"Bearer {TOKEN}"})
        assert status != 403 and error["error"]["code"] != "origin_not_allowed"
    finally:
        guarded.stop()


def test_the_terminal_says_a_refused_page_may_be_a_strangers_before_how_to_let_it(
        engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # "refused a request from a web page at https://evil.example; to let it, start `localrag serve --allow-origin
    # https://evil.example`" read as an instruction to allow it; and a page at 0.0.0.0 was told to allow 0.0.0.0.
    running = Running(engine)
    try:
        for origin in ("https://evil.example", "http://0.0.0.0:8000"):
            status, _, error = running.request("POST", "/search", {"query": "lighthouse"}, headers={"Origin": origin})
            assert (status, error["error"]["code"]) == (403, "origin_not_allowed")
            assert "--allow-origin http://0.0.0.0" not in error["error"]["message"]
    finally:
        running.stop()
    said = capsys.readouterr().err
    assert ("refused a request from a web page at https://evil.example: an unknown page may be trying to read or "
            "erase your documents; if it is yours, start `localrag serve --allow-origin https://evil.example`") in said
    [zero] = [line for line in said.splitlines() if "0.0.0.0" in line]
    assert "an unknown page may be trying" in zero and "if it is yours, open it as http://localhost:8000" in zero
    assert "--allow-origin http://0.0.0.0" not in zero


def test_a_question_too_long_for_the_model_names_no_setting_a_client_cannot_change(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # It told the client to lower max_answer_tokens or raise n_ctx: the server's own settings.
    monkeypatch.setattr(engine, "settings", engine.settings.replace(max_answer_tokens=1900))
    server = Running(engine)
    try:
        question = f"{QUESTION} " + "why " * 150
        status, _, error = server.request("POST", "/v1/chat/completions",
                                          {"messages": [{"role": "user", "content": question}]})
        assert (status, error["error"]["code"], error["error"]["param"]) == (400, "question_too_long", "messages")
        assert "the server's settings" in error["error"]["message"]
        # Streamed, the status line has gone out: the same error as an event, its field named too.
        status, _, streamed = server.request("POST", "/v1/chat/completions",
                                             {"messages": [{"role": "user", "content": question}], "stream": True})
        event = json.loads(next(line[6:] for line in streamed.decode().splitlines() if '"error"' in line))
        assert (status, event["error"]["code"], event["error"]["param"]) == (200, "question_too_long", "messages")
        status, _, error = server.request("POST", "/search", {"query": "x" * 5000})
        assert (status, error["error"]["param"]) == (400, "query")
        assert "raise n_ctx" not in error["error"]["message"]
    finally:
        server.stop()


def test_the_api_escapes_what_a_terminal_acts_on_reorders_or_hides_as_json_does(tmp_path: Path) -> None:
    # Written raw, `invoice\u202efdp.md` printed in `curl` as "invoicedm.pdf", U+009B started an escape sequence,
    # and `budget\u200b.md` printed as `budget.md`; `--json` wrote each as an escape.
    docs = tmp_path / "docs"
    docs.mkdir()
    names = {"invoice\u202efdp.md", "budget\u200b.md", "budget\U000e0041.md"}
    for month, name in zip(("March", "April", "May"), sorted(names), strict=True):
        (docs / name).write_text(f"The harbour invoice is due \u009b31m in {month}.\n", encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=16))
    engine.ingest([docs])
    running = Running(engine)
    try:
        for method, path, body in (("GET", "/documents", None), ("POST", "/search", {"query": "harbour invoice"})):
            conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=60)
            conn.request(method, path, body=json.dumps(body) if body else None,
                         headers={"Content-Type": "application/json"})
            raw = conn.getresponse().read().decode("utf-8")
            conn.close()
            assert not any(char in raw for char in "\u202e\u009b\u200b\U000e0041"), path
            assert "\\u202e" in raw and "\\u200b" in raw and "\\udb40\\udc41" in raw, path
            listed = json.loads(raw)
            found = {Path(d["path"]).name for d in listed["documents"]} if "documents" in listed else {
                Path(h["chunk"]["path"]).name for h in listed["hits"]}
            assert found == names, path
        assert "\\u009b31m" in raw
    finally:
        running.stop()


def test_a_client_gone_while_sending_its_body_leaves_no_traceback(server: Running) -> None:
    # Each one left "Exception in ASGI application" and 55 lines of traceback (ClientDisconnect) on the terminal.
    logged: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = logged.append  # type: ignore[method-assign]
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(catcher)
    try:
        for path in ("/search", "/v1/embeddings", "/v1/chat/completions"):
            client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            client.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           "Content-Length: 100\r\n\r\n{\"query\"".encode())
            threading.Event().wait(0.3)
            client.close()
        threading.Event().wait(0.5)
    finally:
        uvicorn_log.removeHandler(catcher)
    assert [record.getMessage() for record in logged] == []
    assert server.request("GET", "/healthz")[0] == 200


def test_embeddings_and_searches_queue_on_the_embedder_and_healthz_does_not_wait(engine: Engine) -> None:
    # 40 clients each embedding 64 long texts ran at once: none was refused, /healthz took 15 s to answer and the
    # last embedding came after 98 s.
    busy = Running(engine, limits=Limits(queue_size=1))
    texts = [f"{n} The Kestrel Point lighthouse was first lit in 1871 and kept by three families. " * 12
             for n in range(64)]
    try:
        with ThreadPoolExecutor(8) as pool:
            sent = [pool.submit(busy.request, "POST", "/v1/embeddings", {"input": texts}) for _ in range(6)]
            sent += [pool.submit(busy.request, "POST", "/search", {"query": "lighthouse keepers"}) for _ in range(2)]
            threading.Event().wait(0.3)
            started = time.monotonic()
            status, _, health = busy.request("GET", "/healthz")
            waited = time.monotonic() - started
            results = [future.result() for future in sent]
    finally:
        busy.stop()
    assert status == 200 and waited < 5, waited
    assert health["embedder_queue"]["size"] == 1 and health["embedder_queue"]["running"] == 1
    answered = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 503]
    assert len(answered) + len(refused) == 8 and 1 <= len(answered) <= 2
    assert all(int(r[1]["retry-after"]) >= 1 and r[2]["error"]["code"] == "queue_full"
               and r[2]["error"]["message"].startswith("the embedder is busy") for r in refused)


def test_a_connection_slow_to_send_its_headers_is_closed_and_connections_are_capped(engine: Engine) -> None:
    # A connection that never finished its headers was held for ever, and every connection offered was taken:
    # 21,000 of them used up the process's file descriptors and /healthz timed out.
    running = Running(engine, limits=Limits(header_seconds=1.0))
    try:
        trickling = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        silent = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        started = time.monotonic()
        trickling.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed = b"unset"
        for n in range(20):  # a byte every 0.2 s kept uvicorn's keep-alive timer off
            try:
                trickling.sendall(f"X-{n}: 1\r\n".encode())
            except OSError:
                closed = b""
                break
            threading.Event().wait(0.2)
        else:
            closed = trickling.recv(100)
        assert closed == b"" and time.monotonic() - started < 3
        assert silent.recv(100) == b""  # nothing sent at all: closed too
        trickling.close()
        silent.close()
    finally:
        running.stop()
    running = Running(engine, limits=Limits(max_connections=8))
    try:
        held = [socket.create_connection(("127.0.0.1", running.port), timeout=10) for _ in range(12)]
        threading.Event().wait(0.3)
        # Past the cap the oldest of those that sent nothing is closed, its descriptor freed; a real client gets in.
        assert running.request("GET", "/healthz")[0] == 200
        gone = 0
        for sock in held:
            sock.settimeout(0.2)
            try:
                gone += sock.recv(100) == b""
            except ConnectionResetError:
                gone += 1
            except TimeoutError:
                pass
        assert gone == 5  # 4 for the 12 over 8, 1 for the /healthz; the newest 7 still open
        for sock in held:
            sock.close()
        threading.Event().wait(0.3)
        assert running.request("GET", "/healthz")[0] == 200
    finally:
        running.stop()


def test_running_out_of_file_descriptors_is_said_once_not_a_traceback_a_try() -> None:
    import asyncio

    from localrag.serve.connections import say_accept_failures_once

    loop = asyncio.new_event_loop()
    told: list[str] = []
    logged: list[logging.LogRecord] = []
    catcher = logging.Handler()
    catcher.emit = logged.append  # type: ignore[method-assign]
    logging.getLogger("asyncio").addHandler(catcher)
    real_stderr = sys.stderr
    try:
        sys.stderr = type("Sink", (), {"write": lambda self, text: told.append(text), "flush": lambda self: None})()
        say_accept_failures_once(loop)
        for _ in range(1000):
            loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                         "exception": OSError(24, "Too many open files")})
        loop.call_exception_handler({"message": "something else"})
    finally:
        sys.stderr = real_stderr
        logging.getLogger("asyncio").removeHandler(catcher)
        loop.close()
    said = "".join(told)
    assert said.count("\n") == 1 and "no file descriptor left (Too many open files)" in said, said
    assert [record.getMessage() for record in logged] == ["something else"]  # other errors still logged


def test_a_relative_path_is_refused_and_steps_are_named_as_endpoints(localrag_home: Path, tmp_path: Path) -> None:
    """A relative path was read against the server's working folder (`forget ["."]` from a client anywhere forgot
    every document under the server's); "`localrag documents` lists what is indexed" and "add some with `localrag
    ingest PATH` (in the chat app, the Library)" sent a client to a command line; an empty search said nothing."""
    served = Engine(Settings(), embedder=HashEmbedder(dim=32))
    running = Running(served)
    try:
        status, _, found = running.request("POST", "/search", {"query": "ferry"})
        assert status == 200 and found["hits"] == []
        assert found["nothing_found"] == ("collection default holds no documents yet: add some with POST /ingest "
                                          "(absolute paths)")
        (tmp_path / "note.txt").write_text("The ferry leaves at noon.\n")
        served.ingest([tmp_path / "note.txt"])
        for route, body in (("/ingest", {"paths": ["note.txt"]}), ("/forget", {"paths": ["."]}),
                            ("/summarize", {"path": "note.txt"})):
            status, _, error = running.request("POST", route, body)
            field = next(iter(body))
            assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_value", field), route
            assert error["error"]["message"].endswith("is a relative path, and this server does not know your "
                                                      "working folder (give an absolute path)")
        status, _, error = running.request("POST", "/summarize", {"path": str(tmp_path / "never.txt")})
        assert error["error"]["message"].endswith("not in the index (GET /documents lists what is indexed)")
        assert running.request("GET", "/documents")[2]["total"] == 1
        assert "nothing_found" not in running.request("POST", "/search", {"query": "ferry"})[2]
    finally:
        running.stop()
