"""The localrag Textual app: one factory for the CLI entry point and the tests.

How it is put together:
- `create_app()` builds a cheap `Engine` (it loads nothing), so the first frame is drawn before
  torch, llama.cpp or LanceDB are imported. After mount, a thread worker calls `warm_up()`, which
  loads them; the status bar says so while it runs.
- The four main screens (chat, library, models, settings) are app modes, so each keeps its state
  and its running workers while the user switches away: an ingest keeps going during a chat.
- Engine calls happen only in `@work(thread=True)` workers that post messages from
  `localrag.tui.messages`; handlers on the UI thread change widgets. Workers raise (they run with
  `exit_on_error=False`); `on_worker_failed` is the one place a failure is handled: it logs the
  traceback (Textual log and `tui.log` in the data dir), lets the worker's screen undo its own state,
  and shows the error's one-line message and hint in a modal; the app does not exit.
- State the status bar shows (model, index size, last answer's speed, running activity) lives in
  reactive attributes on the app; each screen (`screens/base.py`) copies them onto its StatusBar.

Run it with `localrag` (or `localrag chat`), or `python -m localrag.tui.app`.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from localrag.config import Settings, update_saved_settings
from localrag.conversations import ConversationStore
from localrag.errors import LocalRagError
from localrag.safe_text import printable
from localrag.sizes import count_text
from localrag.tui.failures import log_traceback
from localrag.tui.messages import EngineReady, WriterWaiting, failure_text, user_error
from localrag.tui.screens.base import LocalRagScreen
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.dialogs import ErrorScreen, HelpScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.screens.models import ModelsScreen
from localrag.tui.screens.settings import SettingsScreen
from localrag.types import STALE_LABEL
from localrag.writer_lock import tell_waits

if TYPE_CHECKING:
    from pathlib import Path

    from textual.theme import Theme

    from localrag.engine import Engine
    from localrag.engine_status import EngineStatus

def _evals_screen() -> Screen:
    # Built on first visit: the evaluation modules pull in numpy, which the first frame must not wait for.
    from localrag.tui.screens.evals import EvalsScreen

    return EvalsScreen()


MODE_TITLES = {"chat": "Chat", "library": "Library", "models": "Models", "settings": "Settings", "evals": "Evaluations"}


class LocalRagApp(App[None]):
    TITLE = "localrag"
    CSS_PATH = "app.tcss"
    MODES = {
        "chat": ChatScreen,
        "library": LibraryScreen,
        "models": ModelsScreen,
        "settings": SettingsScreen,
        "evals": _evals_screen,
    }
    DEFAULT_MODE = "chat"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "switch_mode('chat')", "Chat"),
        Binding("f3", "switch_mode('library')", "Library"),
        Binding("f4", "switch_mode('models')", "Models"),
        Binding("f5", "switch_mode('settings')", "Settings"),
        Binding("f6", "switch_mode('evals')", "Evals"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    engine_status: reactive[EngineStatus | None] = reactive(None)
    last_speed: reactive[tuple[float, float] | None] = reactive(None)
    # What the status bar says is running: every owner's activity (`set_activity`), joined.
    activity: reactive[str] = reactive("")
    model_label: reactive[str] = reactive("")
    # What a purge (the Library's "Forget and erase", a watched folder's deletion) erased from saved conversations,
    # last: the paths forgotten, and the documents under them spared. The chat screen erases it from the
    # conversation it holds open as well (passages saved under a name gone since are erased from the file).
    erased_paths: reactive[tuple[tuple[str, ...], tuple[str, ...]]] = reactive(((), ()), always_update=True)

    def __init__(
        self, engine: Engine, conversations: ConversationStore | None = None, *, warm_up: bool = True
    ) -> None:
        super().__init__()
        self.engine = engine
        self.conversations = conversations or ConversationStore()
        self._warm = warm_up
        self._stale_told = False
        # What quitting asked to stop ("the ingest"): it ends after its current step, the screen already gone.
        self.stopping = ""
        self._activities: dict[str, str] = {}
        self._saved_theme = ""

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast, from any screen (a widget's `notify` is the app's), shows its control characters
        (`printable`): many name a file, a model or a conversation, and such a name can hold an escape sequence."""
        super().notify(printable(message), title=printable(title, multiline=False), severity=severity,
                       timeout=timeout, markup=markup)

    def set_activity(self, owner: str, text: str) -> None:
        """What `owner` ("chat", "ingest", "graph", "models") is doing now, "" once it is done. One string for all
        of them let an answer that ended clear it while a graph build ran on, which then looked finished."""
        if text:
            self._activities[owner] = text
        else:
            self._activities.pop(owner, None)
        self.activity = " · ".join(self._activities.values())

    def activity_of(self, owner: str) -> str:
        return self._activities.get(owner, "")

    def on_mount(self) -> None:
        self.model_label = self.engine.answer_label()
        self._apply_saved_theme()
        # A forget or an ingest behind another process's writer waited in silence, looking hung for a minute.
        tell_waits(self._tell_wait)
        if self._warm:
            self.set_activity("models", "loading models…")
            # Importing torch in a thread still competes for the GIL; starting after the first
            # refresh keeps it from delaying the first frame.
            self.call_after_refresh(self._warm_up)

    def on_unmount(self) -> None:
        tell_waits(None)

    def _tell_wait(self, line: str) -> None:
        """Called in the worker thread that waits: posting a message is safe from any thread."""
        self.post_message(WriterWaiting(line))

    def on_writer_waiting(self, message: WriterWaiting) -> None:
        self.notify(f"{message.line[:1].upper()}{message.line[1:]}.", timeout=10, markup=False)

    # -- engine workers --------------------------------------------------------------------------

    # What each of the app's own worker groups was doing, for the error modal.
    WORKER_ACTIONS = {"warm-up": "loading the models", "status": "reading the index status",
                      "reload": "reloading the model"}

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        self.engine.warm_up()
        self.post_message(EngineReady(self.engine.status()))

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def _status(self) -> None:
        self.post_message(EngineReady(self.engine.status()))

    @work(thread=True, exclusive=True, group="reload", exit_on_error=False)
    def _reload_model(self) -> None:
        # On failure the old model stays selected in the settings file.
        self.engine.set_model(self.engine.settings.model)

    def refresh_status(self) -> None:
        self._status()

    def reload_model(self) -> None:
        """Make the engine load the model again (after context size or GPU layers changed)."""
        self._reload_model()

    def on_engine_ready(self, message: EngineReady) -> None:
        self.engine_status = message.status
        self.model_label = message.status.answered_by
        if self.activity_of("models") == "loading models…":
            self.set_activity("models", "")
        stale = message.status.stale_documents
        if stale and not self._stale_told:  # once a run: after an upgrade, not after every ingest
            self._stale_told = True
            self.notify(f"{count_text(stale, 'document')} {STALE_LABEL}: R in the Library (F3) reads them again.",
                        timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.on_worker_failed(event.worker, None)

    def on_worker_failed(self, worker: Worker[object], screen: LocalRagScreen | None) -> None:
        """The one error path of every worker: log the traceback, let its screen undo, show the user error.

        A bad model, store or file is shown in a modal and the app stays up to fix it.
        """
        error = worker.error
        if not isinstance(error, Exception):  # a cancelled worker is not an error
            return
        action = screen.worker_action(worker) if screen is not None else self.WORKER_ACTIONS.get(worker.group, "")
        self.log.error(f"worker {worker.name!r} failed while {action or 'working'}:\n"
                       + "".join(traceback.format_exception(type(error), error, error.__traceback__)))
        log_traceback(error, action)
        shown = user_error(error)
        if screen is not None:
            screen.worker_failed(worker, shown)
        elif self.activity_of("models") == "loading models…":
            self.set_activity("models", "models not loaded")
        self.show_error(shown, action)

    def show_error(self, error: LocalRagError, action: str = "") -> None:
        self.push_screen(ErrorScreen(error, action))

    # -- navigation ------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def _apply_saved_theme(self) -> None:
        """The theme the `theme` setting names, then every change of it (Ctrl+T, the palette's) saved: a user who
        needs the light theme had to switch it again at each start."""
        wanted = self.engine.settings.theme.strip()
        if wanted in self.available_themes:
            self.theme = wanted
        elif wanted:
            self.notify(f"theme '{wanted}' (the theme setting) is not one the app has; Ctrl+P then 'Theme' lists "
                        "them", severity="warning", markup=False)
        self._saved_theme = wanted
        self.theme_changed_signal.subscribe(self, self._save_theme)

    def _save_theme(self, theme: Theme) -> None:
        if theme.name != self._saved_theme:
            self._saved_theme = theme.name
            self._write_theme(theme.name)

    @work(thread=True, group="theme", exit_on_error=False)
    def _write_theme(self, name: str) -> None:
        """Into the settings file only: no engine part uses the theme, and the engine's settings wait on its lock,
        held for as long as a model loads (Ctrl+T then froze the app for that long)."""
        try:
            update_saved_settings({"theme": name}, self.engine.config_file)
        except (LocalRagError, OSError) as exc:
            self.call_from_thread(self.notify, f"Theme switched, but not saved: {failure_text(exc)}",
                                  severity="warning", markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in MODE_TITLES.items():
            yield SystemCommand(f"Go to {title}", f"Switch to the {title.lower()} screen",
                                partial(self.switch_mode, mode))
        yield SystemCommand("Help", "Keys and what the marks mean", self.action_help)
        yield SystemCommand("Toggle light/dark", "Switch between the light and dark theme",
                            self.action_toggle_theme)
        if isinstance(screen, ChatScreen):
            yield SystemCommand("New conversation", "Start an empty conversation", screen.action_new_conversation)
            yield SystemCommand("Export conversation", "Write it as Markdown with its sources",
                                screen.action_export)
            yield SystemCommand("Show rewritten queries", "Show or hide what each answer searched for",
                                screen.action_toggle_queries)
            yield SystemCommand("Show conversations", "Show or hide the side panel",
                                screen.action_toggle_conversations)


def create_app(settings: Settings | None = None, engine: Engine | None = None,
               config_file: Path | None = None) -> LocalRagApp:
    """The app over `engine`, or over a new (not yet loaded) Engine built from `settings`, saving the choices
    made in it to `config_file` (None: the user's settings file)."""
    if engine is None:
        from localrag.engine import Engine

        engine = Engine(settings, config_file=config_file)
    return LocalRagApp(engine)


def run_app(settings: Settings | None = None, engine: Engine | None = None,
            config_file: Path | None = None) -> LocalRagApp:
    """Run the app until it quits; the app, which says what it left stopping."""
    app = create_app(settings, engine, config_file)
    app.run()
    return app


if __name__ == "__main__":
    run_app()
