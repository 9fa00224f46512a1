"""Org-mode (.org) and AsciiDoc (.adoc, .asciidoc): plain text whose headings are marked at the start of a line.

Org's `* Heading`, `** Sub` and AsciiDoc's `= Title`, `== Section` are headings at the level their marks count, as
Markdown's `#` are; the text between them is cut into blocks at blank lines. A delimited block is a fence in which no
line is a heading: a source block (org's `#+BEGIN_SRC` and `#+BEGIN_EXAMPLE`, AsciiDoc's `----`, `....` and ```)
is code; AsciiDoc's `|===` is a table; org's other blocks (`#+BEGIN_QUOTE`, `#+BEGIN_VERSE`, ...) and AsciiDoc's
example `====`, sidebar `****`, quote `____`, passthrough `++++` and open `--` blocks are prose (their delimiter lines
in no section). Left out of the index (`OMITTED`: no chunk holds them) are what is not the document's content: org's
drawers (`:LOGBOOK:` to `:END:`; of `:PROPERTIES:` all but its properties, a table under the heading,
`:COST: 40`, less `:ID:` and `:CUSTOM_ID:`), `#+KEY:` lines and `# comments`, a comment block (`#+BEGIN_COMMENT`,
AsciiDoc's `////`), AsciiDoc's `//` comment lines and `:name: value` attribute entries. Before 2026-12-07 a drawer
was read as prose (an answer quoted ":PROPERTIES: :CUSTOM_ID: seeds :COST: 40 :END:"), `#+TITLE:` and `#+AUTHOR:`
were a chunk of their own, and a `== line` inside an example or comment block was a heading.

The text is the file's own, as for Markdown and plain text, so a chunk cites its lines. An org heading is named
without its TODO keyword, priority and tags (`** TODO [#A] Call the bank :money:` is "Call the bank"). The title is
org's `#+TITLE:`, AsciiDoc's `= Title`, else the first heading, else the file's name.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localrag.ingest.structure import HeadingPath, prose_kind, squash
from localrag.sentences import (
    ADOC_CODE,
    ADOC_COMMENT,
    ADOC_FENCE,
    ADOC_PREPROCESSOR,
    ADOC_PROSE,
    ADOC_TABLE,
    adoc_heading,
    org_heading,
)
from localrag.sizes import count_text, some_of
from localrag.types import OMITTED, LoadedText, Section

_ORG_TITLE = re.compile(r"^#\+TITLE:[ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)
_ORG_BLOCK = re.compile(r"[ \t]*#\+BEGIN_(\w+)\b.*", re.IGNORECASE)
_ORG_DRAWER = re.compile(r"[ \t]*:([\w-]+):[ \t]*")
_ORG_DRAWER_END = re.compile(r"[ \t]*:END:[ \t]*", re.IGNORECASE)
_ORG_PROPERTY = re.compile(r"[ \t]*:([\w-]+)\+?:[ \t]+\S.*")
# Properties that name the heading for links, not facts about it: org-roam writes an `:ID:` under every heading.
_ORG_LINK_PROPERTIES = frozenset({"ID", "CUSTOM_ID"})
# `#+TITLE: ...`, `#+STARTUP: ...`, `#+CAPTION: ...`, and a `# comment` line.
_ORG_LEFT_OUT = re.compile(r"[ \t]*#(?:\+\w+:.*|[ \t].*|)")
# A `// comment` line (not a `////` block's delimiter) and an attribute entry (`:toc:`, `:author: Alice Chen`).
_ADOC_LEFT_OUT = re.compile(r"//(?!//+[ \t]*$).*|:!?[\w-]+!?:(?:[ \t].*)?")
# How an include among `ADOC_PREPROCESSOR`'s lines opens, its target after it.
_INCLUDE = "include::"


@dataclass(frozen=True)
class _Fence:
    """A delimited block: `closes` tells its closing line; `kind` is "code", "table" or OMITTED for a block read
    whole (nothing in it opens a block), "" for prose in which no line is a heading and blocks may nest."""

    closes: Callable[[str], bool]
    kind: str
    # For an OMITTED block: the lines of it that are content after all, kept as a table (a drawer's properties).
    keeps: Callable[[str], bool] | None = None


# (level, name) of a heading line, or None.
Heading = Callable[[str], "tuple[int, str] | None"]
# The block a line would open, or None.
Opens = Callable[[str], "_Fence | None"]


def _org_opens(line: str) -> _Fence | None:
    block = _ORG_BLOCK.fullmatch(line)
    if block is not None:
        name = block.group(1).upper()
        kind = "code" if name in ("SRC", "EXAMPLE") else OMITTED if name == "COMMENT" else ""
        return _Fence(lambda closing: closing.strip().upper() == f"#+END_{name}", kind)
    drawer = _ORG_DRAWER.fullmatch(line)
    if drawer is not None and drawer.group(1).upper() != "END":
        # A property is a fact ("COST: 40"), a clock line or a note in the logbook is not.
        keeps = _org_property if drawer.group(1).upper() == "PROPERTIES" else None
        return _Fence(lambda closing: _ORG_DRAWER_END.fullmatch(closing) is not None, OMITTED, keeps)
    return None


def _org_property(line: str) -> bool:
    match = _ORG_PROPERTY.fullmatch(line)
    return match is not None and match.group(1).upper() not in _ORG_LINK_PROPERTIES


def _adoc_opens(line: str) -> _Fence | None:
    mark = line.rstrip()
    if ADOC_CODE.fullmatch(mark) or ADOC_FENCE.fullmatch(mark):
        closing_mark = mark if mark[0] != "`" else mark[: len(mark) - len(mark.lstrip("`"))]
        kind = "code"
    elif ADOC_TABLE.fullmatch(mark):
        closing_mark, kind = mark, "table"
    elif ADOC_COMMENT.fullmatch(mark):
        closing_mark, kind = mark, OMITTED
    elif ADOC_PROSE.fullmatch(mark):
        closing_mark, kind = mark, ""
    else:
        return None
    return _Fence(lambda closing: closing.rstrip() == closing_mark, kind)


def load_org(path: Path, text: str) -> LoadedText:
    """`text` is the file's decoded text."""
    loaded = _outline(path, text, org_heading, _org_opens, _ORG_LEFT_OUT)
    named = _ORG_TITLE.search(text)
    return LoadedText(loaded.text, loaded.sections, squash(named.group(1)) if named else loaded.title)


def load_asciidoc(path: Path, text: str) -> LoadedText:
    """`text` is the file's decoded text. A file it includes (`include::other.adoc[]`) is not read into it: the note
    names it, as its own document if it is ingested."""
    unseen: list[str] = []
    loaded = _outline(path, text, adoc_heading, _adoc_opens, _ADOC_LEFT_OUT, ADOC_PREPROCESSOR, unseen)
    # The preprocessor lines the outline passed over: one in a listing or literal block is shown as code, includes
    # nothing, and was named here when the whole text was searched.
    included = [line.strip().removeprefix(_INCLUDE).partition("[")[0] for line in unseen
                if line.strip().startswith(_INCLUDE)]
    if not included:
        return loaded
    return dataclasses.replace(loaded, left_out=(
        f"{count_text(len(included), 'included file')} not read into it ({some_of(included)}): each is read as a "
        "document of its own when ingested"))


def _outline(path: Path, text: str, heading_of: Heading, opens: Opens, left_out: re.Pattern[str],
             unseen: re.Pattern[str] | None = None, unseen_lines: list[str] | None = None) -> LoadedText:
    """`unseen` matches lines in no section, as a prose block's delimiter lines are: AsciiDoc's preprocessor lines,
    each added to `unseen_lines` (none in a code, table or comment block, which is read whole)."""
    sections: list[Section] = []
    headings = HeadingPath()
    block: list[tuple[int, int]] = []  # the spans of the lines of the block being read
    fences: list[_Fence] = []  # the blocks open, innermost last
    whole: _Fence | None = None  # the code, table or omitted block being read whole
    title = ""

    def close(kind: str = "") -> None:
        if block:
            start, end = block[0][0], block[-1][1]
            sections.append(Section(start, end, kind or prose_kind(text[start:end]), headings.path))
            block.clear()

    def omit(start: int, end: int) -> None:
        sections.append(Section(start, end, OMITTED, headings.path))

    lines = text.split("\n")
    position = 0
    for number, line in enumerate(lines):
        start, end = position, position + len(line)
        position = end + 1
        if whole is not None and whole.keeps is not None:  # its kept lines a table, the others left out
            if not whole.closes(line) and whole.keeps(line):
                block.append((start + len(line) - len(line.lstrip()), start + len(line.rstrip())))
            else:
                close("table")
                omit(start, end)
                whole = None if whole.closes(line) else whole
            continue
        if whole is not None:
            block.append((start, end))
            if whole.closes(line):
                close(whole.kind)
                whole = None
            continue
        # A prose block's delimiter lines are in no section, not OMITTED: left out, they would cut a chunk in two.
        # So are preprocessor lines (`ifdef::internal[]`): before 2026-12-07 they were glued into the sentences.
        if fences and fences[-1].closes(line):
            close()
            fences.pop()
            continue
        if unseen is not None and unseen.fullmatch(line):
            close()
            if unseen_lines is not None:
                unseen_lines.append(line)
            continue
        fence = opens(line)
        # A block is one only when its closing line comes: a lone `:word:` or `--` line is text, and an unclosed block
        # would take every heading after it.
        if fence is not None and any(map(fence.closes, itertools.islice(lines, number + 1, None))):
            close()
            if fence.kind:
                whole = fence
                if fence.keeps is None:
                    block.append((start, end))
                else:
                    omit(start, end)
            else:
                fences.append(fence)
            continue
        heading = None if fences else heading_of(line)
        if heading is not None:
            close()
            level, name = heading
            title = title or name
            sections.append(Section(start, end, "heading", headings.enter(level, name)))
        elif left_out.fullmatch(line):
            close()
            omit(start, end)
        elif not line.strip():
            close()
        else:  # a block's span is trimmed: it starts at its first line's text and ends at its last line's
            block.append((start + (0 if block else len(line) - len(line.lstrip())), start + len(line.rstrip())))
    close()
    # A file of nothing but drawers and comments has no text to index.
    kept = tuple(sections) if any(s.kind != OMITTED for s in sections) else ()
    return LoadedText(text, kept, title or path.stem)
