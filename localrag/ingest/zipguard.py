"""Decompression-bomb guard for zip-based formats (.pptx, .xlsx, .epub, .odt, and .docx's cousins).

A zip's central directory states every member's compressed and uncompressed size, so the damage a
file could do is known before any member is inflated. Office XML compresses well (ratios of 10-40
are normal, a repetitive sheet can pass 100), so a high ratio alone is not refused: a file is refused
when what it would inflate to is large in absolute terms, or large and implausibly compressed. The
stated sizes can lie, which is why loaders read members through libraries that stop at the stated
size (zipfile raises on a member longer than its header says).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from localrag.errors import LoaderError

MAX_TOTAL_BYTES = 1 << 30  # nothing a person writes by hand inflates past 1 GiB of XML
RATIO_CHECKED_ABOVE = 64 << 20  # below 64 MiB inflated, any ratio is harmless
MAX_RATIO = 100
MAX_MEMBERS = 50_000


def check_zip(path: Path) -> None:
    """Raise LoaderError if `path` is not a zip, or would inflate to a size no document needs."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoaderError(
            f"{path}: not a readable {path.suffix.lower() or 'zip'} file ({type(exc).__name__})",
            "it may be corrupt or truncated; re-save it from the program that made it",
        ) from exc
    if len(members) > MAX_MEMBERS:
        raise LoaderError(
            f"{path}: archive holds {len(members):,} parts (limit {MAX_MEMBERS:,})", "exclude the file"
        )
    inflated = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    ratio = inflated / max(packed, 1)
    if inflated > MAX_TOTAL_BYTES or (inflated > RATIO_CHECKED_ABOVE and ratio > MAX_RATIO):
        raise LoaderError(
            f"{path}: would inflate to {inflated / 2**20:,.0f} MiB ({ratio:,.0f}x its packed size): "
            "refused as a possible zip bomb",
            "if the file is genuine, split it into smaller files",
        )
