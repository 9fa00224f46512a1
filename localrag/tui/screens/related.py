"""The entities related to one entity of a reasoning path (`localrag graph related`), as a modal list.

The title names the entity with the other names entity linking merged into it. Each result is a
header (name and score) followed by the paths that join it to the entity, `X -> r -> via <- r <- Y`,
and under each path its two triples with where they came from. Choosing
a triple opens its passage through `open_step`, the chat screen's own chunk viewer, on top of this
list, so Escape comes back here. All text is `rich.text.Text`: names from documents carry no markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from localrag.safe_text import printable
from localrag.shapes import step_source
from localrag.tui.widgets.graph_paths import step_text
from localrag.types import Chunk

if TYPE_CHECKING:
    from localrag.graph.paths import Step
    from localrag.graph.related import RelatedResult

# Paths shown per related entity; `localrag graph related --json` has them all.
LINKS_SHOWN = 3


class RelatedScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    RelatedScreen { align: center middle; }
    RelatedScreen > Vertical { width: 100; max-width: 100%; height: 85%; border: thick $secondary;
                               background: $surface; }
    RelatedScreen #related-title { padding: 0 1; text-style: bold; }
    RelatedScreen OptionList { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(
        self,
        result: RelatedResult,
        names: Mapping[str, str],
        chunks: Mapping[str, Chunk],
        open_step: Callable[[Step, Chunk | None, Mapping[str, str]], None],
        aliases: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.aliases = aliases or {}
        self.result = result
        self.names = names
        self.chunks = chunks
        self.open_step = open_step
        self._steps: dict[str, Step] = {}

    def compose(self) -> ComposeResult:
        seeds = ", ".join(
            s.name + (f" (also: {', '.join(self.aliases[s.entity_id])})" if self.aliases.get(s.entity_id) else "")
            for s in self.result.seeds
        )
        with Vertical():
            yield Static(Text(f"Related to {printable(seeds, multiline=False)}"), id="related-title")
            yield OptionList(*self._options(), id="related")
        yield Footer()

    def _options(self) -> list[Option]:
        if not self.result.related:
            return [Option(Text("Nothing in the graph shares a neighbour with it.", style="dim italic"), disabled=True)]
        options = []
        for number, entity in enumerate(self.result.related, start=1):
            header = Text(f"{number}. ", style="bold")
            header.append(printable(entity.name, multiline=False), style="bold")
            header.append(f"  {entity.score:.2f}", style="dim")
            options.append(Option(header, disabled=True))
            for i, link in enumerate(entity.links[:LINKS_SHOWN]):
                options.append(Option(Text("  " + printable(link.render(self.names), multiline=False)), disabled=True))
                for j, step in enumerate((link.seed_step, link.other_step)):
                    key = f"{number}:{i}:{j}"
                    self._steps[key] = step
                    where = step_source(step.source, self.chunks, short=True)
                    options.append(Option(step_text(self.names, step, where), id=key))
        return options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        step = self._steps.get(event.option.id or "")
        if step is not None:
            self.open_step(step, self.chunks.get(step.source), self.names)
