"""Shared pieces for loaders that re-assemble text: blocks joined with blank lines, each block's span
recorded as a `Section`, and the heading path in force. HTML, Word and PDF loaders build their text
this way, so the chunker sees the same structure whatever the format.
"""

from __future__ import annotations

import re

from localrag.types import LoadedText, Section


class TextBuilder:
    """Assembles extracted blocks into one text, blank-line separated, recording each block's span."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.sections: list[Section] = []

    def add(self, text: str, kind: str, headings: tuple[str, ...], page: int | None = None) -> None:
        # Code keeps its indentation; everything else is trimmed.
        text = text.strip("\n").rstrip() if kind == "code" else text.strip()
        if not text:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        self.sections.append(Section(self._length, self._length + len(text), kind, headings, page))
        self._parts.append(text)
        self._length += len(text)

    def build(self, title: str) -> LoadedText:
        return LoadedText("".join(self._parts), tuple(self.sections), title)


class HeadingPath:
    """The heading path in force: entering a level-n heading drops every heading at level n or deeper."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> tuple[str, ...]:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._stack)


SPACES = re.compile(r"\s+")
LIST_LINE = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+")


def squash(text: str) -> str:
    return SPACES.sub(" ", text).strip()


# Titles that authoring tools write on their own, not the author: a PDF info dictionary's "Microsoft Word -
# report.docx" or "report.dvi", a new deck's "PowerPoint Presentation", an editor's "Untitled Document". Taken
# as the title, one would ride in front of every chunk of the document in its vector.
_TOOL_TITLE = re.compile(
    r"(?:microsoft (?:word|powerpoint|excel|office \w+) - .*"
    r"|.*\.(?:docx?|pptx?|xlsx?|pdf|rtf|odt|odp|tex|dvi|ps|eps|indd|qxd|pages|key|txt|html?)"
    r"|untitled(?: document| presentation)?\s*\d*|no title|title|document\s*\d*"
    r"|(?:powerpoint )?presentation\s*\d*|slide \d+)",
    re.IGNORECASE,
)


def authored_title(title: str) -> str:
    """A title from a file's metadata, or "" when an authoring tool wrote it (`_TOOL_TITLE`) or it has no letter."""
    title = squash(title)
    return "" if _TOOL_TITLE.fullmatch(title) or not any(c.isalpha() for c in title) else title


def prose_kind(block: str) -> str:
    """A block whose every line is a list item is a list; anything else is a paragraph."""
    return "list" if all(LIST_LINE.match(line) for line in block.split("\n")) else "paragraph"
