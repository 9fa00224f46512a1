"""Past evaluation runs: a list on the left, the highlighted run's report on the right.

Runs are the folders `localrag eval` writes under `<data dir>/evals/` (run.json + records.jsonl).
Listing reads only the run.json files; the report is computed from the records (summary table with
bootstrap intervals, split, baseline) by `localrag.evaluate.report`, in a thread worker because the
bootstrap over a few hundred records takes a moment. Nothing is written, so a run still in progress
in another process can be watched: Ctrl+L rescans. The report is Markdown built from our own numbers
and the data set's name; question text is not shown here, so documents cannot inject markup.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Markdown, OptionList
from textual.widgets.option_list import Option

from localrag.evaluate.report import RunInfo, list_runs, markdown, runs_root, summarise
from localrag.safe_text import printable
from localrag.tui.screens.base import LocalRagScreen
from localrag.tui.widgets.status import StatusBar

EMPTY_TEXT = "No evaluation runs yet. Run `localrag eval DATASET` (see `localrag eval --help`)."


class RunsListed(Message):
    def __init__(self, runs: list[RunInfo]) -> None:
        super().__init__()
        self.runs = runs


class ReportReady(Message):
    def __init__(self, path: Path, text: str) -> None:
        super().__init__()
        self.path = path
        self.text = text


def run_label(run: RunInfo) -> Text:
    # A run's folder, data set and model names are the user's files' names.
    text = Text()
    text.append(printable(run.path.name, multiline=False), style="bold")
    text.append(printable(f"\n  {run.dataset} · {run.questions} q · {run.status}"), style="dim")
    text.append(printable(f"\n  {', '.join(run.models)} × {', '.join(run.modes)}"), style="dim")
    return text


class EvalsScreen(LocalRagScreen):
    WORKER_ACTIONS = {"eval-runs": "listing evaluation runs"}
    DEFAULT_CSS = """
    EvalsScreen #evals-body { height: 1fr; }
    EvalsScreen #runs { width: 36; max-width: 40%; height: 1fr; border: round $primary 50%; }
    EvalsScreen #runs:focus { border: heavy $primary; }
    EvalsScreen #report-box { width: 1fr; border: round $primary 50%; padding: 0 1; }
    """
    BINDINGS = [Binding("ctrl+l", "reload", "Rescan")]

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        self.root = root
        self.runs: list[RunInfo] = []
        self.shown: Path | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="evals-body"):
            yield OptionList(id="runs")
            with VerticalScroll(id="report-box"):
                yield Markdown(EMPTY_TEXT, id="report")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one("#runs", OptionList)
        box.border_title = "Evaluation runs"
        box.border_subtitle = Text(printable(str(self.root or runs_root()), multiline=False))
        self.query_one("#report-box").border_title = "Report"
        self.action_reload()

    def action_reload(self) -> None:
        self._list()

    @work(thread=True, exclusive=True, group="eval-runs", exit_on_error=False)
    def _list(self) -> None:
        self.post_message(RunsListed(list_runs(self.root)))

    def on_runs_listed(self, message: RunsListed) -> None:
        self.runs = message.runs
        box = self.query_one("#runs", OptionList)
        box.clear_options()
        for i, run in enumerate(self.runs):
            box.add_option(Option(run_label(run), id=str(i)))
        if self.runs:
            box.highlighted = 0
        else:
            self.query_one("#report", Markdown).update(EMPTY_TEXT)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None and int(event.option.id) < len(self.runs):
            self._load(self.runs[int(event.option.id)].path)

    @work(thread=True, exclusive=True, group="eval-report", exit_on_error=False)
    def _load(self, path: Path) -> None:
        try:
            text = markdown(summarise(path), by_figure=True)
        except Exception as exc:  # a run that cannot be read is content, shown in the report pane, not a failure
            text = f"# {path.name}\n\nCould not read this run: {exc}"
        self.post_message(ReportReady(path, text))

    def on_report_ready(self, message: ReportReady) -> None:
        self.shown = message.path
        self.query_one("#report", Markdown).update(message.text)
