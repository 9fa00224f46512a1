"""Google Keep notes as Google Takeout exports them: one `.json` file a note, read as the note Keep shows.

A Keep note's JSON holds its `title`, its text (`textContent`) or its checklist (`listContent`: items of `text` and
`isChecked`), `labels`, its times in microseconds, whether it is pinned, archived or in the trash, and its links
(`annotations`) and attachments (files beside it in the Takeout folder, read as files of their own). Read as code,
as other JSON is, a note was titled "Groceries.json" and an extract quoted `{"color": "DEFAULT", "isTrashed":
false, ...`. Only a file of that exact shape is a note (an object with Keep's flags and times, and a text or a
checklist); any other JSON stays code. A note in Keep's trash is read, its opening lines say so, and the ingest
names it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from typing import Any

from localrag.ingest.structure import HeadingPath, TextBuilder, prose_kind, squash
from localrag.types import LoadedText

# The keys every Keep note has; a note holds its text in one of the other two.
_KEEP_KEYS = frozenset({"isTrashed", "isPinned", "isArchived", "userEditedTimestampUsec"})
_TEXT_KEYS = ("textContent", "listContent")
# A Keep note is small (Keep allows 20,000 characters): a larger JSON file is never parsed to ask.
_MOST_CHARS = 1 << 20


def _is_note(data: object) -> bool:
    if not isinstance(data, dict) or not _KEEP_KEYS <= data.keys() or not any(k in data for k in _TEXT_KEYS):
        return False
    items = data.get("listContent", [])
    return (isinstance(data.get("title", ""), str) and isinstance(data.get("textContent", ""), str)
            and isinstance(items, list) and all(isinstance(item, dict) for item in items)
            and all(isinstance(data[key], bool) for key in ("isTrashed", "isPinned", "isArchived")))


def _when(microseconds: object) -> str:
    if not isinstance(microseconds, int | str) or not str(microseconds).isdigit():
        return ""
    try:
        return datetime.fromtimestamp(int(microseconds) / 1e6, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return ""


def _names(entries: object, key: str) -> list[str]:
    """`entries`' `key` values: a label's name, an attachment's file."""
    if not isinstance(entries, list):
        return []
    return [squash(str(entry[key])) for entry in entries if isinstance(entry, dict) and entry.get(key)]


def keep_note(text: str, fallback_title: str) -> LoadedText | None:
    """The Keep note in `text` (a `.json` file's text), or None when it is not one."""
    stripped = text.lstrip()
    if len(text) > _MOST_CHARS or not stripped.startswith("{") or '"userEditedTimestampUsec"' not in text:
        return None
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not _is_note(data):
        return None
    title = squash(data.get("title", "")) or fallback_title
    out = TextBuilder()
    path = HeadingPath().enter(0, title)
    out.add(title, "heading", path)
    state = [name for name, key in (("pinned", "isPinned"), ("archived", "isArchived"),
                                    ("in the trash", "isTrashed")) if data[key]]
    opening = [("Edited", _when(data.get("userEditedTimestampUsec"))),
               ("Created", _when(data.get("createdTimestampUsec"))),
               ("Labels", ", ".join(_names(data.get("labels"), "name"))),
               ("In Keep", ", ".join(state)),
               ("Attachments", ", ".join(_names(data.get("attachments"), "filePath")))]
    out.add("\n".join(f"{label}: {value}" for label, value in opening if value), "paragraph", path)
    for block in re.split(r"\n[ \t]*\n", data.get("textContent", "").replace("\r\n", "\n")):
        out.add(block, prose_kind(block.strip()), path)
    items = [f"{'☑' if item.get('isChecked') is True else '☐'} {squash(str(item.get('text', '')))}"
             for item in data.get("listContent", []) if squash(str(item.get("text", "")))]
    out.add("\n".join(items), "list", path)
    links = [" ".join(part for part in (squash(str(link.get(k, ""))) for k in ("title", "url")) if part)
             for link in data.get("annotations") or [] if isinstance(link, dict)]
    out.add("\n".join(f"Link: {link}" for link in links if link), "paragraph", path)
    loaded = out.build(title)
    said = "a note in Google Keep's trash, read all the same (exclude the file to leave it out)"
    return dataclasses.replace(loaded, left_out=said) if data["isTrashed"] else loaded
