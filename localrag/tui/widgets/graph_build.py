"""`graph build` in the library screen: a progress bar and a line under it, run by a thread worker.

The worker calls `Engine.graph_build`, the call `localrag graph build` makes, with the default
extraction settings; it posts its progress and the final report as messages, so no widget is
touched off the UI thread. The worker belongs to the screen (`run_worker` on it), so a failure
goes through the screen's `worker_failed` and the app's one error path like every other worker.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ProgressBar, Static

from localrag.safe_text import printable

if TYPE_CHECKING:
    from localrag.graph.extract import GraphBuildProgress, GraphBuildReport
    from localrag.tui.screens.base import LocalRagScreen

WORKER_GROUP = "graph-build"


class GraphBuildProgressed(Message):
    def __init__(self, progress: GraphBuildProgress) -> None:
        super().__init__()
        self.progress = progress


class GraphBuildFinished(Message):
    def __init__(self, report: GraphBuildReport) -> None:
        super().__init__()
        self.report = report


def duration_text(seconds: float | None) -> str:
    """Elapsed time or an ETA as 3m05s ("?" when not known yet), for the progress lines."""
    if seconds is None:
        return "?"
    return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"


def progress_line(p: GraphBuildProgress) -> Text:
    return Text.assemble(
        (f"{p.chunks_done}/{p.chunks_total} chunks", "bold"),
        f" · {p.triples} triples · {duration_text(p.elapsed)} elapsed · ETA {duration_text(p.eta)}\n",
        ("now: ", "dim"),
        printable(p.current, multiline=False),
    )


def report_text(report: GraphBuildReport) -> Text:
    from localrag.graph.extract import build_summary

    text = Text(("Graph build stopped: " if report.cancelled else "Graph built: ") + build_summary(report))
    for error in report.errors[:5]:
        text.append("\n  skipped: ", style="yellow")
        text.append(printable(error, multiline=False))
    return text


class GraphBuildPanel(Vertical):
    """Hidden until a build starts; shows its progress, then its report until the next one.

    `GraphBuildFinished` bubbles on to the screen, which tells the app (activity line, status).
    """

    DEFAULT_CSS = """
    GraphBuildPanel { height: auto; max-height: 19vh; padding: 0 1; display: none; }
    GraphBuildPanel.-shown { display: block; }
    GraphBuildPanel #graph-report { height: auto; max-height: 15vh; }
    GraphBuildPanel #graph-line { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cancel_event: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield ProgressBar(id="graph-progress", show_eta=False)
        # Scrolled as the ingest's report is (library.py); the panel's own bound keeps its auto height from taking
        # the report's whole height (its progress bar and the report's 15vh, rounded).
        with VerticalScroll(id="graph-report"):
            yield Static(id="graph-line")

    @property
    def running(self) -> bool:
        return self.cancel_event is not None

    def start(self, screen: LocalRagScreen) -> None:
        """Run a build for `screen` (which owns the worker); a second start while one runs is refused."""
        if self.cancel_event is not None:
            self.notify("A graph build is already running.", severity="warning")
            return
        cancel = self.cancel_event = threading.Event()
        self.add_class("-shown")
        self.query_one("#graph-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#graph-line", Static).update(Text("reading the chunks…", style="italic"))
        screen.localrag.set_activity("graph", "building the graph…")
        engine = screen.localrag.engine

        def progressed(progress: GraphBuildProgress) -> None:
            self.post_message(GraphBuildProgressed(progress))

        def build() -> None:
            self.post_message(GraphBuildFinished(engine.graph_build(progress=progressed, cancel=cancel)))

        screen.run_worker(build, thread=True, exclusive=True, group=WORKER_GROUP, exit_on_error=False)

    def stop(self) -> bool:
        """Ask a running build to stop after its current chunk; False when none runs."""
        if self.cancel_event is None:
            return False
        self.cancel_event.set()
        return True

    def failed(self) -> None:
        """The worker raised (the app shows the error): back to idle, keeping what was committed."""
        self.cancel_event = None
        self.query_one("#graph-line", Static).update(Text("Graph build failed; what it had built is kept.",
                                                          style="bold red"))

    def on_graph_build_progressed(self, message: GraphBuildProgressed) -> None:
        p = message.progress
        self.query_one("#graph-progress", ProgressBar).update(total=max(p.chunks_total, 1), progress=p.chunks_done)
        self.query_one("#graph-line", Static).update(progress_line(p))

    def on_graph_build_finished(self, message: GraphBuildFinished) -> None:
        self.cancel_event = None
        bar = self.query_one("#graph-progress", ProgressBar)
        if not message.report.cancelled:
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#graph-line", Static).update(report_text(message.report))
