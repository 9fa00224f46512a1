"""Small modal screens: an engine error, a yes/no confirmation, a one-line text prompt, help.

Every piece of text that came from outside the program (an error naming a file, a conversation
title) is wrapped in `rich.text.Text`, so brackets in it are shown, not interpreted, and goes through `printable`,
so its control characters are shown, not sent to the terminal. A dialog's question is shown through it whole: the
callers compose it with such text ("Delete the conversation “…”?").
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.screen import ModalScreen, ScreenResultType
from textual.widgets import Button, Input, Label, Markdown, Static

from localrag.errors import LocalRagError
from localrag.safe_text import printable
from localrag.tui.widgets.line_input import LineInput

# The buttons are docked under the text, so on a short terminal the text scrolls (DialogBody) and the buttons stay
# on screen; a row too wide for a narrow one scrolls sideways to the focused button.
DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 72; max-width: 95%; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 1 2;
}}
{name} DialogBody {{ height: auto; max-height: 100%; }}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; margin-top: 1; }}
{name} DialogButtons {{
    dock: bottom; height: auto; align-horizontal: right; margin-top: 1; scrollbar-size-horizontal: 0;
}}
{name} Button {{ margin-left: 1; }}
"""


class DialogBody(VerticalScroll, can_focus=False):
    """A dialog's text. Not focusable: the focus stays on the buttons and the dialog's arrow keys scroll it."""


class DialogButtons(HorizontalScroll, can_focus=False):
    """A dialog's buttons; Textual scrolls the focused one into view."""


class DialogScreen(ModalScreen[ScreenResultType]):
    """A modal dialog whose DialogBody scrolls by keys while a button has the focus (buttons take no arrows)."""

    BINDINGS = [
        Binding("up", "scroll_body('scroll_up')", "Scroll up", show=False),
        Binding("down", "scroll_body('scroll_down')", "Scroll down", show=False),
        Binding("pageup", "scroll_body('scroll_page_up')", "Page up", show=False),
        Binding("pagedown", "scroll_body('scroll_page_down')", "Page down", show=False),
        Binding("home", "scroll_body('scroll_home')", "Top", show=False),
        Binding("end", "scroll_body('scroll_end')", "Bottom", show=False),
    ]

    def action_scroll_body(self, how: str) -> None:
        for body in self.query(DialogBody):
            getattr(body, how)(animate=False)


class ErrorScreen(DialogScreen[None]):
    """The one-line message of a LocalRagError and what to do about it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ErrorScreen") + "ErrorScreen > Vertical { border: thick $error; }"
    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, error: LocalRagError, action: str = "") -> None:
        super().__init__()
        self.error = error
        self.action = action

    def compose(self) -> ComposeResult:
        with Vertical():
            with DialogBody():
                title = self.error.title + (f" while {self.action}" if self.action else "")
                yield Static(Text(title), classes="title")
                yield Static(Text(printable(self.error.message)), id="error-message")
                if self.error.hint:
                    yield Static(Text("What to do: " + printable(self.error.hint)), classes="hint")
            with DialogButtons():
                yield Button("OK", variant="primary", id="ok")

    def on_button_pressed(self) -> None:
        self.dismiss(None)


class ConfirmScreen(DialogScreen[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel"), Binding("y", "dismiss(True)", "Yes")]

    def __init__(self, question: str, confirm: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            with DialogBody():
                yield Static(Text(printable(self.question)))
            with DialogButtons():
                yield Button("Cancel", id="no")
                yield Button(self.confirm, variant="error", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ChoiceScreen(DialogScreen[str | None]):
    """A question with Cancel and several ways to go on; dismisses with the chosen one's id, None on Cancel."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ChoiceScreen")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices  # (id, button label)

    def compose(self) -> ComposeResult:
        with Vertical():
            with DialogBody():
                yield Static(Text(printable(self.question)))
            with DialogButtons():
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
            yield Label(Text(printable(self.question)))
            yield LineInput(self.value, placeholder=self.placeholder)

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
| Ctrl+Up / Ctrl+Down | select the earlier / later answer: the sources panel shows its sources (a click does too) |
| Ctrl+Y | copy the selected answer (else the last) with its sources, as Markdown, through the terminal's clipboard |
| Tab | move between the question box, the sources, the conversations and the chat log (a bar on its left) |

In **Sources**, `● cited` marks a source the answer cited (when the answer cited none itself, localrag
cites, for each sentence, the source holding most of its words and says so under the answer), `✗ cited,
unsupported` one that holds none of the words the answer cites it for; `✓ quote` means a quote in the answer
was found word for word in that source, `≈ quote` nearly, `✗ quote` not at all. Enter on a source opens it with
the quoted words highlighted, scrolled to the first (Esc or `q` closes it; `c` copies the passage through the
terminal's clipboard, which macOS Terminal does not pass on); `w` shows why each source ranked where it did. In
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
