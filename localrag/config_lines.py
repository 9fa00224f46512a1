"""The settings file read as its lines, so that an edit changes the lines of the names it changes and no other.

A TOML file is a run of statements: a `key = value` (several lines for a multi-line string or array), a
`[table]` header with the statements under it, comments and blank lines. localrag reads its settings from the
statements above the first header; `edit` sets or takes out such a statement by its key however the key is
written (`top_k`, `"top_k"`), puts a new one above the first header (appended at the end it was read as part of
the last table), and takes out a table or dotted key by its first name. Comments and every other line stay as
they were: `config.py` checks that the edited file reads as the old one with only those names changed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

_HEADER = re.compile(r"\s*\[")
_NOTHING = re.compile(r"\s*(#.*)?$")
# The key of a line that reads as no TOML (a name misspelt with a space after it is still found by its start).
_BARE_KEY = re.compile(r"""\s*(?:"([^"\\]*)"|'([^']*)'|([^=."'#\[\]]*[^=."'#\[\]\s]))\s*[.=]""")


@dataclass(frozen=True)
class Statement:
    """Lines `start` to `end` (exclusive) of the file: one `key = value`, or a table's header with its lines.
    `key` is the top-level name it sets (a dotted key's or a table's first part); None where none reads."""

    key: str | None
    start: int
    end: int
    table: bool


def statements(lines: list[str]) -> list[Statement]:
    """The file's statements in order; comments and blank lines between them belong to none (a comment above a
    header stays with that header when the table before it is taken out)."""
    found: list[Statement] = []
    table: Statement | None = None
    i = 0
    while i < len(lines):
        if _NOTHING.match(lines[i]):
            i += 1
            continue
        end, key = _statement_at(lines, i)
        if _HEADER.match(lines[i]):
            if table is not None:
                found.append(table)
            table = Statement(key, i, end, table=True)
        elif table is not None:  # a line of the table: the table's span reaches over it
            table = Statement(table.key, table.start, end, table=True)
        else:
            found.append(Statement(key, i, end, table=False))
        i = end
    if table is not None:
        found.append(table)
    return found


def _statement_at(lines: list[str], start: int) -> tuple[int, str | None]:
    """Where the statement starting at line `start` ends (the fewest lines that read as TOML), and its key."""
    for end in range(start + 1, len(lines) + 1):
        try:
            parsed = tomllib.loads("\n".join(lines[start:end]))
        except tomllib.TOMLDecodeError:
            continue
        return end, next(iter(parsed), None)
    bare = _BARE_KEY.match(lines[start].lstrip("["))
    return start + 1, next((k for k in bare.groups() if k is not None), None) if bare else None


def edit(text: str, changes: Mapping[str, str | None]) -> str:
    """`text` with each name of `changes` set by the line given (a setting's whole `name = value`), or taken out
    where None: its top-level statements, and tables and dotted keys of that name. A setting set twice in the
    file keeps its first line; one not there goes after the last statement above the first table."""
    lines = text.splitlines()
    found = statements(lines)
    top = [s for s in found if not s.table]
    replaced: dict[int, str] = {}
    dropped: set[int] = set()
    added: list[str] = []
    for name, line in changes.items():
        own = [s for s in found if s.key == name and (line is None or not s.table)]
        if line is not None and own:
            first, own = own[0], own[1:]
            replaced[first.start] = with_comment_of(lines[first.start], line) if first.end - first.start == 1 \
                else line
            dropped.update(range(first.start + 1, first.end))
        elif line is not None:
            added.append(line)
        for statement in own:
            dropped.update(range(statement.start, statement.end))
    at = top[-1].end if top else _above_first_table(lines, found)
    if added and at < len(lines) and (_HEADER.match(lines[at]) or lines[at].strip().startswith("#")):
        added.append("")  # the new lines apart from the table (and its comment) after them
    out: list[str] = []
    for i, line in enumerate(lines):
        if i == at:
            out.extend(added)
        if i not in dropped:
            out.append(replaced.get(i, line))
    if at >= len(lines):
        out.extend(added)
    return "".join(line + "\n" for line in out)


def top_names(text: str) -> set[str]:
    """The names the file's statements set at its top level, and its tables' names, whether or not it reads."""
    return {s.key for s in statements(text.splitlines()) if s.key is not None}


def _above_first_table(lines: list[str], found: list[Statement]) -> int:
    """Where a first setting goes in a file with none: above the first table and the comments just above it."""
    tables = [s for s in found if s.table]
    if not tables:
        return len(lines)
    at = tables[0].start
    while at > 0 and lines[at - 1].strip().startswith("#"):
        at -= 1
    return at


def with_comment_of(line: str, setting: str) -> str:
    """`setting` in place of the setting on `line`, with the comment that ended it kept in its column (where the
    new value leaves room). A "#" inside a quoted value is no comment: the comment starts at the first "#" before
    which the line reads as the same setting alone."""
    try:
        whole = tomllib.loads(line)
    except tomllib.TOMLDecodeError:
        return setting
    for at in (i for i, ch in enumerate(line) if ch == "#"):
        try:
            alone = tomllib.loads(line[:at])
        except tomllib.TOMLDecodeError:
            continue
        if alone == whole:
            return f"{setting}{' ' * max(1, at - len(setting))}{line[at:]}"
    return setting
