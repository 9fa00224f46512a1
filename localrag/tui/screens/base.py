"""The base of the app's screens: the typed app, and their workers' failures routed to the app's one handler.

Textual posts `Worker.StateChanged` to the node that started the worker and does not bubble it, so each
screen forwards it to `LocalRagApp.on_worker_failed`, which shows the error and logs the traceback.
A screen that must undo something when one of its workers fails (reset a progress bar, keep a partial
answer) overrides `worker_failed`; it does not show the error itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from localrag.errors import LocalRagError

if TYPE_CHECKING:
    from localrag.tui.app import LocalRagApp


class LocalRagScreen(Screen[None]):
    # What each worker group was doing, for the error modal's "while ..." line.
    WORKER_ACTIONS: ClassVar[dict[str, str]] = {}

    @property
    def localrag(self) -> LocalRagApp:
        return self.app  # type: ignore[return-value]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.localrag.on_worker_failed(event.worker, self)

    def worker_action(self, worker: Worker[object]) -> str:
        """What the failed worker was doing, in the words of the error modal."""
        return self.WORKER_ACTIONS.get(worker.group, "")

    def worker_failed(self, worker: Worker[object], error: LocalRagError) -> None:
        """Hook: undo this screen's own state after `worker` failed (the app already shows `error`)."""
