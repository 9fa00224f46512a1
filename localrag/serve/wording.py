"""An error as a server's client reads it, where the command line's hint names what only the server can change.

A question too long for the model was answered "lower max_answer_tokens or raise n_ctx": the server's own
settings, which an API or MCP client cannot reach.
"""

from __future__ import annotations

from localrag.errors import LocalRagError, QuestionTooLongError


def client_message(exc: LocalRagError) -> str:
    """`exc` in words for a client of `serve` or `mcp`."""
    if isinstance(exc, QuestionTooLongError):
        return (f"{exc.message} (shorten the question; the answer's length and the context are the server's "
                "settings: `localrag config` where it runs)")
    return str(exc)
