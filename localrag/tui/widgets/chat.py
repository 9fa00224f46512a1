"""The conversation log: the user's questions and the streamed, Markdown-rendered answers.

An answer streams into a Textual `Markdown` widget through `MarkdownStream`, which coalesces
fragments when tokens arrive faster than the widget can re-render. The model's output is untrusted
text: Textual's Markdown widget builds `Content` from the Markdown tokens and never parses Rich
markup, and links are created with `open_links=False` so a link in an answer can only post a
`LinkClicked` message, which the chat screen reports without opening anything. Questions, the
searched-for query and the meta line are `rich.text.Text`, so no markup in them can style or act, and their control
characters are shown (`printable`), so no escape sequence a question holds reaches the terminal. Of an answer
opened longer than `LONG_ANSWER_CHARS`, its first paragraphs show as a plain `Text`, and its meta line says so.
Of a conversation opened longer than `SHOWN_TURNS`, that many turns show, and a `MoreTurns` line above (and below,
opened at a search's find) stands for the others and shows them a batch at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from localrag.conversations import Turn
from localrag.safe_text import markdown_escaped, printable
from localrag.types import LIMIT_LABEL, cores_note

if TYPE_CHECKING:
    from textual.widget import Widget


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage { margin: 1 0 0 0; padding: 0 1; background: $boost; border-left: thick $accent; }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Text(printable(text)))
        self.question = text


def _spoken(words: str, style: str) -> Text:
    """A message of the Engine's in `style`, its `code` spans bold without their backticks: the words are the
    command line's (where backticks mark a command), and the app showed the backticks as they were."""
    text = Text()
    # A failure's words can name a file, and a file name can hold an escape sequence.
    words = printable(words, multiline=False)
    for i, piece in enumerate(words.split("`") if words.count("`") % 2 == 0 else [words]):
        text.append(piece, style=f"{style} bold".strip() if i % 2 else style)
    return text


def _meta_line(turn: Turn) -> Text:
    from localrag.answer.evidence import EXTRACT_MODEL
    from localrag.answer.repeats import STOPPED_LABEL

    parts: list[tuple[str, str] | Text] = []
    if turn.failure:
        parts.append(_spoken(f"✗ not answered: {turn.failure}", "bold red"))
    elif turn.cancelled:
        parts.append(("✂ cut short (stopped with Esc)", "bold yellow"))
    if turn.stopped_repeating:
        parts.append((STOPPED_LABEL, "dim"))
    if turn.hit_token_limit:
        parts.append((LIMIT_LABEL, "dim"))
    if turn.refused:
        parts.append(_spoken(turn.refusal or "no relevant passage in your documents", "italic"))
    cited = [s.n for s in turn.sources if s.cited]
    if cited:
        parts.append(("cites " + " ".join(f"[{n}]" for n in cited)
                      + (" (added by localrag: the answer cited none itself)" if turn.attributed else ""), ""))
    if turn.invalid_citations:
        parts.append(("cites missing " + " ".join(f"[{n}]" for n in turn.invalid_citations), "red"))
    if turn.model == EXTRACT_MODEL:
        parts.append((EXTRACT_MODEL, "dim"))
    if turn.tokens_per_second:
        cores = cores_note(turn.threads)
        parts.append((f"TTFT {turn.time_to_first_token:.2f}s · {turn.tokens_per_second:.1f} tok/s"
                      + (f" {cores}" if cores else ""), "dim"))
    if turn.left_out:
        parts.append((turn.left_out, "dim"))
    if turn.thinking:
        parts.append((turn.thinking, "dim"))
    text = Text()
    for i, part in enumerate(parts):
        if i:
            text.append("  ·  ", style="dim")
        if isinstance(part, Text):
            text.append_text(part)
        else:
            text.append(*part)
    return text


def _evidence_line(turn: Turn) -> Text:
    """The sources' best sentence under a generated answer, or under a refusal the closest one; empty for an
    extracted answer (it is the answer)."""
    from localrag.answer.evidence import CLOSEST_SENTENCE_LABEL, EVIDENCE_LABEL, EXTRACT_MODEL, header_note

    if not turn.evidence_text or (turn.model == EXTRACT_MODEL and not turn.refused):
        return Text()
    header = f" {printable(header_note(turn.evidence_header), multiline=False)}" if turn.evidence_header else ""
    label = CLOSEST_SENTENCE_LABEL if turn.refused else EVIDENCE_LABEL
    return Text.assemble((f"{label} [{turn.evidence_source}] ", "bold"),
                         f"“{printable(turn.evidence_text, multiline=False)}”", (header, "dim"))


# Of an answer opened longer than this, the first paragraphs up to it show, as plain text. As Markdown, one of 2,000
# paragraphs (240,000 characters) took 6 s to open, the app frozen for up to 1.7 s at a time (its 2,000 block
# widgets); whole as plain text, 3 s and 1.6 s (wrapping it all). The default answer is 320 tokens, about 1,300
# characters.
LONG_ANSWER_CHARS = 16_000


def _head(text: str) -> str:
    """The paragraphs of `text` that fit in LONG_ANSWER_CHARS (the characters, when its first paragraph does not)."""
    head = text[:LONG_ANSWER_CHARS]
    return head[: head.rfind("\n\n")] if "\n\n" in head else head


class AnswerView(Vertical):
    """One assistant answer: Markdown body, the searched-for query (hidden by default), a meta line."""

    DEFAULT_CSS = """
    AnswerView { height: auto; margin: 1 0 0 0; padding: 0 1; }
    AnswerView > Markdown { margin: 0; padding: 0; background: transparent; }
    AnswerView > .plain { height: auto; }
    AnswerView > .query { color: $text-muted; display: none; }
    AnswerView > .meta { color: $text-muted; height: auto; }
    AnswerView > .evidence { height: auto; display: none; }
    AnswerView.-evidence > .evidence { display: block; }
    AnswerView.-selected { border-left: thick $secondary; }
    AnswerView.-cut > .meta { color: $warning; }
    """

    class Selected(Message):
        def __init__(self, view: AnswerView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, turn: Turn | None = None, *, extract: bool = False) -> None:
        """`extract`: the answer to come is a sentence of the sources (`answer_mode = "extract"`)."""
        from localrag.answer.evidence import EXTRACT_MODEL

        super().__init__()
        self.turn = turn
        self.extract = extract or (turn is not None and turn.model == EXTRACT_MODEL)
        self._stream: MarkdownStream | None = None
        text = printable(turn.text) if turn else ""
        # The part shown of a long answer, as a Text, which a Static shows as it is: no markup in it is read.
        self.head = _head(text) if len(text) > LONG_ANSWER_CHARS else ""
        self._markdown: Markdown | Static = (Static(Text(self.head), classes="plain") if self.head
                                             else Markdown(self._source(text), open_links=False))
        self._query = Static(classes="query")
        self._evidence = Static(classes="evidence")
        self._meta = Static(classes="meta")
        self.partial = ""

    def compose(self) -> ComposeResult:
        yield self._query
        yield self._markdown
        yield self._evidence
        yield self._meta

    def on_mount(self) -> None:
        if self.turn is not None:
            self.show_turn(self.turn)
        else:
            self._meta.update(Text("searching your documents…", style="italic"))

    def show_query(self, question: str, query: str) -> None:
        if query and query != question:
            self._query.update(Text.assemble(("searched for: ", "italic"), printable(query, multiline=False)))
        else:
            self._query.update(Text("searched for the question as asked", style="italic"))

    async def write(self, fragment: str) -> None:
        if self._stream is None:
            assert isinstance(self._markdown, Markdown)  # an answer being written is one not opened
            self._stream = Markdown.get_stream(self._markdown)
            self._meta.update(Text("writing…  (Esc stops)", style="italic"))
        self.partial += fragment
        await self._stream.write(self._source(printable(fragment)))

    def _source(self, text: str) -> str:
        """The Markdown the widget is given for `text`: a model's answer is Markdown, but an extracted one is a
        document's sentence, shown as written. As Markdown, `<password>` and `<!-- not -->` vanished from a quote
        marked verified, `__init__.py` showed as a bold "init.py" and `[text](https://...)` as a link."""
        return markdown_escaped(text) if self.extract else text

    async def finish(self, turn: Turn) -> None:
        """Replace the streamed text by the final answer and show what was cited and how fast."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        from localrag.answer.evidence import EXTRACT_MODEL

        self.turn = turn
        extract = turn.model == EXTRACT_MODEL
        if (turn.text != self.partial or extract != self.extract) and isinstance(self._markdown, Markdown):
            self.extract = extract
            await self._markdown.update(self._source(printable(turn.text)))
        self.show_turn(turn)

    def show_turn(self, turn: Turn) -> None:
        self.set_class(turn.cancelled, "-cut")
        self.show_query("", turn.query)
        evidence = _evidence_line(turn)
        self.set_class(bool(evidence), "-evidence")
        self._evidence.update(evidence)
        meta = _meta_line(turn)
        if self.head:
            shown = (f"the first {len(self.head):,} of its {len(printable(turn.text)):,} characters shown, as plain "
                     "text: Ctrl+Y copies it whole, Ctrl+E exports the conversation")
            meta = Text.assemble(meta, ("  ·  " if meta else "", "dim"), (shown, "bold"))
        self._meta.update(meta)

    def on_click(self) -> None:
        if self.turn is not None:
            self.post_message(self.Selected(self))


# The turns a conversation opens with (the last ones, or from a search's find on), and how many more each
# `MoreTurns` shows. Textual lays out the whole log again while turns are mounted, each pass longer as the log grows:
# every turn mounted, each awaited, a 244-turn conversation took 44 s to open and 120 turns 14 s; all in one batch,
# still several times 40 turns' time (benchmarks/bench_open_conversation.py).
SHOWN_TURNS = 40


def exchange_start(turns: Sequence[Turn], index: int) -> int:
    """The index of the question whose answer is turn `index`, else `index`: a window starts at a question."""
    if 0 < index < len(turns) and turns[index].role != "user" and turns[index - 1].role == "user":
        return index - 1
    return index


class MoreTurns(Static, can_focus=True):
    """The line standing for a conversation's turns not shown, above the log's turns (`earlier`) or below them;
    a click, Enter or Space on it shows the next `SHOWN_TURNS` of them."""

    DEFAULT_CSS = """
    MoreTurns { color: $text-muted; margin: 1 0 0 0; padding: 0 1; text-style: italic; }
    MoreTurns:focus { background: $boost; color: $text; }
    """
    BINDINGS = [Binding("enter,space", "press", "Show them", show=False)]

    class Pressed(Message):
        def __init__(self, more: MoreTurns) -> None:
            super().__init__()
            self.more = more

    def __init__(self, hidden: int, *, earlier: bool) -> None:
        super().__init__(self._label(hidden, earlier))
        self.earlier = earlier

    @staticmethod
    def _label(hidden: int, earlier: bool) -> Text:
        arrow, which = ("▲", "earlier") if earlier else ("▼", "later")
        return Text(f"{arrow} {hidden:,} {which} turn{'s' if hidden != 1 else ''} not shown: click, or Enter here, "
                    f"shows {min(hidden, SHOWN_TURNS):,} more (Ctrl+E exports them all)")

    def show_hidden(self, hidden: int) -> None:
        self.update(self._label(hidden, self.earlier))

    def on_click(self) -> None:
        self.post_message(self.Pressed(self))

    def action_press(self) -> None:
        self.post_message(self.Pressed(self))


class ChatLog(VerticalScroll):
    """Scrolls with the newest message unless the user scrolled up (Textual's anchor). Of an opened conversation's
    turns, those from `first` to `end` are shown, each one widget; the others are a `MoreTurns` line away."""

    # The left column shows focus by its glyph, not by colour alone (NO_COLOR, a light theme): Tab reached the log
    # with no sign of it, though the arrows and PageUp/PageDown scroll it there.
    DEFAULT_CSS = """
    ChatLog { height: 1fr; padding: 0 1 0 0; border-left: blank; }
    ChatLog:focus { border-left: thick $accent; }
    ChatLog.-show-queries AnswerView > .query { display: block; }
    ChatLog > .empty { color: $text-muted; margin: 1 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002  (Textual's name)
        super().__init__(id=id)
        self._turns: tuple[Turn, ...] = ()  # the opened conversation's, as opened
        self.first = 0
        self.end = 0

    def on_mount(self) -> None:
        self.anchor()

    @property
    def earlier_hidden(self) -> int:
        return self.first

    @property
    def later_hidden(self) -> int:
        return len(self._turns) - self.end

    def show_empty(self, hint: str) -> None:
        self._turns, self.first, self.end = (), 0, 0
        self.remove_children()
        self.mount(Static(Text(hint), classes="empty"))

    async def show_turns(self, turns: Sequence[Turn], at: int | None = None) -> None:
        """Show a saved conversation's last SHOWN_TURNS turns, or SHOWN_TURNS from the exchange holding turn `at`
        (fewer where they reach its end: then the last ones), in one batch."""
        await self.remove_children()
        self._turns = tuple(turns)
        last_window = exchange_start(turns, max(0, len(turns) - SHOWN_TURNS))
        self.first = last_window if at is None else min(exchange_start(turns, at), last_window)
        self.end = len(turns) if self.first == last_window else self._window_end(self.first)
        widgets: list[Widget] = self._views(self.first, self.end)
        if self.earlier_hidden:
            widgets.insert(0, MoreTurns(self.earlier_hidden, earlier=True))
        if self.later_hidden:
            widgets.append(MoreTurns(self.later_hidden, earlier=False))
        await self.mount_all(widgets)

    def _window_end(self, first: int) -> int:
        end = min(len(self._turns), first + SHOWN_TURNS)
        # Not between a question and its answer.
        return end + 1 if end < len(self._turns) and exchange_start(self._turns, end) != end else end

    def _views(self, first: int, end: int) -> list[Widget]:
        return [UserMessage(turn.text) if turn.role == "user" else AnswerView(turn) for turn in self._turns[first:end]]

    def turn_view(self, index: int) -> UserMessage | AnswerView | None:
        """The widget of the opened conversation's turn `index`, if it is shown."""
        if not self.first <= index < self.end:
            return None
        views = [child for child in self.children if isinstance(child, UserMessage | AnswerView)]
        return views[index - self.first]

    async def show_earlier(self) -> None:
        """Show up to SHOWN_TURNS more of the turns above, the view kept where it was."""
        if not self.earlier_hidden:
            return
        first = exchange_start(self._turns, max(0, self.first - SHOWN_TURNS))
        was_first = self.turn_view(self.first)
        more = next(line for line in self.query(MoreTurns) if line.earlier)
        await self.mount_all(self._views(first, self.first), after=more)
        self.first = first
        if self.earlier_hidden:
            more.show_hidden(self.earlier_hidden)
        else:
            await more.remove()
        if was_first is not None:
            self.call_after_refresh(self.scroll_to_widget, was_first, animate=False, top=True)

    async def show_later(self) -> None:
        """Show up to SHOWN_TURNS more of the turns below."""
        if not self.later_hidden:
            return
        end = self._window_end(self.end)
        more = next(line for line in self.query(MoreTurns) if not line.earlier)
        await self.mount_all(self._views(self.end, end), before=more)
        self.end = end
        if self.later_hidden:
            more.show_hidden(self.later_hidden)
        else:
            await more.remove()

    async def on_more_turns_pressed(self, message: MoreTurns.Pressed) -> None:
        message.stop()
        await (self.show_earlier() if message.more.earlier else self.show_later())

    async def add_question(self, text: str) -> UserMessage:
        await self.query(".empty").remove()
        message = UserMessage(text)
        await self.mount(message)
        return message

    async def add_answer(self, turn: Turn | None = None, *, extract: bool = False) -> AnswerView:
        view = AnswerView(turn, extract=extract)
        await self.mount(view)
        return view
