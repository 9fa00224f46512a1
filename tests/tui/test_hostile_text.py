"""What a user or a document wrote reaches the terminal as text, never as its escape sequences; and a question pasted
into a one-line box keeps all of its lines."""

from __future__ import annotations

import pytest
from conftest import wait_for
from fakes import FakeEngine
from textual import events
from textual.widgets import Input, Static

from localrag.conversations import ConversationStore, Turn
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.dialogs import ConfirmScreen
from localrag.tui.widgets.chat import AnswerView, ChatLog, UserMessage
from localrag.tui.widgets.conversations import ConversationList
from localrag.tui.widgets.status import StatusBar

pytestmark = pytest.mark.anyio

# What the tester saved with `ask --conversation new`: a window title, a screen clear and a colour.
HOSTILE = "Who approves travel? \x1b]0;PWNED-TITLE\x07 \x1b[2J\x1b[31mRED"


def _rendered(widget: Static) -> str:
    return str(widget.render())


def _no_controls(text: str) -> bool:
    return not any(ord(char) < 0x20 and char != "\n" or 0x7F <= ord(char) < 0xA0 for char in text)


async def test_a_saved_question_shows_its_escape_sequences_as_text() -> None:
    # The question bubble, the "searched for:" line, the conversations panel (its title and a search's line) and the
    # delete dialog wrote `\x1b]0;PWNED-TITLE` and `\x1b[2J` to the terminal as they were.
    store = ConversationStore()
    conversation = store.new()
    conversation.add_question(HOSTILE)
    conversation.turns.append(Turn("assistant", "The line manager approves travel.", query=f"{HOSTILE} policy"))
    store.save(conversation)
    app = LocalRagApp(FakeEngine())
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        panel = chat.query_one(ConversationList)
        await wait_for(pilot, lambda: panel.option_count == 1)
        shown = str(panel.get_option_at_index(0).prompt)
        assert _no_controls(shown) and "␛]0;PWNED-TITLE" in shown
        await chat.open_conversation(store.load(conversation.id))
        await pilot.press("ctrl+r")  # the query each answer searched for
        question = _rendered(chat.query_one(UserMessage))
        assert _no_controls(question) and "␛[2J␛[31mRED" in question
        query = _rendered(chat.query_one(AnswerView).query_one(".query", Static))
        assert query.startswith("searched for: ") and _no_controls(query) and "␛]0;PWNED-TITLE␇" in query
        panel.focus()
        await pilot.press("slash")
        app.screen.query_one(Input).value = "approves"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "approves" in str(panel.border_title))
        assert _no_controls(str(panel.get_option_at_index(0).prompt))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        asked = _rendered(app.screen.query_one(Static))
        assert _no_controls(asked) and "␛]0;PWNED-TITLE␇" in asked
        await pilot.press("escape")
        app.notify(f"Now answering with {HOSTILE}.gguf", markup=False)  # every toast, whichever screen gives it
        assert all(_no_controls(str(toast.message)) for toast in app._notifications)
        # Every line the screen draws, whatever widget drew it.
        drawn = app.screen._compositor.render_update(full=True)
        assert all(_no_controls(segment.text) for strip in drawn.strips for segment in strip)  # type: ignore[attr-defined]


async def test_a_pasted_question_keeps_every_line_and_shows_its_escapes_as_text() -> None:
    # The box kept the first line of a paste and dropped the rest without a word: "Context from my colleague:" was
    # asked. And what was pasted holding an escape sequence reached the terminal as it was.
    engine = FakeEngine()
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        box = chat.query_one("#question", Input)
        box.focus()
        box.post_message(events.Paste("Context from my colleague:\nThe lighthouse is old.\r\nQuestion: who was the "
                                      "engineer of Kestrel Point Lighthouse?\n"))
        await pilot.pause()
        assert box.value == ("Context from my colleague: The lighthouse is old. Question: who was the engineer of "
                             "Kestrel Point Lighthouse?")
        assert box.cursor_position == len(box.value)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not chat.generating and bool(chat.query(UserMessage)))
        assert engine.calls[-1].startswith("stream Context from my colleague: The lighthouse is old. Question:")
        box.post_message(events.Paste(HOSTILE))
        await pilot.pause()
        assert _no_controls(box.value) and "␛]0;PWNED-TITLE␇" in box.value
        assert len(box.value) == len(HOSTILE)  # one character for one: the cursor stays where it is drawn
        await pilot.press("enter")
        await wait_for(pilot, lambda: not chat.generating and len(chat.query(UserMessage)) == 2)
        assert all(_no_controls(_rendered(message)) for message in chat.query(UserMessage))
        assert isinstance(chat.query_one(ChatLog), ChatLog)


async def test_the_status_bar_shows_a_model_files_escape_sequences_as_text() -> None:
    # The model's name is its file's: `evil␛[2J.gguf` cleared the screen from the status bar.
    app = LocalRagApp(FakeEngine())
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one(StatusBar)
        app.model_label = "evil\x1b[2J.gguf"
        app.set_activity("library", f"reading {HOSTILE}.md…")
        await wait_for(pilot, lambda: "evil" in _rendered(bar))
        shown = _rendered(bar)
        assert _no_controls(shown) and "evil␛[2J.gguf" in shown


async def test_paths_pasted_one_a_line_are_all_kept_and_their_escapes_shown_as_text() -> None:
    # The Library's and Models' boxes kept the first line of a paste: of three paths copied from a file manager, one
    # a line, the first was ingested without a word. And a path's escape sequence reached the terminal.
    engine = FakeEngine()
    app = LocalRagApp(engine, warm_up=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        library = app.screen
        for name, pasted, held in (
                ("#paths", "/new/a.md\n/new/my notes/\r\n/new/b\x1b[2J.md\n",
                 "/new/a.md; /new/my notes/; /new/b␛[2J.md"),
                ("#include", "*.md\n*.pdf\n", "*.md *.pdf"),
                ("#exclude", "drafts/*\nold/*", "drafts/* old/*")):
            box = library.query_one(name, Input)
            box.focus()
            box.post_message(events.Paste(pasted))
            await pilot.pause()
            assert box.value == held
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: any(call.startswith("ingest") for call in engine.calls))
        ingested = next(call for call in engine.calls if call.startswith("ingest"))
        assert all(path in ingested for path in ("/new/a.md", "/new/my notes", "/new/b␛[2J.md")), ingested

        await pilot.press("f4")
        box = app.screen.query_one("#model-path", Input)
        box.focus()
        box.post_message(events.Paste(f"/models/{HOSTILE}.gguf\n"))
        await pilot.pause()
        assert _no_controls(box.value) and box.value.endswith("␛[31mRED.gguf")
