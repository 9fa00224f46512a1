"""The lines of its file a retrieved chunk spans: `notes.md:12-18`, `src/atomic.py:40-52`.

Plain text, Markdown, Org, AsciiDoc and code are indexed as their files' own text, with line endings made "\\n"
(`loaders.decode_text`), so a chunk's character offsets are also a place in its file. The lines are found
when the chunk is retrieved, not stored with it: the file is read again and the chunk's text looked for at
its offsets, and only where it still stands there are line numbers given. They are then right for the file
as it is now, the one the user opens; a file edited since it was indexed gets none rather than wrong ones,
until it is ingested again. Other kinds (PDF pages, Word, HTML) are read into text that is not the file's,
and files over MAX_BYTES are not read: a log of hundreds of megabytes would cost every answer that read.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path

from localrag.errors import LocalRagError
from localrag.ingest.loaders import decode_text
from localrag.types import Hit

MAX_BYTES = 4_000_000
_VERBATIM_KINDS = frozenset({"txt", "md", "org", "adoc"})


def has_lines(file_type: str) -> bool:
    """Whether a document of this kind is indexed as its file's own text, so its chunks have lines."""
    return file_type in _VERBATIM_KINDS or file_type.startswith("code:")


def with_lines(hits: Sequence[Hit]) -> list[Hit]:
    """`hits` with `line_start` and `line_end` set on each chunk whose text stands at its offsets in its file
    now; the others as they are. Each file is read once."""
    texts: dict[str, str | None] = {}
    out = []
    for hit in hits:
        chunk = hit.chunk
        if not has_lines(chunk.file_type):
            out.append(hit)
            continue
        if chunk.path not in texts:
            texts[chunk.path] = _file_text(Path(chunk.path))
        text = texts[chunk.path]
        if text is None or text[chunk.start:chunk.end] != chunk.text:
            out.append(hit)
            continue
        first = text.count("\n", 0, chunk.start) + 1
        located = dataclasses.replace(chunk, line_start=first, line_end=first + chunk.text.count("\n"))
        out.append(dataclasses.replace(hit, chunk=located))
    return out


def _file_text(path: Path) -> str | None:
    try:
        info = path.stat()
        if info.st_size > MAX_BYTES:
            return None
        key = (str(path), info.st_size, info.st_mtime_ns)
        with _READ_LOCK:
            text = _READ.get(key)
        if text is None:
            # A file not in UTF-8 is read as the ingest read it, its encoding guessed: 2 s for a 3 MB file, at every
            # search that cited it. Kept for each version of the file (its size and time in the key), a few files.
            text = decode_text(path.read_bytes(), path)
            with _READ_LOCK:  # a server's searches run in threads
                while len(_READ) >= _READ_FILES:
                    _READ.pop(next(iter(_READ)))
                _READ[key] = text
        return text
    # Gone, unreadable or no longer text: no lines, never an error. A name the locale cannot spell (東京 under Latin-1)
    # raises UnicodeEncodeError, a ValueError: a traceback under every search.
    except (OSError, ValueError, LocalRagError):
        return None


_READ_FILES = 8
_READ: dict[tuple[str, int, int], str] = {}
_READ_LOCK = threading.Lock()
