"""The chat app's graph features over a FakeEngine: `graph build` from the library screen, saved paths."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import pytest
from conftest import wait_for
from fakes import INJECTION, FakeEngine
from test_chat_graph_mode import GraphFakeEngine
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, ProgressBar, Static

from localrag.engine import Engine
from localrag.errors import LocalRagError
from localrag.graph.extract import GraphBuildProgress, GraphBuildReport
from localrag.graph.paths import LinkedEntity, Step
from localrag.graph.related import RelatedEntity, RelatedResult, RelatedView, SharedLink
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.screens.dialogs import ErrorScreen, PromptScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.screens.related import RelatedScreen
from localrag.tui.widgets.chat import AnswerView
from localrag.tui.widgets.conversations import ConversationList
from localrag.tui.widgets.graph_build import GraphBuildPanel
from localrag.tui.widgets.graph_paths import GraphPathsPanel
from localrag.tui.widgets.sources import SourcesPanel

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


async def _building_in_library(app: LocalRagApp, pilot: Pilot[None]) -> LibraryScreen:
    """The Library, a graph build started in it (Ctrl+B)."""
    await pilot.press("f3")
    library = app.screen
    assert isinstance(library, LibraryScreen)
    await pilot.press("ctrl+b")
    return library


async def test_a_failed_graph_build_is_shown_once_and_the_panel_can_run_again() -> None:
    engine = BuildingEngine(build_error=LocalRagError("the model file is damaged", "pull it again"))
    app = LocalRagApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        library = await _building_in_library(app, pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        panel = library.query_one(GraphBuildPanel)
        assert not panel.running and app.activity == ""
        assert "failed" in str(panel.query_one("#graph-line", Static).render())


async def _ask_in_graph_mode(pilot: Pilot[None], chat: ChatScreen, question: str) -> None:
    """Switch the chat to graph mode (Ctrl+G) and send `question`."""
    await pilot.press("ctrl+g")
    box = chat.query_one("#question", Input)
    box.value = question
    box.focus()
    await pilot.press("enter")


async def test_a_reopened_conversation_lists_its_graph_paths_in_the_paths_panel() -> None:
    first = LocalRagApp(GraphFakeEngine())
    async with first.run_test(size=(120, 40)) as pilot:
        chat = first.screen
        assert isinstance(chat, ChatScreen)
        await _ask_in_graph_mode(pilot, chat, "where do I buy what descales the kettle?")
        await wait_for(pilot, lambda: chat.query(AnswerView) and not chat.generating)

    # A plain engine: what the panel shows comes from the saved conversation, not from a graph.
    second = LocalRagApp(FakeEngine())
    async with second.run_test(size=(120, 40)) as pilot:
        chat = second.screen
        assert isinstance(chat, ChatScreen)
        conversations = chat.query_one(ConversationList)
        conversations.focus()
        conversations.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chat.query(AnswerView)) == 1)
        paths = chat.query_one(GraphPathsPanel)
        assert not chat.graph_mode and paths.display and not chat.query_one(SourcesPanel).display
        labels = [str(paths.get_option_at_index(i).prompt) for i in range(paths.option_count)]
        assert labels[0] == f"✓ 1. Kettle -> descaled_with -> white vinegar -> sold_at -> Shop {INJECTION}  " \
                            "(embedding planner)"
        assert "kettle-manual.md" in labels[1] and "imported · prices.tsv:3" in labels[2]
        paths.focus()
        paths.highlighted = 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(second.screen, ChunkScreen))
        assert "white vinegar" in str(second.screen.query_one("#chunk-text", Static).render())


@dataclass
class RelatedFakeEngine(GraphFakeEngine):
    """GraphFakeEngine whose `related` finds lemon juice through the kettle, from the manual and a TSV."""

    related_asked: list[list[str]] = field(default_factory=list)

    def ask_related(self, question: str, **kwargs: object) -> RelatedResult | None:
        return self.related(["vinegar"]) if "like white vinegar" in question else None

    def related(self, entities: list[str], **kwargs: object) -> RelatedResult:
        self.related_asked.append(list(entities))
        manual = next(c for c in self._chunks.values() if c.path.endswith("kettle-manual.md"))
        link = SharedLink(Step("kettle", "descaled_with", "vinegar", manual.chunk_id),
                          Step("kettle", "descaled_with", "lemon", "remedies.tsv:2"), "kettle", False, 1.0)
        return RelatedResult([LinkedEntity("vinegar", "white vinegar", 1.0, "exact", "vinegar")], None,
                             [RelatedEntity("lemon", "lemon juice", 1.0, [link])])

    def entity_aliases(self, entity_id: str) -> list[str]:
        return ["distilled vinegar"] if entity_id == "vinegar" else []

    def source_chunks(self, sources: object) -> dict[str, object]:
        wanted = set(sources)  # type: ignore[call-overload]
        return {k: c for k, c in self._chunks.items() if k in wanted}

    def related_view(self, result: RelatedResult) -> RelatedView:
        return Engine.related_view(self, result)  # type: ignore[arg-type]  # the Engine's rule over these lookups


class RelatedIndex:
    names = {"kettle": "Kettle", "vinegar": "white vinegar", "shop": f"Shop {INJECTION}", "lemon": "lemon juice"}


async def test_related_on_a_path_step_lists_entities_whose_steps_open_their_source() -> None:
    engine = RelatedFakeEngine()
    engine.graph_index = RelatedIndex  # type: ignore[method-assign, assignment]
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await _ask_in_graph_mode(pilot, chat, "where do I buy what descales the kettle?")
        await wait_for(pilot, lambda: not chat.generating)
        paths = chat.query_one(GraphPathsPanel)
        paths.focus()
        paths.highlighted = 1  # Kettle -descaled_with-> white vinegar
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RelatedScreen))
        assert engine.related_asked == [["vinegar"]]
        related = app.screen
        title = str(related.query_one("#related-title", Static).render())
        assert title == "Related to white vinegar (also: distilled vinegar)"
        listing = related.query_one("#related", OptionList)
        labels = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert labels[0] == "1. lemon juice  1.00"
        assert labels[1].strip() == "white vinegar <- descaled_with <- Kettle -> descaled_with -> lemon juice"
        assert "kettle-manual.md" in labels[2] and "imported · remedies.tsv:2" in labels[3]
        listing.focus()
        listing.highlighted = 2
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        assert "white vinegar" in str(app.screen.query_one("#chunk-text", Static).render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is related)
        listing.highlighted = 3
        await pilot.press("enter")  # an imported step: a notice, the list stays
        await pilot.pause()
        assert app.screen is related and app.activity == ""


async def test_a_question_for_things_like_an_entity_opens_the_related_view_and_is_saved() -> None:
    engine = RelatedFakeEngine()
    engine.graph_index = RelatedIndex  # type: ignore[method-assign, assignment]
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await _ask_in_graph_mode(pilot, chat, "what else is like white vinegar?")
        await wait_for(pilot, lambda: isinstance(app.screen, RelatedScreen))
        # Routed as `ask --graph` and MCP route it: the related entities, not a reasoning-path answer.
        assert engine.related_asked == [["vinegar"]] and engine.graph_questions == []
        related = app.screen
        assert str(related.query_one("#related-title", Static).render()) == \
            "Related to white vinegar (also: distilled vinegar)"
        listing = related.query_one("#related", OptionList)
        listing.focus()
        listing.highlighted = 2
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is related)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is chat)
        assert not chat.generating and app.activity == ""
        turn = chat.conversation.turns[-1]  # type: ignore[union-attr]
        assert turn.model == "graph · related"
        assert turn.text.splitlines()[0] == "Like **white vinegar**:"
        # Names and relations escaped: text from documents is never Markdown.
        assert r"1. **lemon juice** (1.00): white vinegar \<- descaled\_with \<- Kettle -\> descaled" in turn.text
        assert [s.path for s in turn.sources] == ["/docs/kettle-manual.md"]

        # Any other question in graph mode still gets reasoning paths.
        box = chat.query_one("#question", Input)
        box.value = "where do I buy what descales the kettle?"
        box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.graph_questions and not chat.generating)
        assert isinstance(app.screen, ChatScreen)


@dataclass
class LongBuildEngine(FakeEngine):
    """A build that runs until it is asked to stop, as a real one over a large corpus does."""

    builds: list[bool] = field(default_factory=list)

    def graph_build(self, *, progress=None, cancel=None, config=None) -> GraphBuildReport:  # type: ignore[no-untyped-def]
        progress(GraphBuildProgress(1, 2, 3, "/docs/kettle-manual.md", 1.0, 1.0))
        self.builds.append(cancel.wait(30))
        return GraphBuildReport(chunks_total=2, chunks_extracted=1, triples_added=3, cancelled=True, seconds=1.0)


async def test_quitting_during_a_graph_build_stops_it() -> None:
    """The build's thread kept the process (and the user's terminal) until it had read every chunk."""
    engine = LongBuildEngine()
    app = LocalRagApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = (await _building_in_library(app, pilot)).graph_panel
        await wait_for(pilot, lambda: panel.query_one("#graph-progress", ProgressBar).progress == 1)
        await pilot.press("f1")  # away from the Library, as a user may be when quitting
        await pilot.press("ctrl+q")
    assert app.stopping == "the graph build"  # `localrag` says so once the screen is gone
    for _ in range(100):
        if engine.builds:
            break
        await asyncio.sleep(0.05)
    assert engine.builds == [True]


async def test_a_new_collection_waits_for_the_graph_build_and_says_so() -> None:
    """The switch waited behind the build in silence, or under a notice whose Ctrl-C does nothing in the app."""
    engine = LongBuildEngine()
    app = LocalRagApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        library = await _building_in_library(app, pilot)
        await wait_for(pilot, lambda: library.graph_panel.running)
        library.action_new_collection()
        await pilot.pause(0.1)
        assert not isinstance(app.screen, PromptScreen)
        assert [n.message for n in app._notifications] == [
            "Wait for the graph build to finish (Ctrl+B stops it) before switching collection."]
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: not library.graph_panel.running)
        library.action_new_collection()
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
