"""The one-line status bar: model, documents and chunks, last answer's speed, what is running.

Every screen has one. It shows its own reactive attributes and nothing else; the screen it is on
sets them from the app's state (`LocalRagScreen`), so the widget knows nothing about the app and a
test can build one with the values it wants to see.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from localrag.collection import DEFAULT_COLLECTION
from localrag.safe_text import printable

SHOWN = ("model_label", "documents", "chunks", "collection", "last_speed", "activity")


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    model_label: reactive[str] = reactive("")
    documents: reactive[int | None] = reactive(None)  # None: the index has not been counted yet
    chunks: reactive[int | None] = reactive(None)
    collection: reactive[str] = reactive(DEFAULT_COLLECTION)
    last_speed: reactive[tuple[float, float] | None] = reactive(None)  # (time to first token, tokens/s)
    activity: reactive[str] = reactive("")

    def __init__(
        self, *, model_label: str = "", documents: int | None = None, chunks: int | None = None,
        collection: str = DEFAULT_COLLECTION, last_speed: tuple[float, float] | None = None, activity: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusBar.model_label, model_label)
        self.set_reactive(StatusBar.documents, documents)
        self.set_reactive(StatusBar.chunks, chunks)
        self.set_reactive(StatusBar.collection, collection)
        self.set_reactive(StatusBar.last_speed, last_speed)
        self.set_reactive(StatusBar.activity, activity)

    def on_mount(self) -> None:
        for name in SHOWN:
            self.watch(self, name, self._changed, init=False)
        self._changed()

    def _changed(self, _value: Any = None) -> None:
        # What is running comes first: last, it was cut off at 80 columns (an ingest, a stop under way), where the
        # figures after the model are the ones to spare.
        # Model names come from files on disk, and what is running names files: Text.assemble keeps them literal,
        # never markup, and `printable` shows their control characters.
        activity = printable(self.activity, multiline=False)
        parts: list[tuple[str, str]] = [(activity, "italic"), ("  · ", "dim")] if activity else []
        parts += [("model ", "dim"), (printable(self.model_label, multiline=False) or "…", "bold")]
        if self.documents is not None and self.chunks is not None:
            parts += [("  docs ", "dim"), (str(self.documents), ""), ("  chunks ", "dim"), (str(self.chunks), "")]
        if self.collection != DEFAULT_COLLECTION:  # the usual case stays as short as before
            parts += [("  in ", "dim"), (self.collection, "")]
        if self.last_speed is not None:
            ttft, tps = self.last_speed
            parts += [("  TTFT ", "dim"), (f"{ttft:.2f}s", ""), ("  ", ""), (f"{tps:.1f} tok/s", "")]
        self.update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"))
