"""F1's help names every key the app's screens and panels bind, and no screen's key is taken by the question box."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.widgets import Input

from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.screens.dialogs import HELP, HelpScreen
from localrag.tui.screens.evals import EvalsScreen
from localrag.tui.screens.library import DocumentsTable, LibraryScreen, PathPickerScreen
from localrag.tui.screens.models import ModelsScreen
from localrag.tui.screens.settings import SettingsScreen
from localrag.tui.widgets.conversations import ConversationList
from localrag.tui.widgets.graph_paths import GraphPathsPanel
from localrag.tui.widgets.sources import SourcesPanel

BOUND = (LocalRagApp, ChatScreen, LibraryScreen, DocumentsTable, PathPickerScreen, ModelsScreen, SettingsScreen,
         EvalsScreen, ChunkScreen, HelpScreen, ConversationList, GraphPathsPanel, SourcesPanel)
NAMES = {"escape": "Esc", "delete": "Delete", "enter": "Enter", "slash": "`/`"}


def _keys(owner: type) -> list[tuple[str, Binding]]:
    bindings = [b for b in owner.BINDINGS if isinstance(b, Binding)]
    return [(key, b) for b in bindings for key in b.key.split(",")]


def _shown(key: str) -> str:
    if key in NAMES:
        return NAMES[key]
    if len(key) == 1:
        return f"`{key}`"
    return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+"))


@pytest.mark.parametrize("owner", BOUND, ids=lambda owner: owner.__name__)
def test_help_names_every_key(owner: type) -> None:
    missing = [key for key, _ in _keys(owner) if _shown(key) not in HELP]
    assert not missing, f"{owner.__name__}: F1's help does not name {missing}"


@pytest.mark.parametrize("owner", (ChatScreen, LibraryScreen, ModelsScreen, SettingsScreen),
                         ids=lambda owner: owner.__name__)
def test_a_screen_with_a_text_box_binds_no_key_the_box_takes(owner: type) -> None:
    taken = {key for b in Input.BINDINGS if isinstance(b, Binding) for key in b.key.split(",")}
    clashes = [key for key, b in _keys(owner) if key.startswith("ctrl+") and key in taken and not b.priority]
    assert not clashes, f"{owner.__name__}: a focused text box takes {clashes} first"
