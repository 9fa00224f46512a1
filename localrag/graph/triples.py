"""A triple and the names in it: how entity and relation names are normalised, and the triple values.

Kept apart from the graph store (localrag/graph/store.py) because extraction, linking, planning and
the vocabulary all normalise names the store's way without touching its tables: they import these
few lines, not the store and what it imports.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
# Letters and digits of any script stay ("dirigió", "режиссёр"): an ASCII-only rule emptied or merged them.
_RELATION_BAD = re.compile(r"[^\w]+")


def normalise_entity(name: str) -> str:
    """Case, underscores, runs of whitespace and Unicode form do not distinguish entities: "Café" typed with é
    and with e and a combining accent (as macOS writes names) were two entities printed alike."""
    return unicodedata.normalize("NFC", _SPACES.sub(" ", name.replace("_", " ")).strip().lower())


def normalise_relation(name: str) -> str:
    """lower_snake_case of letters, digits and _ (of any script, in one Unicode form), so it is a safe literal in
    a grammar and a prompt."""
    return _RELATION_BAD.sub("_", _SPACES.sub("_", unicodedata.normalize("NFC", name.strip().lower()))).strip("_")


# The document of an imported file's triples is `file:<absolute path>` (`graph import`); their sources are the
# file's name and line, never a chunk id. Triples `graph build` made carry their chunk's document and id.
IMPORTED = "file:"


def imported_file(doc_id: str) -> str:
    """The file a triple's document names when `graph import` read it; "" for a triple `graph build` made."""
    return doc_id.removeprefix(IMPORTED) if doc_id.startswith(IMPORTED) else ""


@dataclass(frozen=True)
class Triple:
    head: str
    relation: str
    tail: str
    source: str = ""
    doc_id: str = ""


@dataclass(frozen=True)
class ListedTriple:
    """A triple as `localrag graph triples` lists it: entities by name; `source` the chunk id or imported
    `file:line` it came from, `where` that as a person reads it (the document and page, or the file's line)."""

    head: str
    relation: str
    tail: str
    source: str
    where: str
