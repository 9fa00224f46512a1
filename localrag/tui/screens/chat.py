"""The chat screen: conversations on the left, the log and question box, sources on the right.

Asking runs `Engine.stream` in a thread worker that posts AnswerStarted, AnswerToken... and
AnswerFinished to this screen; the handlers grow the answer view and fill the sources panel. Esc
sets the worker's cancel event: the engine stops generating and still ends with a DoneEvent, so
the partial answer is saved like any other, flagged as cut. The question is added to the conversation's
file, and then the answer, so a crash loses at most the answer in progress; each is added to the file as it
is then (`ConversationStore.append`), so turns another process added meanwhile (`ask --conversation`), a
rename and a purge are kept, and the open conversation is read again before each question.

Ctrl+G switches graph mode: questions go to `Engine.ask_graph` instead, the input says so, and
the reasoning-paths panel takes the sources panel's place. The saved turn holds the answer with
its paths written out (so a reopened conversation still shows them) and, as sources, the chunks
the paths' triples came from; choosing a step in the panel opens its chunk with the step's two
entities highlighted. A question asking for entities like named ones ("what else is like X?") is
answered as `ask --graph` and MCP answer it, by `Engine.ask_related`: the turn lists the related
entities and the related view opens on them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Input, Markdown

from localrag.conversation_search import search_conversations
from localrag.conversations import (
    Conversation,
    ConversationError,
    ConversationSummary,
    SavedQuote,
    SavedSource,
    Turn,
    answer_markdown,
    export_markdown,
    export_path,
    sources_from_hits,
    turn_from_answer,
)
from localrag.errors import EmptyGraphError, LocalRagError
from localrag.forget import erase_from
from localrag.graph.turns import saved_source, turn_from_graph, turn_from_related
from localrag.safe_text import printable
from localrag.tui.clipboard import copy_text
from localrag.tui.messages import AnswerFinished, AnswerStarted, AnswerToken, write_error
from localrag.tui.screens.base import LocalRagScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.screens.dialogs import ConfirmScreen, PromptScreen
from localrag.tui.screens.related import RelatedScreen
from localrag.tui.widgets.chat import AnswerView, ChatLog, exchange_start
from localrag.tui.widgets.conversations import ConversationList
from localrag.tui.widgets.graph_paths import GraphPathsPanel, GraphView, view_from_turn
from localrag.tui.widgets.line_input import LineInput
from localrag.tui.widgets.sources import SourcesPanel
from localrag.tui.widgets.status import StatusBar
from localrag.types import Chunk, DoneEvent, SourcesEvent, TokenEvent

if TYPE_CHECKING:
    from textual.worker import Worker

    from localrag.graph.paths import Step
    from localrag.graph.related import RelatedResult, RelatedView

EMPTY_HINT = "Ask a question about your documents below. F3 adds documents, F1 shows every key."
DOCUMENTS_PLACEHOLDER = "Ask about your documents… (Esc stops)"
GRAPH_PLACEHOLDER = "Ask the knowledge graph… (Ctrl+G back to documents)"
# The side panels' widths on a terminal narrower than the "-wide" breakpoint (110 columns).
NARROW_SOURCES_WIDTH = 28
NARROW_PATHS_WIDTH = 30
# The chat's columns below which the conversations panel takes the right panel's place: an answer's line and the
# question box are still readable at 40 (at 80 columns, both panels open left the chat 26 and the box 24).
USABLE_CHAT_WIDTH = 40


class ChatScreen(LocalRagScreen):
    WORKER_ACTIONS = {"answer": "answering", "related": "finding related entities"}
    DEFAULT_CSS = """
    ChatScreen #main { height: 1fr; }
    /* The side panels give way on a narrow terminal: at 40 columns they left the answer 8 columns and the
       question box 4, and with the conversations open none, the box typing and sending unseen. */
    ChatScreen #chat-pane { width: 1fr; min-width: 20; }
    ChatScreen ConversationList { max-width: 35%; }
    ChatScreen SourcesPanel, ChatScreen GraphPathsPanel { max-width: 40%; }
    ChatScreen #question { margin: 0 1; }
    ChatScreen.-narrow ConversationList { display: none; }
    ChatScreen.-narrow.-toggle-conversations ConversationList { display: block; }
    ChatScreen.-wide.-toggle-conversations ConversationList { display: none; }
    ChatScreen GraphPathsPanel { display: none; }
    ChatScreen.-graph GraphPathsPanel { display: block; }
    ChatScreen.-graph SourcesPanel { display: none; }
    ChatScreen.-graph-turn GraphPathsPanel { display: block; }
    ChatScreen.-graph-turn SourcesPanel { display: none; }
    ChatScreen.-graph #question { border: tall $secondary; }
    /* Below CRAMPED columns the conversations, the right panel and a usable chat do not fit side by side: at 60
       the sources ran past the right edge, at 80 the chat was left 26 columns. The conversations, opened last, take
       the side; Ctrl+B gives it back. */
    ChatScreen.-cramped.-toggle-conversations SourcesPanel,
    ChatScreen.-cramped.-toggle-conversations GraphPathsPanel { display: none; }
    """ + f"""
    ChatScreen.-narrow SourcesPanel {{ width: {NARROW_SOURCES_WIDTH}; }}
    ChatScreen.-narrow GraphPathsPanel {{ width: {NARROW_PATHS_WIDTH}; }}
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    CRAMPED = ConversationList.WIDTH + max(NARROW_SOURCES_WIDTH, NARROW_PATHS_WIDTH) + USABLE_CHAT_WIDTH  # 96
    BINDINGS = [
        Binding("escape", "stop", "Stop answer", show=False),
        Binding("ctrl+n", "new_conversation", "New chat"),
        Binding("ctrl+b", "toggle_conversations", "Chats"),
        Binding("ctrl+r", "toggle_queries", "Queries"),
        # Before the question box's own Ctrl+E (end of line; End does that too), which has the focus most of the time.
        Binding("ctrl+e", "export", "Export", priority=True),
        Binding("ctrl+g", "toggle_graph", "Graph mode", show=False),
        # Ctrl+arrows: the question box and the lists keep the plain arrows, and Textual reads a terminal's Alt+Up
        # as Esc then Up (Esc stops the answer). Named in F1's help, not the footer, which at 80 columns would
        # push F2 and F3 out of sight.
        Binding("ctrl+up", "select_answer(-1)", "Earlier answer", show=False),
        Binding("ctrl+down", "select_answer(1)", "Later answer", show=False),
        # Ctrl+Y: the question box, which has the focus, takes Ctrl+C (copy) and the letters; F1's help names it.
        Binding("ctrl+y", "copy_answer", "Copy answer", show=False),
    ]

    class GraphAnswered(Message):
        def __init__(self, view: GraphView) -> None:
            super().__init__()
            self.view = view

    class RelatedAnswered(Message):
        def __init__(self, result: RelatedResult, view: RelatedView) -> None:
            super().__init__()
            self.result = result
            self.view = view

    class RelatedFound(Message):
        def __init__(self, result: RelatedResult, view: RelatedView) -> None:
            super().__init__()
            self.result = result
            self.view = view

    def __init__(self) -> None:
        super().__init__()
        self.conversation: Conversation | None = None
        self.cancel_event: threading.Event | None = None
        self._answer_view: AnswerView | None = None
        self._pending_query = ""
        # Purges (a watched folder's deletion, the Library's "Forget and erase") made while an answer is written: its
        # sources are not in the conversation yet, and their text was saved whole once it ended.
        self._erased_while_answering: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        # The sources of the answer being written, for what is kept of it if it is cut (as Esc's answer keeps them).
        self._pending_sources: list[SavedSource] = []
        # The conversations this screen has seen in a file: one whose first save failed (a full disk) is not
        # "deleted" when the file is missing, and is written whole at its next save.
        self._on_disk: set[str] = set()
        self._conversation_query = ""  # the side panel lists only the conversations holding these words
        self.graph_mode = False
        # Weak keys: an answer view removed with its conversation takes its graph view with it.
        self._graph_views: weakref.WeakKeyDictionary[AnswerView, GraphView] = weakref.WeakKeyDictionary()

    @property
    def generating(self) -> bool:
        return self.cancel_event is not None

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ConversationList(id="conversations")
            with Vertical(id="chat-pane"):
                yield ChatLog(id="log")
                yield LineInput(placeholder=DOCUMENTS_PLACEHOLDER, id="question")
            yield SourcesPanel(id="sources")
            yield GraphPathsPanel(id="graph-paths")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ChatLog).show_empty(EMPTY_HINT)
        self.query_one(SourcesPanel).show(None)
        self.query_one(GraphPathsPanel).show(None)
        self.refresh_conversations()
        self.query_one("#question", Input).focus()
        self.watch(self.localrag, "erased_paths", self._erase_from_open, init=False)

    async def _erase_from_open(self, erased: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        # The purge rewrote the saved file; the conversation held open and its view must lose the text as well.
        # While an answer is under way it is only changed: the view follows later.
        if self.generating:
            self._erased_while_answering.append(erased)
        if self.conversation is not None and erase_from(self.conversation, *erased) and not self.generating:
            await self.open_conversation(self.conversation)

    # -- conversations ---------------------------------------------------------------------------

    def refresh_conversations(self) -> None:
        current = self.conversation.id if self.conversation else None
        store = self.localrag.conversations
        if not self._conversation_query:
            self.query_one(ConversationList).show(store.summaries(), current)
            return
        found = search_conversations(store.list(), self._conversation_query)
        self.query_one(ConversationList).show([ConversationSummary.of(m.conversation) for m in found], current,
                                              query=self._conversation_query,
                                              snippets={m.conversation.id: m.snippet for m in found},
                                              found_turns={m.conversation.id: m.turn for m in found if m.turn >= 0})

    def on_conversation_list_search_requested(self, event: ConversationList.SearchRequested) -> None:
        def searched(query: str | None) -> None:
            if query is not None:  # Escape keeps the search as it was
                self._conversation_query = " ".join(query.split())
                self.refresh_conversations()

        self.app.push_screen(
            PromptScreen("Find the conversations holding these words (empty: list them all):",
                         self._conversation_query),
            searched,
        )

    def _keep(self, turns: list[Turn], after: Turn | None = None) -> None:
        """Add `turns` (already at the end of the open conversation) to its file as the file is now (`after`:
        right after the question they answer). Writing back the copy this screen holds undid what other processes
        did since it was opened: an `ask --conversation`'s turns were lost, a rename and a delete undone, a purge's
        erased text written back."""
        if self.conversation is None:
            return
        if self.conversation.id not in self._on_disk:
            turns = list(self.conversation.turns)  # never written yet: all of it
        try:
            self.conversation = self.localrag.conversations.append(self.conversation, turns, after=after)
            self._on_disk.add(self.conversation.id)
        except ConversationError as exc:  # deleted since it was read: it stays deleted
            self.localrag.show_error(exc, "saving")
        except OSError as exc:
            self.localrag.show_error(
                write_error(exc, "could not save the conversation", "check the data folder is writable"), "saving")

    async def _catch_up(self) -> None:
        """Show the open conversation as saved now, before a question is added to it: the answer is written from
        its turns, and those of another process count. Deleted elsewhere, the question starts a new one."""
        if self.conversation is None or self.conversation.id not in self._on_disk:
            return
        try:
            current = self.localrag.conversations.load(self.conversation.id)
        except ConversationError as exc:
            self.notify(f"{exc}: this question starts a new conversation.", severity="warning", markup=False)
            await self.open_conversation(None)
            return
        if current.to_json() != self.conversation.to_json():
            await self.open_conversation(current)

    async def open_conversation(self, conversation: Conversation | None, at_turn: int | None = None) -> None:
        """Show `conversation` scrolled to its end, or with the exchange of its turn `at_turn` (the one a search
        found) at the top and its answer selected: opened from a search, the turn that held the words was
        somewhere far above (#17 of 61, with #59-#61 in sight)."""
        if self.generating:
            self.notify("Stop the current answer first (Esc).", severity="warning")
            return
        self.conversation = conversation
        if conversation is not None and conversation.turns:
            self._on_disk.add(conversation.id)  # opened from its file
        log = self.query_one(ChatLog)
        turns = conversation.turns if conversation is not None else []
        found = at_turn if at_turn is not None and 0 <= at_turn < len(turns) else None
        if turns:
            await log.show_turns(turns, found)
        else:
            await log.remove_children()
            log.show_empty(EMPTY_HINT)
        answers = log.query(AnswerView)
        last_view = answers.last() if answers else None
        self.query_one(SourcesPanel).show(last_view.turn if last_view is not None else None)
        self._show_graph_turn(last_view)
        self.refresh_conversations()
        if found is None:
            log.scroll_end(animate=False)
            return
        answer = next((log.turn_view(i) for i in range(found, log.end) if turns[i].role != "user"), None)
        if isinstance(answer, AnswerView):
            self._select(answer)
        # After the log's layout, which places the turns. The exchange starts at the question the found turn is or
        # answers.
        self.call_after_refresh(log.scroll_to_widget, log.turn_view(exchange_start(turns, found)), animate=False,
                                top=True)

    async def on_conversation_list_requested(self, event: ConversationList.Requested) -> None:
        store = self.localrag.conversations
        try:
            conversation = store.load(event.conversation_id)
        except LocalRagError as exc:
            self.localrag.show_error(exc, "opening a conversation")
            self.refresh_conversations()
            return
        if event.action == "open":
            await self.open_conversation(conversation, event.turn)
        elif event.action == "rename":
            def renamed(title: str | None) -> None:
                if not title:
                    return
                try:
                    updated = store.rename(conversation.id, title)
                except LocalRagError as exc:
                    self.localrag.show_error(exc, "renaming")
                    return
                if self.conversation and self.conversation.id == updated.id:
                    self.conversation.title = updated.title
                self.refresh_conversations()

            self.app.push_screen(PromptScreen("New name for this conversation:", conversation.title), renamed)
        elif event.action == "delete":
            if self.generating and self.conversation is not None and self.conversation.id == conversation.id:
                # The answer being written would save the conversation again when it ends.
                self.notify("Stop the current answer first (Esc).", severity="warning")
                return

            async def deleted(yes: bool | None) -> None:
                if not yes:
                    return
                store.delete(conversation.id)
                if self.conversation and self.conversation.id == conversation.id:
                    await self.open_conversation(None)
                self.refresh_conversations()

            question = f"Delete the conversation “{conversation.title}”? This cannot be undone."
            self.app.push_screen(ConfirmScreen(question, "Delete"), deleted)
        elif event.action == "export":
            self._export(conversation)

    def _export(self, conversation: Conversation) -> None:
        path = export_path(conversation)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(export_markdown(conversation), encoding="utf-8")
        except OSError as exc:
            self.localrag.show_error(
                write_error(exc, f"{path}: could not write the export", "check the folder is writable"), "exporting")
            return
        self.notify(f"Exported to {path}", title="Exported", timeout=8, markup=False)

    def action_export(self) -> None:
        if self.conversation is None or not self.conversation.turns:
            self.notify("Nothing to export yet.", severity="warning")
            return
        self._export(self.conversation)

    async def action_new_conversation(self) -> None:
        await self.open_conversation(None)
        self.query_one("#question", Input).focus()

    def on_resize(self, event: events.Resize) -> None:
        # A second class beside the breakpoints': a screen's breakpoints give it one class a dimension.
        self.set_class(event.size.width < self.CRAMPED, "-cramped")

    def action_toggle_conversations(self) -> None:
        self.toggle_class("-toggle-conversations")

    def action_toggle_queries(self) -> None:
        log = self.query_one(ChatLog)
        log.toggle_class("-show-queries")
        shown = log.has_class("-show-queries")
        self.notify("Showing the query each answer searched for." if shown else "Search queries hidden.")

    # -- asking ----------------------------------------------------------------------------------

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "question":
            return
        question = event.value.strip()
        if not question:
            return
        if self.generating:
            self.notify("An answer is still being written: wait, or press Esc to stop it.", severity="warning")
            return
        event.input.clear()
        await self._catch_up()
        log = self.query_one(ChatLog)
        if log.later_hidden:  # opened at a search's find: the question goes below the conversation's last turn
            await self.open_conversation(self.conversation)
        if self.conversation is None:
            self.conversation = self.localrag.conversations.new()
        history = self.conversation.add_question(question)
        self._keep(self.conversation.turns[-1:])
        self.refresh_conversations()
        await log.add_question(question)
        from localrag.answer.evidence import EXTRACT_MODEL

        # An extracted answer streams as document text, never as Markdown (`AnswerView._source`).
        self._answer_view = await log.add_answer(extract=self.localrag.engine.answer_label() == EXTRACT_MODEL)
        self._pending_query = question
        self._pending_sources = []
        self._erased_while_answering.clear()
        self.cancel_event = threading.Event()
        if self.graph_mode:
            self.query_one(GraphPathsPanel).show(None, pending=True)
            self.localrag.set_activity("chat", "following graph paths…")
            self._answer_graph(question)
            return
        self.set_class(False, "-graph-turn")
        self.query_one(SourcesPanel).show(None, pending=True)
        self.localrag.set_activity("chat", "answering…")
        self._answer(question, history, self.cancel_event)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer(self, question: str, history: list[dict[str, str]], cancel: threading.Event) -> None:
        for event in self.localrag.engine.stream(question, history=history, cancel=cancel):
            if isinstance(event, SourcesEvent):
                self.post_message(AnswerStarted(event.hits, event.query))
            elif isinstance(event, TokenEvent):
                self.post_message(AnswerToken(event.text))
            elif isinstance(event, DoneEvent):
                self.post_message(AnswerFinished(event.answer))

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer_graph(self, question: str) -> None:
        engine = self.localrag.engine
        try:
            related = engine.ask_related(question)
            if related is not None:
                self.post_message(self.RelatedAnswered(related, engine.related_view(related)))
                return
            answer = engine.ask_graph(question)
        except EmptyGraphError as exc:
            # The app builds it too: the fix named only the command line.
            raise EmptyGraphError(exc.message, f"build it in the Library (F3) with Ctrl+B; or {exc.hint}") from exc
        view = GraphView(answer, engine.graph_index().names, engine.path_chunks(answer))
        self.post_message(self.GraphAnswered(view))

    async def on_chat_screen_graph_answered(self, message: GraphAnswered) -> None:
        view = message.view
        turn = turn_from_graph(view.answer, view.names, view.chunks, self._pending_query)
        if self._answer_view is not None:
            self._graph_views[self._answer_view] = view
        await self._finish(turn)

    async def on_chat_screen_related_answered(self, message: RelatedAnswered) -> None:
        view = message.view
        turn = turn_from_related(message.result, view, self._pending_query)
        self.query_one(GraphPathsPanel).show(None)
        await self._finish(turn)
        self._open_related(message.result, view)

    def action_toggle_graph(self) -> None:
        self.graph_mode = not self.graph_mode
        self.set_class(self.graph_mode, "-graph")
        self.remove_class("-graph-turn")  # the mode's own panel now, whichever answer is selected
        box = self.query_one("#question", Input)
        box.placeholder = GRAPH_PLACEHOLDER if self.graph_mode else DOCUMENTS_PLACEHOLDER
        box.border_title = "graph mode" if self.graph_mode else None
        self.notify("Graph mode: answers follow reasoning paths in the knowledge graph."
                    if self.graph_mode else "Document mode: answers come from retrieved passages.")

    def on_graph_paths_panel_opened(self, message: GraphPathsPanel.Opened) -> None:
        if message.chunk is None:
            source = printable(message.step.source, multiline=False)
            self.notify(f"This step was imported ({source}); it has no passage to show.", markup=False)
            return
        self.open_step(message.step, message.chunk)

    def on_graph_paths_panel_related_requested(self, message: GraphPathsPanel.RelatedRequested) -> None:
        self.localrag.set_activity("chat", f"finding what is related to {printable(message.name, multiline=False)}…")
        self._related(message.entity_id)

    @work(thread=True, exclusive=True, group="related", exit_on_error=False)
    def _related(self, entity_id: str) -> None:
        engine = self.localrag.engine
        result = engine.related([entity_id])
        self.post_message(self.RelatedFound(result, engine.related_view(result)))

    def on_chat_screen_related_found(self, message: RelatedFound) -> None:
        self._open_related(message.result, message.view)

    def _open_related(self, result: RelatedResult, view: RelatedView) -> None:
        self.localrag.set_activity("chat", "")
        self.app.push_screen(
            RelatedScreen(result, view.names, view.chunks, self._open_related_step, view.aliases))

    def _open_related_step(self, step: Step, chunk: Chunk | None, names: Mapping[str, str]) -> None:
        if chunk is None:
            source = printable(step.source, multiline=False)
            self.notify(f"This step was imported ({source}); it has no passage to show.", markup=False)
            return
        self.open_step(step, chunk, names)

    def open_step(self, step: Step, chunk: Chunk, names: Mapping[str, str] | None = None) -> None:
        view = self.query_one(GraphPathsPanel).view
        shown = names if names is not None else view.names if view is not None else {}
        source = saved_source(1, chunk)
        marks = [SavedQuote(shown.get(e, e), 1, "verified") for e in (step.head, step.tail)]
        self.app.push_screen(ChunkScreen(source, Turn(role="assistant", text="", sources=[source], quotes=marks)))

    def on_answer_started(self, message: AnswerStarted) -> None:
        self._pending_query = message.query
        if self._answer_view is not None:
            self._answer_view.show_query(self.conversation.turns[-1].text if self.conversation else "", message.query)
        pending = Turn(role="assistant", text="", sources=sources_from_hits(message.hits))
        self._pending_sources = pending.sources
        self.query_one(SourcesPanel).show(pending, pending=True)

    async def on_answer_token(self, message: AnswerToken) -> None:
        if self._answer_view is not None:
            await self._answer_view.write(message.text)

    async def on_answer_finished(self, message: AnswerFinished) -> None:
        turn = turn_from_answer(message.answer, self._pending_query)
        await self._finish(turn)
        if turn.tokens_per_second:
            self.localrag.last_speed = (turn.time_to_first_token, turn.tokens_per_second)

    def worker_failed(self, worker: Worker[object], error: LocalRagError) -> None:
        # The app shows the error; the answer so far is kept, marked as cut short.
        if worker.group == "answer":
            self.call_later(self._keep_partial, str(error))
        elif worker.group == "related":
            self.localrag.set_activity("chat", "")

    async def _keep_partial(self, failure: str) -> None:
        await self._finish(self._cut_answer(failure))

    def _cut_answer(self, failure: str = "") -> Turn:
        """What was written of the answer under way, marked cut, with the sources it was written from."""
        partial = self._answer_view.partial if self._answer_view is not None else ""
        return Turn(role="assistant", text=partial, query=self._pending_query, cancelled=True, failure=failure,
                    sources=self._pending_sources)

    def _save_answer(self, turn: Turn) -> None:
        """Add the answer to the open conversation and its file, after its question, with what the purges made
        while it was written erased from it."""
        if self.conversation is None:
            return
        turns = self.conversation.turns
        asked = turns[-1] if turns and turns[-1].role == "user" else None
        turns.append(turn)
        for erased in self._erased_while_answering:
            erase_from(self.conversation, *erased)
        self._keep([turn], after=asked)

    async def _finish(self, turn: Turn) -> None:
        if self._answer_view is not None:
            await self._answer_view.finish(turn)
            self._select(self._answer_view)
        self._save_answer(turn)
        self._erased_while_answering.clear()
        self.cancel_event = None
        self._answer_view = None
        self.localrag.set_activity("chat", "")
        self.refresh_conversations()

    def on_unmount(self) -> None:
        # The app is quitting while an answer is written: the answer went on to its end in a thread the process
        # waited for, and what it had written was lost (the conversation kept a question with no answer, which
        # the next one then read as history). It stops at its next token, and what was written is kept as cut.
        if self.cancel_event is None:
            return
        self.cancel_event.set()
        # Beside what another screen left stopping (the Library's ingest), not over it.
        self.localrag.stopping = " and ".join(filter(None, [self.localrag.stopping, "the answer"]))
        self._save_answer(self._cut_answer())

    def action_stop(self) -> None:
        if self.cancel_event is not None and not self.cancel_event.is_set():
            self.cancel_event.set()
            self.localrag.set_activity("chat", "stopping…")

    # -- sources ---------------------------------------------------------------------------------

    def _select(self, view: AnswerView) -> None:
        for other in self.query(AnswerView):
            other.set_class(other is view, "-selected")
        self.query_one(SourcesPanel).show(view.turn)
        self._show_graph_turn(view)

    def _show_graph_turn(self, view: AnswerView | None) -> None:
        """A graph answer's paths replace the sources panel while that answer is the selected one, in either mode."""
        graph = self._graph_views.get(view) if view is not None else None
        if graph is None and view is not None and view.turn is not None:
            # A saved turn's, made when it is first selected: of a long conversation's, most never are.
            graph = view_from_turn(view.turn)
            if graph is not None:
                self._graph_views[view] = graph
        if graph is not None:
            self.query_one(GraphPathsPanel).show(graph)
        self.set_class(graph is not None, "-graph-turn")

    def on_answer_view_selected(self, message: AnswerView.Selected) -> None:
        self._select(message.view)

    async def action_select_answer(self, step: int) -> None:
        """Select the answer `step` answers before (negative) or after the selected one, as a click on it does,
        and scroll it into view. With none selected (a conversation just opened) the panel shows the last one.
        Past the first or last answer shown, the log shows the turns not shown there."""
        answers = [view for view in self.query(AnswerView) if view.turn is not None]  # an answer being written has none
        if not answers:
            return
        current = next((i for i, view in enumerate(answers) if view.has_class("-selected")), len(answers) - 1)
        log = self.query_one(ChatLog)
        if (current + step < 0 and log.earlier_hidden) or (current + step >= len(answers) and log.later_hidden):
            await (log.show_earlier() if step < 0 else log.show_later())
            selected = answers[current]
            answers = [view for view in self.query(AnswerView) if view.turn is not None]
            current = answers.index(selected)
        view = answers[max(0, min(len(answers) - 1, current + step))]
        self._select(view)
        view.scroll_visible(animate=False)

    def action_copy_answer(self) -> None:
        """Copy the selected answer (Ctrl+Up, a click), else the last, with its sources, as the export writes it:
        only a source's passage could be copied (`c` in its view)."""
        answers = [(view, view.turn) for view in self.query(AnswerView) if view.turn is not None]
        if not answers:
            self.notify("no answer to copy yet", severity="warning")
            return
        turn = next((turn for view, turn in answers if view.has_class("-selected")), answers[-1][1])
        copy_text(self.app, answer_markdown(turn), "the answer and its sources")

    def on_sources_panel_opened(self, message: SourcesPanel.Opened) -> None:
        self.open_source(message.source, message.turn)

    def open_source(self, source: SavedSource, turn: Turn) -> None:
        self.app.push_screen(ChunkScreen(source, turn))

    def on_markdown_link_clicked(self, message: Markdown.LinkClicked) -> None:
        # Links in a model's answer are untrusted: show where one points, never open it.
        message.stop()
        href = printable(message.href, multiline=False)
        self.notify(f"Link not opened: {href}", severity="warning", markup=False)
