"""A document's key sentences (`Engine.summarize`), opened from the Library with `s`.

Each sentence is quoted as the document has it, with its page or heading; the text is document text,
so it is shown as rich `Text` through `printable`, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from localrag.answer.summary import nothing_to_quote
from localrag.safe_text import printable
from localrag.tui.screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from localrag.answer.summary import Summary


class SummaryScreen(ModalScreen[None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="SummaryScreen") + """
    SummaryScreen > Vertical { width: 100; }
    SummaryScreen VerticalScroll { height: auto; max-height: 30; }
    SummaryScreen .sentence { margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, path: str, summary: Summary) -> None:
        super().__init__()
        self.path = path
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(self.path, multiline=False)), classes="title")
            with VerticalScroll():
                for sentence in self.summary.sentences:
                    line = Text(f"“{printable(sentence.text)}”")
                    if sentence.where:
                        line.append(f"  ({printable(sentence.where, multiline=False)})", style="dim")
                    yield Static(line, classes="sentence")
                if not self.summary.sentences:
                    yield Static(Text(nothing_to_quote(self.summary).capitalize() + "."))
            note = "Key sentences, found without the model."
            if self.summary.read < self.summary.total:
                note += f" Read {self.summary.read} of its {self.summary.total} sentences, evenly spaced."
            yield Static(Text(note), classes="hint")
            with Horizontal():
                yield Button("Close", variant="primary", id="close")

    def on_button_pressed(self) -> None:
        self.dismiss(None)
