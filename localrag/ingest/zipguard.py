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

    A file that is no zip at all is refused in words: the parsers named their exception classes
    ("not a readable .docx file (PackageNotFoundError)"), which told a user nothing of the cause.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise _not_a_package(path) from exc
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


# The first bytes of an OLE2 compound file: the Office formats before 2007 (.doc, .xls, .ppt), and the wrapper
# Office puts a password-protected .docx, .xlsx, .xlsm or .pptx in (a protected .xlsm was called cut short or
# damaged). Only the kinds localrag reads are listed: a .docm, .pptm or .xltx is passed over before any loader.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLD_FORMATS = {".docx": ".doc", ".xlsx": ".xls", ".xlsm": ".xls", ".pptx": ".ppt"}


def _not_a_package(path: Path) -> LoaderError:
    kind = path.suffix.lower() or "zip-based"
    try:
        with path.open("rb") as f:
            start = f.read(len(OLE2_MAGIC))
    except OSError:
        start = b""
    if start == OLE2_MAGIC and kind in OLD_FORMATS:
        return LoaderError(f"{path}: not a readable {kind} file: it is an old {OLD_FORMATS[kind]} file or a "
                           "password-protected one", f"remove the password or re-save it as {kind}")
    return LoaderError(f"{path}: not a readable {kind} file: a {kind} file is a zip package, and this one is not "
                       "(it is cut short, damaged, or another kind of file renamed)",
                       f"open it and save it again as {kind}, or exclude it")
