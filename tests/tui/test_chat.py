"""Chat screen behaviour over the FakeEngine: streaming, sources, cancel, follow-ups, safety."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from conftest import wait_for
from fakes import INJECTION, FakeEngine
from textual.widgets import Input, Markdown, Static

from localrag.answer.evidence import EXTRACT_MODEL
from localrag.conversations import Conversation, ConversationStore, Turn, export_markdown
from localrag.errors import ModelError
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.screens.dialogs import ErrorScreen
from localrag.tui.widgets.chat import SHOWN_TURNS, AnswerView, ChatLog, MoreTurns, UserMessage
from localrag.tui.widgets.conversations import ConversationList
from localrag.tui.widgets.sources import SourcesPanel
from localrag.types import Evidence

pytestmark = pytest.mark.anyio


def _plain(widget: Static) -> str:
    return str(widget.render())


async def _click_text(pilot, widget, needle: str) -> None:  # type: ignore[no-untyped-def]
    """Click every cell of the first line of `widget` where `needle` is drawn."""
    line = str(widget.render()).split("\n")[0]
    start = line.index(needle[:10])
    for x in range(start, min(start + len(needle), widget.content_region.width)):
        await pilot.click(offset=(widget.content_region.x + x, widget.content_region.y))


async def _ask(pilot, question: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    box = app.screen.query_one("#question", Input)
    box.value = question
    box.focus()
    await pilot.press("enter")


async def _answered(pilot) -> AnswerView:  # type: ignore[no-untyped-def]
    """The answer view once the kettle question has been asked and answered."""
    await _ask(pilot, "how do I descale the kettle?")
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await wait_for(pilot, lambda: not screen.generating)
    return screen.query_one(AnswerView)


async def test_answer_streams_with_sources_and_is_saved(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine_status is not None)
        await _ask(pilot, "how do I descale the kettle?")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_for(pilot, lambda: not screen.generating)
        view = screen.query_one(AnswerView)
        assert "every four weeks" in view.query_one(Markdown).source
        assert view.turn is not None and not view.turn.cancelled
        panel = screen.query_one(SourcesPanel)
        labels = [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)]
        assert "kettle-manual.md" in labels[0] and "● cited" in labels[0] and "✓ quote" in labels[0]
        assert "○ not cited" in labels[1]
        assert app.last_speed == (0.25, 40.0)

        saved = ConversationStore().list()
        assert len(saved) == 1
        assert [t.role for t in saved[0].turns] == ["user", "assistant"]
        assert saved[0].turns[1].sources[0].cited


async def test_an_answer_ended_by_the_repeat_guard_says_so(fake_engine: FakeEngine) -> None:
    fake_engine.stop_repeating = True
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _answered(pilot)
        assert not view.has_class("-cut")
        assert "stopped where it began repeating itself" in _plain(view.query_one(".meta", Static))


async def test_the_best_source_sentence_shows_under_a_generated_answer_only(fake_engine: FakeEngine) -> None:
    fake_engine.evidence = Evidence(2, "Use [bold]white vinegar[/bold] once a month.", 1.2, 0, 43)
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await _answered(pilot)
        assert view.has_class("-evidence")
        # Document text: shown literally, never as markup.
        assert (_plain(view.query_one(".evidence", Static))
                == "best sentence in the sources [2] “Use [bold]white vinegar[/bold] once a month.”")
        assert view.turn is not None and view.turn.evidence_source == 2
        # An extracted answer is that sentence already: not shown twice, and the meta line says no model answered.
        view.show_turn(replace(view.turn, model=EXTRACT_MODEL))
        assert not view.has_class("-evidence")
        assert EXTRACT_MODEL in _plain(view.query_one(".meta", Static))


async def test_escape_cancels_and_keeps_partial_answer_marked_cut_and_undeleted(fake_engine: FakeEngine) -> None:
    fake_engine.hold_after_first_token = True
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, fake_engine.streaming.is_set)
        screen = app.screen
        assert isinstance(screen, ChatScreen) and screen.generating and screen.conversation is not None
        # Deleted while the answer streamed, it came back when the answer ended and saved it: refused until then.
        screen.post_message(ConversationList.Requested("delete", screen.conversation.id))
        await pilot.pause(0.2)
        assert app.screen is screen, "no confirmation is asked while the answer is written"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.generating)
        view = screen.query_one(AnswerView)
        assert view.has_class("-cut")
        assert view.turn is not None and view.turn.cancelled
        assert view.turn.text == "Descale"
        assert "cut short" in _plain(view.query_one(".meta", Static))
        saved = ConversationStore().list()[0]
        assert saved.turns[-1].cancelled and saved.turns[-1].text == "Descale"


async def test_quitting_while_an_answer_is_written_stops_it_and_keeps_what_was_written(fake_engine: FakeEngine) -> None:
    # The answer went on to its end in a thread the process waited for, and what it had written was lost: the
    # conversation kept a question with no answer.
    fake_engine.hold_after_first_token = True
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, fake_engine.streaming.is_set)
        await pilot.press("ctrl+q")
    assert app.stopping == "the answer"
    saved = ConversationStore().list()[0]
    assert [t.role for t in saved.turns] == ["user", "assistant"]
    assert saved.turns[-1].cancelled and saved.turns[-1].text == "Descale"
    assert saved.turns[-1].sources  # as Esc's cut answer keeps them


async def test_a_purge_while_an_answer_is_written_erases_its_sources_too(fake_engine: FakeEngine) -> None:
    # A watched file deleted with purge on while the answer was written: its passage was saved whole once the answer
    # ended, and `conversations search` found the erased text.
    fake_engine.hold_after_first_token = True
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, fake_engine.streaming.is_set)
        everything = tuple(sorted({d.path for d in fake_engine.documents()}))
        app.erased_paths = (everything, ())
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.generating)
    sources = ConversationStore().list()[0].turns[-1].sources
    assert sources and all(s.purged and not s.text for s in sources)


async def test_follow_up_sends_history_and_shows_rewritten_query(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: not screen.generating)
        await _ask(pilot, "how often should I do it")
        await wait_for(pilot, lambda: not screen.generating and len(screen.query(AnswerView)) == 2)
        assert fake_engine.histories[1][0] == {"role": "user", "content": "how do I descale the kettle?"}
        assert fake_engine.histories[1][1]["role"] == "assistant"
        query = screen.query(AnswerView).last().query_one(".query", Static)
        assert not query.display
        await pilot.press("ctrl+r")
        assert query.display
        assert "searched for: how do I descale the kettle? how often should I do it" in _plain(query)


async def test_source_opens_chunk_with_quote_highlighted(app: LocalRagApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: not screen.generating)
        panel = screen.query_one(SourcesPanel)
        # Tab from the question box lands on the sources with the first highlighted, for Enter to open.
        await pilot.press("tab")
        assert panel.has_focus and panel.highlighted == 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        chunk_screen = app.screen
        assert isinstance(chunk_screen, ChunkScreen)
        text = chunk_screen.query_one("#chunk-text", Static).render()
        rendered = str(text)
        assert rendered.startswith("Descale the kettle every four weeks")
        highlighted = [rendered[s.start : s.end] for s in text.spans if "yellow" in str(s.style)]
        assert highlighted == ["with white vinegar. Rinse twice"]
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)


async def test_the_best_sentence_is_underlined_in_its_source(fake_engine: FakeEngine) -> None:
    sentence = "Rinse twice before boiling water again."
    fake_engine.evidence = Evidence(1, sentence, 1.0, 56, 95)
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = (await _answered(pilot)).screen
        panel = screen.query_one(SourcesPanel)
        panel.focus()
        panel.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        text = app.screen.query_one("#chunk-text", Static).render()
        rendered = str(text)
        assert [rendered[s.start : s.end] for s in text.spans if "underline" in str(s.style)] == [sentence]
        assert "best sentence for the question underlined" in str(app.screen.query_one("#chunk-where", Static).render())


async def test_markup_in_documents_and_answers_is_shown_literally_and_does_not_act(fake_engine: FakeEngine) -> None:
    fake_engine.answer_text = f"Here it is: {INJECTION} [1]"
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _ask(pilot, f"what does {INJECTION} mean? literal")
        await wait_for(pilot, lambda: not screen.generating)
        assert INJECTION in _plain(screen.query_one(UserMessage))
        paragraph = screen.query_one(AnswerView).query_one(Markdown).query("MarkdownParagraph").first()
        assert INJECTION in str(paragraph.render())
        panel = screen.query_one(SourcesPanel)
        labels = [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)]
        assert any("[@click=app.quit]evil[bold red].md" in label for label in labels)
        # No span of the rendered answer carries an action, and clicking the injected text does nothing.
        content = paragraph.render()
        assert not any("quit" in str(span.style) for span in content.spans)  # type: ignore[attr-defined]
        await _click_text(pilot, paragraph, "[@click=app.quit]y[/]")
        evil_row = next(i for i, label in enumerate(labels) if "evil" in label)
        panel.scroll_to(y=0, animate=False)
        await pilot.pause()
        for x in range(panel.region.x + 2, panel.region.right - 2, 7):
            for dy in (2 * evil_row + 1, 2 * evil_row + 2):
                await pilot.click(offset=(x, panel.region.y + dy))
                while not isinstance(app.screen, ChatScreen):
                    await pilot.press("escape")
        await pilot.pause()
        assert app.is_running
        # The document text in the chunk viewer is literal too.
        panel.focus()
        panel.highlighted = evil_row
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        assert INJECTION in str(app.screen.query_one("#chunk-text", Static).render())
        assert app.is_running


async def test_engine_error_shows_modal_and_app_survives(fake_engine: FakeEngine) -> None:
    fake_engine.fail_next = ModelError("/models/bad.gguf: not a GGUF file", "point at a .gguf model file")
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _ask(pilot, "anything")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        message = _plain(app.screen.query_one("#error-message", Static))
        assert message == "/models/bad.gguf: not a GGUF file"
        await pilot.press("enter")
        assert app.screen is screen and not screen.generating
        # The turn the error stopped said "cut short (stopped with Esc)", which no one pressed, and not why.
        meta = _plain(screen.query_one(AnswerView).query_one(".meta", Static))
        assert "✗ not answered: /models/bad.gguf: not a GGUF file (point at a .gguf model file)" in meta
        assert "Esc" not in meta
        assert ConversationStore().list()[0].turns[-1].failure.startswith("/models/bad.gguf")
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: len(screen.query(AnswerView)) == 2 and not screen.generating)
        assert screen.query(AnswerView).last().turn.text.startswith("Descale")  # type: ignore[union-attr]


async def test_unexpected_exception_is_a_modal_not_a_crash(fake_engine: FakeEngine) -> None:
    app = LocalRagApp(fake_engine)

    def broken_stream(*args: object, **kwargs: object) -> None:
        raise RuntimeError("llama_decode returned -1")

    fake_engine.stream = broken_stream  # type: ignore[method-assign, assignment]
    async with app.run_test(size=(80, 24)) as pilot:
        await _ask(pilot, "anything")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "RuntimeError: llama_decode returned -1" in _plain(app.screen.query_one("#error-message", Static))
        assert app.is_running


async def test_link_in_answer_is_not_opened(fake_engine: FakeEngine) -> None:
    fake_engine.answer_text = "See [this page](https://example.com/x) [1]"
    app = LocalRagApp(fake_engine)
    opened: list[str] = []
    app.open_url = lambda url, **kw: opened.append(url)  # type: ignore[method-assign, assignment, misc]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await _ask(pilot, "link please")
        await wait_for(pilot, lambda: not screen.generating)
        paragraph = screen.query_one(AnswerView).query("MarkdownParagraph").first()
        await _click_text(pilot, paragraph, "this page")
        await pilot.pause()
        assert opened == []
        assert app.is_running


async def test_second_question_waits_for_first(fake_engine: FakeEngine) -> None:
    fake_engine.hold_after_first_token = True
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _ask(pilot, "first")
        await wait_for(pilot, fake_engine.streaming.is_set)
        await _ask(pilot, "second")
        await pilot.pause()
        assert [c for c in fake_engine.calls if c.startswith("stream")] == ["stream first"]
        assert len(screen.query(UserMessage)) == 1
        assert isinstance(screen.cancel_event, threading.Event)
        screen.cancel_event.set()
        await wait_for(pilot, lambda: not screen.generating)


async def test_chat_log_starts_with_hint(app: LocalRagApp) -> None:
    async with app.run_test(size=(80, 24)):
        log = app.screen.query_one(ChatLog)
        assert "Ask a question" in _plain(log.query_one(".empty", Static))


async def test_ctrl_up_and_down_select_an_earlier_answer_and_show_its_sources(app: LocalRagApp) -> None:
    async with app.run_test(size=(80, 16)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        questions = ["how do I descale the kettle?", "how often should I do it?", "and with what?"]
        for question in questions:
            await _ask(pilot, question)
            await wait_for(pilot, lambda: not screen.generating)
        panel = screen.query_one(SourcesPanel)
        log = screen.query_one(ChatLog)
        answers = list(screen.query(AnswerView))
        assert panel.turn is answers[2].turn

        def first_in_view() -> bool:
            return log.scroll_y <= answers[0].virtual_region.y < log.scroll_y + log.scrollable_content_region.height

        assert not first_in_view()
        # From the question box, which keeps the plain arrows for itself.
        assert screen.query_one("#question", Input).has_focus
        await pilot.press("ctrl+up", "ctrl+up")
        await pilot.pause(0.1)
        assert panel.turn is answers[0].turn
        assert [a.has_class("-selected") for a in answers] == [True, False, False]
        assert first_in_view()
        await pilot.press("ctrl+up")  # the first stays selected
        assert panel.turn is answers[0].turn
        log.focus()
        await pilot.press("ctrl+down")
        assert panel.turn is answers[1].turn
        assert [a.has_class("-selected") for a in answers] == [False, True, False]


async def test_what_another_process_did_to_the_open_conversation_is_kept(
    app: LocalRagApp, fake_engine: FakeEngine
) -> None:
    """The app wrote back its own copy of the open conversation at each question and answer: turns an
    `ask --conversation` added meanwhile were lost, a rename and a delete undone, a purge's text written back."""
    store = ConversationStore()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: not screen.generating)
        conversation = screen.conversation
        assert conversation is not None
        # What `ask --conversation ID` in another process does, then a rename and a purge's erasing.
        elsewhere = store.load(conversation.id)
        store.append(elsewhere, [Turn(role="user", text="and the filter?"),
                                 Turn(role="assistant", text="Rinse the filter monthly.")])
        store.rename(conversation.id, "Kettle care")

        def erase(saved: Conversation) -> bool:
            saved.turns[1] = Turn(role="assistant", text="(erased)")
            return True

        store.update(conversation.id, erase)
        await _ask(pilot, "how often should I do it")
        await wait_for(pilot, lambda: not screen.generating and len(screen.query(AnswerView)) == 3)
        saved = store.load(conversation.id)
        assert saved.title == "Kettle care"
        assert [t.text for t in saved.turns[:5]] == ["how do I descale the kettle?", "(erased)", "and the filter?",
                                                     "Rinse the filter monthly.", "how often should I do it"]
        assert len(saved.turns) == 6
        # The answer was written from the conversation as saved: the other process's turns were its history.
        assert fake_engine.histories[-1][2] == {"role": "user", "content": "and the filter?"}
        assert "every four weeks" not in fake_engine.histories[-1][1]["content"]

        store.delete(conversation.id)
        await _ask(pilot, "and the lid?")
        await wait_for(pilot, lambda: not screen.generating and len(screen.query(AnswerView)) == 1)
        assert screen.conversation is not None and screen.conversation.id != conversation.id
        assert [c.id for c in store.list()] == [screen.conversation.id]
        assert [t.text for t in store.list()[0].turns][0] == "and the lid?"


async def test_a_conversation_whose_first_save_failed_is_saved_whole_at_the_next(
    app: LocalRagApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question's save failed (a full disk, mocked), and the answer's was refused as "deleted while this answer
    was written": the file had never been written. It is written whole, question and answer."""
    import errno

    append = ConversationStore.append
    calls: list[int] = []

    def full_once(self, conversation, turns, after=None):  # type: ignore[no-untyped-def]
        calls.append(len(turns))
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return append(self, conversation, turns, after=after)

    monkeypatch.setattr(ConversationStore, "append", full_once)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: len(calls) == 2 and not screen.generating)
        await pilot.press("escape")  # the first save's error
        (saved,) = ConversationStore().list()
        assert [t.role for t in saved.turns] == ["user", "assistant"] and calls == [1, 2]


async def test_ctrl_y_copies_the_last_or_the_selected_answer_with_its_sources(app: LocalRagApp) -> None:
    # Only a source's passage could be copied (`c` in its view): an answer had no key at all.
    from localrag.conversations import answer_markdown

    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await pilot.press("ctrl+y")  # nothing asked yet: said, nothing copied
        assert app.clipboard == ""
        for question in ("how do I descale the kettle?", "how often should I do it?"):
            await _ask(pilot, question)
            await wait_for(pilot, lambda: not screen.generating)
        first, last = (view.turn for view in screen.query(AnswerView))
        assert first is not None and last is not None and first.sources
        await pilot.press("ctrl+y")
        assert app.clipboard == answer_markdown(last)
        await pilot.press("ctrl+up", "ctrl+y")
        assert app.clipboard == answer_markdown(first)
        assert app.clipboard.startswith(first.text.strip()) and "**Sources**" in app.clipboard
        assert f"1. `{first.sources[0].path}`" in app.clipboard


async def test_a_conversation_with_a_long_answer_opens_without_freezing(app: LocalRagApp) -> None:
    """An answer of 2,000 paragraphs opened as 2,000 Markdown widgets: 6 s to open, the app frozen up to 1.7 s at a
    time. Its first paragraphs show as plain text (markup still shown literally) and it says how much is shown."""
    paragraph = "The kettle's [bold red]filter[/] is rinsed weekly, and descaled every four weeks with vinegar."
    text = "\n\n".join(f"{i}. {paragraph}" for i in range(2000))
    store = ConversationStore()
    conversation = store.new()
    conversation.turns += [Turn(role="user", text="tell me everything"), Turn(role="assistant", text=text)]
    store.save(conversation)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await screen.open_conversation(store.load(conversation.id))
        await pilot.pause()
        view = screen.query(AnswerView).last()
        assert not view.query(Markdown) and len(list(view.walk_children())) < 10
        shown = _plain(view.query_one(".plain", Static))
        assert shown.startswith("0. The kettle's [bold red]filter[/] is rinsed") and shown.endswith("vinegar.")
        assert len(shown) < len(text) // 10
        meta = _plain(view.query_one(".meta", Static))
        assert f"the first {len(shown):,} of its {len(text):,} characters shown" in meta
        await pilot.press("ctrl+y")  # the whole answer is copied
        assert app.clipboard.startswith(text)


def _long_conversation(store: ConversationStore, questions: int) -> Conversation:
    conversation = store.new()
    for i in range(questions):
        conversation.turns += [Turn(role="user", text=f"question {i}"),
                               Turn(role="assistant", text=f"answer {i}: descale it **every {i} weeks**.")]
    store.save(conversation)
    return store.load(conversation.id)


def _shown_turns(log: ChatLog) -> list[str]:
    return [view.question if isinstance(view, UserMessage) else view.turn.text
            for view in log.children if isinstance(view, UserMessage | AnswerView) and (
                isinstance(view, UserMessage) or view.turn is not None)]


async def test_a_long_conversation_opens_its_last_turns_and_shows_every_earlier_one_in_order(app: LocalRagApp) -> None:
    """Every turn was mounted, each awaited, the log laid out again for each: 244 turns took 44 s to open, 120 took
    14 s. The last SHOWN_TURNS show, the line above them shows the earlier ones a batch at a time, and Ctrl+Up past
    the first answer shown shows them too; the export still holds every turn."""
    store = ConversationStore()
    conversation = _long_conversation(store, SHOWN_TURNS + 5)  # 2 * SHOWN_TURNS + 10 turns
    texts = [turn.text for turn in conversation.turns]
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await screen.open_conversation(conversation)
        await pilot.pause()
        log = screen.query_one(ChatLog)
        assert _shown_turns(log) == texts[-SHOWN_TURNS:]
        more = log.query_one(MoreTurns)
        assert log.children[0] is more and f"{SHOWN_TURNS + 10} earlier turns not shown" in _plain(more)
        assert screen.query_one(SourcesPanel).turn is conversation.turns[-1]
        more.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert _shown_turns(log) == texts[-2 * SHOWN_TURNS:]
        assert "10 earlier turns not shown" in _plain(log.query_one(MoreTurns))
        # Ctrl+Up from the first answer shown shows the rest.
        first_answer = next(view for view in log.query(AnswerView))
        screen._select(first_answer)
        await pilot.press("ctrl+up")
        await pilot.pause()
        assert _shown_turns(log) == texts and not log.query(MoreTurns)
        selected = [view.turn for view in log.query(AnswerView) if view.has_class("-selected")]
        assert selected == [conversation.turns[9]]  # the answer before the first one shown (turn 11)
        assert screen.conversation is not None
        assert export_markdown(screen.conversation) == export_markdown(store.load(conversation.id))


async def test_a_long_conversation_opened_at_a_search_find_shows_the_later_turns_below(
    app: LocalRagApp, fake_engine: FakeEngine
) -> None:
    """Opened at a turn far above its end, the log shows SHOWN_TURNS from that exchange and a line below for the
    later ones; a question then goes below the conversation's last turn."""
    store = ConversationStore()
    conversation = _long_conversation(store, SHOWN_TURNS + 5)
    texts = [turn.text for turn in conversation.turns]
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await screen.open_conversation(conversation, at_turn=7)  # the answer to question 3
        await pilot.pause()
        log = screen.query_one(ChatLog)
        assert _shown_turns(log) == texts[6:6 + SHOWN_TURNS]
        assert [more.earlier for more in log.query(MoreTurns)] == [True, False]
        assert [view.turn for view in log.query(AnswerView) if view.has_class("-selected")] == [conversation.turns[7]]
        later = log.query(MoreTurns).last()
        log.scroll_end(animate=False)
        await pilot.pause()
        await pilot.click(later)
        await pilot.pause()
        assert _shown_turns(log) == texts[6:6 + 2 * SHOWN_TURNS]
        assert "4 later turns not shown" in _plain(log.query(MoreTurns).last())
        await screen.open_conversation(conversation, at_turn=7)
        await _ask(pilot, "how do I descale the kettle?")
        await wait_for(pilot, lambda: not screen.generating)
        assert _shown_turns(log)[-3:] == [texts[-1], "how do I descale the kettle?", fake_engine.answer_text]
        assert len(log.query(MoreTurns)) == 1
