"""How a document was read: its loader's version and the settings that shaped its chunks.

Every document row records a `reading` (`read_with` in the store). A file whose bytes have not changed
is skipped by ingest, so a loader that learned to read its kind better, or a new `chunk_tokens`, would
otherwise never reach the documents already indexed. Comparing a document's reading with the one it
would get now names those documents: `status` counts them, ingest reports them, and `ingest --stale`
reads them again (only them, where `--force` reads everything it is given).

A reading is a short text, "txt 2; chunks 1 200/32" or "pdf 1 ocr; chunks 1 200/32", so a user can see
it and `stale_reason` can say which part differs. A store written before readings were recorded has an
empty one: how those documents were read is unknown, so they count as stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from localrag.config import Settings

# Bump a kind's number when its loader reads the same bytes differently (new text, title, headings or
# pages); tests/integration/test_stale_readings.py holds digests of the sample corpus that fail until it is.
# A kind not listed is at 1. Code files share one loader, so "code:python" is read as "code".
READERS: dict[str, int] = {
    "txt": 2,  # a lone "Label: nan" (an empty cell's export) is a record's field, not a heading
}
# Bump when the chunker or the text a chunk is embedded as (title and heading prefix) changes.
CHUNKS_VERSION = 1
# Kinds whose text depends on the OCR setting: a scanned page, or an image, is read only by OCR.
_OCR_KINDS = frozenset({"pdf", "image"})


def reading(kind: str, settings: Settings) -> str:
    """The reading a document of loader kind `kind` gets from this localrag with these settings."""
    base = kind.split(":", 1)[0]
    loader = f"{base} {READERS.get(base, 1)}"
    if base in _OCR_KINDS:
        loader += " ocr" if settings.ocr else " no-ocr"
    return f"{loader}; chunks {CHUNKS_VERSION} {settings.chunk_tokens}/{settings.chunk_overlap}"


def stale_reason(stored: str, now: str) -> str:
    """Why a document read as `stored` would be read differently `now`; "" when it would not."""
    if stored == now:
        return ""
    if not stored:
        return "read before localrag recorded how"
    old_loader, _, old_chunks = stored.partition("; ")
    new_loader, _, new_chunks = now.partition("; ")
    reasons = []
    if old_loader.split()[:2] != new_loader.split()[:2]:
        reasons.append("an older loader")
    elif old_loader.endswith(" no-ocr") and new_loader.endswith(" ocr"):
        # Read again with OCR on, a scanned page gains its text. The other way round it would only lose
        # it, so a reading made with OCR stays current when OCR is turned off.
        reasons.append("OCR off")
    if old_chunks.split()[:2] != new_chunks.split()[:2]:
        reasons.append("an older chunker")
    elif old_chunks != new_chunks:
        reasons.append(f"chunk_tokens/chunk_overlap {old_chunks.split()[-1]}")
    return "read with " + " and ".join(reasons) if reasons else ""


def stale_documents(readings: dict[str, tuple[str, str]], settings: Settings) -> dict[str, str]:
    """path -> why, for each stored document (`Store.document_readings`) that would be read differently now."""
    reasons = {path: stale_reason(read_with, reading(kind, settings)) for path, (kind, read_with) in readings.items()}
    return {path: why for path, why in sorted(reasons.items()) if why}


def holding_files(paths: Iterable[str]) -> list[str]:
    """The files on disk that hold documents `paths`: a mail's attachment (`mail.eml/report.pdf`) is read
    again through its mail. A document whose file is gone is left out: ingest forgets it."""
    files = set()
    for path in paths:
        held = next((p for p in (Path(path), *Path(path).parents) if p.is_file()), None)
        if held is not None:
            files.add(str(held))
    return sorted(files)
