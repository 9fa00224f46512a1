"""A one-line box that holds what it shows.

Textual's `Input` kept only the first line of a paste, without a word: a question pasted as "Context from my
colleague:" and two more lines asked "Context from my colleague:", and of paths copied from a file manager, one a
line, the first was ingested. Here a paste's lines are joined by the box's `joiner`: a space, or the separator a box
of several paths or globs splits on. And
what a box holds is drawn to the terminal as it is, so a pasted escape sequence (`ESC ] 0 ; … BEL` retitles the
window) acted: its control characters become what `printable` shows for them (ESC as `␛`), one character for one,
so the cursor stays where it is drawn and the question asked is the one seen.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Input

from localrag.safe_text import printable


def one_line(text: str, joiner: str = " ") -> str:
    """`text` as a one-line box holds it: its lines joined by `joiner`, a tab a space, other controls visible."""
    return printable(joiner.join(text.splitlines()).replace("\t", " "))


class LineInput(Input):
    def __init__(self, value: str | None = None, *, joiner: str = " ", **options: Any) -> None:
        self.joiner = joiner
        super().__init__(one_line(value, joiner) if value else value, **options)

    def replace(self, text: str, start: int, end: int) -> None:
        # Every edit (typing, a paste, a suggestion taken) goes through here.
        super().replace(one_line(text, self.joiner), start, end)

    def _on_paste(self, event: events.Paste) -> None:
        # Instead of Input's, which inserted the first line only.
        if event.text:
            start, end = sorted(self.selection)
            self.replace(event.text, start, end)
        event.prevent_default()
        event.stop()
