"""The reasoning-paths panel of graph mode: each path as a header, each of its steps selectable.

A graph answer is only as good as the chain behind it, so the panel lists every reasoning path
`e0 -> r1 -> e1 -> r2 -> e2` (the ones supporting the answer first, marked ✓) with the planner that
proposed it, and under it one option per step with the document the step's triple came from.
Choosing a step posts `GraphPathsPanel.Opened` with the step and, when the triple was extracted
from an indexed chunk, that chunk; the chat screen opens it in the chunk viewer. `r` on a step
posts `RelatedRequested` for the entity the step leads to (the chat screen lists what is related). Everything shown
is built as `rich.text.Text`, so entity names taken from documents cannot carry markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from localrag.conversations import Turn
from localrag.safe_text import printable
from localrag.shapes import step_source
from localrag.tui.widgets.panel_list import PanelList
from localrag.types import Chunk

if TYPE_CHECKING:
    from localrag.graph.paths import ReasoningPath, Step
    from localrag.graph.reason import GraphAnswer

@dataclass
class GraphView:
    """What the panel shows for one graph answer: the answer, display names and the steps' chunks."""

    answer: GraphAnswer
    names: Mapping[str, str]  # the graph index's own mapping, shared, not copied: it can be large
    chunks: Mapping[str, Chunk]

    def where(self, step: Step) -> str:
        return step_source(step.source, self.chunks, short=True)


def view_from_turn(turn: Turn) -> GraphView | None:
    """A saved graph turn as the panel shows it: its paths, names and passages as they were; None: not graph."""
    from localrag.graph.turns import answer_from_turn

    found = answer_from_turn(turn)
    if found is None:
        return None
    answer, names = found
    chunks = {
        s.chunk_id: Chunk(s.chunk_id, s.doc_id, s.path, 0, s.text, 0, len(s.text), s.page, s.heading)
        for s in turn.sources
    }
    return GraphView(answer, names, chunks)


def path_label(view: GraphView, path: ReasoningPath, number: int, supporting: bool) -> Text:
    text = Text(no_wrap=False)
    text.append(f"{'✓' if supporting else '·'} {number}. ", style="bold green" if supporting else "bold")
    text.append(printable(path.render(view.names), multiline=False))
    text.append(f"  ({view.answer.planner_of(path) or '?'} planner)", style="dim italic")
    return text


def step_label(view: GraphView, step: Step) -> Text:
    return step_text(view.names, step, view.where(step))


def step_text(names: Mapping[str, str], step: Step, where: str) -> Text:
    """`head -relation-> tail` and, under it, where the triple came from."""
    text = Text(no_wrap=False)
    text.append("   ")
    text.append(printable(names.get(step.head, step.head), multiline=False))
    text.append(f" -{step.relation}-> ", style="bold")
    text.append(printable(names.get(step.tail, step.tail), multiline=False))
    text.append("\n   ")
    text.append(printable(where, multiline=False), style="italic")
    return text


class GraphPathsPanel(PanelList):
    DEFAULT_CSS = """
    GraphPathsPanel { width: 40; height: 1fr; border: round $secondary 50%; }
    GraphPathsPanel:focus { border: heavy $secondary; }
    """

    class Opened(Message):
        def __init__(self, step: Step, chunk: Chunk | None) -> None:
            super().__init__()
            self.step = step
            self.chunk = chunk

    class RelatedRequested(Message):
        """The user asked for the entities related to `entity_id` (the highlighted step's end)."""

        def __init__(self, entity_id: str, name: str) -> None:
            super().__init__()
            self.entity_id = entity_id
            self.name = name

    BINDINGS = [Binding("r", "related", "Related to step's end")]

    def __init__(self, *, id: str | None = None, limit: int = 20) -> None:
        super().__init__(id=id)
        self.view: GraphView | None = None
        self.limit = limit
        self._steps: dict[str, Step] = {}
        self.border_title = "Reasoning paths"

    def show(self, view: GraphView | None, *, pending: bool = False) -> None:
        self.view = view
        self._steps = {}
        self.clear_options()
        if view is None or not view.answer.paths:
            message = "following paths…" if pending else "no reasoning path yet"
            self.add_option(Option(Text(message, style="dim italic"), disabled=True))
            self.border_subtitle = ""
            return
        for number, path in enumerate(view.answer.ordered_paths()[: self.limit], start=1):
            self.add_option(Option(path_label(view, path, number, view.answer.supports(path)), disabled=True))
            for i, step in enumerate(path.steps):
                key = f"{number}:{i}"
                self._steps[key] = step
                self.add_option(Option(step_label(view, step), id=key))
        self.border_subtitle = f"{len(view.answer.paths)} paths · Enter opens a step · r: related"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.view is None or event.option.id not in self._steps:
            return
        step = self._steps[event.option.id]
        self.post_message(self.Opened(step, self.view.chunks.get(step.source)))

    def action_related(self) -> None:
        option = self.highlighted_option
        if self.view is None or option is None or option.id not in self._steps:
            return
        entity = self._steps[option.id].tail
        self.post_message(self.RelatedRequested(entity, self.view.names.get(entity, entity)))
