"""Tables: boxed on a terminal, one tab-separated line per row in a pipe or on a dumb terminal (TERM=dumb).

In a pipe a rich table keeps its box characters and padding, which a script must strip, and it wraps a
cell wider than the 80 columns rich assumes there, so a long file or run name lands on two lines and
no longer greps. There each row is one line instead, its cells joined by tabs as `models` prints them:
the title (when there is one) first, then the header line, then the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from localrag.safe_text import printable

Cell = str | Text


def plain(out: Console) -> bool:
    """Whether `out` takes a table as plain lines, one a row: a pipe, or a dumb terminal (TERM=dumb: an Emacs shell,
    a screen reader's set-up), where box characters are read aloud and a 191-character path folded into ten
    20-character pieces helps no one."""
    return not out.is_terminal or out.is_dumb_terminal


class Rows:
    """A table's headers, title and rows, printed for where stdout goes."""

    def __init__(self, *headers: str | Column, title: str = "", boxed: bool = True, turned: bool = False,
                 whole: Sequence[int] = ()) -> None:
        """`turned`: on a terminal narrower than the table, each row becomes a column (a few rows of many figures,
        an eval's): rich cut every cell to fit, the figures to "66…" and two headers both to "citati…". `whole`:
        the columns never cut, the others giving way (an id the next command needs: "20261206…" at 80 columns)."""
        self.headers = headers
        self.title = title
        self.boxed = boxed
        self.turned = turned
        self.whole = whole
        self.rows: list[Sequence[Cell]] = []

    def add(self, *cells: Cell) -> None:
        self.rows.append(cells)

    def print(self, out: Console) -> None:
        if not plain(out):
            table = self._table()
            if self.turned and self._too_wide(table, out):
                table = self._turned(self.rows)
                if self._too_wide(table, out) and len(self.rows) > 1:  # a table for each row then
                    for row in self.rows:
                        out.print(self._turned([row]))
                    return
            out.print(table)
            return
        lines = [self.title] if self.title else []
        lines += [_line(h.header if isinstance(h, Column) else h for h in self.headers)]
        lines += [_line(row) for row in self.rows]
        out.file.write("".join(line + "\n" for line in lines))
        out.file.flush()

    def _table(self) -> Table:
        title = self.title or None
        # Unboxed: a short list (collections) reads as plain aligned lines.
        table = (Table(*self.headers, title=title) if self.boxed
                 else Table(*self.headers, title=title, box=None, pad_edge=False))
        for row in self.rows:
            # Text cells, never markup: they hold file names, relations and run names as written. Made printable
            # here, before the layout: the console's own pass comes after it, and an ESC that counted as no width
            # shown as a one-wide picture pushed the row past its border.
            table.add_row(*(_shown(c) for c in row))
        for at in self.whole:
            column = table.columns[at]
            column.no_wrap = True
            column.min_width = max((len(_shown(row[at]).plain) for row in self.rows), default=0)
        return table


    @staticmethod
    def _too_wide(table: Table, out: Console) -> bool:
        return out.measure(table, options=out.options.update_width(10**6)).maximum > out.width

    def _turned(self, rows: Sequence[Sequence[Cell]]) -> Table:
        """`rows` as columns: a header per line, then each row's cell for it."""
        table = Table("", *([""] * len(rows)), title=self.title or None, show_header=False)
        names = [h.header if isinstance(h, Column) else h for h in self.headers]
        for at, name in enumerate(names):
            table.add_row(_shown(name if isinstance(name, Text) else str(name)), *(_shown(row[at]) for row in rows))
        return table


def _shown(cell: Cell) -> Text:
    if isinstance(cell, Text):
        shown = cell.copy()
        shown.plain = printable(cell.plain)
        return shown
    return Text(printable(cell))


def _line(cells: Iterable[object]) -> str:
    """Cells joined by tabs; a tab or line break inside a cell would split it, so each becomes a space, and
    any other control character (a cell can hold a document's text) a visible one."""
    plain = (c.plain if isinstance(c, Text) else str(c) for c in cells)
    return "\t".join(printable(" ".join(p.replace("\t", " ").splitlines()), multiline=False) for p in plain)
