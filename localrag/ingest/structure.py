"""Shared pieces for loaders that re-assemble text: blocks joined with blank lines, each block's span
recorded as a `Section`, and the heading path in force. HTML, Word and PDF loaders build their text
this way, so the chunker sees the same structure whatever the format.
"""

from __future__ import annotations

import re
from pathlib import Path

from localrag.sentences import BULLET_MARK, dash_goes_on
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
LIST_LINE = re.compile(rf"^\s*(?:{BULLET_MARK}|\d+[.)])\s+")


def list_line(line: str, before: str | None) -> bool:
    """Whether `line` is a list item (`LIST_LINE`) after the line `before` it (None: the first): a line opened by an
    en dash is one only where a list can start (`sentences.dash_goes_on`), not a wrapped paragraph's next line
    ("after a long delay" / "– three weeks in all – and approved ...")."""
    in_list = before is not None and LIST_LINE.match(before) is not None
    return LIST_LINE.match(line) is not None and not dash_goes_on(line, before, in_list=in_list)


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


# The page ID Notion's export writes after every page's and database's name ("Reading List
# 2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e.csv"), and the "_all" of a database's twin holding every view's rows.
_NOTION_ID = re.compile(r" [0-9a-fA-F]{32}(?:_all)?$")


def file_title(path: Path) -> str:
    """The title a file's name gives, for a document that names none itself: its stem, without the page ID of a
    Notion export (a database's CSV was titled "Reading List 2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e", and the ID rode in
    front of every chunk in its vector)."""
    return _NOTION_ID.sub("", path.stem) or path.stem


def authored_title(title: str) -> str:
    """A title from a file's metadata, or "" when an authoring tool wrote it (`_TOOL_TITLE`) or it has no letter."""
    title = squash(title)
    return "" if _TOOL_TITLE.fullmatch(title) or not any(c.isalpha() for c in title) else title


# A numbered line's title: "6. TERMINATION", "7. Repairs and Maintenance". Its small words may be in lowercase.
_NUMBERED_TITLE = re.compile(r"\s*\d+[.)]\s+(?P<title>.+)")
_TITLE_SMALL_WORDS = frozenset(
    "a an and as at by for from in into of on or per the to under with vs und der die das des von zu de du la le "
    "et".split()
)
# A title is a few words; a list item of as many words in title case is rarer than a heading of them.
_TITLE_MAX_WORDS = 8


def numbered_title(line: str) -> bool:
    """Whether `line` is a number and a short title in capitals or title case ("6. TERMINATION", "6. Termination"), as
    a contract numbers its clauses, rather than a list item ("1. buy milk", "3. Call the landlord about the boiler")."""
    match = _NUMBERED_TITLE.fullmatch(line)
    if match is None:
        return False
    words = [word for word in match.group("title").split() if any(c.isalpha() for c in word)]
    if not 0 < len(words) <= _TITLE_MAX_WORDS:
        return False
    initials = [next(c for c in word if c.isalpha()) for word in words]
    return initials[0].isupper() and all(
        initial.isupper() or word.lower() in _TITLE_SMALL_WORDS for initial, word in zip(initials, words, strict=True)
    )


def prose_kind(block: str) -> str:
    """A block whose every line is a list item is a list; anything else is a paragraph."""
    lines = block.split("\n")
    items = (list_line(line, before) for before, line in zip([None, *lines[:-1]], lines, strict=True))
    return "list" if all(items) else "paragraph"
