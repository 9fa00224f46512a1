"""Tables: boxed on a terminal, one tab-separated line per row in a pipe, however long a cell is."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Column
from rich.text import Text

from localrag.cli.tables import Rows

LONG = "/home/someone/Documents/a folder with a long name/" + "quarterly report " * 6 + ".pdf"


def _rows() -> Rows:
    table = Rows("run", Column("questions", justify="right"), title="runs")
    table.add(LONG, "40")
    table.add(Text("two\tcells\nand a line", style="bold"), "[red]7[/]\x1b[2J")
    return table


def test_a_pipe_gets_one_line_per_row_with_tabs() -> None:
    file = io.StringIO()
    _rows().print(Console(file=file, width=80))
    lines = file.getvalue().splitlines()
    assert lines[:3] == ["runs", "run\tquestions", f"{LONG}\t40"]
    assert lines[3].startswith("two cells and a line\t[red]7[/]") and "\x1b" not in lines[3]


def test_a_terminal_gets_the_boxed_table_with_cells_as_written() -> None:
    file = io.StringIO()
    _rows().print(Console(file=file, width=200, force_terminal=True, color_system=None))
    text = file.getvalue()
    assert "┃ run" in text and LONG in text and "[red]7[/]" in text and "\t" not in text


def test_a_cell_holding_control_characters_keeps_the_table_s_borders() -> None:
    # The console made them printable after Rich's layout: an ESC counted as no width, was shown one wide, and
    # its row lost its right border and columns.
    table = Rows("path", "title")
    table.add("/notes/budget.md", "Budget " + "\x1b" * 20 + " end")
    table.add("/notes/plain.md", "plain")
    out = io.StringIO()
    table.print(Console(file=out, force_terminal=True, width=100, color_system=None))
    lines = out.getvalue().splitlines()
    assert "␛" * 20 in out.getvalue() and len({len(line) for line in lines}) == 1
