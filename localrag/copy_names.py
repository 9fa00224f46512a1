"""Which of several files holding the same bytes is the original: the one whose name no copy mark ends.

Ordered by name alone, `fire drill - Copy.txt` and `fire drill (1).txt` came before `fire drill.txt` (a space and
"(" sort before "."), so an ingest's note called the original the copy, and a search cited whichever copy ranked
first. The marks are those that file managers, browsers and office suites add to a copy's name.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_COPY_MARK = re.compile(
    r"""(?: \s-\s copy (?:\s\(\d+\))?                   # Windows Explorer: "X - Copy", "X - Copy (2)"
          | \s\(\d+\)                                   # a second download, Windows' "keep both": "X (1)"
          | \s copy (?:\s\d+)?                          # macOS Finder: "X copy", "X copy 2"
          | \s\((?:another\s|\d+(?:st|nd|rd|th)\s)?copy\)  # GNOME Files: "X (copy)", "X (another copy)"
        )$
      | ^copy\s(?:\(\d+\)\s)?of\s                       # Google Drive, older Windows: "Copy of X", "Copy (2) of X"
    """,
    re.IGNORECASE | re.VERBOSE,
)


def copy_marks(path: str) -> int:
    """How many copy marks the file name of `path` bears (`X - Copy (1).txt`: 2), its extension aside."""
    name = PurePath(path).name
    suffix = PurePath(name).suffix
    # A "suffix" with a space in it is no extension: `v1.2 copy` is a copy of `v1.2`.
    stem = name if any(c.isspace() for c in suffix) else name[: len(name) - len(suffix)]
    marks = 0
    while True:
        bare = _COPY_MARK.sub("", stem, count=1)
        if bare == stem or not bare.strip():
            return marks
        stem, marks = bare, marks + 1


def original_first(path: str) -> tuple[int, str]:
    """The sort key that puts the original of several files of the same bytes first: fewest copy marks, then by
    path. Each place that picks one of such files (an ingest's note of copies, a search's hit) picks by it."""
    return copy_marks(path), path
