"""The model picker: the bundled model, every GGUF in models/ (with its model card), the models other
tools keep (Ollama, LM Studio, GPT4All, the Hugging Face cache, `model_dirs`) under one heading per
tool, or any path.

Listing reads GGUF headers and switching loads the model, so both run in thread workers. A model
whose header is bad is still listed, with the reason, and refuses to be chosen. The engine checks the
header and loads the model before it switches, so one llama.cpp cannot load leaves the model in use as it
was; the error comes back as a modal instead of a crash. A successful switch is saved to the config file,
so the next start uses the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Input, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker

from localrag.config import update_saved_settings
from localrag.discover_models import SOURCE_TITLES, full_name
from localrag.errors import LocalRagError
from localrag.models import ModelInfo, extract_summary, extract_wins, gate_summary
from localrag.paths import typed_path
from localrag.safe_text import printable
from localrag.tui.messages import ModelsListed, ModelSwitched, failure_text
from localrag.tui.screens.base import LocalRagScreen
from localrag.tui.widgets.line_input import LineInput
from localrag.tui.widgets.status import StatusBar

# Model card keys worth a line in the picker, in this order; the rest stays in the .json file.
CARD_KEYS = ("base_model", "dataset", "method", "quantization", "created", "eval")


def card_summary(card: dict[str, Any], limit: int = 3) -> str:
    if "summary" in card and isinstance(card["summary"], str):
        return card["summary"]
    parts = [f"{k}: {card[k]}" for k in CARD_KEYS if k in card and isinstance(card[k], str | int | float)]
    if len(parts) < limit:
        parts += [
            f"{k}: {v}" for k, v in card.items() if k not in CARD_KEYS and isinstance(v, str | int | float)
        ]
    return " · ".join(parts[:limit])


def model_label(info: ModelInfo, current: bool) -> Text:
    text = Text()
    text.append("● " if current else "  ", style="bold green")
    text.append(printable(info.name, multiline=False), style="bold")
    details = [info.source, info.architecture or "?", info.quantization, f"{info.size / 1e6:.0f} MB"]
    if info.loadable is False:
        details.append("this llama.cpp cannot load it")
    details = [d for d in details if d]
    text.append(printable("   " + " · ".join(details), multiline=False), style="dim")
    if info.error:
        text.append("\n    ")
        text.append(printable(info.error, multiline=False), style="red")
    elif info.card:
        summary = card_summary(info.card)
        if summary:
            text.append("\n    ")
            text.append(printable(summary, multiline=False), style="italic")
        # A tuned model's comparison with its base, so nobody picks a worse model without seeing it.
        gate = gate_summary(info.card)
        if gate:
            text.append("\n    ")
            text.append(gate, style="green" if gate.startswith("better") else "yellow")
        # The same questions answered with no model: whether "extract" mode would serve this user better.
        extract = extract_summary(info.card)
        if extract:
            text.append("\n    ")
            text.append(extract, style="yellow" if extract_wins(info.card) else "dim")
    return text


# localrag's own models come first without a heading; each other tool's models get one.
_OWN_SOURCES = ("bundled", "models/", "configured")


def spec_for(info: ModelInfo) -> str:
    if info.source == "bundled":
        return ""
    # Another tool's model is saved by name: Ollama replaces the blob file when a tag is pulled again.
    return str(info.path) if info.source in _OWN_SOURCES else full_name(info)


class ModelsScreen(LocalRagScreen):
    DEFAULT_CSS = """
    ModelsScreen #models { height: 1fr; margin: 0 1; border: round $primary 50%; }
    ModelsScreen #models:focus { border: heavy $primary; }
    ModelsScreen #other { height: auto; padding: 0 1; }
    ModelsScreen #model-path { width: 1fr; }
    """
    BINDINGS = [Binding("ctrl+l", "reload", "Rescan")]

    def __init__(self) -> None:
        super().__init__()
        self.models: list[ModelInfo] = []
        self._switching_to = ""

    def compose(self) -> ComposeResult:
        yield OptionList(id="models")
        with Horizontal(id="other"):
            yield LineInput(placeholder="or the path of any .gguf file", id="model-path")
            yield Button("Use file", variant="primary", id="use-path")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one("#models", OptionList)
        box.border_title = "Models (Enter switches)"
        box.border_subtitle = Text(printable(f"GGUF files in {self.localrag.engine.models_dir}", multiline=False))
        self.action_reload()

    def action_reload(self) -> None:
        self._list()

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def _list(self) -> None:
        engine = self.localrag.engine
        models = engine.models()
        # No current model is a picker with none marked, not an error.
        self.post_message(ModelsListed(models, engine.default_model(models)))

    def on_models_listed(self, message: ModelsListed) -> None:
        self.models = message.models
        current = message.current
        box = self.query_one("#models", OptionList)
        highlighted = box.highlighted
        box.clear_options()
        heading = ""
        for i, info in enumerate(self.models):
            if info.source not in _OWN_SOURCES and info.source != heading:
                heading = info.source
                box.add_option(Option(Text(SOURCE_TITLES.get(heading, heading), style="bold underline"),
                                      disabled=True))
            box.add_option(Option(model_label(info, info is current), id=str(i), disabled=bool(info.error)))
        if self.models:
            box.highlighted = min(highlighted or 0, box.option_count - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is None:
            return
        info = self.models[int(event.option.id)]
        self.switch(spec_for(info), info.name)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "use-path":
            self.use_path()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "model-path":
            self.use_path()

    def use_path(self) -> None:
        value = self.query_one("#model-path", Input).value.strip()
        if not value:
            self.notify("Type the path of a .gguf file first.", severity="warning")
            return
        # Made whole here: `./~root/x.gguf` passed on as text `~root/x.gguf` named root's home.
        self.switch(str(typed_path(value).absolute()), Path(value).stem)

    def switch(self, spec: str, name: str) -> None:
        self.localrag.set_activity("models", f"loading {name}…")
        self._switching_to = name
        self._switch(spec)

    @work(thread=True, exclusive=True, group="switch", exit_on_error=False)
    def _switch(self, spec: str) -> None:
        engine = self.localrag.engine
        extracting = engine.settings.answer_mode == "extract"
        engine.set_model(spec)
        engine.warm_up()
        self.post_message(ModelSwitched(spec, engine.model_name(), extracting))

    def on_model_switched(self, message: ModelSwitched) -> None:
        app = self.localrag
        app.set_activity("models", "")
        app.model_label = message.name
        app.last_speed = None
        # Only the model (and the answer mode it brought): the rest of the settings may hold a LOCALRAG_ variable's
        # or a flag's value.
        chosen = {"model": app.engine.settings.model, **({"answer_mode": "generate"} if message.was_extracting else {})}
        try:
            update_saved_settings(chosen, app.engine.config_file)
        except (LocalRagError, OSError) as exc:  # e.g. the settings file was made unreadable while the app ran
            self.notify(f"Switched, but the choice was not saved: {failure_text(exc)}", severity="warning",
                        markup=False)
        self.notify(f"Now answering with {message.name}"
                    + (" (answer_mode was extract: the model writes the answers now)" if message.was_extracting
                       else ""), markup=False)
        self._list()
        app.refresh_status()

    def worker_action(self, worker: Worker[object]) -> str:
        return f"switching to {self._switching_to}" if worker.group == "switch" else "listing models"

    def worker_failed(self, worker: Worker[object], error: LocalRagError) -> None:
        self.localrag.set_activity("models", "")  # a bad model is an error in a modal; the old one stays
