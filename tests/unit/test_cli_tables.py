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


def test_a_table_of_many_figures_too_wide_for_the_terminal_turns_its_rows_into_columns() -> None:
    # Cut to fit 80 columns, every figure read "66…" and two headers both "citati…".
    table = Rows("model", "mode", *[f"citation measure {n}" for n in range(10)], turned=True)
    table.add("SmolLM2-135M-Instruct.Q4_1", "rag", *[f"{66.7 + n:.1f} [50.1, 80.2]" for n in range(10)])
    file = io.StringIO()
    table.print(Console(file=file, width=80, force_terminal=True, color_system=None))
    text = file.getvalue()
    assert "…" not in text and "citation measure 9" in text and "75.7 [50.1, 80.2]" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    wide = io.StringIO()
    table.print(Console(file=wide, width=400, force_terminal=True, color_system=None))
    assert "┃ model" in wide.getvalue()  # it fits: as it was
    for mode in ("extract", "graph"):  # rows too many to turn into columns: a table for each
        table.add("SmolLM2-135M-Instruct.Q4_1", mode, *[f"{66.7 + n:.1f} [50.1, 80.2]" for n in range(10)])
    three = io.StringIO()
    table.print(Console(file=three, width=80, force_terminal=True, color_system=None))
    assert "…" not in three.getvalue() and three.getvalue().count("SmolLM2-135M-Instruct.Q4_1") == 3


def test_a_whole_column_keeps_an_id_the_next_command_needs() -> None:
    # At 80 columns `eval list` showed its run as "20261206…", the one cell a user types next.
    table = Rows("run", "data set", "status", "started", "questions", "models", "modes", whole=(0,))
    table.add("20261206-204448-q", "covid-qa questions of the shared data", "finished", "2026-12-06T20:44:48",
              "200", "SmolLM2-135M-Instruct.Q4_1, qwen2.5-0.5b", "rag, extract, graph")
    file = io.StringIO()
    table.print(Console(file=file, width=80, force_terminal=True, color_system=None))
    assert "20261206-204448-q" in file.getvalue()


def test_a_folding_column_keeps_a_long_path_whole_on_a_narrow_terminal() -> None:
    table = Rows(Column("document", overflow="fold"), "type")
    table.add(LONG, "pdf")
    file = io.StringIO()
    table.print(Console(file=file, width=60, force_terminal=True, color_system=None))
    cells = "".join(line.split("│")[1].strip() for line in file.getvalue().splitlines() if line.startswith("│"))
    assert "…" not in file.getvalue() and cells.replace(" ", "").startswith(LONG.replace(" ", ""))


def test_a_dumb_terminal_gets_the_pipe_s_lines() -> None:
    # TERM=dumb (an Emacs shell, a screen reader's set-up): box characters, and a long path folded into pieces.
    file = io.StringIO()
    _rows().print(Console(file=file, width=80, force_terminal=True, _environ={"TERM": "dumb"}))
    assert file.getvalue().splitlines()[:3] == ["runs", "run\tquestions", f"{LONG}\t40"]
