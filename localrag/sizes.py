"""How a size in bytes, or a count of things, reads in a listing or a message, the same in every front end."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def size_text(size: int) -> str:
    """A size for a listing, in the unit that shows it best (decimal units: 42.6 kB, 3.4 MB, 1.25 GB)."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6)):
        if size < scale * 999.95:  # what would round up to 1000.0 reads in the next unit
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1e9:.2f} GB"


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder` (links not followed; a file gone while counted is passed over)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def megabytes(size: int) -> str:
    """A size for a message: whole MB, with a decimal below 10 MB (a small write is not "0 MB"), in kB below 0.1 MB
    ("writing 1 chunk needs about 0.0 MB more" read as needing nothing)."""
    if 0 < size < 0.1e6:
        return f"{max(1, round(size / 1e3))} kB"
    return f"{size / 1e6:,.0f} MB" if size >= 10e6 else f"{size / 1e6:.1f} MB"


def count_text(n: int, one: str, many: str = "") -> str:
    """A count with its noun: "1 chunk", "3 chunks", "2 entities" (`many` where the plural is not one + "s")."""
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"


def some_of(items: Sequence[str], shown: int = 3, counted: str = "") -> str:
    """The first `shown` of `items` for a note, ", ..." for the rest: a list of a folder's files made a line of
    thousands of characters (`ingest`'s notes, `forget`'s report). `counted`: what the items are, where how many
    the rest are matters ("a.md, b.md, c.md and 46 more files": a hit's copies, `cli.search.copies_note`)."""
    rest = len(items) - shown
    if rest <= 0:
        return ", ".join(items)
    return ", ".join(items[:shown]) + (f" and {count_text(rest, f'more {counted}')}" if counted else ", ...")


def points_figures(value: float, low: float, high: float) -> tuple[str, str, str]:
    """A difference of two fractions and its interval's bounds in percentage points, signed: ("+4.1", "+1.2", "+7.0").
    One decimal, more (up to 4) where a bound of an interval wholly above or below 0 would read 0: 5 better answers
    of 50 read "+0.1 [+0.0, +0.2]" beside "better (the interval lies above 0)", which it seemed to contradict. A bound
    nearer 0 than that is written in e-notation, still not 0."""
    edge = low if low > 0 else high if high < 0 else 0.0
    decimals = 1
    while decimals < 4 and float(f"{100 * edge:.{decimals}f}") == 0 != edge:
        decimals += 1

    def shown(x: float) -> str:
        text = f"{100 * x:+.{decimals}f}"
        return f"{100 * x:+.2g}" if x == edge != 0 and float(text) == 0 else text

    return shown(value), shown(low), shown(high)
