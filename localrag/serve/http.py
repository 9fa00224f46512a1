"""`localrag serve`: the Engine over an OpenAI-compatible HTTP API (Starlette on uvicorn).

Endpoints:
  POST /v1/chat/completions  the last user message is answered with retrieval (earlier messages are
                             the conversation, as in the chat app); `stream: true` sends SSE chunks.
                             The answer's sources, citations and quote checks ride in an extra
                             `localrag` field (`localrag.shapes.answer_json`), which plain clients ignore.
  GET  /v1/models            what answers (the generator, or extraction without one) and the index's embedder
  POST /v1/embeddings        vectors from the index's embedder (float or base64, as clients ask)
  POST /search               ranked chunks with each retriever's rank and score
  POST /graph/ask            a question answered from the knowledge graph with its reasoning paths, or the
                             related entities of "what else is like X?" (`ask --graph --json`'s shape; MCP's
                             `ask_graph`; `planner`: embedding or grammar, the grammar one queued for the model)
  POST /related              entities like the given ones in the graph, with their joining paths
                             (`localrag related --json`'s shape; `score`: shared or pagerank)
  POST /summarize            a document's key sentences, quoted, no model (`localrag summarize --json`)
  POST /triples              the graph's triples, by entity or relation (`localrag graph triples --json`)
  POST /ingest               add files/folders; returns the ingest report
  POST /forget               remove documents or folders (`purge`: erase their text too); `forget --json`'s shape
  GET  /documents            the indexed documents, each with why it is stale ("" if not); `?stale=true`:
                             only the stale ones (MCP's `list_documents`, `localrag documents --json`)
  GET  /status               the index and models (`localrag status --json`)
  GET  /healthz              liveness, what answers, the model queue and the write under way; 503 when
                             requests cannot be served

The server answers with the settings it was started with: a request's `model`, `temperature` or
`max_tokens` does not change them (there is one loaded model and one index). A client's system
message is not passed to the model either: localrag's prompt is what makes it cite its sources.

Safety: it binds 127.0.0.1 by default. Binding any other address needs a token (`--token` or the
`api_token` setting), and then every request must send `Authorization: Bearer TOKEN`, compared in
constant time. Web pages may call it only from this machine or an origin the user named (without a token, a page
on this machine not named may not ingest or forget), and a loopback server answers only requests addressed to a
loopback name (`serve/browsers.py`). Bodies are capped
(`max_body_bytes`, checked while reading, so a body without a Content-Length is capped too) and so are
questions. Requests that need the generator queue on one `ModelGate`, embeddings and searches on another for the
embedder; when a queue is full the answer is 503 with Retry-After. Errors have the OpenAI
shape `{"error": {"message", "type", "code"}}`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hmac
import ipaddress
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from localrag.answer.summary import MAX_KEY_SENTENCES
from localrag.collection import CollectionError
from localrag.config import MAKE_TOKEN, check_api_token
from localrag.conversations import ConversationStore
from localrag.disk_errors import PermissionTrouble, as_disk_trouble
from localrag.errors import (
    ConfigError,
    DiskError,
    IndexReembeddedError,
    LocalRagError,
    QuestionTooLongError,
    StoreError,
)
from localrag.questions import checked_question
from localrag.safe_text import json_text, line_text, valid_text
from localrag.serve.browsers import BrowserGuard, checked_origins, private_network_notes
from localrag.serve.fields import misnamed_in_chat, relative_path, unknown_field
from localrag.serve.gate import ModelGate, QueueFullError, Ticket
from localrag.serve.limits import DEFAULT_HOST, DEFAULT_PORT, Limits, too_long
from localrag.serve.responses import SafeJSONResponse
from localrag.serve.wording import answer_for, client_message, for_client
from localrag.shapes import (
    answer_json,
    documents_json,
    forgotten_json,
    graph_reply_json,
    ingest_report_json,
    related_json,
    search_json,
    summary_json,
    triples_json,
)
from localrag.types import MAX_SEARCH_K, SEARCH_K, DoneEvent, TokenEvent

if TYPE_CHECKING:
    from types import FrameType

    from localrag.engine import Engine
    from localrag.retrieve import SearchFilters
    from localrag.types import Answer

T = TypeVar("T")


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 headers: dict[str, str] | None = None, param: str | None = None) -> None:
        # One line, by the CLI's rule (`safe_text.line_text`): a refusal echoes the caller's path, type or field
        # name, and a line break in it let the message go on as a forged reply (before 2026-12-08).
        message = line_text(message)
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        # Every refusal of a request has a code and, where one field is at fault, names it: the checks here
        # word it first ("`k` must be an integer"), so that name is the `param` a client reads.
        self.code = code or ("invalid_request" if status == 400 else None)
        named = message.split("`")[1] if message.startswith("`") and message.count("`") >= 2 else None
        self.headers = headers or {}
        self.param = param or named


def _given(data: dict[str, Any], name: str, default: Any) -> Any:
    """A field's value, `default` when absent or null: a chat's `"k": null` meant the default, and /search refused
    it ("`k` must be an integer"), as MCP's search did and its ask did not."""
    value = data.get(name)
    return default if value is None else value


def _error_response(exc: ApiError) -> SafeJSONResponse:
    body = {"error": {"message": exc.message, "type": exc.kind, "code": exc.code, "param": exc.param}}
    return SafeJSONResponse(body, status_code=exc.status, headers=exc.headers)


def _engine_error(exc: LocalRagError, question: str | None = None) -> ApiError:
    """A user's error is the request's (400); the index damaged or built by another embedder, or the collection
    deleted under the server, is the server's to mend: the client sent nothing wrong. The code is one a client
    can branch on, not the name of a Python class ("LocalRagError" told nothing). `question`: the field the
    route's question came in, which a question too long for the model names."""
    if isinstance(exc, CollectionError):  # mended by starting the server again
        return ApiError(409, str(exc), "server_error", "collection_unavailable")
    if isinstance(exc, IndexReembeddedError):
        return ApiError(409, str(exc), "server_error", "index_reembedded")
    if isinstance(exc, PermissionTrouble):  # a folder of the server's its account may not write: no disk's fault
        return ApiError(403, str(exc), "server_error", "permission_denied")
    if isinstance(exc, DiskError):  # the server's disk, not the index: `repair` is no fix
        return ApiError(507, str(exc), "server_error", "insufficient_storage")
    if isinstance(exc, StoreError):
        return ApiError(500, str(exc), "server_error", "index_damaged")
    if isinstance(exc, QuestionTooLongError):
        return ApiError(400, client_message(exc, "http"), code="question_too_long", param=exc.field or question)
    return ApiError(400, client_message(exc, "http"), code="invalid_value", param=exc.field)


def _busy(exc: QueueFullError) -> ApiError:
    return ApiError(503, str(exc), "server_busy", "queue_full", {"Retry-After": str(exc.retry_after)})


# A request whose turn came only once the server was stopping: it was answered 200 with no text and "stop", which a
# client could not tell from an answer; refused, it is sent again once the server is back.
_STOPPING = ("the server is stopping and this request had not started; send it again once the server is back",
             "server_unavailable", "server_stopping")


def _error_event(message: str, kind: str, code: str | None, param: str | None = None) -> str:
    """An error in a stream whose status line has gone out: an event, as OpenAI's own streams send it, with the
    fields of an error body (a question too long named no `param` streamed, `messages` when not)."""
    return f"data: {json.dumps({'error': {'message': message, 'type': kind, 'code': code, 'param': param}})}\n\n"


def _not_started() -> ApiError:
    message, kind, code = _STOPPING
    return ApiError(503, message, kind, code, {"Retry-After": "5"})


# A second Ctrl-C quits without waiting for the requests under way: uvicorn cancels them, and each was answered a
# plain-text 500 with a traceback on the server's terminal. An ingest still keeps every file it had committed.
_QUIT = ApiError(503, "the server was made to quit before this request finished; send it again once the server is "
                      "back (an ingest goes on with the files it had not read)",
                 "server_unavailable", "server_quit", {"Retry-After": "5"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it could resolve anywhere


class BearerAuth:
    """Every request must carry `Authorization: Bearer TOKEN`, the scheme in any case (RFC 7235: `bearer TOKEN`
    was refused 401); the token compared in constant time."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
            # Both checks always run, so the time taken does not tell a wrong scheme from a wrong token.
            right_token = hmac.compare_digest(given.lstrip(b" "), self.expected)
            if not (scheme.lower() == b"bearer" and right_token):
                error = ApiError(401, "missing or wrong bearer token", "authentication_error", "invalid_token",
                                 {"WWW-Authenticate": "Bearer"})
                await _error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _TicketedStream(StreamingResponse):
    """A streamed answer that gives the model back however the stream ends, even unstarted."""

    def __init__(self, body: AsyncGenerator[str, None], ticket: Ticket, cancel: threading.Event) -> None:
        super().__init__(body, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self.events = body
        self.ticket = ticket
        self.cancel = cancel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.cancel.set()
            # A client gone mid-answer leaves the body suspended at a yield, the model's lock held by the answer
            # under it: closed here, at once, not whenever the garbage collector gets to it (every later chat
            # waited on that lock, and the server's worker thread kept it from stopping on Ctrl-C).
            with anyio.CancelScope(shield=True):
                await self.events.aclose()
            self.ticket.release()


async def _unless_gone(
    request: Request, cancel: threading.Event, work: Callable[[], Awaitable[T]], stopping: threading.Event
) -> T | None:
    """`work()`, or None when the client disconnects first: then `cancel` is set, so an answer being written stops
    at its next token (an ingest at its next file or embedding step, what it committed kept), a wait in the queue
    ends, so the place goes to a client that still waits (a client
    that timed out and retried kept its old requests answered, and the queue full, for nobody). The server
    stopping sets `cancel` too, and the answer so far goes back."""
    outcome: list[T] = []
    failed: list[Exception] = []
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            while not stopping.is_set():
                if await request.is_disconnected():
                    cancel.set()
                    group.cancel_scope.cancel()
                    return
                await anyio.sleep(0.25)
            cancel.set()

        group.start_soon(watch)
        try:
            outcome.append(await work())
        except Exception as exc:  # raised past the group as it is, not wrapped in an exception group
            failed.append(exc)
        group.cancel_scope.cancel()
    if failed:
        raise failed[0]
    return outcome[0] if outcome else None


async def _json_body(request: Request, limits: Limits) -> dict[str, Any]:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # a gzip body was told it was "not valid JSON"
        raise ApiError(415, f"a body sent with Content-Encoding {encoding} is not taken: send it uncompressed",
                       code="unsupported_media_type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise ApiError(413, f"request body of {declared} bytes is over the {limits.max_body_bytes}-byte limit",
                       code="body_too_large")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limits.max_body_bytes:
            raise ApiError(413, f"request body is over the {limits.max_body_bytes}-byte limit", code="body_too_large")
    try:
        try:
            data = json.loads(body)
        except UnicodeDecodeError:
            # A byte that is not UTF-8 in a string is read as U+FFFD, as the CLI reads it, not a whole body refused.
            data = json.loads(bytes(body).decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise ApiError(400, f"the body is not valid JSON ({exc})") from exc
    except RecursionError as exc:  # 100,000 nested brackets: no request localrag takes is nested past a few
        raise ApiError(400, "the body is not a request localrag takes (JSON nested too deep)") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts; none (`null`, as OpenAI writes an
    assistant turn that called a tool) is no text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if not all(isinstance(text, str) for text in texts):
            raise ApiError(400, "a content part of type text must have a string `text`", code="invalid_type")
        # Joined as lines: "Who kept the" and "lighthouse?" became "Who kept thelighthouse?", and found nothing.
        return "\n".join(texts)
    raise ApiError(400, "a message's content must be a string or a list of content parts", code="invalid_type",
                   param="messages")


def _chat_request(data: dict[str, Any], limits: Limits) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, which must be the user's) and the conversation before it."""
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "`messages` must be a non-empty list of {role, content} objects", code="invalid_type")
    if messages[-1].get("role") != "user":
        raise ApiError(400, "the last message must be the user's question", code="invalid_value", param="messages")
    content = messages[-1].get("content")
    text = _text(content)
    if isinstance(content, list) and content and not text.strip():
        raise ApiError(400, "the question has no text part: localrag reads text, not images or audio",
                       code="invalid_value", param="messages")
    try:
        question = checked_question(text)  # the Engine's words, as the CLI and MCP
    except LocalRagError as exc:  # its `question` came in `messages`
        raise ApiError(400, str(exc), code="invalid_value", param="messages") from exc
    if problem := too_long("question", question, limits.max_question_chars):
        raise ApiError(400, problem, code="question_too_long", param="messages")
    history = [{"role": m["role"], "content": _text(m.get("content"))}
               for m in messages[:-1] if m.get("role") in ("user", "assistant")]
    return question, history


# OpenAI parameters that change what a reply holds, which localrag cannot give: refused by name rather than passed
# over (a client that forced a tool call, or parsed the content as JSON, got prose and failed later, elsewhere).
# Those that only tune the sampling (temperature, top_p, seed, max_tokens, penalties) are the server's, and passed
# over as the README says.
_NOT_GIVEN: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("n", lambda v: v is not None and (v != 1 or isinstance(v, bool)), "one answer per request (`n` 1)"),
    ("modalities", lambda v: v is not None and v != ["text"], "text only (`modalities` [\"text\"])"),
    ("audio", lambda v: v is not None, "text only, no audio"),
    ("tools", lambda v: bool(v), "no tool calls"),
    ("functions", lambda v: bool(v), "no function calls"),
    ("tool_choice", lambda v: v not in (None, "none", "auto"), "no tool calls"),
    ("function_call", lambda v: v not in (None, "none", "auto"), "no function calls"),
    ("response_format", lambda v: v is not None and (not isinstance(v, dict) or v.get("type") != "text"),
     "prose with cited sources, not JSON (`response_format` text)"),
    ("logprobs", lambda v: v not in (None, False), "no log probabilities"),
    ("stop", lambda v: bool(v), "no stop strings of the client's (the answer ends where localrag's rules end it)"),
)


def _refuse_what_is_not_given(data: dict[str, Any]) -> None:
    # Tools offered with `tool_choice` "none" cannot be called: agent frameworks send their tools every time.
    calls_barred = data.get("tool_choice") == "none" and data.get("function_call") in (None, "none")
    for name, asked, gives in _NOT_GIVEN:
        if name in ("tools", "functions") and calls_barred:
            continue
        if asked(data.get(name)):
            raise ApiError(400, f"`{name}` is not supported: localrag gives {gives}", param=name,
                           code="unsupported_parameter")


def _filters(data: dict[str, Any]) -> SearchFilters | None:
    """`path_glob` and `file_types` of a request body, as `POST /search` and a chat take them."""
    from localrag.retrieve import SearchFilters

    path_glob, file_types = data.get("path_glob"), data.get("file_types") or []
    # One pattern or a list of them, any of which a document may match (the CLI's repeated --path).
    if isinstance(path_glob, list) and all(isinstance(glob, str) for glob in path_glob):
        path_glob = tuple(path_glob)  # an empty list is the Engine's to refuse: no pattern to match
    elif path_glob is not None and not isinstance(path_glob, str):
        raise ApiError(400, "`path_glob` must be a string or a list of strings", code="invalid_type")
    if not isinstance(file_types, list) or not all(isinstance(t, str) for t in file_types):
        raise ApiError(400, "`file_types` must be a list of strings such as [\"pdf\", \"md\"]", code="invalid_type")
    return SearchFilters(path_glob, tuple(file_types)) if path_glob is not None or file_types else None


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def finish_reason(answer: Answer) -> str:
    """OpenAI's reason an answer ended: "length" at the token limit, else "stop" (an end of turn, a stop
    string, a cancel or the repeat guard)."""
    return "length" if answer.stats.hit_token_limit else "stop"


def completion_json(answer: Answer, completion_id: str, created: int) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": answer.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                     "finish_reason": finish_reason(answer)}],
        "usage": _usage(answer),
        "localrag": answer_json(answer),
    }


def _usage(answer: Answer) -> dict[str, int]:
    stats = answer.stats
    return {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens,
            "total_tokens": stats.prompt_tokens + stats.completion_tokens}


def _chunk_json(completion_id: str, created: int, model: str, delta: dict[str, str] | None,
                finish: str | None = None, **extra: Any) -> str:
    """One event of a stream; no `delta`: a chunk without a choice (the usage at the end)."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
             "choices": choices, **extra}
    return f"data: {json_text(chunk, separators=(',', ':'))}\n\n"


def _vector(values: Any, encoding: str) -> Any:
    if encoding == "base64":
        return base64.b64encode(values.astype("<f4").tobytes()).decode("ascii")
    return [float(v) for v in values]


def create_app(engine: Engine, *, token: str = "", limits: Limits | None = None,
               stopping: threading.Event | None = None, host: str = DEFAULT_HOST,
               origins: tuple[str, ...] = ()) -> ASGIApp:
    """The ASGI app over `engine`; with a token, every request must carry it. `stopping`, once set (the server
    was told to stop), ends the work requests run in threads: an ingest at its next file or embedding step (64
    chunks), an answer at its next token, each answered with what it did, inside the server's grace period.
    Web pages may call it from this machine's origins and `origins` only (`serve/browsers.py`); bound to `host`
    on loopback, it answers only requests addressed to a loopback name."""
    limits = limits or Limits()
    stopping = stopping or threading.Event()
    gate = ModelGate(limits.queue_size)
    # Embeddings and searches take turns on the embedder, queued as chats are on the model, apart from them so a
    # search does not wait for an answer being written: 40 clients each embedding 64 long texts ran at once, filled
    # the worker threads (/healthz took 15 s) and none was refused, the last answered after 98 s.
    lookups = ModelGate(limits.queue_size, what="the embedder")
    # /healthz's own thread: a supervisor's probe must not wait behind the requests filling the shared ones.
    health_thread = anyio.CapacityLimiter(1)
    ingest_gate = ModelGate(queue_size=0, what="a write")
    writing: list[str] = []  # the write under way ("ingest", "forget"): /healthz and the refusal of another say it

    @asynccontextmanager
    async def write_turn(what: str) -> AsyncIterator[None]:
        """The index's one write, for `what`: the writer lock is per process, not per thread, so a second write
        is refused at once. It was a 503 `queue_full` "an ingest is busy (1 running, 0 waiting)", though no
        queue was full: one write runs and none waits."""
        try:
            ticket = ingest_gate.reserve()
        except QueueFullError as exc:
            running = {"ingest": "an ingest", "forget": "a forget"}.get(writing[0] if writing else "", "a write")
            raise ApiError(503, f"{running} is running and the index takes one write at a time; send this again "
                                f"once it ends (in about {exc.retry_after} s)", "server_busy", "write_in_progress",
                           {"Retry-After": str(exc.retry_after)}) from exc
        async with ticket:
            writing.append(what)
            try:
                yield
            finally:
                writing.remove(what)

    def only(data: dict[str, Any], known: tuple[str, ...], where: str) -> None:
        """A field `where` does not take is refused, naming it (`serve/fields.py`)."""
        unknown = unknown_field(data, known, where, engine.served_collection, "serve")
        if unknown is not None:
            raise ApiError(400, unknown[1], param=unknown[0], code="unknown_parameter")

    def absolute(field: str, given: list[str]) -> None:
        """A relative path is refused (`serve/fields.py`): it was read against the server's working folder."""
        if problem := relative_path(given, field):
            raise ApiError(400, problem, param=field, code="invalid_value")

    async def looked_up(request: Request, work: Callable[[], T]) -> T | None:
        """`work()` in its turn on the embedder, or None when the client went first (its place given back)."""
        ticket = lookups.reserve()

        async def turn() -> T:
            async with ticket:
                return await run_in_threadpool(work)

        return await _unless_gone(request, threading.Event(), turn, stopping)

    def handler(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except ApiError as exc:
                return _error_response(exc)
            except QueueFullError as exc:
                return _error_response(_busy(exc))
            except ClientDisconnect:
                # The client went while sending its body: nobody is left to answer, as for one gone mid-answer
                # (each left a traceback of 55 lines on the server's terminal, "Exception in ASGI application").
                return Response(status_code=499)
            except LocalRagError as exc:
                return _error_response(_engine_error(exc))
            except Exception as exc:
                # A full or read-only disk met inside LanceDB (a forget's write): a 500 "internal error" sent the
                # client to the server's log, and the log held a traceback.
                return _error_response(_engine_error(as_disk_trouble(exc)))
            except asyncio.CancelledError:
                if not stopping.is_set():
                    raise
                return _error_response(_QUIT)

        return wrapped

    async def chat(request: Request) -> Response:
        data = await _json_body(request, limits)
        own = ("k", "path_glob", "file_types")
        only(dict.fromkeys(misnamed_in_chat(data, own)), own, "POST /v1/chat/completions (beside OpenAI's fields)")
        _refuse_what_is_not_given(data)
        question, history = _chat_request(data, limits)
        stream = data.get("stream") or False  # OpenAI's `null` is false
        if not isinstance(stream, bool):  # "no" is a true value to Python, and would stream
            raise ApiError(400, "`stream` must be true or false", code="invalid_type")
        options = data.get("stream_options") or {}
        if not isinstance(options, dict):
            raise ApiError(400, "`stream_options` must be an object", code="invalid_type")
        with_usage = options.get("include_usage", False)
        if not isinstance(with_usage, bool):  # "true" streamed without the usage chunk, in silence
            raise ApiError(400, "`stream_options.include_usage` must be true or false", code="invalid_type",
                           param="stream_options")
        # localrag's own fields, beside OpenAI's: the sources to answer from and the filters, as /search takes them.
        k, filters = data.get("k"), _filters(data)
        if k is not None and (not isinstance(k, int) or isinstance(k, bool)):
            raise ApiError(400, "`k` must be an integer", code="invalid_type")
        engine.check_sources(k)
        # Before a stream's status line: a type no loader reads was a 200 and then an error event.
        engine.check_filters(filters)
        ticket = gate.reserve()
        completion_id, created = _completion_id(), int(time.time())
        cancel = threading.Event()
        if not stream:
            async def answered() -> Answer:
                async with ticket:
                    if stopping.is_set():
                        raise _not_started()
                    return await run_in_threadpool(
                        lambda: engine.ask(question, k=k, filters=filters, history=history, cancel=cancel))

            try:
                answer = await _unless_gone(request, cancel, answered, stopping)
            except QuestionTooLongError as exc:
                raise _engine_error(exc, "messages") from exc  # its field, as the check of its characters names
            if answer is None:
                return Response(status_code=499)  # nobody is left to read it (nginx's code for a client gone)
            return SafeJSONResponse(completion_json(answer_for(answer, "http"), completion_id, created))
        model = engine.answer_label()

        async def events() -> AsyncGenerator[str, None]:
            await ticket.acquire()
            if stopping.is_set():
                # The status line went out before the turn came: the refusal travels as an error event.
                yield _error_event(*_STOPPING)
                yield "data: [DONE]\n\n"
                return
            yield _chunk_json(completion_id, created, model, {"role": "assistant", "content": ""})
            answering = engine.stream(question, k=k, filters=filters, history=history, cancel=cancel)
            try:
                async for event in iterate_in_threadpool(answering):
                    if stopping.is_set():
                        cancel.set()  # the rest of the answer comes back cut, as when the client stops it
                    if isinstance(event, TokenEvent):
                        yield _chunk_json(completion_id, created, model, {"content": event.text})
                    elif isinstance(event, DoneEvent):
                        if event.answer.refused:
                            # A refusal streams no tokens: its text is the whole answer.
                            yield _chunk_json(completion_id, created, model, {"content": event.answer.text})
                        yield _chunk_json(completion_id, created, model, {}, finish_reason(event.answer),
                                          localrag=answer_json(answer_for(event.answer, "http")))
                        if with_usage:  # OpenAI's last chunk for `include_usage`: no choice, the usage
                            yield _chunk_json(completion_id, created, model, None, usage=_usage(event.answer))
            except LocalRagError as exc:
                # The status line has gone out; the error travels as an event, as OpenAI's own streams do.
                refused = _engine_error(exc, "messages")
                yield _error_event(refused.message, refused.kind, refused.code, refused.param)
            finally:
                answering.close()  # suspended at a yield (the client went): its `finally` releases the model
            yield "data: [DONE]\n\n"

        return _TicketedStream(events(), ticket, cancel)

    async def models(request: Request) -> Response:
        names = [engine.answer_label(), engine.embedder.name]
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "localrag"} for name in names]
        return SafeJSONResponse({"object": "list", "data": data})

    async def embeddings(request: Request) -> Response:
        data = await _json_body(request, limits)
        # As a chat request: OpenAI's fields, and `collection` or a misnamed filter refused (`serve/fields.py`).
        only(dict.fromkeys(misnamed_in_chat(data, ("input",))), ("input",),
             "POST /v1/embeddings (beside OpenAI's fields)")
        given = data.get("input")
        texts = [given] if isinstance(given, str) else given
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise ApiError(400, "`input` must be a string or a non-empty list of strings (token arrays are not taken)",
                           code="invalid_type")
        if len(texts) > limits.max_embedding_inputs:
            raise ApiError(400, f"{len(texts)} inputs; the limit is {limits.max_embedding_inputs} a request",
                           code="invalid_value", param="input")
        blank = [n for n, text in enumerate(texts) if not text.strip()]
        if blank:  # one vector, the same for every blank chunk a client stored, and meaning nothing
            raise ApiError(400, f"input {blank[0]} is empty: there is no text to embed (/search refuses an empty "
                           "query too)", code="invalid_value", param="input")
        encoding = data.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise ApiError(400, f"encoding_format '{encoding}' is not supported; use float or base64",
                           code="invalid_value", param="encoding_format")
        dimensions = data.get("dimensions")
        if dimensions is not None and dimensions != engine.embedder.dim:
            # A client sizes its vector store from what it asked for: it learnt otherwise at its first insert.
            raise ApiError(400, f"`dimensions` {dimensions!r} is not supported: this embedder gives "
                           f"{engine.embedder.dim}", param="dimensions", code="unsupported_parameter")
        texts = [valid_text(t) for t in texts]  # half an emoji ("\ud83d") is no text a tokenizer takes
        embedder = engine.embedder
        done = await looked_up(request, lambda: (embedder.embed(texts), embedder.token_counts(texts)))
        if done is None:
            return Response(status_code=499)  # nobody is left to read it (nginx's code for a client gone)
        vectors, counts = done
        rows = [{"object": "embedding", "index": i, "embedding": _vector(v, encoding)} for i, v in enumerate(vectors)]
        usage = {"prompt_tokens": sum(counts), "total_tokens": sum(counts)}
        return SafeJSONResponse({"object": "list", "data": rows, "model": embedder.name, "usage": usage})

    async def search(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("query", "k", "offset", "path_glob", "file_types"), "POST /search")
        query = data.get("query")
        if not isinstance(query, str):  # an empty one is the Engine's to refuse, in its words
            raise ApiError(400, "`query` must be a string", code="invalid_type")
        if problem := too_long("query", query, limits.max_question_chars):
            raise ApiError(400, problem, code="question_too_long", param="query")
        k = _given(data, "k", SEARCH_K)
        if not isinstance(k, int) or isinstance(k, bool):
            raise ApiError(400, "`k` must be an integer", code="invalid_type")
        if limits.max_search_k < k <= MAX_SEARCH_K:  # this server takes fewer; outside 1-100 the Engine says so
            raise ApiError(400, f"`k` must be an integer from 1 to {limits.max_search_k}", code="invalid_value")
        offset = _given(data, "offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool):  # its range is the Engine's
            raise ApiError(400, "`offset` must be an integer", code="invalid_type")
        filters = _filters(data)
        hits = await looked_up(request, lambda: engine.search(query, k=k, filters=filters, offset=offset))
        if hits is None:
            return Response(status_code=499)
        reply = search_json(query, hits, engine.fusion_choice(), offset)
        if not hits:  # an empty collection's `"hits": []` said nothing of why, nor of POST /ingest
            reply["nothing_found"] = for_client(await run_in_threadpool(
                lambda: engine.why_nothing_found(filters, query=query, offset=offset)), "http")
        return SafeJSONResponse(reply)

    async def related(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("entities", "relations", "k", "score"), "POST /related")
        entities, relations = data.get("entities"), data.get("relations")
        if not isinstance(entities, list) or not all(isinstance(e, str) for e in entities):
            raise ApiError(400, "`entities` must be a non-empty list of entity names", code="invalid_type")
        if not entities or not all(entities):
            raise ApiError(400, "`entities` must be a non-empty list of entity names", code="invalid_value")
        if relations is not None and not (isinstance(relations, list) and all(isinstance(r, str) for r in relations)):
            raise ApiError(400, "`relations` must be a list of relation names", code="invalid_type")
        k, score = _given(data, "k", 10), _given(data, "score", "shared")
        if not isinstance(k, int) or isinstance(k, bool):
            raise ApiError(400, "`k` must be an integer", code="invalid_type")
        if limits.max_search_k < k <= MAX_SEARCH_K:  # this server takes fewer; outside 1-100 the Engine says so
            raise ApiError(400, f"`k` must be an integer from 1 to {limits.max_search_k}", code="invalid_value")
        if not isinstance(score, str):
            raise ApiError(400, "`score` must be a string", code="invalid_type")

        def work() -> dict[str, Any]:  # the score's own check is the Engine's, as for the CLI and MCP
            result = engine.related(entities, relations=relations, k=k, scoring=score)
            return related_json(result, engine.related_view(result))

        return SafeJSONResponse(await run_in_threadpool(work))

    async def graph_ask(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("question", "planner"), "POST /graph/ask")
        question, planner = data.get("question"), data.get("planner")
        if not isinstance(question, str):  # an empty one is the Engine's to refuse, in its words
            raise ApiError(400, "`question` must be a string", code="invalid_type")
        if problem := too_long("question", question, limits.max_question_chars):
            raise ApiError(400, problem, code="question_too_long", param="question")
        if planner is not None and not isinstance(planner, str):  # a name the Engine does not know, it refuses
            raise ApiError(400, "`planner` must be a string", code="invalid_type")
        # The grammar planner runs the model: it waits in the model's queue, as a chat completion does.
        planning = gate.reserve() if (planner or engine.settings.graph_planner) == "grammar" else nullcontext()
        async with planning:
            reply = await run_in_threadpool(graph_reply_json, engine, question, planner,
                                            lambda note: for_client(note, "http"))
            return SafeJSONResponse(reply)

    async def triples(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("entity", "relation", "limit"), "POST /triples")
        entity, relation, limit = data.get("entity") or "", data.get("relation") or "", _given(data, "limit", 100)
        if not isinstance(entity, str) or not isinstance(relation, str):
            raise ApiError(400, "`entity` and `relation` must be strings", code="invalid_type")
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise ApiError(400, "`limit` must be an integer", code="invalid_type")
        engine.check_triples_limit(limit)
        listed = await run_in_threadpool(engine.graph_triples, entity, relation)
        return SafeJSONResponse(triples_json(listed, limit))

    async def summarize(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("path", "sentences"), "POST /summarize")
        path, sentences = data.get("path"), _given(data, "sentences", 5)
        if not isinstance(path, str):  # an empty one is the Engine's to refuse, in its words
            raise ApiError(400, "`path` must be an indexed document's path on the server", code="invalid_type")
        if not isinstance(sentences, int) or isinstance(sentences, bool):
            raise ApiError(400, f"`sentences` must be an integer from 1 to {MAX_KEY_SENTENCES}", code="invalid_type")
        absolute("path", [path])
        return SafeJSONResponse(summary_json(*await run_in_threadpool(engine.summarize, path, sentences)))

    async def ingest(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("paths", "include", "exclude", "force", "stale"), "POST /ingest")
        paths = data.get("paths", [])
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):  # an empty one: the Engine's
            raise ApiError(400, "`paths` must be a list of file or folder paths on the server", code="invalid_type")
        absolute("paths", paths)
        include, exclude = data.get("include") or [], data.get("exclude") or []
        for name, globs in (("include", include), ("exclude", exclude)):
            if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
                raise ApiError(400, f"`{name}` must be a list of glob patterns", code="invalid_type")
        force, stale = _given(data, "force", False), _given(data, "stale", False)
        for name, flag in (("force", force), ("stale", stale)):
            if not isinstance(flag, bool):
                raise ApiError(400, f"`{name}` must be true or false", code="invalid_type")
        cancel = threading.Event()
        async with write_turn("ingest"):
            # Ctrl-C ends it as it ends the CLI's: what was read is committed, and the report says it was cancelled.
            # So does its client going: it went on to its end for nobody, every other write refused meanwhile.
            report = await _unless_gone(request, cancel, lambda: run_in_threadpool(lambda: engine.ingest(
                paths, include=include, exclude=exclude, force=force, stale=stale, cancel=cancel)), stopping)
        if report is None:
            return Response(status_code=499)  # nobody is left to read the report (nginx's code for a client gone)
        return SafeJSONResponse(ingest_report_json(report))

    async def forget(request: Request) -> Response:
        data = await _json_body(request, limits)
        only(data, ("paths", "purge"), "POST /forget")
        paths, purge = data.get("paths"), _given(data, "purge", False)
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):  # an empty one: the Engine's
            raise ApiError(400, "`paths` must be a list of indexed documents' or folders' paths on the server",
                           code="invalid_type")
        absolute("paths", paths)
        if not isinstance(purge, bool):
            raise ApiError(400, "`purge` must be true or false", code="invalid_type")
        async with write_turn("forget"):
            done = await run_in_threadpool(
                lambda: engine.forget(*paths, purge=purge, conversations=ConversationStore()))
        return SafeJSONResponse(forgotten_json(done))

    async def documents(request: Request) -> Response:
        query = request.query_params
        only(dict.fromkeys(query), ("stale", "path_glob", "file_types", "limit", "offset"), "GET /documents")
        for name in ("stale", "limit", "offset"):  # `?limit=1&limit=2` took the last in silence
            if len(query.getlist(name)) > 1:
                raise ApiError(400, f"`{name}` is given {len(query.getlist(name))} times; it takes one value",
                               code="invalid_value")
        stale = query.get("stale", "false")
        if stale not in ("true", "false"):
            raise ApiError(400, "`stale` must be true or false", code="invalid_type")
        numbers: dict[str, int | None] = {}
        for name in ("limit", "offset"):
            given = query.get(name)
            if given is not None and not re.fullmatch(r"-?[0-9]+", given):
                raise ApiError(400, f"`{name}` must be a whole number", param=name, code="invalid_type")
            numbers[name] = None if given is None else int(given)  # the range is the Engine's, the CLI's and MCP's
        # `file_types` repeated (?file_types=pdf&file_types=md), as a list is sent in a query string, or separated
        # by commas, as many clients send a list (`md,txt` was read as one type 'md,txt'; no type holds a comma).
        types = [name.strip() for given in query.getlist("file_types") for name in given.split(",")]
        # `path_glob` repeated (?path_glob=*smith*&path_glob=*jones*): any of the patterns, as a list in a body.
        globs = query.getlist("path_glob")
        filters = _filters({"path_glob": globs[0] if len(globs) == 1 else globs or None, "file_types": types})
        listed = await run_in_threadpool(lambda: engine.document_list(filters, only_stale=stale == "true",
                                                                      limit=numbers["limit"],
                                                                      offset=numbers["offset"] or 0))
        return SafeJSONResponse(documents_json(listed))

    async def status(request: Request) -> Response:
        return SafeJSONResponse(dataclasses.asdict(await run_in_threadpool(engine.status)))

    async def healthz(request: Request) -> Response:
        # Every request answered 409 (the collection deleted, the index re-embedded) while this said "ok", so a
        # supervisor never started the server again, which is the fix the 409 names.
        problem = await anyio.to_thread.run_sync(engine.unservable, limiter=health_thread)
        queue = {"running": gate.running, "waiting": gate.waiting, "size": gate.queue_size}
        lookup_queue = {"running": lookups.running, "waiting": lookups.waiting, "size": lookups.queue_size}
        # The write under way, if any: while one runs, another ingest or forget is refused (503 write_in_progress).
        write = writing[0] if writing else None
        if problem is not None:
            refused = _engine_error(problem)
            return SafeJSONResponse({"status": "unavailable", "model": engine.answer_label(), "queue": queue,
                                     "embedder_queue": lookup_queue, "write": write,
                                     "error": {"message": refused.message, "code": refused.code}}, status_code=503)
        return SafeJSONResponse({"status": "ok", "model": engine.answer_label(), "queue": queue,
                                 "embedder_queue": lookup_queue, "write": write})

    routes = [
        Route("/v1/chat/completions", handler(chat), methods=["POST"]),
        Route("/v1/models", handler(models), methods=["GET"]),
        Route("/v1/embeddings", handler(embeddings), methods=["POST"]),
        Route("/search", handler(search), methods=["POST"]),
        Route("/graph/ask", handler(graph_ask), methods=["POST"]),
        Route("/related", handler(related), methods=["POST"]),
        Route("/summarize", handler(summarize), methods=["POST"]),
        Route("/triples", handler(triples), methods=["POST"]),
        Route("/ingest", handler(ingest), methods=["POST"]),
        Route("/forget", handler(forget), methods=["POST"]),
        Route("/documents", handler(documents), methods=["GET"]),
        Route("/status", handler(status), methods=["GET"]),
        Route("/healthz", handler(healthz), methods=["GET"]),
    ]
    app: ASGIApp = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _crash})
    guarded = BearerAuth(app, token) if token else app
    return BrowserGuard(guarded, loopback_only=is_loopback(host), allowed_origins=origins, tokened=bool(token))


async def _http_error(request: Request, exc: Exception) -> Response:
    """A route or method the API has not, in the OpenAI error shape its clients read (not Starlette's plain text)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    what = {404: f"no such route: {request.method} {request.url.path}",
            405: f"{request.url.path} does not take {request.method}"}.get(status, str(exc))
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}  # a 405's Allow, as HTTP asks
    return _error_response(ApiError(status, what, code={404: "not_found", 405: "method_not_allowed"}.get(status),
                                    headers=headers))


async def _crash(request: Request, exc: Exception) -> Response:
    """A bug, answered in the error shape too; its traceback goes to the server's log, not to the client."""
    return _error_response(ApiError(500, f"internal error answering {request.url.path} ({type(exc).__name__}); "
                                         "the server's log has the details", "server_error", "internal_error"))


def check_binding(host: str, token: str) -> None:
    """No token, no start on anything but loopback; a token given must be one a client can send and no one can
    guess (`config.check_api_token`), on any host."""
    check_api_token(token)
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host {host} would expose your documents beyond this machine without a token",
            f"pass --token SECRET (or set api_token in the config; {MAKE_TOKEN}), or keep the default "
            "--host 127.0.0.1",
        )


def plain_http_note(host: str, port: int) -> str | None:
    """What a server bound beyond loopback must be told: it speaks plain HTTP, so the bearer token, the questions
    and the answers cross the network readable by anyone on it (nothing said so, and `--host 0.0.0.0 --token`
    read as safe). None on loopback, where nothing leaves the machine."""
    if is_loopback(host):
        return None
    return (f"the API is plain HTTP, unencrypted: anyone on the network can read the bearer token, the questions and "
            f"the answers. Serve on 127.0.0.1 and reach it through an SSH tunnel (ssh -L {port}:127.0.0.1:{port} "
            "THIS-HOST) or an HTTPS reverse proxy (Caddy, nginx) in front of it")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so a taken port is a one-line error and port 0 gets a real number."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})",
                          "choose another --port, or stop what uses it") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(engine: Engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, token: str = "",
          limits: Limits | None = None, origins: tuple[str, ...] = ()) -> None:
    """Check the binding, load the models, then serve until interrupted."""
    import uvicorn

    from localrag.serve.connections import say_accept_failures_once, uvicorn_config

    check_binding(host, token)
    origins = checked_origins(origins)  # before the model loads: a value no browser sends is one line at once
    sock = bind(host, port)
    engine.warm_up()  # the first request must not pay for loading the model
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0]
    stopping = threading.Event()

    class Server(uvicorn.Server):
        """uvicorn's server, which also tells the work running in threads that it is stopping: uvicorn waits for the
        requests under way, and an ingest went on to its end, its client answered 500 when the grace ran out."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            stopping.set()
            super().handle_exit(sig, frame)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            say_accept_failures_once(asyncio.get_running_loop())
            await super().startup(sockets=sockets)
            if not self.should_exit:
                # One line scripts (and tests) can wait for: the address actually bound, port 0 resolved. Said
                # once uvicorn's own signal handlers are in place: a SIGTERM right after it, said before, landed
                # in the event loop's making ("Exception ignored ... coroutine 'Server.serve' was never awaited").
                print(f"localrag: serving {engine.answer_label()} on http://{shown}:{bound[1]}", file=sys.stderr,
                      flush=True)
                notes = [plain_http_note(host, bound[1]), *private_network_notes(origins, is_loopback(host))]
                for note in filter(None, notes):
                    print(f"localrag: note: {note}", file=sys.stderr, flush=True)

    # The grace a stopping request gets: a cancelled ingest still embeds and commits the files it read (its last
    # batch) and refreshes the indexes, seconds on 2 cores; answers stop at their next token.
    limits = limits or Limits()
    config = uvicorn_config(create_app(engine, token=token, limits=limits, stopping=stopping, host=host,
                                       origins=origins), limits, log_level="warning",
                            # The app has no start-up or shutdown work; uvicorn's lifespan task only printed a
                            # traceback when a second Ctrl-C cancelled it.
                            lifespan="off", timeout_graceful_shutdown=30)
    Server(config).run(sockets=[sock])
