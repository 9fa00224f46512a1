"""Small modal screens: an engine error, a yes/no confirmation, a one-line text prompt, help.

Every piece of text that came from outside the program (an error naming a file, a conversation
title) is wrapped in `rich.text.Text`, so brackets in it are shown, not interpreted.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, Static

from localrag.errors import LocalRagError
from localrag.safe_text import printable

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 72; max-width: 95%; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 1 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; margin-top: 1; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 1; }}
"""


class ErrorScreen(ModalScreen[None]):
    """The one-line message of a LocalRagError and what to do about it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ErrorScreen") + "ErrorScreen > Vertical { border: thick $error; }"
    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, error: LocalRagError, action: str = "") -> None:
        super().__init__()
        self.error = error
        self.action = action

    def compose(self) -> ComposeResult:
        with Vertical():
            title = self.error.title + (f" while {self.action}" if self.action else "")
            yield Static(Text(title), classes="title")
            yield Static(Text(printable(self.error.message)), id="error-message")
            if self.error.hint:
                yield Static(Text("What to do: " + printable(self.error.hint)), classes="hint")
            with Horizontal():
                yield Button("OK", variant="primary", id="ok")

    def on_button_pressed(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel"), Binding("y", "dismiss(True)", "Yes")]

    def __init__(self, question: str, confirm: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            with Horizontal():
                yield Button("Cancel", id="no")
                yield Button(self.confirm, variant="error", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ChoiceScreen(ModalScreen[str | None]):
    """A question with Cancel and several ways to go on; dismisses with the chosen one's id, None on Cancel."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ChoiceScreen")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices  # (id, button label)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            with Horizontal():
                yield Button("Cancel", id="cancel")
                for choice, label in self.choices:
                    yield Button(label, variant="error", id=f"choice-{choice}")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        chosen = (event.button.id or "").removeprefix("choice-")
        self.dismiss(None if event.button.id == "cancel" else chosen)


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; dismisses with None on Escape."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PromptScreen")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.question))
            yield Input(self.value, placeholder=self.placeholder)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


HELP = """\
# localrag

Ask questions about your own documents. Answers come from a local model, with numbered
sources; everything stays on this machine.

## Chat (F2)
| Key | Does |
|---|---|
| Enter | ask the question in the box |
| Esc | stop the answer being written (what was written stays, marked as cut) |
| Ctrl+N | new conversation |
| Ctrl+B | show or hide the conversations panel |
| Ctrl+R | show or hide the query each answer searched for (follow-ups are rewritten) |
| Ctrl+E | export the conversation as Markdown (with its sources) |
| Ctrl+G | graph mode: answer from the knowledge graph, with its reasoning paths |
| Tab | move between the question box, the sources and the conversations |

In **Sources**, `● cited` marks a source the answer cited (when the answer cited none itself, localrag
cites the source holding most of its words and says so under the answer), `✗ cited, unsupported` one that holds
none of the words the answer cites it for; `✓ quote` means a quote in the answer
was found word for word in that source, `≈ quote` nearly, `✗ quote` not at all. Enter on a source opens it with
the quoted words highlighted (Esc or `q` closes it); `w` shows why each source ranked where it did. In
**Conversations**: Enter opens, `r` renames, `d` or Delete deletes, `e` exports, `/` lists only those holding
some words (each with the line that holds them; empty: all). In graph mode's **Paths**: Enter opens a step's
source, `r` lists the entities related to the step's end.

## Library (F3)
| Key | Does |
|---|---|
| Ctrl+O | browse for a file or folder (Ctrl+U there uses the highlighted folder) |
| Ctrl+G | ingest the paths in the box |
| Esc | stop the ingest |
| `s` | the highlighted document's key sentences |
| `f` or Delete | forget the highlighted document, or forget it and erase its text |
| `r` | read the highlighted document again |
| `R` | read again every document read by older rules or other settings |
| Ctrl+B | build the knowledge graph (again: stop the build) |

## Models (F4), Settings (F5), Evaluations (F6)
| Key | Does |
|---|---|
| Enter | Models: answer with the highlighted model |
| Ctrl+S | Settings: check and save the changed settings |
| Ctrl+L | Models, Evaluations: look again for models or runs |

## Everywhere
| Key | Does |
|---|---|
| F1 | this help (Esc, F1 or `q` closes it) |
| F2 / F3 / F4 / F5 / F6 | chat / library / models / settings / evaluations |
| Ctrl+T | light or dark theme |
| Ctrl+P | command palette |
| Ctrl+Q | quit |
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP, open_links=False)
