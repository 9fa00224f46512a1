"""What one request may ask of `localrag serve`, kept apart from the server so the CLI's help stays light."""

from __future__ import annotations

from dataclasses import dataclass

from localrag.types import MAX_SEARCH_K

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1_000_000
    max_question_chars: int = 4_000
    # Requests that may wait behind the one running on the model; more are refused with 503.
    queue_size: int = 8
    max_embedding_inputs: int = 256
    max_search_k: int = MAX_SEARCH_K  # a server may take fewer; the Engine never more
    # Seconds a connection has to send its request line and headers (any client sends them in well under one); a
    # connection that never finished them was held for ever, its file descriptor with it.
    header_seconds: float = 10.0
    # Connections open at once; None: 1,000, or half the file descriptors the process may open if fewer.
    max_connections: int | None = None


def too_long(what: str, text: str, limit: int) -> str | None:
    """Why a question or query (`what`) over `limit` characters is refused, in the words of every server; None
    when it fits. A server bounds what one request makes the model and the retrievers read; the CLI does not.
    Counted as the Engine reads it, without the spaces around it: the chat counted so and /search and MCP did not,
    and the same text was refused by one and answered by the other."""
    length = len(text.strip())
    return f"the {what} has {length} characters; the limit is {limit}" if length > limit else None
