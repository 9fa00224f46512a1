"""A size check for zip-based formats (.docx, .pptx, .xlsx, .epub) before any parser opens them.

A 3 MB zip can inflate to gigabytes, and python-docx and its kin read every part into memory and
build an XML tree of the text parts (several times their size). `guard_zip` reads only the central
directory and refuses a file whose declared sizes are past the caps. The declared sizes can be
trusted as an upper bound because Python's `zipfile`, which all these parsers read through, stops
each member at its declared size (and fails its CRC if the data was longer).

The caps are per file and generous for real documents: a 300-page report is a few MB of XML.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from localrag.errors import LoaderError

# Members a parser turns into an in-memory tree; media and fonts are only held as bytes.
PARSED_SUFFIXES: frozenset[str] = frozenset(
    {".xml", ".rels", ".html", ".htm", ".xhtml", ".opf", ".ncx", ".json", ".txt", ".css", ".svg"}
)
MAX_PARSED_BYTES = 32 * 2**20
MAX_TOTAL_BYTES = 256 * 2**20
MAX_MEMBERS = 10_000
MAX_RATIO = 100  # inflated / compressed, checked for members past RATIO_FLOOR bytes
RATIO_FLOOR = 2**20


def guard_zip(
    path: Path,
    *,
    max_parsed_bytes: int = MAX_PARSED_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
    max_ratio: float = MAX_RATIO,
) -> None:
    """Raise LoaderError if `path` would inflate past the caps; read nothing but the zip directory.

    A file that is not a readable zip passes: the format's parser then fails on it and says so in
    the format's own words.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        return
    except OSError as exc:
        raise LoaderError(f"{path}: cannot read ({exc.strerror or exc})", "check the file's permissions") from exc

    def refuse(why: str) -> LoaderError:
        return LoaderError(f"{path}: refused, {why} (a zip bomb or an unusually large file)", "exclude the file")

    if len(members) > max_members:
        raise refuse(f"{len(members):,} parts inside (limit {max_members:,})")
    total = sum(m.file_size for m in members)
    if total > max_total_bytes:
        raise refuse(f"inflates to {total / 2**20:,.0f} MB (limit {max_total_bytes / 2**20:,.0f} MB)")
    parsed = sum(m.file_size for m in members if PurePosixPath(m.filename).suffix.lower() in PARSED_SUFFIXES)
    if parsed > max_parsed_bytes:
        raise refuse(f"{parsed / 2**20:,.0f} MB of markup to parse (limit {max_parsed_bytes / 2**20:,.0f} MB)")
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > max_ratio * max(member.compress_size, 1):
            ratio = member.file_size / max(member.compress_size, 1)
            raise refuse(f"part {member.filename!r} inflates {ratio:,.0f}x (limit {max_ratio:,.0f}x)")
