"""Rich Text Format (.rtf) through striprtf: control words dropped, paragraphs kept.

RTF is 7-bit text whose non-ASCII characters are escapes (\\'e9, \\u233?), so the bytes are read as
Latin-1, which never fails, and striprtf decodes the escapes. Every RTF paragraph (\\par) ends a
line; each non-empty line becomes a paragraph, or a list when it starts with a bullet or number.
Styles, and so headings, are not recovered.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from localrag.errors import LoaderError
from localrag.ingest.structure import TextBuilder, prose_kind
from localrag.types import LoadedText


def load_rtf(path: Path, data: bytes) -> LoadedText:
    """`data` is the file's bytes."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise LoaderError(f"{path}: not an RTF file (no {{\\rtf header)", "re-save it as .rtf, or rename it")
    text = rtf_to_text(data.decode("latin-1"), errors="replace")
    out = TextBuilder()
    for line in text.replace("\r\n", "\n").split("\n"):
        out.add(line, prose_kind(line.strip()), ())
    loaded = out.build(path.stem)
    first = loaded.text.split("\n", 1)[0]
    return dataclasses.replace(loaded, title=first) if 0 < len(first) <= 100 else loaded
