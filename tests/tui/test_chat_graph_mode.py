"""Graph mode on the chat screen over a FakeEngine that also answers from a tiny graph."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from conftest import wait_for
from fakes import INJECTION, FakeEngine
from textual.widgets import Input, Markdown, Static

from localrag.errors import EmptyGraphError
from localrag.graph.paths import LinkedEntity, ReasoningPath, Step
from localrag.graph.plan import PlannedPath
from localrag.graph.reason import Candidate, GraphAnswer
from localrag.graph.related import RelatedResult
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.screens.dialogs import ErrorScreen
from localrag.tui.widgets.chat import AnswerView
from localrag.tui.widgets.graph_paths import GraphPathsPanel
from localrag.tui.widgets.sources import SourcesPanel
from localrag.types import Chunk

pytestmark = pytest.mark.anyio


class FakeIndex:
    names = {"kettle": "Kettle", "vinegar": "white vinegar", "shop": f"Shop {INJECTION}"}


@dataclass
class GraphFakeEngine(FakeEngine):
    """FakeEngine plus the graph-mode calls: one two-hop path from the kettle manual, one imported."""

    graph_questions: list[str] = field(default_factory=list)

    def ask_graph(self, question: str, **kwargs: object) -> GraphAnswer:
        self.graph_questions.append(question)
        manual = next(c for c in self._chunks.values() if c.path.endswith("kettle-manual.md"))
        first = ReasoningPath(
            (Step("kettle", "descaled_with", "vinegar", manual.chunk_id),
             Step("vinegar", "sold_at", "shop", "prices.tsv:3"))
        )
        linked = [LinkedEntity("kettle", "Kettle", 1.0, "exact", "kettle")]
        planned = [PlannedPath(("descaled_with", "sold_at"), 0.8, "embedding")]
        return GraphAnswer(question, linked, planned, [first], [Candidate("shop", "Shop", 1.0, [first])], "paths")

    def ask_related(self, question: str, **kwargs: object) -> RelatedResult | None:
        return None  # as the Engine does for a question that asks for no entities like named ones

    def graph_index(self) -> FakeIndex:
        return FakeIndex()

    def path_chunks(self, answer: GraphAnswer) -> dict[str, Chunk]:
        wanted = {s.source for p in answer.paths for s in p.steps}
        return {k: c for k, c in self._chunks.items() if k in wanted}


async def _ask(pilot, question: str) -> None:  # type: ignore[no-untyped-def]
    box = pilot.app.screen.query_one("#question", Input)
    box.value = question
    box.focus()
    await pilot.press("enter")


async def test_toggle_answers_from_the_graph_and_opens_a_step_chunk() -> None:
    engine = GraphFakeEngine()
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine_status is not None)
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        paths = screen.query_one(GraphPathsPanel)
        assert not paths.display and screen.query_one(SourcesPanel).display

        await pilot.press("ctrl+g")
        box = screen.query_one("#question", Input)
        assert screen.graph_mode and screen.has_class("-graph")
        assert box.border_title == "graph mode" and "knowledge graph" in box.placeholder
        assert paths.display and not screen.query_one(SourcesPanel).display

        await _ask(pilot, "where do I buy what descales the kettle?")
        await wait_for(pilot, lambda: not screen.generating)
        assert engine.graph_questions == ["where do I buy what descales the kettle?"]
        assert not any(c.startswith("stream") for c in engine.calls)
        body = screen.query_one(AnswerView).query_one(Markdown).source
        assert body.startswith("**Shop**")
        assert "(embedding planner)" in body and "descaled\\_with" in body

        labels = [str(paths.get_option_at_index(i).prompt) for i in range(paths.option_count)]
        assert labels[0].startswith("✓ 1. Kettle -> descaled_with -> white vinegar -> sold_at -> Shop")
        assert INJECTION in labels[0]  # shown as typed, not applied as markup
        assert "kettle-manual.md" in labels[1] and "imported · prices.tsv:3" in labels[2]

        paths.focus()
        paths.highlighted = 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        chunk_screen = app.screen
        assert isinstance(chunk_screen, ChunkScreen)
        assert "white vinegar" in str(chunk_screen.query_one("#chunk-text", Static).render())
        assert [q.text for q in chunk_screen.turn.quotes] == ["Kettle", "white vinegar"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)

        paths.highlighted = 2
        await pilot.press("enter")  # an imported step has no chunk: a notice, no screen
        await pilot.pause()
        assert app.screen is screen

        await pilot.press("ctrl+g")
        assert not screen.graph_mode and screen.query_one(SourcesPanel).display
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: not screen.generating)
        assert engine.calls[-1] == "stream how do I descale the kettle?"
        assert len(engine.graph_questions) == 1


async def test_graph_failure_shows_the_error_and_keeps_the_app() -> None:
    class EmptyGraph(GraphFakeEngine):
        def ask_graph(self, question: str, **kwargs: object) -> GraphAnswer:
            raise EmptyGraphError("the knowledge graph is empty", "run `localrag graph build`")

    app = LocalRagApp(EmptyGraph())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await pilot.press("ctrl+g")
        await _ask(pilot, "anything?")
        await wait_for(pilot, lambda: not screen.generating)
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        # The app builds the graph too: the fix named only the command line.
        assert app.screen.error.hint.startswith("build it in the Library (F3) with Ctrl+B")  # type: ignore[attr-defined]
