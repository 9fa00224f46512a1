"""The settings screen: the answer settings a user tunes, saved to the config file.

Values are checked before anything is saved; a bad value is named in a notification and nothing
changes. Saving writes the fields the form changed to the TOML file (`update_saved_settings`: its other
lines stay, and a value an environment variable or a flag gave is not written) and hands the new settings to
the engine. The context size and GPU layers are fixed when llama.cpp loads a model, so when they
change the model is re-selected, which makes the engine load it again on the next answer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Static, Switch

from localrag.config import Settings, setting_range, update_saved_settings
from localrag.errors import ConfigError, LocalRagError
from localrag.safe_text import printable
from localrag.tui.messages import write_error
from localrag.tui.screens.base import LocalRagScreen
from localrag.tui.widgets.status import StatusBar


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: type

    @property
    def low(self) -> float:
        return setting_range(self.name)[0]

    @property
    def high(self) -> float:
        return setting_range(self.name)[1]


# The ranges are the core's (Settings validates itself); the form only names them in its own words.
FIELDS = (
    Field("top_k", "Sources per answer (top-k)", int),
    Field("prompt_sentences", "Sentences the model reads (0 = whole sources)", int),
    Field("min_evidence", "Evidence needed to answer (0 = always)", float),
    Field("temperature", "Temperature (0 = always the likeliest word)", float),
    Field("n_ctx", "Context size in tokens", int),
    Field("n_gpu_layers", "GPU layers (-1 all, 0 none)", int),
)
RELOAD_FIELDS = ("n_ctx", "n_gpu_layers")


def parse_settings(
    base: Settings, values: dict[str, str], only_documents: bool, extract: bool | None = None
) -> Settings:
    """The settings the form describes; ConfigError names the first bad field. `extract` None: answer mode unchanged."""
    changes: dict[str, object] = {"allow_model_knowledge": not only_documents}
    if extract is not None:
        changes["answer_mode"] = "extract" if extract else "generate"
    for field in FIELDS:
        raw = values[field.name].strip()
        # "3.5" for a count was "not a number", and an empty box "'' is not a number".
        number = "a whole number" if field.kind is int else "a number"
        if not raw:
            raise ConfigError(f"{field.label}: empty", f"type {number} from {field.low:g} to {field.high:g}")
        try:
            value = field.kind(raw)
        except ValueError:
            raise ConfigError(f"{field.label}: '{raw}' is not {number}",
                              f"type {number} from {field.low:g} to {field.high:g}") from None
        if not field.low <= value <= field.high:
            raise ConfigError(
                f"{field.label}: {raw} is out of range", f"use a value from {field.low:g} to {field.high:g}"
            )
        changes[field.name] = value
    return base.replace(**changes)


class SettingsScreen(LocalRagScreen):
    DEFAULT_CSS = """
    SettingsScreen VerticalScroll { padding: 1 2; }
    SettingsScreen .field { height: auto; margin-bottom: 1; }
    SettingsScreen .field Label { width: 1fr; max-width: 46; height: auto; padding: 1 1 0 0; }
    SettingsScreen .field Input { width: 16; }
    SettingsScreen #saved-to { color: $text-muted; }
    SettingsScreen .field Label.switch-state { width: auto; padding: 1 0 0 1; }
    """
    BINDINGS = [Binding("ctrl+s", "save", "Save")]
    _shown: Settings  # the settings the form was last filled from

    def compose(self) -> ComposeResult:
        settings = self._shown = self.localrag.engine.settings
        with VerticalScroll():
            for field in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(field.label)
                    yield Input(str(getattr(settings, field.name)), id=field.name, type="number")
            for switch, label, on in (
                ("only-documents", "Answer only from my documents", not settings.allow_model_knowledge),
                ("extract", "Answer with the sources' best sentence (no model)", settings.answer_mode == "extract"),
            ):
                with Horizontal(classes="field"):
                    yield Label(label)
                    yield Switch(on, id=switch)
                    # In words beside it: the slider alone showed its state by colour only, and a screen reader
                    # or a terminal without colour read `▊        ▎` for both states (before 2026-12-07).
                    yield Label(_state(on), id=f"{switch}-state", classes="switch-state")
            yield Button("Save", variant="primary", id="save")
            yield Static(id="saved-to")
        yield StatusBar()
        yield Footer()

    def on_screen_resume(self) -> None:
        # A screen resumes when a dialog over it closes too (an error naming a bad value, the help): only a
        # setting that changed meanwhile (a flag of another screen, a model switch) replaces what the user typed.
        settings = self.localrag.engine.settings
        shown, self._shown = self._shown, settings
        for field in FIELDS:
            if getattr(settings, field.name) != getattr(shown, field.name):
                self.query_one(f"#{field.name}", Input).value = str(getattr(settings, field.name))
        if settings.allow_model_knowledge != shown.allow_model_knowledge:
            self.query_one("#only-documents", Switch).value = not settings.allow_model_knowledge
        if settings.answer_mode != shown.answer_mode:
            self.query_one("#extract", Switch).value = settings.answer_mode == "extract"

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self.query_one(f"#{event.switch.id}-state", Label).update(_state(event.value))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()

    def action_save(self) -> None:
        app = self.localrag
        old = app.engine.settings
        values = {f.name: self.query_one(f"#{f.name}", Input).value for f in FIELDS}
        try:
            new = parse_settings(old, values, self.query_one("#only-documents", Switch).value,
                                 self.query_one("#extract", Switch).value)
            # Only what the form changed: the rest may hold a LOCALRAG_ variable's or a command-line flag's value.
            path = update_saved_settings({f.name: getattr(new, f.name) for f in fields(Settings)
                                          if getattr(new, f.name) != getattr(old, f.name)}, app.engine.config_file)
        except LocalRagError as exc:
            app.show_error(exc, "saving settings")
            return
        except OSError as exc:
            app.show_error(write_error(exc, "could not write the config file", "check it is writable"))
            return
        app.engine.update_settings(new)
        self._shown = app.engine.settings
        app.model_label = app.engine.answer_label()  # answer_mode switched here: the status bar named the model
        if any(getattr(old, name) != getattr(new, name) for name in RELOAD_FIELDS):
            app.reload_model()
        self.query_one("#saved-to", Static).update(Text(printable(f"Saved to {path}", multiline=False)))
        self.notify("Settings saved.")


def _state(on: bool) -> str:
    """A switch's state in words."""
    return "on" if on else "off"
