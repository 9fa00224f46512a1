"""The side panel of saved conversations.

It only lists and asks: choosing, renaming, deleting or exporting posts a message, and the chat
screen does the file work through `ConversationStore`. Titles come from the user's own questions
and are rendered as `Text`, never as markup, their control characters shown (`printable`): a question saved by
`ask --conversation` can hold an escape sequence.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from localrag.conversations import ConversationSummary
from localrag.safe_text import printable
from localrag.tui.widgets.panel_list import PanelList


class ConversationList(PanelList):
    WIDTH = 26
    DEFAULT_CSS = f"""
    ConversationList {{ width: {WIDTH}; height: 1fr; border: round $secondary 50%; }}
    ConversationList:focus {{ border: heavy $secondary; }}
    """

    BINDINGS = [
        Binding("r", "request('rename')", "Rename"),
        Binding("delete,d", "request('delete')", "Delete"),
        Binding("e", "request('export')", "Export"),
        Binding("slash", "search", "Find"),
    ]

    class SearchRequested(Message):
        """The user asked to find conversations by their words (`/`)."""

    class Requested(Message):
        """`action` is one of open, rename, delete, export; `turn`: the turn a search found the words in."""

        def __init__(self, action: str, conversation_id: str, turn: int | None = None) -> None:
            super().__init__()
            self.action = action
            self.conversation_id = conversation_id
            self.turn = turn

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Conversations"
        self._found_turns: dict[str, int] = {}

    def show(self, conversations: list[ConversationSummary], current: str | None, *, query: str = "",
             snippets: dict[str, str] | None = None, found_turns: dict[str, int] | None = None) -> None:
        """List `conversations`; found by `query`, each with its line holding the words (`snippets` by id) and the
        index of the turn that line is from (`found_turns`), where opening it goes."""
        self.clear_options()
        self._found_turns = found_turns or {}
        title = Text("Conversations")
        if query:
            title.append(f" · “{printable(query, multiline=False)}”")
        self.border_title = title
        if query and not conversations:
            # In the list, not the title: the panel's border cut " (none)" off, and an empty panel looked like every
            # conversation gone.
            self.add_option(Option(Text(f"No conversation holds “{printable(query, multiline=False)}”. / with nothing "
                                        "lists them all.",
                                        style="italic"), disabled=True))
        for c in conversations:
            label = Text(printable(c.title, multiline=False), style="bold" if c.id == current else "", no_wrap=True,
                         overflow="ellipsis")
            where = (snippets or {}).get(c.id)
            if where is None:
                where = f"{c.questions} question{'s' if c.questions != 1 else ''}"
            label.append(f"\n{printable(where, multiline=False)}", style="dim")
            self.add_option(Option(label, id=c.id))
        if current is not None and any(o.id == current for o in self.options):
            self.highlighted = self.get_option_index(current)
        elif conversations:
            # Enter, r, d and e act on the highlighted row: with none (a search's results), each did nothing.
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Requested("open", event.option.id, self._found_turns.get(event.option.id)))

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def action_request(self, action: str) -> None:
        if self.highlighted is None:
            return
        option = self.get_option_at_index(self.highlighted)
        if option.id is not None:
            self.post_message(self.Requested(action, option.id))
