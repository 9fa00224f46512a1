"""JSON Lines, read and written one way everywhere: question sets, RAFT sets, chat data, evaluation records.

Reading: UTF-8 (a byte-order mark is allowed, as spreadsheet exports write one), blank lines skipped,
line numbers counted from 1 so an error names `file:line`. A loader raises its own LocalRagError
subclass (`error=`) so the message reaches the user under its title; tolerant readers (one bad row
must not stop an import) call `parse_object` per line and keep the reason. `complete_only` drops a
last line that has no newline: what a killed appender leaves behind.

Writing: one object a line, UTF-8 as is (`ensure_ascii=False`, names stay readable); `write_jsonl`
replaces the file atomically, `append_jsonl` adds one whole line with one `write` and fsyncs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from localrag.atomic import write_text_atomic
from localrag.errors import LocalRagError

HINT = "write one JSON object per line"


class JsonlError(LocalRagError):
    title = "JSON Lines file"


def parse_object(line: str) -> dict[str, Any]:
    """One line as a JSON object; ValueError with a short reason ("not valid JSON: ...") otherwise."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"a JSON {type(value).__name__}, not an object")
    return value


def read_jsonl(
    path: Path, *, error: type[LocalRagError] = JsonlError, hint: str = HINT, complete_only: bool = False,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of `path`; `error` naming file:line for a bad one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})", "check the path") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text", "save the file as UTF-8") from exc
    lines = text.split("\n")
    # split() leaves "" after a final newline; without one, the last element is an unfinished line.
    last = lines.pop()
    if last and not complete_only:
        lines.append(last)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, parse_object(line)
        except ValueError as exc:
            raise error(f"{path}:{number}: not a JSON object ({exc})", hint) from exc


def jsonl_text(records: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Replace `path` with the records, atomically (a reader sees the old file or the new one)."""
    write_text_atomic(Path(path), jsonl_text(records))


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Add one record as a whole line in one write, fsynced: a kill loses at most this line, never a half of it
    followed by more."""
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(Path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
