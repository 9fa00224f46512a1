"""An error as a server's client reads it, where the command line's hint names what only the server can change, or a
command the client has a tool or an endpoint for.

A question too long for the model was answered "lower max_answer_tokens or raise n_ctx": the server's own
settings, which an API or MCP client cannot reach. An agent told a path was "not in the index (`localrag documents`
lists what is indexed)", or an empty collection to "add some with `localrag ingest PATH` (in the chat app, the
Library)", was sent to a command line and an app it does not have, beside its own `list_documents` and `ingest`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Callable
from typing import Literal

from localrag.errors import LocalRagError, QuestionTooLongError
from localrag.safe_text import valid_text
from localrag.types import Answer

Front = Literal["mcp", "http"]

# The CLI's words for a step a client takes with a tool (MCP) or an endpoint (the HTTP API). `--collection NAME`
# goes with them: a server serves its one collection.
_STEPS: tuple[tuple[re.Pattern[str], dict[Front, str | Callable[[re.Match[str]], str]]], ...] = (
    (re.compile(r"`localrag documents[^`]*` lists"),
     {"mcp": "the list_documents tool lists", "http": "GET /documents lists"}),
    (re.compile(r"`localrag ingest PATH` \(in the chat app, the Library\)"),
     {"mcp": "the ingest tool (absolute paths)", "http": "POST /ingest (absolute paths)"}),
    # A graph answer's note on the facts that point at an entity, named as a shell quotes it (`'Galaxy S24'`).
    (re.compile(r"localrag graph triples ((?:[^\s']|'[^']*')+) lists"),
     {"mcp": lambda found: f"the graph_triples tool with entity {_named(found[1])} lists",
      "http": lambda found: f"POST /triples with {{\"entity\": {_named(found[1])}}} lists"}),
)


def _named(quoted: str) -> str:
    """A name quoted for a shell as a JSON string: a client's field takes the name itself."""
    return json.dumps(shlex.split(quoted)[0], ensure_ascii=False)


# A refusal's "collection 'notes' holds a passage that answers it: `localrag ask '...' --collection notes`"
# (`Engine._answered_elsewhere`): a server serves its one collection, so its client is told so and which one to serve
# (before 2026-12-07 it was given an `ask` command it cannot run).
# Its command, last in the refusal, runs to the end: a question may hold a backquote.
_ANSWERED_ELSEWHERE = re.compile(r"(collections? '([^']+)'[^:`]* answers? it): `localrag ask .*`\Z", re.DOTALL)


def for_client(text: str, front: Front) -> str:
    """`text` (an error's, a refusal's) with the command line's steps named as `front`'s client takes them, and a lone
    surrogate it echoes (a filter's "\\ud800") as U+FFFD: UTF-8, so JSON, cannot carry it."""
    for pattern, step in _STEPS:
        text = pattern.sub(step[front], text)
    text = _ANSWERED_ELSEWHERE.sub(
        lambda held: f"{held.group(1)} (a server serves one collection: start one with --collection {held.group(2)})",
        text)
    return valid_text(text)


def client_message(exc: LocalRagError, front: Front) -> str:
    """`exc` in words for a client of `serve` (`front` "http") or `mcp`."""
    if isinstance(exc, QuestionTooLongError):
        return (f"{exc.message} (shorten the question; the answer's length and the context are the server's "
                "settings: `localrag config` where it runs)")
    return for_client(str(exc), front)


def answer_for(answer: Answer, front: Front) -> Answer:
    """`answer` with its refusal's steps named as `front`'s client takes them."""
    return dataclasses.replace(answer, refusal=for_client(answer.refusal, front)) if answer.refusal else answer
