"""The lines of its file a retrieved chunk spans: `notes.md:12-18`, `src/atomic.py:40-52`.

Plain text, Markdown, Org, AsciiDoc and code are indexed as their files' own text, with line endings made "\\n"
(`encodings.decode_file`) and `safe_text.plain_text` applied (which keeps every line; a JSON file's string escapes
are decoded line for line too, `json_strings`), so a chunk's character offsets
are also a place in that text of its file, and its lines are the file's. The lines are found
when the chunk is retrieved, not stored with it: the file is read again and the chunk's text looked for at
its offsets, and only where it still stands there are line numbers given. They are then right for the file
as it is now, the one the user opens; a file edited since it was indexed gets none rather than wrong ones,
until it is ingested again. Other kinds (PDF pages, Word, HTML) are read into text that is not the file's,
and files over MAX_READ_BYTES are not read: a log of gigabytes would cost every answer that read.

A file over MAX_BYTES (a 60 MB log) is read only for the chunks whose lines are not known yet, and its text is not
kept, only the lines found, for that version of the file: 0.3 s the first time on 2 cores, nothing after. Before
2026-12-07 such a file got no lines at all, and a 60 MB log's every source was its bare name.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from pathlib import Path

from localrag.errors import LocalRagError
from localrag.ingest.encodings import decode_file
from localrag.ingest.json_strings import readable_json
from localrag.safe_text import plain_text
from localrag.types import Chunk, Hit

# Files up to this are kept read (a few of them); larger ones are read for their lines and let go.
MAX_BYTES = 4_000_000
MAX_READ_BYTES = 64 * 2**20
_VERBATIM_KINDS = frozenset({"txt", "md", "org", "adoc"})
# A file's version: its path, size and modification time (ns), the key of what is kept of it.
Version = tuple[str, int, int]


def has_lines(file_type: str) -> bool:
    """Whether a document of this kind is indexed as its file's own text, so its chunks have lines."""
    return file_type in _VERBATIM_KINDS or file_type.startswith("code:")


def with_lines(hits: Sequence[Hit]) -> list[Hit]:
    """`hits` with `line_start` and `line_end` set on each chunk whose text stands at its offsets in its file
    now, and on their copies' chunks (`Hit.held_by`: a copy is named at its line too); the others as they are.
    Each file is read once."""
    texts: dict[str, str | None] = {}  # a big file's text lives only as long as this call
    versions: dict[str, Version | None] = {}

    def located(chunk: Chunk) -> Chunk:
        first = _first_line(chunk, texts, versions) if has_lines(chunk.file_type) else None
        if first is None:
            return chunk
        # A repeated table header (`Chunk.lead`) is no line of the chunk's own: its lines are those of its span.
        return dataclasses.replace(chunk, line_start=first, line_end=first + chunk.own_text.count("\n"))

    out = []
    for hit in hits:
        held_by = tuple(dataclasses.replace(copy, chunk=located(copy.chunk)) for copy in hit.held_by)
        out.append(dataclasses.replace(hit, chunk=located(hit.chunk), held_by=held_by))
    return out


def _first_line(chunk: Chunk, texts: dict[str, str | None],
                versions: dict[str, Version | None]) -> int | None:
    """The line `chunk` starts on in its file now; None where its text no longer stands at its offsets."""
    if chunk.path not in versions:
        versions[chunk.path] = _version(chunk.path)
    version = versions[chunk.path]
    if version is None:
        return None
    span = (chunk.start, chunk.end, hash(chunk.text))
    big = version[1] > MAX_BYTES
    if big:
        with _READ_LOCK:
            known = _BIG.get(version, {})
            if span in known:
                return known[span]
    if chunk.path not in texts:
        texts[chunk.path] = _file_text(Path(chunk.path), version)
    text = texts[chunk.path]
    first = None if text is None or text[chunk.start:chunk.end] != chunk.own_text else \
        text.count("\n", 0, chunk.start) + 1
    if big and text is not None:
        with _READ_LOCK:
            if version not in _BIG and len(_BIG) >= _READ_FILES:
                _BIG.pop(next(iter(_BIG)))
            known = _BIG.setdefault(version, {})
            if len(known) >= _BIG_SPANS:  # a server answering for months: the oldest lines found go
                known.pop(next(iter(known)))
            known[span] = first
    return first


def _version(path: str) -> Version | None:
    """The file's version as the caches know it, its one stat in a search; None where it cannot be read."""
    try:
        info = Path(path).stat()
    except (OSError, ValueError):
        return None
    return path, info.st_size, info.st_mtime_ns


def _file_text(path: Path, version: Version) -> str | None:
    try:
        if version[1] > MAX_READ_BYTES:
            return None
        if version[1] > MAX_BYTES:
            return _indexed_text(path, version)
        with _READ_LOCK:
            text = _READ.get(version)
        if text is None:
            # A file not in UTF-8 is read as the ingest read it, its encoding guessed: 2 s for a 3 MB file, at every
            # search that cited it. Kept for each version of the file (its size and time in the key), a few files.
            text = _indexed_text(path, version)
            with _READ_LOCK:  # a server's searches run in threads
                while len(_READ) >= _READ_FILES:
                    _READ.pop(next(iter(_READ)))
                _READ[version] = text
        return text
    # Gone, unreadable or no longer text: no lines, never an error. A name the locale cannot spell (東京 under Latin-1)
    # raises UnicodeEncodeError, a ValueError: a traceback under every search.
    except (OSError, ValueError, LocalRagError):
        return None


def _indexed_text(path: Path, version: Version) -> str:
    """The file's text as the ingest indexed it: decoded, a JSON file's strings read (`json_strings`, as the loader
    does), and `plain_text` as every document is (`parts.load_parts`). Compared with the raw text, every chunk after a
    soft hyphen or a decomposed "é" stood off its offsets and was cited without lines."""
    text = _decoded(path.read_bytes(), path, version)
    return plain_text(readable_json(text) if path.suffix.lower() == ".json" else text)


def _decoded(data: bytes, path: Path, version: Version) -> str:
    """The text `encodings.decode_file` reads from `data`, the bytes of `version` of the file at `path`. How each
    version was decoded is kept, a few files: a big file's text is not kept, and a 60 MB cp1252 log's encoding guessed
    again at every search that cited it cost 11 to 15 s each time (UTF-8: 0.1 s)."""
    # Bytes of another size than the stat said: the file changed in between, and its guess belongs to no version.
    key = version if version[1] == len(data) else None
    with _READ_LOCK:
        known = _DECODED.get(key) if key else None
    read = decode_file(data, path, known=known)
    if key and known is None:
        with _READ_LOCK:
            while len(_DECODED) >= _DECODED_FILES:
                _DECODED.pop(next(iter(_DECODED)))
            _DECODED[key] = read.how
    return read.text


_READ_FILES = 8
_READ: dict[Version, str] = {}
_READ_LOCK = threading.Lock()
# The first line of each chunk (start, end, hash of its text) looked for in a big file, by the file's version.
_BIG: dict[Version, dict[tuple[int, int, int], int | None]] = {}
_BIG_SPANS = 10_000
# The codec and error handler each version of a file was read with (`Decoded.how`), more files than texts are kept.
_DECODED: dict[Version, tuple[str, str]] = {}
_DECODED_FILES = 64
