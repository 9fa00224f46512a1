"""The one error path of the app's workers: a worker that raises shows the error and logs the traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_for
from disks import fill_disk
from fakes import FakeEngine
from textual.widgets import Input, Static

from localrag.tui.app import LocalRagApp
from localrag.tui.failures import log_file
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.dialogs import ErrorScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.widgets.chat import AnswerView

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


async def test_a_full_disk_is_said_with_its_free_space_when_saving_and_exporting(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app said "could not save the conversation ([Errno 28] No space left on device)" and to "check the data
    folder is writable", which it was; the CLI says the disk is full, with its free space, and what to do."""
    monkeypatch.setenv("LOCALRAG_HOME", str(small_disk / "home"))
    app = LocalRagApp(FakeEngine(), warm_up=False)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        fill_disk(small_disk, leave=0)
        chat.query_one("#question", Input).value = "how do I descale the kettle?"
        chat.query_one("#question", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen) and "while" in _modal_text(app))
        shown = _modal_text(app)
        assert "No room to write while saving" in shown
        assert f"could not save the conversation: the disk is full ({small_disk / 'home' / 'data'}: 0.0 MB free" \
            in shown and "free space on the full disk" in shown and "writable" not in shown
        while isinstance(app.screen, ErrorScreen):  # the answer's turn could not be saved either
            await pilot.press("escape")
            await pilot.pause(0.1)
        await wait_for(pilot, lambda: bool(chat.query(AnswerView)) and not chat.generating)
        await pilot.press("escape")
        while isinstance(app.screen, ErrorScreen):
            await pilot.press("escape")
            await pilot.pause(0.1)
        chat.query_one("#question", Input).focus()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen) and "while" in _modal_text(app))
        shown = _modal_text(app)
        assert "No room to write while exporting" in shown and "could not write the export: the disk is full (" in shown


async def test_a_worker_stopped_by_a_full_disk_says_so_not_that_it_is_a_bug(
    small_disk: Path, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALRAG_HOME", str(small_disk / "home"))
    def ingest_onto_a_full_disk(*args: object, **kwargs: object) -> None:
        (small_disk / "chunks").write_bytes(b"\0" * 2**16)

    fill_disk(small_disk, leave=0)
    fake_engine.ingest = ingest_onto_a_full_disk  # type: ignore[method-assign, assignment]
    app = LocalRagApp(fake_engine, warm_up=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        app.screen.query_one("#paths", Input).value = "/new/a.md"
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen) and "while" in _modal_text(app))
        shown = _modal_text(app)
        assert "No room to write while ingesting the disk is full (" in shown and "0.0 MB free" in shown
        assert "bug" not in shown
