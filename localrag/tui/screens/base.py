"""The base of the app's screens: the typed app, the status bar fed from the app's state, and their workers'
failures routed to the app's one handler.

The app's reactive attributes (model, index status and collection, last speed, activity) are watched here and copied
onto the screen's StatusBar, so one assignment on the app updates the bar of whichever screen shows.

Textual posts `Worker.StateChanged` to the node that started the worker and does not bubble it, so each
screen forwards it to `LocalRagApp.on_worker_failed`, which shows the error and logs the traceback.
A screen that must undo something when one of its workers fails (reset a progress bar, keep a partial
answer) overrides `worker_failed`; it does not show the error itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from localrag.collection import DEFAULT_COLLECTION
from localrag.errors import LocalRagError
from localrag.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from localrag.tui.app import LocalRagApp


class LocalRagScreen(Screen[None]):
    # What each worker group was doing, for the error modal's "while ..." line.
    WORKER_ACTIONS: ClassVar[dict[str, str]] = {}

    @property
    def localrag(self) -> LocalRagApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        if self.query(StatusBar):
            for name in ("engine_status", "last_speed", "activity", "model_label"):
                self.watch(self.localrag, name, self._show_status, init=False)
            self._show_status()

    def _show_status(self, _value: Any = None) -> None:
        app = self.localrag
        status = app.engine_status
        for bar in self.query(StatusBar):
            bar.model_label = app.model_label
            bar.documents = None if status is None else status.documents
            bar.chunks = None if status is None else status.chunks
            bar.collection = DEFAULT_COLLECTION if status is None else status.collection
            bar.last_speed = app.last_speed
            bar.activity = app.activity

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.localrag.on_worker_failed(event.worker, self)

    def worker_action(self, worker: Worker[object]) -> str:
        """What the failed worker was doing, in the words of the error modal."""
        return self.WORKER_ACTIONS.get(worker.group, "")

    def worker_failed(self, worker: Worker[object], error: LocalRagError) -> None:
        """Hook: undo this screen's own state after `worker` failed (the app already shows `error`)."""
