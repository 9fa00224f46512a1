"""The sources panel: the passages an answer was built from, marked cited / quote verified; for a refused
answer, the closest passages, which none answered.

Each option is built as `rich.text.Text` from the saved source, so a document's path or heading
that contains markup such as `[@click=app.quit]` is shown as typed and cannot act, and control
characters (terminal escape sequences) are made visible by `safe_text.printable`. Choosing an
option posts `SourcesPanel.Opened`; the chat screen answers by pushing the chunk viewer. The `w`
key shows under each source why it ranked where it did (fused score, each leg's rank and score).
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from localrag.conversations import SavedSource, Turn
from localrag.forget import PURGED_LABEL
from localrag.safe_text import printable
from localrag.tui.widgets.panel_list import PanelList
from localrag.types import QuoteStatus

QUOTE_STYLES = {QuoteStatus.VERIFIED: "green", QuoteStatus.CLOSE: "yellow", QuoteStatus.NOT_FOUND: "red"}


def rank_line(source: SavedSource) -> str:
    """Why a source ranked where it did: the fused score and each leg's rank and score."""

    def leg(name: str, rank: int | None, score: float | None) -> str:
        return f"{name} -" if rank is None else f"{name} #{rank} ({score or 0.0:.2f})"

    return " · ".join(
        [f"fused {source.score:.3f}", leg("vector", source.vector_rank, source.vector_score),
         leg("BM25", source.text_rank, source.text_score)]
    )


def source_label(source: SavedSource, turn: Turn, *, pending: bool = False, ranks: bool = False) -> Text:
    text = Text(no_wrap=False)
    text.append(f"[{source.n}] ", style="bold")
    if pending:
        text.append("…", style="dim")
    elif turn.refused:
        text.append("○ closest, not used", style="dim")
    elif source.n in turn.unsupported_citations:
        text.append("✗ cited, unsupported", style="bold yellow")
    elif source.cited:
        text.append("● cited", style="bold green")
    else:
        text.append("○ not cited", style="dim")
    status = turn.quote_status(source.n)
    if status in QUOTE_STYLES:
        quote = QuoteStatus(status)
        text.append(" ")
        text.append(f"{quote.mark} quote", style=QUOTE_STYLES[quote])
    elsewhere = sorted({q.source for q in turn.quotes if q.found_in == source.n and q.source is not None})
    if elsewhere:
        text.append(f" holds the quote cited as {', '.join(f'[{n}]' for n in elsewhere)}", style="yellow")
    text.append("\n")
    text.append(printable(source.location, multiline=False), style="italic")
    if source.purged:
        text.append(f"\n{PURGED_LABEL}", style="dim")
    if ranks:
        text.append("\n")
        text.append(rank_line(source), style="dim")
    return text


class SourcesPanel(PanelList):
    DEFAULT_CSS = """
    SourcesPanel { width: 34; height: 1fr; border: round $primary 50%; }
    SourcesPanel:focus { border: heavy $primary; }
    """

    # Not in the footer, so the panel looks as before until asked; the README names the key.
    BINDINGS = [Binding("w", "toggle_ranks", "Why ranked", show=False)]

    class Opened(Message):
        def __init__(self, source: SavedSource, turn: Turn) -> None:
            super().__init__()
            self.source = source
            self.turn = turn

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.turn: Turn | None = None
        self.show_ranks = False
        self._pending = False
        self.border_title = "Sources"

    def show(self, turn: Turn | None, *, pending: bool = False) -> None:
        self.turn = turn
        self._pending = pending
        self.clear_options()
        if turn is None or not turn.sources:
            # A finished answer without sources (a refusal before any search, graph paths all imported) has
            # none to come: "yet" told the user to wait.
            message = ("searching…" if pending else "no sources yet" if turn is None
                       else "no passages behind this answer")
            self.add_option(Option(Text(message, style="dim italic"), disabled=True))
            self.border_subtitle = ""
            return
        self.add_options(
            Option(source_label(s, turn, pending=pending, ranks=self.show_ranks), id=str(s.n)) for s in turn.sources
        )
        cited = sum(1 for s in turn.sources if s.cited)
        self.border_subtitle = ("" if pending else "none answers · Enter opens" if turn.refused
                                else f"{cited} of {len(turn.sources)} cited · Enter opens")

    def action_toggle_ranks(self) -> None:
        """Show or hide, under each source, the fused score and where each retrieval leg ranked it."""
        self.show_ranks = not self.show_ranks
        highlighted = self.highlighted
        self.show(self.turn, pending=self._pending)
        self.highlighted = highlighted

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.turn is None or event.option.id is None:
            return
        n = int(event.option.id)
        source = next(s for s in self.turn.sources if s.n == n)
        self.post_message(self.Opened(source, self.turn))
