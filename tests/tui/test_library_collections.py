"""The Library screen's collection picker and watch switch, over the real Engine and a real watcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for
from textual.widgets import DataTable, Input, Label, Select, Switch

from localrag.config import load_settings
from localrag.engine import Engine
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.dialogs import PromptScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.widgets.status import StatusBar

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def engine(localrag_home: Path, real_embedder: Any, real_generator: Any) -> Iterator[Engine]:
    yield Engine(load_settings(), embedder=real_embedder, generator=real_generator)


async def test_watch_switch_and_collection_picker(engine: Engine, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.activity != "loading models…", 180)
        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        table = library.query_one("#documents", DataTable)
        state = library.query_one("#watch-state", Label)

        library.query_one("#paths", Input).value = str(notes)
        library.query_one("#watch", Switch).value = True
        await wait_for(pilot, lambda: table.row_count == 1, 60)  # watching starts with a catch-up ingest
        assert "watching 1 folder" in str(state.render())
        (notes / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
        await wait_for(pilot, lambda: table.row_count == 2, 60)
        library.query_one("#watch", Switch).value = False
        await wait_for(pilot, lambda: "not watching" in str(state.render()))
        assert engine.watched_folders() == [notes.resolve()]

        library.query_one("#new-collection").press()
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = "work"
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.settings.collection == "work" and table.row_count == 0, 30)
        picker = library.query_one("#collection", Select)
        await wait_for(pilot, lambda: picker.value == "work")
        assert engine.watched_folders() == []  # folders are remembered per collection
        bar = library.query_one(StatusBar)
        await wait_for(pilot, lambda: "in work" in str(bar.render()))

        picker.value = "default"
        await wait_for(pilot, lambda: engine.settings.collection == "default" and table.row_count == 2, 30)
