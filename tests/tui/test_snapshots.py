"""SVG snapshots of the chat, sources (chunk viewer), ingest and model screens at 80x24 and 120x40.

They use the FakeEngine, whose answers, documents and timings are fixed, so the pictures are the
same on every run. Update them after an intended change with `pytest tests/tui --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from conftest import wait_for
from fakes import FakeEngine
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList

from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.widgets.sources import SourcesPanel

SIZES = [(80, 24), (120, 40)]


async def _answered(pilot: Pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.engine_status is not None)  # type: ignore[attr-defined]
    chat = app.screen
    assert isinstance(chat, ChatScreen)
    question = chat.query_one("#question", Input)
    # A blinking cursor is drawn or not depending on when the frame is taken: keep it drawn.
    question.cursor_blink = False
    question.value = "How often should I descale the kettle?"
    question.focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: chat.conversation is not None and len(chat.conversation.turns) == 2)
    # Under load the last Markdown re-render and the log's scroll-to-end can trail the message.
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)


async def _source_open(pilot: Pilot) -> None:
    await _answered(pilot)
    panel = pilot.app.screen.query_one(SourcesPanel)
    panel.focus()
    panel.highlighted = 0
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ChunkScreen))
    await pilot.pause()


async def _ingested(pilot: Pilot) -> None:
    await pilot.press("f3")
    screen = pilot.app.screen
    screen.query_one("#paths", Input).value = "/new/notes.md"
    await pilot.press("ctrl+g")
    table = screen.query_one("#documents", DataTable)
    await wait_for(pilot, lambda: screen.cancel_event is None and table.row_count == 4)  # type: ignore[attr-defined]
    table.focus()
    await pilot.pause()


async def _models(pilot: Pilot) -> None:
    await pilot.press("f4")
    box = pilot.app.screen.query_one("#models", OptionList)
    await wait_for(pilot, lambda: box.option_count == 3)
    box.focus()
    await pilot.pause()


SCENES: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "chat": _answered,
    "sources": _source_open,
    "ingest": _ingested,
    "models": _models,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", list(SCENES))
def test_snapshot(snap_compare, scene: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = LocalRagApp(FakeEngine())
    assert snap_compare(app, terminal_size=size, run_before=SCENES[scene])
