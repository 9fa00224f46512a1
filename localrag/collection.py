"""Collections: separate indexes in one LanceDB folder, and the rules for their names.

A collection is a set of tables of its own: `chunks`, `documents` and the graph's tables, each name
followed by the collection's suffix (`__` and a random id; none for `default`, whose tables keep the
names every store had before collections existed). A question is answered from the tables of one
collection only, so it cannot see another's chunks by construction, with no filter to forget
(benchmarks/README.md, "Collections", has the figures behind this choice over a partition column).

The registry is one JSON row in the folder's `meta` table, name -> id. Renaming rewrites that row
alone (one atomic merge, no table touched); creating makes the tables first and registers them
last; deleting unregisters first and drops the tables after, so a kill at any point leaves only
tables nothing names, which the next create or delete drops. One embedder serves the whole folder.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable

from localrag.errors import LocalRagError

DEFAULT_COLLECTION = "default"
REGISTRY_KEY = "collections"
SEPARATOR = "__"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class CollectionError(LocalRagError):
    title = "Collection error"


def check_name(name: str, origin: str = "collection") -> str:
    """`name` when it is a valid collection name; a one-line CollectionError naming it otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CollectionError(
            f"{origin}: {name!r} is not a valid collection name",
            "use 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    return name


def collection_option(name: str, configured: str | None = None) -> str:
    """" --collection NAME" for a command a hint names: a hint without it, followed, acted on the default collection
    ("not in the index", or a purge that found nothing to erase). "" for the default collection where a command
    without --collection acts on it: where `configured` (`config.configured_collection`: the collection setting or
    LOCALRAG_COLLECTION; by default the user's settings file's) names another, `localrag forget FILE` for the default
    one ran in that one again. Resolved here, not by each caller: a graph hint or an ingest's removal note that
    left it out named `localrag graph build` for `--collection default` while LOCALRAG_COLLECTION named another."""
    import shlex

    if configured is None:
        from localrag.config import configured_collection  # config imports this module: read where it is asked

        configured = configured_collection()
    return "" if name == configured == DEFAULT_COLLECTION else f" --collection {shlex.quote(name)}"


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def suffix(collection_id: str) -> str:
    """What follows each table name of the collection with this id ('' for `default`)."""
    return f"{SEPARATOR}{collection_id}" if collection_id else ""


def table_id(table_name: str) -> str:
    """The collection id a table name carries ('' for `default`'s tables)."""
    _, sep, ident = table_name.partition(SEPARATOR)
    return ident if sep else ""


def parse_registry(text: str | None) -> dict[str, str]:
    """name -> id from the registry row; a store from before collections has only `default`."""
    if not text:
        return {DEFAULT_COLLECTION: ""}
    value = json.loads(text)
    return {str(k): str(v) for k, v in value.items()}


def dump_registry(registry: dict[str, str]) -> str:
    return json.dumps(dict(sorted(registry.items())))


def missing(name: str) -> CollectionError:
    return CollectionError(
        f"collection '{name}' does not exist",
        f"`localrag collections` lists them; create it with `localrag collections create {name}` or ingest "
        "into it; a `collection` setting or LOCALRAG_COLLECTION naming one renamed or deleted: `localrag config "
        "set collection NAME` or `config unset collection`",
    )


def deleted_since(opened_as: str, names_now: Iterable[str]) -> CollectionError:
    """The error for a collection this process opened as `opened_as` that another process deleted since (the folder
    holds the collections `names_now`): every front end that keeps one open (a server, MCP, the chat app) says it so.
    Opened under that name, it may have been renamed before it was deleted, and the name may be another's now."""
    again = opened_as in names_now
    now = f"; '{opened_as}' names another collection now" if again else ""
    return CollectionError(f"the collection this process opened as '{opened_as}' was deleted since{now}",
                           "start it again" + (" to use that one" if again else ", with another collection: "
                                               "`localrag collections` lists them"))


def created_note(name: str, names: Iterable[str]) -> str:
    """What a command that made collection `name` says, beside the folder's other collections `names`: an ingest
    into a misspelt name (`--collection Wrok`) or another case of one (`PRIVATE` beside `private`) made a collection
    in silence, and the documents were then missing from the one meant."""
    twins = sorted(other for other in names if other != name and other.casefold() == name.casefold())
    beside = f" beside {', '.join(repr(t) for t in twins)}: names are case-sensitive" if twins else ""
    return f"created collection '{name}'{beside}"
