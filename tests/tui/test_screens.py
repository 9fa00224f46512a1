"""Library, models, settings, conversations, help and theme, over the FakeEngine."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import wait_for
from fakes import FakeEngine
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, OptionList, ProgressBar, Static, Switch

from localrag import paths
from localrag.config import Settings, load_settings
from localrag.conversations import ConversationStore, SavedSource, Turn
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.dialogs import ChoiceScreen, ConfirmScreen, ErrorScreen, HelpScreen, PromptScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.screens.models import ModelsScreen
from localrag.tui.screens.settings import SettingsScreen
from localrag.tui.screens.summary import SummaryScreen
from localrag.tui.widgets.chat import SHOWN_TURNS, AnswerView, ChatLog, UserMessage
from localrag.tui.widgets.conversations import ConversationList
from localrag.types import Document

pytestmark = pytest.mark.anyio


async def test_ingest_shows_progress_while_chat_stays_usable(fake_engine: FakeEngine) -> None:
    fake_engine.hold_ingest = threading.Event()
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        library.query_one("#paths", Input).value = "/new/a.md; /new/b.md"
        await pilot.press("ctrl+g")
        bar = library.query_one("#progress", ProgressBar)
        await wait_for(pilot, lambda: bar.progress == 1)
        assert bar.total == 3
        assert "1/3 files" in str(library.query_one("#ingest-line", Static).render())
        assert app.activity == "ingesting 1/3"
        # The chat answers while the ingest is held mid-run.
        await pilot.press("f2")
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        chat.query_one("#question", Input).value = "how do I descale the kettle?"
        chat.query_one("#question", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.query(AnswerView) and not chat.generating)
        fake_engine.hold_ingest.set()
        await pilot.press("f3")
        await wait_for(pilot, lambda: library.cancel_event is None)
        report = str(library.query_one("#ingest-line", Static).render())
        assert "2 added" in report
        assert "/docs/broken.pdf: not a PDF" in report
        table = library.query_one("#documents", DataTable)
        await wait_for(pilot, lambda: table.row_count == 5)
        assert app.activity == ""


async def _library_documents(app: LocalRagApp, pilot: Pilot) -> DataTable[object]:
    """The Library screen's document table, listed and focused."""
    await pilot.press("f3")
    table: DataTable[object] = app.screen.query_one("#documents", DataTable)
    await wait_for(pilot, lambda: table.row_count == 3)
    table.focus()
    return table


async def _highlight_document(app: LocalRagApp, pilot: Pilot, row: int) -> tuple[DataTable[object], str]:
    """The Library's document table with the cursor on `row`, and that document's path."""
    table = await _library_documents(app, pilot)
    table.move_cursor(row=row)
    return table, app.screen.documents[row].path  # type: ignore[attr-defined]


async def test_the_library_opens_in_its_path_box_and_letters_typed_there_act_on_no_document(
    app: LocalRagApp, fake_engine: FakeEngine
) -> None:
    # Focus was on the Collection picker: a path typed at once read the first document again at its `r`, opened
    # its key sentences at `s`, and read every stale document again at `R` (before 2026-12-07).
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        library = app.screen
        assert isinstance(library, LibraryScreen)
        table = library.query_one("#documents", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        box = library.query_one("#paths", Input)
        assert library.focused is box
        library.query_one("#collection").focus()  # a letter away from the table acts on no document either
        await pilot.press("R", "s", "r", "f")
        box.focus()
        await pilot.press(*"~/Rsrf")
        await pilot.pause()
        assert box.value == "~/Rsrf"
        assert app.screen is library and library.cancel_event is None
        assert not [call for call in fake_engine.calls if call.startswith("ingest")]
        table.focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))


async def test_forget_document_after_confirmation(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        table, target = await _highlight_document(app, pilot, 1)
        await pilot.press("delete")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.click("#choice-forget")
        await wait_for(pilot, lambda: table.row_count == 2)
        assert target not in [d.path for d in fake_engine.documents()]


async def test_forget_and_erase_takes_the_text_out_of_the_open_conversation(
    app: LocalRagApp, fake_engine: FakeEngine
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        # The chat shows a conversation citing every document: a listing still under way may move the Library's
        # cursor, so which one is forgotten is read from the engine afterwards.
        documents = await _library_documents(app, pilot)
        cited = [d.path for d in fake_engine.documents()]
        conversation = app.conversations.new()
        conversation.add_question("How do I descale it?")
        conversation.turns.append(Turn("assistant", "With vinegar [1].", sources=[
            SavedSource(n, f"c{n}", f"d{n}", path, f"Passage {n}.", cited=True) for n, path in enumerate(cited, 1)]))
        app.conversations.save(conversation)
        await chat.open_conversation(app.conversations.load(conversation.id))
        documents.move_cursor(row=1)
        await pilot.press("delete")
        await pilot.click("#choice-purge")
        await wait_for(pilot, lambda: documents.row_count == 2)
        (target,) = set(cited) - {d.path for d in fake_engine.documents()}

        def erased(sources: list[SavedSource]) -> list[bool]:
            return [s.purged and not s.text for s in sources]

        expected = [path == target for path in cited]
        assert erased(app.conversations.load(conversation.id).turns[1].sources) == expected
        # Back in the chat, the open conversation is the erased one: a next save cannot write the text back.
        await pilot.press("f2")
        await wait_for(pilot, lambda: chat.conversation is not None and any(erased(chat.conversation.turns[1].sources)))
        assert chat.conversation is not None and erased(chat.conversation.turns[1].sources) == expected


async def test_model_switch_is_saved_and_bad_model_is_an_error(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        box = screen.query_one("#models", OptionList)
        await wait_for(pilot, lambda: box.option_count == 3)
        labels = [str(box.get_option_at_index(i).prompt) for i in range(3)]
        assert labels[0].startswith("● SmolLM2")
        assert "base_model: SmolLM2-135M-Instruct" in labels[1]
        assert "wrong magic bytes" in labels[2] and box.get_option_at_index(2).disabled
        box.focus()
        box.highlighted = 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.model_label == "kettle-raft")
        assert load_settings().model == "/models/kettle-raft.gguf"
        screen.query_one("#model-path", Input).value = "/tmp/notes.txt"
        screen.query_one("#model-path", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "not a GGUF file" in str(app.screen.query_one("#error-message", Static).render())
        await pilot.press("escape")
        assert app.model_label == "kettle-raft" and app.is_running
        # The settings file half-edited in another window: the switch is made and said not to be saved.
        paths.config_file().write_text("temperature = \n")
        box.focus()
        box.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.model_label == "fake-model")
        assert app.is_running and fake_engine.settings.model == ""
        assert any("not saved" in str(n.message) and "not valid TOML" in str(n.message)
                   for n in app._notifications)


async def test_settings_are_validated_and_persisted(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        screen.query_one("#top_k", Input).value = "0"
        screen.query_one("#temperature", Input).value = "0.7"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ErrorScreen)
        assert "out of range" in str(app.screen.query_one("#error-message", Static).render())
        await pilot.press("escape")
        assert load_settings().top_k == 4
        # Closing the dialog keeps what was typed, the bad value included, to be mended.
        assert screen.query_one("#top_k", Input).value == "0"
        assert screen.query_one("#temperature", Input).value == "0.7"
        await pilot.press("f1")
        await pilot.press("escape")
        assert screen.query_one("#temperature", Input).value == "0.7"
        screen.query_one("#top_k", Input).value = "8"
        screen.query_one("#prompt_sentences", Input).value = "0"
        screen.query_one("#temperature", Input).value = "0.5"
        screen.query_one("#min_evidence", Input).value = "0"
        screen.query_one("#only-documents").value = False  # type: ignore[attr-defined]
        screen.query_one("#extract").value = True  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        saved = load_settings()
        assert (saved.top_k, saved.temperature, saved.allow_model_knowledge) == (8, 0.5, True)
        assert saved.answer_mode == "extract" and saved.prompt_sentences == 0 and saved.min_evidence == 0.0
        assert fake_engine.settings.top_k == 8 and fake_engine.settings.answer_mode == "extract"
        from localrag.answer.evidence import EXTRACT_MODEL

        assert app.model_label == EXTRACT_MODEL  # the status bar named the model that no longer answered


async def test_each_settings_switch_says_on_or_off_in_words_beside_it(app: LocalRagApp) -> None:
    # Only the slider's colour told the state: a screen reader or a terminal without colour read `▊        ▎` for
    # both switches, on or off (before 2026-12-07).
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)

        def shown(switch: str) -> str:
            label = screen.query_one(f"#{switch}-state", Label)
            assert label.region.width and label.region.right <= 80  # on the screen, not past its edge
            assert label.region.y == screen.query_one(f"#{switch}", Switch).region.y  # beside the slider
            return str(label.render())

        assert (shown("only-documents"), shown("extract")) == ("on", "off")
        screen.query_one("#extract", Switch).focus()
        await pilot.press("space")
        await pilot.pause()
        assert (shown("only-documents"), shown("extract")) == ("on", "on")
        screen.query_one("#only-documents", Switch).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert (shown("only-documents"), shown("extract")) == ("off", "on")


async def test_saving_writes_only_what_the_form_changed_to_the_engines_file(tmp_path: Path) -> None:
    file = tmp_path / "mine.toml"
    file.write_text("# chosen for the laptop\nn_threads = 2\n")
    # n_ctx from a flag or a LOCALRAG_ variable is in force, and not the user's choice to keep.
    engine = FakeEngine(settings=Settings().replace(n_threads=2, n_ctx=4096), config_file=file)
    app = LocalRagApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        screen.query_one("#top_k", Input).value = "6"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: engine.settings.top_k == 6)
    assert file.read_text() == "# chosen for the laptop\nn_threads = 2\ntop_k = 6\n"
    assert not paths.config_file().exists()


async def test_conversation_survives_restart_and_can_be_renamed_exported_deleted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = LocalRagApp(FakeEngine())
    async with first.run_test(size=(120, 40)) as pilot:
        chat = first.screen
        chat.query_one("#question", Input).value = "how do I descale the kettle?"
        chat.query_one("#question", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: chat.query(AnswerView) and not chat.generating)
        # Ctrl+E exports with the focus in the question box, where it has it after asking.
        assert chat.query_one("#question", Input).has_focus
        await pilot.press("ctrl+e")
        exports = first.conversations.folder.parent / "exports"
        await wait_for(pilot, lambda: exports.is_dir() and any(exports.glob("*.md")))

    second = LocalRagApp(FakeEngine())
    async with second.run_test(size=(120, 40)) as pilot:
        chat = second.screen
        assert isinstance(chat, ChatScreen)
        panel = chat.query_one(ConversationList)
        assert panel.option_count == 1
        panel.focus()
        panel.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chat.query(AnswerView)) == 1)
        assert str(chat.query_one(UserMessage).render()) == "how do I descale the kettle?"
        assert chat.query_one(AnswerView).turn.sources[0].cited  # type: ignore[union-attr]

        await pilot.press("r")
        assert isinstance(second.screen, PromptScreen)
        second.screen.query_one(Input).value = "Kettle care"
        await pilot.press("enter")
        assert ConversationStore().list()[0].title == "Kettle care"

        await pilot.press("e")
        conversation = ConversationStore().list()[0]
        exported = (second.conversations.folder.parent / "exports" / f"{conversation.id}.md").read_text()
        assert exported.startswith("# Kettle care")
        assert "/docs/kettle-manual.md" in exported and "quote verified" in exported

        await pilot.press("d")
        assert isinstance(second.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: panel.option_count == 0)
        assert ConversationStore().list() == []
        assert chat.conversation is None


async def test_slash_lists_only_the_conversations_holding_the_words(app: LocalRagApp) -> None:
    store = ConversationStore()
    for question, answer in (("Where is parking?", "In the basement, level minus two."),
                             ("When does the office move?", "On 1 February, to Baker Street.")):
        conversation = store.new()
        conversation.add_question(question)
        conversation.turns.append(Turn("assistant", answer))
        store.save(conversation)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.screen.query_one(ConversationList)
        await wait_for(pilot, lambda: panel.option_count == 2)
        panel.focus()
        await pilot.press("slash")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "Basement"
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.option_count == 1)
        shown = str(panel.get_option_at_index(0).prompt)
        assert shown.startswith("Where is parking?") and "In the basement, level minus two." in shown
        assert "“Basement”" in str(panel.border_title)
        # The match is highlighted, so Enter opens it (nothing was, and Enter, r, d and e did nothing).
        assert panel.highlighted == 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "conversation", None) is not None)
        assert app.screen.conversation.turns[0].text == "Where is parking?"  # type: ignore[attr-defined]
        panel.focus()
        # No match is said in the list: the border cut its " (none)" off, and the panel looked emptied.
        await pilot.press("slash")
        app.screen.query_one(Input).value = "zebra"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "zebra" in str(panel.border_title))
        assert panel.option_count == 1 and "No conversation holds" in str(panel.get_option_at_index(0).prompt)
        await pilot.press("slash")
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.option_count == 2)
        assert panel.highlighted is not None


async def test_a_conversation_opened_from_a_search_shows_the_exchange_that_holds_the_words(app: LocalRagApp) -> None:
    # It opened scrolled to the end (#59-#61 in sight), the matched turn #17 far above, and nothing selected.
    store = ConversationStore()
    conversation = store.new()
    for n in range(1, 62):
        conversation.add_question(f"What is the per diem? (#{n})" if n == 17 else f"Which form is number {n}? (#{n})")
        conversation.turns.append(Turn("assistant", f"Answer {n}: see the travel policy, section {n}."))
    store.save(conversation)
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        panel = chat.query_one(ConversationList)
        await wait_for(pilot, lambda: panel.option_count == 1)
        panel.focus()
        await pilot.press("slash")
        app.screen.query_one(Input).value = "diem 17"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "diem 17" in str(panel.border_title))
        await pilot.press("enter")
        # Of its 122 turns, SHOWN_TURNS from that exchange on (chat.py's MoreTurns lines stand for the others).
        await wait_for(pilot, lambda: len(chat.query(UserMessage)) == SHOWN_TURNS // 2)
        await pilot.pause(0.2)
        log = chat.query_one(ChatLog)
        question = chat.query(UserMessage)[0]
        assert question.question == "What is the per diem? (#17)"
        assert log.region.contains_region(question.region)  # in sight, at the top
        assert question.region.y - log.region.y <= 2
        selected = [view for view in chat.query(AnswerView) if view.has_class("-selected")]
        assert [view.turn.text for view in selected if view.turn] == ["Answer 17: see the travel policy, section 17."]
        # Opened from the list as such (no search), it shows the end as before.
        await pilot.press("slash")
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Conversations" == str(panel.border_title))
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert log.scroll_y == log.max_scroll_y


async def test_new_conversation_clears_the_log(app: LocalRagApp) -> None:
    store = ConversationStore()
    old = store.new()
    old.turns = [Turn("user", "old question"), Turn("assistant", "old answer")]
    store.save(old)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = app.screen
        await chat.open_conversation(store.load(old.id))  # type: ignore[attr-defined]
        assert len(chat.query(UserMessage)) == 1
        await pilot.press("ctrl+n")
        assert len(chat.query(UserMessage)) == 0 and chat.conversation is None  # type: ignore[attr-defined]


async def test_help_theme_and_narrow_layout(app: LocalRagApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        chat = app.screen
        panel = chat.query_one(ConversationList)
        assert chat.has_class("-narrow") and not panel.display
        await pilot.press("ctrl+b")
        assert panel.display


async def test_the_chat_log_shows_it_has_the_keys_without_colour(app: LocalRagApp) -> None:
    # Tab reached the log with no sign of it in any theme: focus seemed to vanish. A glyph shows it, not a colour.
    from localrag.tui.widgets.chat import ChatLog

    async with app.run_test(size=(80, 24)) as pilot:
        log = app.screen.query_one(ChatLog)
        assert log.styles.border_left[0] == "blank"
        log.focus()
        await pilot.pause()
        assert log.styles.border_left[0] == "thick"


async def test_the_theme_chosen_is_the_next_starts(fake_engine: FakeEngine) -> None:
    # Ctrl+T was forgotten at quit: a user who needs the light theme switched it at every start.
    async with LocalRagApp(fake_engine).run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: load_settings().theme == "textual-light")
    fake_engine.settings = load_settings()
    async with LocalRagApp(fake_engine).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert pilot.app.theme == "textual-light"
    fake_engine.settings = fake_engine.settings.replace(theme="no-such-theme")
    async with LocalRagApp(fake_engine).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert pilot.app.theme == "textual-dark"
        assert any("no-such-theme" in str(n.message) for n in pilot.app._notifications)


async def test_a_60_column_terminal_shows_every_settings_box_and_the_runs_list(app: LocalRagApp) -> None:
    # A tmux split: the labels wrap rather than push the boxes off the right edge.
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("f5")
        boxes = list(app.screen.query(Input))
        assert boxes and all(box.region.right <= 60 and box.region.width >= 10 for box in boxes)
        await pilot.press("f6")
        runs, report = app.screen.query_one("#runs"), app.screen.query_one("#report-box")
        assert runs.region.height > 10 and report.region.width >= 30


@pytest.mark.parametrize("width", [60, 70])
async def test_a_60_or_70_column_terminal_keeps_the_chat_and_library_inside_it(width: int) -> None:
    # At 60 columns Ctrl+B put the Sources panel at x=41 with 24 columns (past the edge) and left the question box
    # 12; the Library's watch switch and its "not watching" were past the edge, reached by scrolling sideways.
    app = LocalRagApp(FakeEngine())
    async with app.run_test(size=(width, 20)) as pilot:
        await pilot.press("ctrl+b")
        await pilot.pause()
        chat = app.screen
        shown = [w for w in chat.query("#main > *") if w.display]
        assert ConversationList in {type(w) for w in shown}
        assert all(w.region.right <= width for w in shown), [(type(w).__name__, w.region) for w in shown]
        assert chat.query_one("#question").region.width >= 20
        await pilot.press("ctrl+b")  # closed again, the sources come back
        await pilot.pause()
        assert chat.query_one("SourcesPanel").display
        await pilot.press("f3")
        await pilot.pause()
        row = app.screen.query(".row").first()
        assert row.virtual_size.width <= row.region.width
        assert app.screen.query_one("#watch").region.right <= width
        assert app.screen.query_one("#watch-state").region.width >= len("not watching")


@pytest.mark.parametrize(("width", "sources_stay"), [(80, False), (95, False), (96, True), (109, True)])
async def test_at_80_columns_the_conversations_take_the_sources_place(width: int, sources_stay: bool) -> None:
    # README says the app works at 80x24, but Ctrl+B there opened Conversations (26) beside Sources (28) and left the
    # chat 26 columns, the question box 24: the sources gave way only below 80.
    app = LocalRagApp(FakeEngine())
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.press("ctrl+b")
        await pilot.pause()
        chat = app.screen
        assert chat.query_one(ConversationList).display
        assert chat.query_one("SourcesPanel").display == sources_stay
        assert chat.query_one("#chat-pane").region.width >= 40


async def test_command_palette_lists_app_commands(app: LocalRagApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in ("Go to Library", "Go to Models", "Export conversation", "Show rewritten queries"):
            assert expected in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Go to Models")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelsScreen))


async def test_status_bar_shows_what_it_is_given_and_follows_the_app() -> None:
    from textual.app import App, ComposeResult

    from localrag.tui.widgets.status import StatusBar

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar(model_label="tiny [b]model", documents=3, chunks=40, last_speed=(0.5, 12.0))

    app = Bare()
    async with app.run_test(size=(100, 3)) as pilot:
        bar = app.query_one(StatusBar)
        assert str(bar.render()) == "model tiny [b]model  docs 3  chunks 40  TTFT 0.50s  12.0 tok/s"
        # First: at 80 columns the end of the line, where it was, is cut off.
        bar.activity = "ingesting 511/1500"
        await pilot.pause()
        assert str(bar.render()).startswith("ingesting 511/1500  · model tiny")


async def test_the_screen_copies_the_apps_state_onto_its_status_bar() -> None:
    from localrag.tui.widgets.status import StatusBar

    app = LocalRagApp(FakeEngine(), warm_up=False)
    async with app.run_test(size=(120, 30)) as pilot:
        bar = app.screen.query_one(StatusBar)
        app.activity = "indexing notes"
        app.last_speed = (0.25, 30.0)
        await pilot.pause()
        assert (bar.activity, bar.last_speed) == ("indexing notes", (0.25, 30.0))
        assert bar.model_label == app.model_label
        # An answer that ended cleared the one activity string while a graph build ran on: it looked finished.
        app.set_activity("graph", "building the graph…")
        app.set_activity("chat", "answering…")
        await pilot.pause()
        assert bar.activity == "building the graph… · answering…"
        app.set_activity("chat", "")
        await pilot.pause()
        assert bar.activity == "building the graph…"


async def test_r_reads_the_highlighted_document_again(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        table, target = await _highlight_document(app, pilot, 1)
        library = app.screen
        await pilot.press("r")
        await wait_for(pilot, lambda: f"ingest {[target]} force" in fake_engine.calls)
        await wait_for(pilot, lambda: library.cancel_event is None)  # type: ignore[attr-defined]
        assert "r reads again" in str(table.border_subtitle)


async def test_stale_documents_are_marked_and_R_reads_them_again(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    stale_path = fake_engine.documents()[0].path
    fake_engine.stale = {stale_path: "read with an older loader"}
    async with app.run_test(size=(160, 40)) as pilot:
        table = await _library_documents(app, pilot)
        library = app.screen
        kinds = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert kinds[Path(stale_path).name].endswith(" stale")
        assert sum(kind.endswith(" stale") for kind in kinds.values()) == 1
        assert "1 stale (read by an older localrag or with other settings): R reads them again" in str(
            table.border_subtitle)
        await pilot.press("R")
        await wait_for(pilot, lambda: "ingest [] stale" in fake_engine.calls)
        await wait_for(pilot, lambda: library.cancel_event is None)  # type: ignore[attr-defined]


async def test_a_documents_key_sentences_open_from_the_library(app: LocalRagApp, fake_engine: FakeEngine) -> None:
    from localrag.tui.screens.summary import SummaryScreen

    async with app.run_test(size=(120, 40)) as pilot:
        table = await _library_documents(app, pilot)
        library = app.screen
        target = next(i for i, d in enumerate(library.documents) if d.path.endswith("kettle-manual.md"))  # type: ignore[attr-defined]
        table.move_cursor(row=target)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        shown = [str(w.render()) for w in app.screen.query(".sentence").results(Static)]
        assert shown == ["“Descale the kettle every four weeks with white vinegar.”  (Descaling)",
                         "“Rinse twice before boiling water again.”  (Descaling)"]
        await pilot.press("escape")
        assert app.screen is library


async def test_the_app_says_once_that_documents_are_stale(fake_engine: FakeEngine) -> None:
    fake_engine.stale = {fake_engine.documents()[0].path: "read with an older loader"}
    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(120, 30)) as pilot:
        told = "1 document read by an older localrag or with other settings: R in the Library (F3) reads them again."
        await wait_for(pilot, lambda: [n.message for n in app._notifications] == [told])
        app.refresh_status()
        await pilot.pause(0.2)
        assert [n.message for n in app._notifications] == [told]


async def _refilled(pilot: Pilot, fake_engine: FakeEngine, before: int) -> None:
    """Wait until the Library listed the documents again after `before` listings, and showed them."""
    await wait_for(pilot, lambda: fake_engine.calls.count("documents") > before)
    await pilot.pause(0.2)


async def test_the_library_cursor_stays_on_its_document_when_a_dialog_closes(
    app: LocalRagApp, fake_engine: FakeEngine
) -> None:
    from localrag.tui.screens.summary import SummaryScreen

    listed = fake_engine.documents

    def documents() -> list[Document]:  # counted: each listing the Library asks for
        fake_engine.calls.append("documents")
        return listed()

    fake_engine.documents = documents  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        table, target = await _highlight_document(app, pilot, 2)
        library = app.screen
        before = fake_engine.calls.count("documents")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SummaryScreen))
        assert app.screen.path == target  # type: ignore[attr-defined]
        await pilot.press("escape")
        await _refilled(pilot, fake_engine, before)  # closing the summary lists the documents anew
        assert library.documents[table.cursor_row].path == target  # type: ignore[attr-defined]
        before = fake_engine.calls.count("documents")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await _refilled(pilot, fake_engine, before)
        assert library.documents[table.cursor_row].path == target  # type: ignore[attr-defined]
        await pilot.press("r")  # reads again with no confirmation: it must be the highlighted one
        await wait_for(pilot, lambda: f"ingest {[target]} force" in fake_engine.calls)


async def test_forgetting_a_document_leaves_the_cursor_on_the_row_that_took_its_place(
    app: LocalRagApp, fake_engine: FakeEngine
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        paths = sorted(d.path for d in fake_engine.documents())
        table, target = await _highlight_document(app, pilot, 1)
        await pilot.press("f")
        await pilot.click("#choice-forget")
        await wait_for(pilot, lambda: table.row_count == 2)
        assert app.screen.documents[table.cursor_row].path == paths[2]  # type: ignore[attr-defined]


def _screen_text(app: LocalRagApp) -> str:
    """The text the screen shows now, line by line."""
    return "\n".join("".join(s.text for s in strip) for strip in app.screen._compositor.render_strips())


LONG_FOLDER = "/deeply nested folder with a rather long name/another level of folders/and one more 2026" * 2


async def test_a_short_terminal_shows_the_dialogs_buttons_and_scrolls_their_text(app: LocalRagApp) -> None:
    from localrag.errors import ModelError

    async with app.run_test(size=(40, 15)) as pilot:
        app.push_screen(ErrorScreen(ModelError(f"{LONG_FOLDER}/model.gguf: not found",
                                               "point at a .gguf model file that exists"), "switching model"))
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.pause(0.1)
        assert app.focused is not None and app.focused.id == "ok" and " OK " in _screen_text(app)
        assert "What to do" not in _screen_text(app)
        await pilot.press("end")  # the text scrolls while the button keeps the focus
        await pilot.pause(0.1)
        assert "What to do" in _screen_text(app) and " OK " in _screen_text(app)
        await pilot.press("enter")
        assert not isinstance(app.screen, ErrorScreen)
        # A row of buttons wider than the dialog scrolls to the focused one.
        app.push_screen(ChoiceScreen(f"Forget {LONG_FOLDER}/notes.md?", [("forget", "Forget"),
                                                                        ("purge", "Forget and erase")]))
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.pause(0.1)
        assert " Cancel " in _screen_text(app)
        await pilot.press("tab", "tab")
        await pilot.pause(0.1)
        assert app.focused is not None and app.focused.id == "choice-purge"
        assert "Forget and erase" in _screen_text(app)


async def test_a_source_on_a_short_terminal_gives_its_passage_rows(app: LocalRagApp) -> None:
    from textual.containers import VerticalScroll

    from localrag.tui.screens.chunk import ChunkScreen

    source = SavedSource(1, "c1", "d1", f"{LONG_FOLDER}/report.md", "The northern budget is 340000 euros.",
                         cited=True)
    async with app.run_test(size=(40, 15)) as pilot:
        app.push_screen(ChunkScreen(source, Turn("assistant", "340000 euros [1].", sources=[source])))
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen))
        await pilot.pause(0.1)
        assert app.screen.query_one(VerticalScroll).region.height >= 3
        assert "340000" in _screen_text(app)


def test_an_ingest_report_names_each_failed_file_once() -> None:
    """The reason names the file (the CLI prints it after "skipped:"); the Library printed the path before it too."""
    from localrag.tui.screens.library import report_text
    from localrag.types import FileError, IngestReport

    reason = "/docs/broken.pdf: not a readable PDF (it may be corrupt or truncated)"
    shown = report_text(IngestReport(errors=[FileError("/docs/broken.pdf", reason)])).plain
    assert shown.count("/docs/broken.pdf") == 1 and shown.endswith("\n  " + reason)


async def test_a_long_ingest_report_scrolls_and_leaves_the_documents_room(fake_engine: FakeEngine) -> None:
    """20 files that could not be read: the report showed the first few, no key reached the others, and at 80x24
    with the graph build's report too the documents table was left no row."""
    from rich.text import Text
    from textual.containers import VerticalScroll

    from localrag.tui.screens.library import report_text
    from localrag.types import FileError, IngestReport

    app = LocalRagApp(fake_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        errors = [FileError(f"/docs/bad-{i}.md", f"/docs/bad-{i}.md: cannot read (Permission denied)")
                  for i in range(20)]
        screen.add_class("-reported")
        screen.query_one("#ingest-line", Static).update(report_text(IngestReport(added=3, errors=errors)))
        screen.graph_panel.add_class("-shown")
        screen.graph_panel.query_one("#graph-line", Static).update(Text("\n".join(f"line {i}" for i in range(20))))
        await pilot.pause(0.3)
        report = screen.query_one("#ingest-report", VerticalScroll)
        assert report.can_focus and report.max_scroll_y > 0
        report.focus()
        await pilot.press("end")
        assert report.scroll_y == report.max_scroll_y
        table = screen.query_one("#documents", DataTable)
        assert table.region.height >= 3 and table.region.bottom <= 22  # a row at least, above the status bar


def test_a_settings_box_says_what_it_takes() -> None:
    """A fraction for a count and an empty box were each "'…' is not a number"."""
    from localrag.errors import ConfigError
    from localrag.tui.screens.settings import FIELDS, parse_settings

    typed = {field.name: str(getattr(Settings(), field.name)) for field in FIELDS}
    with pytest.raises(ConfigError) as fraction:
        parse_settings(Settings(), {**typed, "top_k": "3.5"}, True)
    assert str(fraction.value) == "Sources per answer (top-k): '3.5' is not a whole number (type a whole number " \
                                  "from 1 to 100)"
    with pytest.raises(ConfigError) as empty:
        parse_settings(Settings(), {**typed, "temperature": " "}, True)
    assert str(empty.value).startswith("Temperature (0 = always the likeliest word): empty (type a number from 0 to ")


def _on_screen(app: LocalRagApp, selector: str) -> bool:
    region = app.screen.query_one(selector).region
    return bool(region.area) and region.right <= app.size.width and region.bottom <= app.size.height


async def test_a_40_column_terminal_shows_the_control_that_has_the_focus(app: LocalRagApp) -> None:
    # The Library's first row cut off New and the watch switch, which Tab focused unseen (Space then started
    # watching a folder with nothing on the screen); the chat's side panels left the question box 4 columns, and
    # with the conversations open none, while it kept the focus and sent what was typed.
    async with app.run_test(size=(40, 12)) as pilot:
        box = app.screen.query_one("#question", Input)
        assert box.region.width >= 15
        await pilot.press("ctrl+b")
        assert app.screen.query_one(ConversationList).display and box.has_focus and _on_screen(app, "#question")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, LibraryScreen))
        app.screen.query_one("#collection").focus()
        for selector in ("#new-collection", "#watch"):
            await pilot.press("tab")
            await pilot.pause()
            assert app.focused is app.screen.query_one(selector) and _on_screen(app, selector), selector


async def test_a_long_path_in_a_sources_header_scrolls_on_a_short_terminal(app: LocalRagApp) -> None:
    # The header was cut to its box: at 60x16 a deep path hid the location and what the highlights mean.
    from localrag.tui.screens.chunk import ChunkScreen

    path = "/home/someone/" + "/".join(f"folder-number-{n}" for n in range(8)) + "/budget.md"
    turn = Turn(role="assistant", text="It is 4 [1].", sources=[SavedSource(1, "c1", "d1", path, "Budget is 4.")])
    async with app.run_test(size=(60, 16)) as pilot:
        await app.push_screen(ChunkScreen(turn.sources[0], turn))
        await pilot.pause()
        header = app.screen.query_one(".where")
        assert header.max_scroll_y > 0 and header.can_focus
        header.focus()
        await pilot.press("end")
        await pilot.pause()
        assert header.scroll_y == header.max_scroll_y


async def test_a_source_opens_on_its_quote_with_the_keys_in_the_passage(app: LocalRagApp) -> None:
    # Focus went to the header, which could not scroll: Down and PageDown did nothing, and the quoted sentence at
    # the end of a long passage stayed below the fold. There was no way to copy the passage without a mouse.
    from textual.containers import VerticalScroll

    from localrag.conversations import SavedQuote
    from localrag.tui.screens.chunk import ChunkScreen

    text = "".join(f"Line {n} of the harbour log, with nothing of note.\n" for n in range(60))
    text += "The lighthouse keeper was named Ambrose Quill."
    start = text.index("Ambrose")
    source = SavedSource(1, "c1", "d1", "/docs/harbour.md", text, cited=True)
    turn = Turn("assistant", "Ambrose Quill [1].", sources=[source],
                quotes=[SavedQuote("Ambrose Quill", 1, "verified", start, start + len("Ambrose Quill"))])
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(ChunkScreen(source, turn))
        body = app.screen.query_one("#chunk-body", VerticalScroll)
        await wait_for(pilot, lambda: body.scroll_y > 0)
        assert app.focused is body and "Ambrose Quill" in _screen_text(app)
        await pilot.press("home")
        await pilot.press("pagedown")
        assert body.scroll_y > 0
        await pilot.press("c")
        assert app.clipboard == text


def test_a_glob_holding_a_space_is_given_quoted() -> None:
    # Split on every space, "My Notes/*" could not be given in the Library's include and exclude boxes.
    from localrag.tui.screens.library import parse_patterns

    assert parse_patterns('"My Notes/*" *.md,*.pdf') == ["My Notes/*", "*.md", "*.pdf"]
    assert parse_patterns('"unclosed *.md') == ['"unclosed', "*.md"]
    assert parse_patterns(r"a\[b\]*") == [r"a\[b\]*"]
    assert parse_patterns("*.md #drafts/* C#/*.cs") == ["*.md", "#drafts/*", "C#/*.cs"]
    assert parse_patterns("John's*.md Mary's*.md") == ["John's*.md", "Mary's*.md"]
