"""The chat app's graph features over a FakeEngine: `graph build` from the library screen."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from conftest import wait_for
from fake_engine import FakeEngine
from textual.widgets import ProgressBar, Static

from localrag.errors import LocalRagError
from localrag.graph.extract import GraphBuildProgress, GraphBuildReport
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.dialogs import ErrorScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.widgets.graph_build import GraphBuildPanel

pytestmark = pytest.mark.anyio


@dataclass
class BuildingEngine(FakeEngine):
    """FakeEngine whose graph build reports two chunks, can be held after the first, and can fail."""

    hold_build: threading.Event | None = None
    build_error: LocalRagError | None = None
    builds: list[bool] = field(default_factory=list)

    def graph_build(self, *, progress=None, cancel=None, config=None) -> GraphBuildReport:  # type: ignore[no-untyped-def]
        if self.build_error is not None:
            raise self.build_error
        progress(GraphBuildProgress(1, 2, 3, "/docs/kettle-manual.md", 1.0, 1.0))
        if self.hold_build is not None:
            self.hold_build.wait(10)
        stopped = cancel.is_set()
        if not stopped:
            progress(GraphBuildProgress(2, 2, 5, "/docs/<b>bold</b>.md", 2.0, 0.0))
        self.builds.append(stopped)
        return GraphBuildReport(chunks_total=2, chunks_extracted=1 if stopped else 2, triples_added=3 if stopped else 5,
                                cancelled=stopped, seconds=2.0)


async def test_graph_build_from_the_library_shows_progress_and_the_report() -> None:
    engine = BuildingEngine(hold_build=threading.Event())
    app = LocalRagApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        panel = library.query_one(GraphBuildPanel)
        assert not panel.display
        await pilot.press("ctrl+b")
        bar = panel.query_one("#graph-progress", ProgressBar)
        await wait_for(pilot, lambda: bar.progress == 1)
        assert panel.display and bar.total == 2 and app.activity == "building the graph…"
        assert "1/2 chunks · 3 triples" in str(panel.query_one("#graph-line", Static).render())
        engine.hold_build.set()  # type: ignore[union-attr]
        await wait_for(pilot, lambda: not panel.running)
        line = str(panel.query_one("#graph-line", Static).render())
        assert line.startswith("Graph built: 2 chunks read") and "5 triples" in line
        assert bar.progress == 2 and app.activity == ""

        # Pressed again while running, the binding stops the build after its current chunk.
        engine.hold_build = threading.Event()
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: bar.progress == 1 and panel.running)
        await pilot.press("ctrl+b")
        engine.hold_build.set()
        await wait_for(pilot, lambda: not panel.running)
        assert engine.builds == [False, True]
        assert str(panel.query_one("#graph-line", Static).render()).startswith("Graph build stopped:")


async def test_a_failed_graph_build_is_shown_once_and_the_panel_can_run_again() -> None:
    engine = BuildingEngine(build_error=LocalRagError("the model file is damaged", "pull it again"))
    app = LocalRagApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        panel = library.query_one(GraphBuildPanel)
        assert not panel.running and app.activity == ""
        assert "failed" in str(panel.query_one("#graph-line", Static).render())
