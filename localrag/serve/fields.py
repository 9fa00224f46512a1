"""The fields each request of the HTTP API and each MCP tool takes, and the refusal of any other, in one wording.

A field the server does not know was passed over: `"collection": "work"` searched the server's own collection,
and `"file_type"` (for `file_types`) or `"path"` (for `path_glob`) filtered nothing, each answered as if asked
right. The CLI refuses an option it does not know; the API and MCP now refuse a field so, naming it, the one
meant when the name is close, and for `collection` how to reach another (one server serves one collection).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from localrag.close_names import close_name
from localrag.paths import typed_path

# Names a client may mean by another: those of other APIs, and localrag's own CLI options.
_MEANT = {"type": "file_types", "types": "file_types", "file_type": "file_types", "path": "path_glob",
          "glob": "path_glob", "top_k": "k", "limit": "k"}


def unknown_field(given: Iterable[str], known: Iterable[str], where: str, collection: Callable[[], str],
                  command: str) -> tuple[str, str] | None:
    """(the first field of `given` that `where` does not take, why in words), or None when it takes them all.
    `collection()` is the name the server's collection has now (`Engine.served_collection`, read only when a
    `collection` field is refused) and `command` the one that starts a server (`serve`, `mcp`)."""
    known = list(known)
    for name in given:
        if name in known:
            continue
        if name == "collection":
            return name, (f"`collection` is not taken by {where}: this server serves collection '{collection()}'; "
                          f"start `localrag {command} --collection NAME` to serve another")
        meant = _MEANT.get(name) if _MEANT.get(name) in known else None
        meant = meant or close_name(name, known)
        hint = f" (did you mean `{meant}`?)" if meant else ""
        takes = ", ".join(known) if known else "no arguments"
        return name, f"`{name}` is not taken by {where}{hint}; it takes {takes}"
    return None


# A chat or embeddings request carries OpenAI's fields, and other clients' (sampling ones, fields newer than this
# server): those are passed over. Refused there are `collection`, the names a client means localrag's own fields by,
# and a near miss of one of them: a fixed list of misspellings let `path_glb`, `path-glob` or `filetypes` through,
# and the answer came from every document, the filter lost in silence.
_MISNAMED_IN_CHAT = ("collection", "type", "types", "file_type", "path", "glob")


def misnamed_in_chat(given: Iterable[str], own: tuple[str, ...]) -> list[str]:
    """The names of `given` (a chat's or an embeddings request's fields) to refuse beside OpenAI's: `collection`,
    another API's name for one of localrag's `own` fields, or a near miss of one of them."""
    return [name for name in given
            if name not in own and (name in _MISNAMED_IN_CHAT or close_name(name, own) is not None)]


def relative_path(given: Iterable[str], field: str) -> str | None:
    """Why `given` (the paths of the field `field`) is refused, or None: a path that is not absolute (nor `~`'s).
    A server's working folder is not its client's: `forget ["."]` from a client in one folder forgot every document
    under the server's, `/`, and `summarize "notes.md"` looked for it there. The CLI reads a relative path against
    its own working folder, which is its user's. A blank path is the Engine's to refuse, as an unset variable."""
    for path in given:
        if path.strip() and not typed_path(path).is_absolute():
            return (f"`{field}`: {path!r} is a relative path, and this server does not know your working folder "
                    "(give an absolute path)")
    return None
