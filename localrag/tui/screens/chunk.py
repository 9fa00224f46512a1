"""The chunk viewer: one source passage as the answer saw it, with the quoted words highlighted and the
sentence that best answers the question (`Answer.evidence`) underlined.

The passage is the copy saved with the answer, so it matches what the model read even if the file
changed since. Quote offsets from verification point into this text; a quote without offsets (a
close or unverified one) is looked up case-insensitively so it still shows where it came from when
it can. The text is a `rich.text.Text`: markup inside a document is displayed, never applied,
and control characters are made visible (`safe_text.printable`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from localrag.conversations import SavedSource, Turn
from localrag.forget import PURGED_LABEL
from localrag.safe_text import printable
from localrag.tui.clipboard import copy_text

HIGHLIGHT = "bold black on yellow"
EVIDENCE_STYLE = "underline"


def quote_spans(source: SavedSource, turn: Turn) -> list[tuple[int, int]]:
    """Character spans of the chunk text that the answer quoted from this source."""
    spans: list[tuple[int, int]] = []
    lowered = source.text.lower()
    for quote in turn.quotes:
        if quote.source not in (source.n, None):
            continue
        if quote.start is not None and quote.end is not None and 0 <= quote.start < quote.end <= len(source.text):
            spans.append((quote.start, quote.end))
            continue
        needle = " ".join(quote.text.split()).lower()
        at = lowered.find(needle) if needle else -1
        if at >= 0:
            spans.append((at, at + len(needle)))
    return sorted(spans)


def evidence_span(source: SavedSource, turn: Turn) -> tuple[int, int] | None:
    """Where the answer's best sentence lies in this source's text (it is taken word for word from it)."""
    if turn.evidence_source != source.n or turn.evidence_start is None or turn.evidence_end is None:
        return None
    start, end = turn.evidence_start, turn.evidence_end
    return (start, end) if 0 <= start < end <= len(source.text) else None


def highlighted_text(source: SavedSource, turn: Turn) -> Text:
    text = Text(printable(source.text))  # one character for one: the quote offsets still hold
    evidence = evidence_span(source, turn)
    if evidence is not None:
        text.stylize(EVIDENCE_STYLE, *evidence)
    for start, end in quote_spans(source, turn):
        text.stylize(HIGHLIGHT, start, end)
    return text


class ChunkScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ChunkScreen { align: center middle; }
    ChunkScreen > Vertical {
        width: 100; max-width: 100%; height: 90%; border: thick $primary; background: $surface;
    }
    /* A long path must not take the passage's rows on a short terminal: the header scrolls past 40%. A Static
       alone never scrolled (its content was cut to its box), so at 60x16 the location line could not be read. */
    ChunkScreen .where { padding: 0 1; color: $text-muted; height: auto; max-height: 40%; }
    ChunkScreen .where Static { height: auto; }
    ChunkScreen #chunk-body { padding: 0 1; height: 1fr; min-height: 3; }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close"), Binding("c", "copy", "Copy passage")]

    def __init__(self, source: SavedSource, turn: Turn) -> None:
        super().__init__()
        self.source = source
        self.turn = turn

    def compose(self) -> ComposeResult:
        marks = []
        marks.append("cited by the answer" if self.source.cited else "not cited by the answer")
        n_spans = len(quote_spans(self.source, self.turn))
        if n_spans:
            marks.append(f"{n_spans} quoted span{'s' if n_spans != 1 else ''} highlighted")
        if evidence_span(self.source, self.turn) is not None:
            marks.append("the best sentence for the question underlined")
        with Vertical() as box:
            box.border_title = Text(f"Source [{self.source.n}]")
            with VerticalScroll(classes="where"):
                yield Static(
                    Text.assemble(("path  ", "bold"), printable(self.source.path, multiline=False), "\n",
                                  ("where ", "bold"), printable(self.source.location, multiline=False), "\n",
                                  ("      ", ""), " · ".join(marks)),
                    id="chunk-where",
                )
            with VerticalScroll(id="chunk-body"):
                text = Text(f"({PURGED_LABEL})", style="italic") if self.source.purged else highlighted_text(
                    self.source, self.turn)
                yield Static(text, id="chunk-text")
            yield Footer()

    def on_mount(self) -> None:
        # The passage, not the header, takes the keys: focus went to the header, which has nothing to scroll at
        # most sizes, so Down and PageDown did nothing and the underlined sentence stayed below the fold.
        self.query_one("#chunk-body", VerticalScroll).focus()
        self.call_after_refresh(self._show_first_mark)

    def _show_first_mark(self) -> None:
        """Scroll the passage to its first highlighted quote or underlined sentence, a line above it in view."""
        evidence = evidence_span(self.source, self.turn)
        starts = [start for start, _ in quote_spans(self.source, self.turn)] + ([evidence[0]] if evidence else [])
        width = self.query_one("#chunk-text", Static).content_region.width
        if self.source.purged or not starts or width < 1:
            return
        rows = Text(printable(self.source.text)[: min(starts)]).wrap(self.app.console, width)
        self.query_one("#chunk-body", VerticalScroll).scroll_to(y=max(0, len(rows) - 2), animate=False)

    def action_copy(self) -> None:
        if self.source.purged:
            self.notify("the passage was erased (purged): there is nothing to copy", severity="warning")
            return
        copy_text(self.app, self.source.text, "the passage")
