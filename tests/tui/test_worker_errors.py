"""The one error path of the app's workers: a worker that raises shows the error and logs the traceback."""

from __future__ import annotations

import pytest
from conftest import wait_for
from fakes import FakeEngine
from textual.widgets import Input, Static

from localrag.tui.app import LocalRagApp
from localrag.tui.failures import log_file
from localrag.tui.screens.dialogs import ErrorScreen
from localrag.tui.screens.library import LibraryScreen

pytestmark = pytest.mark.anyio


def _modal_text(app: LocalRagApp) -> str:
    return " ".join(str(s.render()) for s in app.screen.query(Static))


async def test_app_worker_that_raises_shows_error_and_logs_traceback(fake_engine: FakeEngine) -> None:
    def broken_warm_up() -> None:
        raise RuntimeError("torch import blew up")

    fake_engine.warm_up = broken_warm_up  # type: ignore[method-assign]
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        # The modal is the screen a moment before its text is composed: on a loaded machine the text was read empty.
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen) and "while" in _modal_text(app))
        shown = _modal_text(app)
        assert "while loading the models" in shown
        assert "unexpected RuntimeError: torch import blew up" in shown
        assert app.activity == "models not loaded" and app.is_running
    logged = log_file().read_text(encoding="utf-8")
    assert "failed while loading the models" in logged
    assert "Traceback (most recent call last)" in logged and "in broken_warm_up" in logged
    assert "RuntimeError: torch import blew up" in logged


async def test_screen_worker_that_raises_resets_its_screen(fake_engine: FakeEngine) -> None:
    def broken_ingest(*args: object, **kwargs: object) -> None:
        raise OSError("disk on fire")

    fake_engine.ingest = broken_ingest  # type: ignore[method-assign, assignment]
    app = LocalRagApp(fake_engine, warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        library.query_one("#paths", Input).value = "/new/a.md"
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen) and "while" in _modal_text(app))
        assert "while ingesting" in _modal_text(app)
        await pilot.press("escape")
        # The screen's own hook ran: the ingest is over, as after a cancelled one.
        await wait_for(pilot, lambda: library.cancel_event is None and not library.has_class("-ingesting"))
        assert app.activity == "" and app.is_running
    assert "OSError: disk on fire" in log_file().read_text(encoding="utf-8")
