"""Pilot tests of the app over the real Engine: bundled MiniLM and SmolLM2, real LanceDB, sample corpus.

The models are the session-wide fixtures of tests/conftest.py. Each test ingests the sample
corpus through the library screen (so the progress path is exercised for real) into its own
LOCALRAG_HOME. The cancel test paces the real generator, holding it after its first piece until
Esc is pressed, so "Esc during an answer" does not depend on how fast this machine generates.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_for
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.markdown import MarkdownBlock

from localrag.config import load_settings
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir
from localrag.models import bundled_generator_path
from localrag.tui.app import LocalRagApp
from localrag.tui.screens.chat import ChatScreen
from localrag.tui.screens.chunk import ChunkScreen
from localrag.tui.screens.dialogs import ErrorScreen
from localrag.tui.screens.library import LibraryScreen
from localrag.tui.screens.models import ModelsScreen
from localrag.tui.widgets.chat import AnswerView
from localrag.tui.widgets.conversations import ConversationList
from localrag.tui.widgets.sources import SourcesPanel

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def engine(localrag_home: Path, real_embedder: Any, real_generator: Any) -> Iterator[Engine]:
    # Short answers keep the suite's time down on a 2-core machine; nothing here needs long ones.
    yield Engine(load_settings(max_answer_tokens=96), embedder=real_embedder, generator=real_generator)


async def _ready(pilot: Pilot) -> None:
    """Wait for the warm-up worker; an error modal instead fails the test with the engine's message."""
    app = pilot.app
    await wait_for(pilot, lambda: app.activity != "loading models…", 180)  # type: ignore[attr-defined]
    if isinstance(app.screen, ErrorScreen):
        pytest.fail(f"warm-up failed: {app.screen.error}")


async def _ingest_sample(pilot: Pilot) -> None:
    app = pilot.app
    await _ready(pilot)
    await pilot.press("f3")
    library = app.screen
    assert isinstance(library, LibraryScreen)
    library.query_one("#paths", Input).value = str(sample_corpus_dir())
    await pilot.press("ctrl+g")
    await wait_for(pilot, lambda: library.cancel_event is None and library.has_class("-reported"), 180)
    report = str(library.query_one("#ingest-line", Static).render())
    assert report.startswith("Done: 7 added"), report
    await wait_for(pilot, lambda: library.query_one("#documents", DataTable).row_count == 7, 30)
    await pilot.press("f2")


async def _ask(pilot: Pilot, question: str, timeout: float = 240) -> ChatScreen:
    chat = pilot.app.screen
    assert isinstance(chat, ChatScreen)
    n = len(chat.query(AnswerView))
    chat.query_one("#question", Input).value = question
    chat.query_one("#question", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(chat.query(AnswerView)) == n + 1 and not chat.generating, timeout)
    return chat


def _source_paths(chat: ChatScreen) -> list[str]:
    turn = chat.query_one(SourcesPanel).turn
    return [s.path for s in turn.sources] if turn else []


async def test_ingest_then_streamed_answer_with_right_source(engine: Engine) -> None:
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ingest_sample(pilot)
        await wait_for(pilot, lambda: app.engine_status is not None and app.engine_status.documents == 7, 60)
        chat = await _ask(pilot, "Who was the engineer of Kestrel Point Lighthouse?")
        view = chat.query(AnswerView).last()
        assert view.turn is not None and view.turn.text.strip()
        assert view.partial.strip(), "no token was streamed into the view"
        assert any(p.endswith("kestrel-point-lighthouse.md") for p in _source_paths(chat))
        assert app.last_speed is not None and app.last_speed[1] > 0


async def test_escape_cuts_a_real_answer(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    generator = engine.generator
    real_stream = generator.stream_chat
    first_piece = threading.Event()

    def paced(*args: Any, cancel: threading.Event | None = None, **kwargs: Any) -> Iterator[str]:
        for i, piece in enumerate(real_stream(*args, cancel=cancel, **kwargs)):
            yield piece
            if i == 0 and cancel is not None:
                first_piece.set()
                cancel.wait(60)

    monkeypatch.setattr(generator, "stream_chat", paced)
    app = LocalRagApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ingest_sample(pilot)
        chat = app.screen
        chat.query_one("#question", Input).value = "Describe the construction of Kestrel Point Lighthouse."
        chat.query_one("#question", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, first_piece.is_set, 240)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not chat.generating, 120)
        view = chat.query(AnswerView).last()
        assert view.turn is not None and view.turn.cancelled and view.has_class("-cut")
        assert app.conversations.list()[0].turns[-1].cancelled


async def test_switch_model_loads_it_in_a_worker(engine: Engine, localrag_home: Path) -> None:
    models = localrag_home / "models"
    models.mkdir()
    shutil.copyfile(bundled_generator_path(), models / "smol-copy.gguf")
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        box = screen.query_one("#models", OptionList)
        await wait_for(pilot, lambda: box.option_count == 2, 60)
        box.focus()
        box.highlighted = 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.model_label != "" and "smol-copy" in engine.settings.model, 120)
        await wait_for(pilot, lambda: app.activity == "", 120)
        assert load_settings().model.endswith("smol-copy.gguf")
        assert str(engine.generator.path).endswith("smol-copy.gguf")  # type: ignore[attr-defined]


async def test_markup_injection_document_is_shown_literally(engine: Engine) -> None:
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ingest_sample(pilot)
        chat = await _ask(pilot, "What did the Quillpad plain-text export of the Meridian on-call notebook look like?")
        turn = chat.query_one(SourcesPanel).turn
        assert turn is not None
        evil = [s for s in turn.sources if "[@click=app.quit]" in s.text]
        assert evil, f"the injection chunk was not retrieved: {[s.path for s in turn.sources]}"
        chat.open_source(evil[0], turn)
        await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen) and bool(app.screen.query("#chunk-text")))
        shown = app.screen.query_one("#chunk-text", Static)
        assert "[bold red]ALERT[/] [@click=app.quit]quit[/]" in str(shown.render())
        region = shown.region
        for y in range(region.y, min(region.bottom, region.y + 12)):
            await pilot.click(offset=(region.x + 10, y))
        assert app.is_running


async def test_conversation_survives_restart(engine: Engine, real_embedder: Any, real_generator: Any) -> None:
    first = LocalRagApp(engine)
    async with first.run_test(size=(120, 40)) as pilot:
        await _ingest_sample(pilot)
        chat = await _ask(pilot, "How many ships did the Tollmarsh Shoals claim?")
        answer_text = chat.query(AnswerView).last().turn.text  # type: ignore[union-attr]
        sources = _source_paths(chat)

    again = Engine(load_settings(max_answer_tokens=96), embedder=real_embedder, generator=real_generator)
    second = LocalRagApp(again)
    async with second.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        chat = second.screen
        panel = chat.query_one(ConversationList)
        await wait_for(pilot, lambda: panel.option_count == 1)
        panel.focus()
        panel.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(chat.query(AnswerView)) == 1)
        assert chat.query_one(AnswerView).turn.text == answer_text  # type: ignore[union-attr]
        assert _source_paths(chat) == sources


def _mailbox(path: Path) -> None:
    import email.message
    import mailbox

    box = mailbox.mbox(str(path))
    for subject, sender, body in (("Printer on floor 3", "bob@example.org", "The printer on floor 3 jams on A3."),
                                  ("Lunch on Friday", "ana@example.org", "Lunch is at the harbour cafe.")):
        mail = email.message.EmailMessage()
        mail["Subject"], mail["From"] = subject, sender
        mail.set_content(body)
        box.add(mail.as_bytes())
    box.close()


async def test_a_mailboxs_mails_are_told_apart_in_the_library_and_documents(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    real_embedder: Any,
) -> None:
    """Both mails of team.mbox showed as `sha-3a681246323a eml 1 786 B team.mbox`: a digest for a name and the
    mailbox's whole size as each one's, so which one `f` would forget could not be told. Now each shows its title
    and no size, in the Library as in `localrag documents`."""
    from localrag.cli import run

    _mailbox(tmp_path / "team.mbox")
    engine.ingest([tmp_path / "team.mbox"])
    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        await _ready(pilot)
        await pilot.press("f3")
        table = app.screen.query_one("#documents", DataTable)
        await wait_for(pilot, lambda: table.row_count == 2, 30)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(2)]
    assert [(row[0], row[3], row[4]) for row in rows] == [
        ("Lunch on Friday — ana@example.org", "", str(tmp_path / "team.mbox")),
        ("Printer on floor 3 — bob@example.org", "", str(tmp_path / "team.mbox"))]
    monkeypatch.setattr("localrag.embed.load_embedder", lambda *_a, **_k: real_embedder)
    capsys.readouterr()
    assert run(["documents"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]  # a pipe's rows, tab-separated, after the header
    assert [line.split("\t")[2:] for line in lines] == [
        ["1", "", "Lunch on Friday — ana@example.org", "", ""],
        ["1", "", "Printer on floor 3 — bob@example.org", "", ""]]


async def test_asking_while_the_first_ingest_runs_says_so_without_backticks(engine: Engine) -> None:
    """Asked while the first ingest embedded (the status bar said `ingesting 4/5`), the answer was "collection
    default holds no documents yet: add some with `localrag ingest PATH` (in the chat app, the Library)", backticks
    and all. The writer lock held, as an ingest holds it, the answer says a writer is at work."""
    from localrag.writer_lock import writer_lock

    app = LocalRagApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        with writer_lock(engine.store.path):
            chat = await _ask(pilot, "How often should the kettle be descaled?")
        meta = str(chat.query(AnswerView).last().query_one(".meta", Static).render())
    assert "holds no documents yet: another task of this localrag is writing to the index" in meta, meta
    assert "`" not in meta
    # No writer: the way to add documents, in the app without backticks.
    assert engine.why_nothing_found().endswith("`localrag ingest PATH` (in the chat app, the Library)")


async def test_an_extracted_answer_shows_the_documents_sentence_as_written(
        localrag_home: Path, real_embedder: Any, tmp_path: Path) -> None:
    # Rendered as Markdown, the answer marked verified lost `<password>` and `<!-- not -->`, showed `__init__` bold
    # and `official.md` as a link: other words than the document's.
    sentence = ("To open the harbour office, type <password> at the login prompt and then run __init__.py; the "
                "mooring deposit is <!-- not --> refundable, as official.md says.")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "office.txt").write_text(f"{sentence}\n", encoding="utf-8")
    engine = Engine(load_settings(answer_mode="extract"), embedder=real_embedder)
    engine.ingest([docs])
    app = LocalRagApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        await _ready(pilot)
        chat = await _ask(pilot, "What do I type at the login prompt of the harbour office?")
        view = chat.query(AnswerView).last()
        assert view.turn is not None and view.turn.text == f'"{sentence}" [1]'
        blocks = list(view.query(MarkdownBlock))
        assert [str(block.render()) for block in blocks] == [view.turn.text]
        assert not any(span.style for block in blocks for span in block.render().spans)  # no bold, no link
