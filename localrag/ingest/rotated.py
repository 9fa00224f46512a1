"""Rotated logs: the extension a file is read by, which is its own but for a log that logrotate or syslog numbered.

A rotated log keeps its name and takes a number, `app.log.1`, `backup.log.2`, and is read as the .log it was: before
2026-12-08 its `.1` was a type no reader took, so every rotated log was passed over ("passed over 5 files of types
localrag does not read (.1 2, .2 1, ...)"). `syslog.1` and `messages.1` are rotated too, but `syslog.3` is also the
man page's source: those are logs only where their first line opens as a syslog line does, with a date (`Dec  7
13:43:52` or `2026-12-07T13:43:52`). A compressed one (`app.log.2.gz`) stays unread, as every .gz is.
"""

from __future__ import annotations

import re
from pathlib import Path

_ROTATED_LOG = re.compile(r".+\.log\.\d+", re.IGNORECASE)
_ROTATED_SYSLOG = re.compile(r"(?:syslog|messages)\.\d+")
_SYSLOG_LINE = re.compile(rb"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)[ .+\-Z\d:]")


def reads_as(path: Path) -> str:
    """The extension the file at `path` is read by, in lower case: its own, or `.log` for a rotated log."""
    name = path.name
    if _ROTATED_LOG.fullmatch(name):
        return ".log"
    if _ROTATED_SYSLOG.fullmatch(name):
        try:
            with path.open("rb") as file:
                if _SYSLOG_LINE.match(file.read(64)):
                    return ".log"
        except OSError:  # gone or unreadable: judged by its name, as any other file
            pass
    return path.suffix.lower()
