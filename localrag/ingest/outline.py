"""Org-mode (.org) and AsciiDoc (.adoc, .asciidoc): plain text whose headings are marked at the start of a line.

Org's `* Heading`, `** Sub` and AsciiDoc's `= Title`, `== Section` are headings at the level their marks count, as
Markdown's `#` are; the text between them is cut into blocks at blank lines, and a source block (org's `#+BEGIN_SRC`
to `#+END_SRC`, AsciiDoc's `----` or `....` delimited blocks) is code, where a `*` or `=` line is no heading. The text
is the file's own, as for Markdown and plain text, so a chunk cites its lines. An org heading is named without its
TODO keyword, priority and tags (`** TODO [#A] Call the bank :money:` is "Call the bank"). The title is org's
`#+TITLE:`, AsciiDoc's `= Title`, else the first heading, else the file's name. Before they were passed over, and
read renamed .txt a heading was a heading only when a blank line stood on each side of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from localrag.ingest.structure import HeadingPath, prose_kind, squash
from localrag.types import LoadedText, Section

_ORG_HEADING = re.compile(r"(\*+)[ \t]+(.*)")
_ORG_TODO = re.compile(r"(?:TODO|DONE|NEXT|WAITING|HOLD|CANCELLED|CANCELED)[ \t]+|\[#[A-Za-z0-9]\][ \t]*")
_ORG_TAGS = re.compile(r"[ \t]+:[\w@#%:]+:[ \t]*$")
_ORG_TITLE = re.compile(r"^#\+TITLE:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)
_ORG_CODE = re.compile(r"[ \t]*#\+BEGIN_(\w+)", re.IGNORECASE)
_ADOC_HEADING = re.compile(r"(={1,6})[ \t]+(\S.*)")
_ADOC_CODE = re.compile(r"(-{4,}|\.{4,}|`{3,})[ \t]*")

# (level, name) of a heading line, or None.
Heading = Callable[[str], "tuple[int, str] | None"]


def _org_heading(line: str) -> tuple[int, str] | None:
    match = _ORG_HEADING.fullmatch(line)
    if match is None:
        return None
    name = squash(_ORG_TAGS.sub("", _ORG_TODO.sub("", match.group(2), count=2)))
    return (len(match.group(1)), name) if name else None


def _adoc_heading(line: str) -> tuple[int, str] | None:
    match = _ADOC_HEADING.fullmatch(line.rstrip())
    # A closing run of marks (`== Section ==`) is optional.
    return None if match is None else (len(match.group(1)), squash(match.group(2).rstrip("= \t")))


def _org_fence(line: str, open_fence: str) -> str | None:
    """The fence a line opens (its block's name) or closes ("" for a close), None when it does neither."""
    if open_fence:
        return "" if line.strip().upper() == f"#+END_{open_fence}" else None
    match = _ORG_CODE.match(line)
    return match.group(1).upper() if match else None


def _adoc_fence(line: str, open_fence: str) -> str | None:
    match = _ADOC_CODE.fullmatch(line)
    if match is None:
        return None
    return "" if open_fence == match.group(1) else match.group(1) if not open_fence else None


def load_org(path: Path, text: str) -> LoadedText:
    """`text` is the file's decoded text."""
    loaded = _outline(path, text, _org_heading, _org_fence)
    named = _ORG_TITLE.search(text)
    return LoadedText(loaded.text, loaded.sections, squash(named.group(1)) if named else loaded.title)


def load_asciidoc(path: Path, text: str) -> LoadedText:
    """`text` is the file's decoded text."""
    return _outline(path, text, _adoc_heading, _adoc_fence)


def _outline(path: Path, text: str, heading_of: Heading, fence_of: Callable[[str, str], str | None]) -> LoadedText:
    sections: list[Section] = []
    headings = HeadingPath()
    block: list[tuple[int, int]] = []  # the spans of the lines of the block being read
    fence, title = "", ""

    def close(kind: str = "") -> None:
        if block:
            start, end = block[0][0], block[-1][1]
            sections.append(Section(start, end, kind or prose_kind(text[start:end]), headings.path))
            block.clear()

    position = 0
    for line in text.split("\n"):
        start, end = position, position + len(line)
        position = end + 1
        turn = fence_of(line, fence)
        if turn is not None:
            if not fence:
                close()
            block.append((start, end))
            if fence:
                close("code")
            fence = turn
            continue
        if fence:
            block.append((start, end))
            continue
        heading = heading_of(line)
        if heading is not None:
            close()
            level, name = heading
            title = title or name
            sections.append(Section(start, end, "heading", headings.enter(level, name)))
        elif not line.strip():
            close()
        else:  # a block's span is trimmed: it starts at its first line's text and ends at its last line's
            block.append((start + (0 if block else len(line) - len(line.lstrip())), start + len(line.rstrip())))
    close("code" if fence else "")
    return LoadedText(text, tuple(sections), title or path.stem)
