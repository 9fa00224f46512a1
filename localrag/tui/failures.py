"""Where the chat app writes the tracebacks of failed workers: the Textual log and a file in the data dir.

The user sees the one-line error in a modal; the traceback is for a bug report, so it goes to a file
the user can attach (`tui.log` in the data dir) as well as to the Textual log (`textual console`).
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path

from localrag.paths import data_dir


def log_file() -> Path:
    return data_dir() / "tui.log"


def log_traceback(error: BaseException, action: str) -> None:
    """Append `error`'s traceback to the log file; a log that cannot be written must not hide the error."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"{stamp} failed while {action or 'working'}\n{text}\n")
    except OSError:
        pass  # the modal still shows the error; the Textual log still has the traceback
