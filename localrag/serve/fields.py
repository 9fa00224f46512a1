"""The fields each request of the HTTP API and each MCP tool takes, and the refusal of any other, in one wording.

A field the server does not know was passed over: `"collection": "work"` searched the server's own collection,
and `"file_type"` (for `file_types`) or `"path"` (for `path_glob`) filtered nothing, each answered as if asked
right. The CLI refuses an option it does not know; the API and MCP now refuse a field so, naming it, the one
meant when the name is close, and for `collection` how to reach another (one server serves one collection).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Names a client may mean by another: those of other APIs, and localrag's own CLI options.
_MEANT = {"type": "file_types", "types": "file_types", "file_type": "file_types", "path": "path_glob",
          "glob": "path_glob", "top_k": "k", "limit": "k"}


def unknown_field(given: Iterable[str], known: Iterable[str], where: str, collection: str,
                  command: str) -> tuple[str, str] | None:
    """(the first field of `given` that `where` does not take, why in words), or None when it takes them all.
    `collection` is the one the server serves and `command` the one that starts a server (`serve`, `mcp`)."""
    known = list(known)
    for name in given:
        if name in known:
            continue
        if name == "collection":
            return name, (f"`collection` is not taken by {where}: this server serves collection '{collection}'; "
                          f"start `localrag {command} --collection NAME` to serve another")
        meant = _MEANT.get(name) if _MEANT.get(name) in known else None
        meant = meant or next(iter(difflib.get_close_matches(name, known, n=1, cutoff=0.75)), None)
        hint = f" (did you mean `{meant}`?)" if meant else ""
        return name, f"`{name}` is not taken by {where}{hint}; it takes {', '.join(known)}"
    return None


# A chat or embeddings request carries OpenAI's fields, and other clients' (sampling ones are passed over): only
# `collection` and the names a client means localrag's own fields by are refused there.
MISNAMED_IN_CHAT = ("collection", "type", "types", "file_type", "path", "glob")
