"""The one-line status bar: model, documents and chunks, last answer's speed, what is running.

Every screen has one. It holds no state of its own: it watches the app's reactive attributes, so
one assignment on the app updates the bar on whichever screen is showing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from localrag.collection import DEFAULT_COLLECTION

if TYPE_CHECKING:
    from localrag.tui.app import LocalRagApp


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def on_mount(self) -> None:
        app: LocalRagApp = self.app  # type: ignore[assignment]
        for name in ("engine_status", "last_speed", "activity", "model_label"):
            self.watch(app, name, self._changed, init=False)
        self._changed()

    def _changed(self, _value: Any = None) -> None:
        app: LocalRagApp = self.app  # type: ignore[assignment]
        status = app.engine_status
        parts: list[tuple[str, str]] = [("model ", "dim"), (app.model_label or "…", "bold")]
        if status is not None:
            parts += [("  docs ", "dim"), (str(status.documents), ""), ("  chunks ", "dim"), (str(status.chunks), "")]
            if status.collection != DEFAULT_COLLECTION:  # the usual case stays as short as before
                parts += [("  in ", "dim"), (status.collection, "")]
        if app.last_speed is not None:
            ttft, tps = app.last_speed
            parts += [("  TTFT ", "dim"), (f"{ttft:.2f}s", ""), ("  ", ""), (f"{tps:.1f} tok/s", "")]
        if app.activity:
            parts += [("  · ", "dim"), (app.activity, "italic")]
        # Model names come from files on disk: Text.assemble keeps them literal, never markup.
        self.update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"))
