"""The sources panel's `w` key: why each source ranked where it did, kept with the saved answer."""

from __future__ import annotations

import pytest
from conftest import wait_for
from textual.widgets import Input

from localrag.conversations import ConversationStore
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.widgets.sources import SourcesPanel

pytestmark = pytest.mark.anyio


async def test_w_shows_each_legs_rank_under_the_sources(app: LocalRagApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine_status is not None)
        box = app.screen.query_one("#question", Input)
        box.value = "how do I descale the kettle?"
        box.focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_for(pilot, lambda: not screen.generating)
        panel = screen.query_one(SourcesPanel)

        def labels() -> list[str]:
            return [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)]

        assert not any("vector #" in label for label in labels())
        panel.focus()
        await pilot.press("w")
        # The fake engine's hits come from its vector leg only: BM25 did not rank them.
        assert "vector #1" in labels()[0] and "BM25 -" in labels()[0] and "fused " in labels()[0]
        await pilot.press("w")
        assert not any("vector #" in label for label in labels())

    saved = ConversationStore().list()[0].turns[1].sources[0]
    assert saved.vector_rank == 1 and saved.text_rank is None


async def test_an_answer_without_sources_is_not_waiting_for_them(app: LocalRagApp) -> None:
    """A reopened related answer whose paths were all imported showed "no sources yet", as if some would come."""
    from localrag.conversations import Turn

    async with app.run_test(size=(120, 40)):
        panel = app.screen.query_one(SourcesPanel)
        assert str(panel.get_option_at_index(0).prompt) == "no sources yet"
        panel.show(Turn(role="assistant", text="Like **Tom Hanks**: ..."))
        assert [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)] == [
            "no passages behind this answer"]
        panel.show(None, pending=True)
        assert str(panel.get_option_at_index(0).prompt) == "searching…"
