"""The Library screen's collection picker and watch switch, over the real Engine and a real watcher."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for
from textual.widgets import DataTable, Input, Label, Select, Switch

from localrag.config import load_settings
from localrag.conversations import SavedSource, Turn
from localrag.engine import Engine
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.dialogs import PromptScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.widgets.status import StatusBar

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def engine(localrag_home: Path, real_embedder: Any, real_generator: Any) -> Iterator[Engine]:
    yield Engine(load_settings(), embedder=real_embedder, generator=real_generator)


def _notes(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    return notes


async def _library(app: LocalRagApp, pilot: Any) -> LibraryScreen:
    """The Library, once the models are loaded."""
    await wait_for(pilot, lambda: app.activity != "loading models…", 180)
    await pilot.press("f3")
    library = app.screen
    assert isinstance(library, LibraryScreen)
    return library


async def test_watch_switch_and_collection_picker(engine: Engine, tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        library = await _library(app, pilot)
        table = library.query_one("#documents", DataTable)
        state = library.query_one("#watch-state", Label)

        # A mistyped folder was passed over, and the remembered folders watched in its place: the CLI's refusal.
        engine.remember_watched([tmp_path])
        library.query_one("#paths", Input).value = str(notes) + "x"
        library.query_one("#watch", Switch).value = True
        await wait_for(pilot, lambda: not library.query_one("#watch", Switch).value)
        assert any(f"{notes}x: not a folder" in str(n.message) for n in app._notifications)
        assert library.watch_stop is None
        engine.remember_watched([])

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
        assert load_settings().collection == "work"  # kept for the next start, as a model switch is
        bar = library.query_one(StatusBar)
        await wait_for(pilot, lambda: "in work" in str(bar.render()))

        picker.value = "default"
        await wait_for(pilot, lambda: engine.settings.collection == "default" and table.row_count == 2, 30)


async def test_a_file_deleted_from_a_watched_folder_is_erased_from_the_open_conversation(
    localrag_home: Path, real_embedder: Any, real_generator: Any, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    salary = notes / "salary.md"
    salary.write_text("# Pay\n\nThe chief executive earns 410,000 euros a year.\n")
    (notes / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    engine = Engine(load_settings(watch_purge=True), embedder=real_embedder, generator=real_generator)
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        conversation = app.conversations.new()
        conversation.add_question("What does the chief executive earn?")
        conversation.turns.append(Turn("assistant", "410,000 euros a year [1].", sources=[
            SavedSource(1, "c1", "d1", str(salary.resolve()), "The chief executive earns 410,000 euros a year.",
                        cited=True),
            SavedSource(2, "c2", "d2", str((notes / "pier.md").resolve()), "The pier closes at dusk.")]))
        app.conversations.save(conversation)
        await chat.open_conversation(app.conversations.load(conversation.id))

        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        table = library.query_one("#documents", DataTable)
        library.query_one("#paths", Input).value = str(notes)
        library.query_one("#watch", Switch).value = True
        await wait_for(pilot, lambda: table.row_count == 2, 60)
        salary.unlink()
        await wait_for(pilot, lambda: table.row_count == 1, 60)
        saved = app.conversations.load(conversation.id).turns[1].sources
        assert saved[0].purged and not saved[0].text and saved[1].text == "The pier closes at dusk."
        # The conversation held open in the chat lost it too, so its next save cannot write it back.
        await wait_for(pilot, lambda: chat.conversation is not None and chat.conversation.turns[1].sources[0].purged)
        assert chat.conversation is not None and chat.conversation.turns[1].sources[1].text
        library.query_one("#watch", Switch).value = False


async def test_a_collection_renamed_or_deleted_by_another_command_while_the_library_shows_it(
    engine: Engine, tmp_path: Path
) -> None:
    """Renamed from another terminal, the Library failed on every visit with "collection 'work' does not exist",
    and each closed error dialog listed the documents again, which opened it again, for ever; the picker still
    offered the old name. The app goes on with its collection under its new name, as a server does."""
    other = Engine(load_settings(), embedder=engine.embedder)
    other.update_settings(other.settings.replace(collection="work"))
    other.ingest([_notes(tmp_path)])

    def elsewhere(*command: str) -> None:  # another terminal
        subprocess.run([sys.executable, "-m", "localrag", "collections", *command], check=True, capture_output=True)

    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        library = await _library(app, pilot)
        table = library.query_one("#documents", DataTable)
        picker = library.query_one("#collection", Select)
        await wait_for(pilot, lambda: len(picker._options) == 2, 30)
        picker.value = "work"
        await wait_for(pilot, lambda: engine.settings.collection == "work" and table.row_count == 1, 30)

        elsewhere("rename", "work", "job")
        await pilot.press("f2")
        await pilot.press("f3")
        await wait_for(pilot, lambda: engine.settings.collection == "job" and picker.value == "job", 30)
        assert isinstance(app.screen, LibraryScreen) and table.row_count == 1
        assert sorted(str(o[0]) for o in picker._options) == ["default", "job"]

        elsewhere("delete", "job", "--yes")
        await pilot.press("f2")
        await pilot.press("f3")
        await wait_for(pilot, lambda: not isinstance(app.screen, LibraryScreen), 30)  # the error, once
        await pilot.press("escape")
        await pilot.pause(2)
        assert isinstance(app.screen, LibraryScreen)
