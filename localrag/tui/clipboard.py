"""Copying text out of the app: the passage of a source (`c` in its view) and an answer with its sources (Ctrl+Y
in the chat) go the same way, and say the same of it."""

from __future__ import annotations

from textual.app import App


def copy_text(app: App[object], text: str, what: str) -> None:
    """Put `text` on the clipboard and say so, naming it as `what` ("the passage")."""
    # Through the terminal (OSC 52), the one clipboard a program in a terminal can reach, over SSH too.
    app.copy_to_clipboard(text)
    app.notify(f"copied {what} ({len(text):,} characters) through the terminal; a terminal that does not pass "
               "programs the clipboard (macOS Terminal) leaves it unchanged")
