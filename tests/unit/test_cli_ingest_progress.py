"""What `localrag ingest` says on stderr while the progress bar is off (in a pipe)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from localrag.cli.console import make_console
from localrag.cli.everyday import _ingest
from localrag.types import EMBEDDER_EXPORT_ACTIVITY, IngestProgress, IngestReport


class FirstIngest:
    """An engine whose embedder is exported on this first load, as on a new home."""

    def ingest(self, paths: object, *, include: object, exclude: object,
               progress: Callable[[IngestProgress], None], force: bool, stale: bool, cancel: object) -> IngestReport:
        progress(IngestProgress(0, 0, 0, "", 0.0, None, EMBEDDER_EXPORT_ACTIVITY))
        progress(IngestProgress(1, 1, 3, "a.md", 0.1, None))
        return IngestReport(added=1, chunks_written=3, seconds=15.2)


def test_the_embedders_export_is_said_in_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    # The export takes seconds on a new home; with the bar off, a script's log showed nothing meanwhile.
    assert _ingest(FirstIngest(), [Path("a.md")], (), (), make_console(stderr=True)) == 0  # type: ignore[arg-type]
    assert capsys.readouterr().err.splitlines() == [
        f"{EMBEDDER_EXPORT_ACTIVITY}…",
        "1 added, 0 updated, 0 unchanged, 0 removed, 0 failed; 3 chunks written in 15.2s"]


def test_a_dumb_terminal_gets_the_lines_a_pipe_gets(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # An Emacs shell (TERM=dumb) draws no bar: it got neither the bar nor the lines, only a stray blank line.
    import io

    from rich.console import Console

    monkeypatch.setenv("TERM", "dumb")
    file = io.StringIO()
    err = Console(file=file, force_terminal=True, width=80)
    assert err.is_dumb_terminal
    assert _ingest(FirstIngest(), [Path("a.md")], (), (), err) == 0  # type: ignore[arg-type]
    assert file.getvalue().splitlines() == [
        f"{EMBEDDER_EXPORT_ACTIVITY}…",
        "1 added, 0 updated, 0 unchanged, 0 removed, 0 failed; 3 chunks written in 15.2s"]
