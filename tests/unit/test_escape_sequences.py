"""Escape sequences from documents and file names never reach the terminal, in the CLI or the app."""

from __future__ import annotations

import pytest
from rich.table import Table
from rich.text import Text

from localrag.cli.console import make_console
from localrag.conversations import SavedSource, Turn
from localrag.tui.screens.chunk import highlighted_text
from localrag.tui.widgets.sources import source_label

CSI = "\x1b[41m"
OSC = "\x1b]0;pwned\x07"
NAME = "/docs/" + "long-name-" * 30 + f"{CSI}x.md"


def test_cli_consoles_show_escapes_and_do_not_wrap_in_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    out, err = make_console(), make_console(stderr=True)
    out.print(Text(f"[1] {NAME} — Heading {OSC} \x9b2J"))
    table = Table("name", "path")
    table.add_row(Text(f"model{CSI}"), Text(NAME))
    out.print(table)
    err.print(Text(f"skipped: {NAME}: not valid UTF-8 text", style="yellow"))
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert "\x1b" not in stream and "\x07" not in stream and "\x9b" not in stream
        assert "\u241b[41mx.md" in stream
    assert captured.err.count("\n") == 1  # one line however long, so grep finds the name
    assert captured.out.splitlines()[0].startswith("[1] /docs/long-name-")


def test_sources_panel_and_chunk_viewer_show_escapes() -> None:
    source = SavedSource(1, "d:00000", "d", NAME, f"Text {OSC} with {CSI}colour.", heading=f"Head {CSI}")
    turn = Turn("assistant", "answer", sources=[source])
    label = source_label(source, turn).plain
    assert "\x1b" not in label and "\u241b" in label
    shown = highlighted_text(source, turn).plain
    assert "\x1b" not in shown and "\x07" not in shown and len(shown) == len(source.text)


def test_ingest_progress_line_shows_escapes() -> None:
    from localrag.tui.screens.library import progress_line
    from localrag.types import IngestProgress

    for activity in ("", f"OCR {NAME} page 1/2"):
        shown = progress_line(IngestProgress(1, 2, 3, NAME, 1.0, 2.0, activity)).plain
        assert "\x1b" not in shown and "\u241b[41mx.md" in shown
