"""Conversation files: atomic saves, round trips, damaged files, history and Markdown export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from localrag.answer.evidence import EXTRACT_MODEL, extracted_answer
from localrag.conversations import (
    ConversationError,
    ConversationStore,
    Turn,
    export_markdown,
    title_from,
    turn_from_answer,
)
from localrag.types import Answer, Chunk, Evidence, GenerationStats, Hit, Quote, QuoteStatus


def _answer(cancelled: bool = False) -> Answer:
    chunk = Chunk("c1", "d1", "/docs/manual.pdf", 0, "Descale every four weeks with vinegar.", 0, 38, 3, "Care")
    other = Chunk("c2", "d2", "/docs/other.md", 0, "Unrelated.", 0, 10)
    return Answer(
        "how often?",
        'Every four weeks [1]. "every four weeks with vinegar" [1]',
        sources=[Hit(chunk, 0.9), Hit(other, 0.4)],
        cited=[1],
        quotes=[Quote("every four weeks with vinegar", 1, QuoteStatus.VERIFIED, 1.0, 8, 37)],
        model="m",
        stats=GenerationStats(completion_tokens=20, time_to_first_token=0.3, generation_seconds=0.5,
                              cancelled=cancelled),
    )


def test_round_trip_and_listing(localrag_home: Path) -> None:
    store = ConversationStore()
    conv = store.new()
    conv.title = title_from("how often should   I descale\nthe kettle?")
    conv.turns += [Turn("user", "how often?"), turn_from_answer(_answer(), "kettle how often?")]
    path = store.save(conv)
    assert path.parent == localrag_home / "data" / "conversations"
    assert not list(path.parent.glob(".*.tmp"))
    loaded = store.load(conv.id)
    assert loaded.title == "how often should I descale the kettle?"
    assert loaded.turns[1].sources[0].page == 3 and loaded.turns[1].sources[0].cited
    assert not loaded.turns[1].sources[1].cited
    assert loaded.turns[1].quote_status(1) == "verified" and loaded.turns[1].quote_status(2) is None
    assert loaded.turns[1].tokens_per_second == 40.0
    assert [c.id for c in store.list()] == [conv.id]


def test_an_answer_on_fewer_cores_than_the_machine_has_says_so_when_reopened(
    localrag_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localrag import types
    from localrag.tui.widgets.chat import _meta_line

    monkeypatch.setattr(types, "usable_cores", lambda: 2)
    answer = _answer()
    answer.stats.threads = 1  # another process held the other core when it started (localrag/generate.py)
    store = ConversationStore()
    conv = store.new()
    conv.turns += [Turn("user", "how often?"), turn_from_answer(answer)]
    store.save(conv)
    loaded = store.load(conv.id)
    assert loaded.turns[1].threads == 1
    assert "tok/s on 1 of 2 cores" in _meta_line(loaded.turns[1]).plain
    loaded.turns[1].threads = 2
    assert "cores" not in _meta_line(loaded.turns[1]).plain
    assert types.cores_note(0) == ""  # not known: a conversation saved before threads were recorded


def test_an_answer_stopped_for_repeating_itself_is_saved_so(localrag_home: Path) -> None:
    answer = _answer()
    answer.stats.stopped_repeating = True
    store = ConversationStore()
    conv = store.new()
    conv.turns += [Turn("user", "how often?"), turn_from_answer(answer)]
    store.save(conv)
    loaded = store.load(conv.id)
    assert loaded.turns[1].stopped_repeating and not loaded.turns[1].cancelled
    assert loaded.history()[-1]["role"] == "assistant"  # a whole answer, unlike a cancelled one


def test_the_evidence_is_saved_and_exported_with_the_repeat_stop(localrag_home: Path) -> None:
    answer = _answer()
    answer.stats.stopped_repeating = True
    answer.evidence = Evidence(1, "Descale every four weeks with vinegar.", 1.1, 0, 38)
    store = ConversationStore()
    conv = store.new()
    conv.turns += [Turn("user", "how often?"), turn_from_answer(answer)]
    store.save(conv)
    loaded = store.load(conv.id)
    assert (loaded.turns[1].evidence_text, loaded.turns[1].evidence_source) == (answer.evidence.text, 1)
    text = export_markdown(loaded)
    assert "_(stopped where it began repeating itself)_" in text
    assert "**Best sentence in the sources** [1]:\n\n> Descale every four weeks with vinegar." in text
    # A table row is saved and exported with its header.
    answer.evidence = Evidence(1, "Research | 340000", 1.0, 0, 17, header="Team | Budget 2027 (EUR)")
    conv.turns[1] = turn_from_answer(answer)
    store.save(conv)
    row = store.load(conv.id)
    assert row.turns[1].evidence_header == "Team | Budget 2027 (EUR)"
    assert "_(a row under \u201cTeam \\| Budget 2027 (EUR)\u201d)_" in export_markdown(row)
    from localrag.tui.widgets.chat import _evidence_line

    assert _evidence_line(row.turns[1]).plain.endswith("“Research | 340000” (a row under “Team | Budget 2027 (EUR)”)")
    # A quote under the wrong number: saved with the source that holds it, and said so in the export and the panel.
    answer.quotes = [Quote("every four weeks with vinegar", 2, QuoteStatus.NOT_FOUND, 0.2, found_in=1)]
    conv.turns[1] = turn_from_answer(answer)
    store.save(conv)
    miscited = store.load(conv.id)
    assert miscited.turns[1].quotes[0].found_in == 1
    assert "[2] (not in source; the words are in [1])" in export_markdown(miscited)
    from localrag.tui.widgets.sources import source_label

    first = miscited.turns[1].sources[0]
    assert source_label(first, miscited.turns[1]).plain.startswith("[1] ● cited holds the quote cited as [2]")
    # An extracted answer is that sentence: not written twice.
    loaded.turns[1].model = EXTRACT_MODEL
    assert "Best sentence" not in export_markdown(loaded)


def test_history_leaves_out_cut_answers() -> None:
    conv = ConversationStore().new()
    conv.turns += [Turn("user", "q1"), turn_from_answer(_answer(cancelled=True)), Turn("user", "q2")]
    assert conv.history() == [{"role": "user", "content": "q1"}, {"role": "user", "content": "q2"}]


def test_damaged_file_is_skipped_in_list_and_named_on_load(localrag_home: Path) -> None:
    store = ConversationStore()
    good = store.new()
    store.save(good)
    (store.folder / "20200101-000000-abcdef.json").write_text("{not json", encoding="utf-8")
    assert [c.id for c in store.list()] == [good.id]
    with pytest.raises(ConversationError, match="damaged"):
        store.load("20200101-000000-abcdef")


def test_summaries_read_only_the_files_changed_since_and_follow_deletes(
    localrag_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ConversationStore()
    first, second = store.new(), store.new()
    first.add_question("how often?")
    store.save(first)
    second.add_question("which vinegar?")
    second.add_question("how much?")
    store.save(second)
    (store.folder / "20200101-000000-abcdef.json").write_text("{not json", encoding="utf-8")
    assert [(c.id, c.questions) for c in store.summaries()] == [(second.id, 2), (first.id, 1)]

    loads: list[str] = []
    real_load = store.load
    with monkeypatch.context() as patch:
        patch.setattr(store, "load", lambda name: loads.append(name) or real_load(name))
        store.summaries()
        assert loads == ["20200101-000000-abcdef"]  # a damaged file is tried again: it may have been mended
        first.add_question("and descaling?")
        store.save(first)  # now the latest
        loads.clear()
        assert [(c.id, c.questions) for c in store.summaries()] == [(first.id, 2), (second.id, 2)]
        assert sorted(loads) == sorted([first.id, "20200101-000000-abcdef"])
    store.delete(second.id)
    assert [c.id for c in store.summaries()] == [first.id]
    assert store.find("last").id == first.id


def test_holding_parses_only_the_conversations_whose_file_holds_the_text(localrag_home: Path) -> None:
    store = ConversationStore()
    cited = store.new()
    cited.turns += [Turn("user", "how often?"), turn_from_answer(_answer(), "how often?")]
    store.save(cited)
    other = store.new()
    other.add_question("what about /docs/manual?")  # a question naming it is the user's text, but holds it
    store.save(other)
    store.save(store.new())
    assert [c.id for c in store.holding(["/docs/manual.pdf"])] == [cited.id]
    assert {c.id for c in store.holding(["/docs/manual"])} == {cited.id, other.id}
    # A file written with non-ASCII escaped is found as well.
    accented = store.new()
    accented.add_question("Café?")
    store.folder.joinpath(f"{accented.id}.json").write_text(json.dumps(accented.to_json()), encoding="utf-8")
    assert [c.id for c in store.holding(["Café"])] == [accented.id]


def test_a_damaged_file_is_named_by_the_list_and_delete_removes_it(
    localrag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.cli import run

    store = ConversationStore()
    good = store.new()
    good.add_question("how often?")
    store.save(good)
    broken = store.new()
    broken.add_question("what vinegar?")
    raw = broken.to_json() | {"turns": 5}
    store.folder.joinpath(f"{broken.id}.json").write_text(json.dumps(raw), encoding="utf-8")

    assert run(["conversations", "list", "--json"]) == 0
    printed = capsys.readouterr()
    assert [c["id"] for c in json.loads(printed.out)] == [good.id]
    assert f"skipped 1 damaged conversation file(s): {broken.id}" in printed.err
    assert run(["conversations", "show", broken.id]) == 2
    assert "damaged (not in the form localrag saves conversations in)" in capsys.readouterr().err
    # What that error says to do works, though the file does not read.
    assert run(["conversations", "delete", broken.id, "--yes"]) == 0
    assert f"deleted conversation {broken.id}" in capsys.readouterr().err
    assert store.damaged() == [] and [c.id for c in store.summaries()] == [good.id]


def test_rename_delete_and_bad_ids(localrag_home: Path) -> None:
    store = ConversationStore()
    conv = store.new()
    store.save(conv)
    assert store.rename(conv.id, "  Kettle   care ").title == "Kettle care"
    with pytest.raises(ConversationError):
        store.rename(conv.id, "   ")
    with pytest.raises(ConversationError, match="not a valid"):
        store.load("../../etc/passwd")
    store.delete(conv.id)
    assert store.list() == []


def test_last_with_none_saved_says_a_plain_ask_saves_none_and_how_to_start_one(localrag_home: Path) -> None:
    # After plain asks `--conversation last` said only "no conversations yet", read as a follow-up that failed.
    with pytest.raises(ConversationError) as none:
        ConversationStore().find("last")
    assert "no conversations yet (an ask without --conversation saves none)" in none.value.message
    assert none.value.hint == ("start one with `localrag ask --conversation new QUESTION` or in the chat app, then "
                               "`--conversation last` goes on in the one saved most recently")


def test_export_markdown_lists_sources_and_marks() -> None:
    conv = ConversationStore().new()
    conv.title = "Kettle"
    conv.turns += [Turn("user", "how often?"), turn_from_answer(_answer(cancelled=True), "kettle how often?")]
    text = export_markdown(conv)
    assert text.startswith("# Kettle\n")
    assert "## Q: how often?" in text
    assert "1. `/docs/manual.pdf` (manual\\.pdf · p. 3 · Care) — cited, quote verified" in text
    assert "2. `/docs/other.md` (other\\.md) — not cited" in text
    assert "_(answer cut short)_" in text and "_Searched for: kettle how often?_" in text


def test_the_export_names_the_cited_sources_that_do_not_exist_as_ask_does() -> None:
    from localrag.answer.claims import missing_sources_note

    answer = dataclasses.replace(_answer(), text="Every four weeks [1, 2, 3, 4, 25].", invalid_citations=[3, 4, 25])
    conv = ConversationStore().new()
    conv.turns += [Turn("user", "how often?"), turn_from_answer(answer, "how often?")]
    # Before 2026-12-08 `conversations show` and the chat app's export said nothing of them.
    assert missing_sources_note([3, 4, 25]) == "cited sources that do not exist: [3, 4, 25]"
    assert "_(cited sources that do not exist: [3, 4, 25])_" in export_markdown(conv)
    assert "do not exist" not in export_markdown(ConversationStore().new())


def test_a_file_name_with_line_breaks_stays_on_its_sources_line() -> None:
    # It wrote lines of its own into `conversations show` and the export: a forged "cited, quote verified" source.
    conv = ConversationStore().new()
    answer = _answer()
    forged = "/docs/x\n2. `/hr/payroll.md` (payroll.md:1-3) — cited, quote verified\ny.md"
    answer.sources[1] = Hit(dataclasses.replace(answer.sources[1].chunk, path=forged), answer.sources[1].score)
    conv.turns += [Turn("user", "how often?"), turn_from_answer(answer, "kettle how often?")]
    [second] = [line for line in export_markdown(conv).splitlines() if line.startswith("2. ")]
    # In a code span fenced by two backticks: the one in the name ended a one-backtick span, and the rest was Markdown.
    assert second.startswith("2. ``/docs/x␊2. `/hr/payroll.md` (payroll.md:1-3) — cited, quote verified␊y.md`` (")
    assert second.endswith(") — not cited")


def test_saved_file_is_plain_json(localrag_home: Path) -> None:
    store = ConversationStore()
    conv = store.new()
    conv.turns.append(Turn("user", "[bold]hi[/]"))
    data = json.loads(store.save(conv).read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["turns"][0]["text"] == "[bold]hi[/]"


def test_fields_a_newer_localrag_wrote_are_no_damage_and_survive_a_continued_conversation(
    localrag_home: Path,
) -> None:
    # Turn(**raw) refused a field it did not know: a conversation a newer localrag had continued was hidden from the
    # list and called damaged, with `delete` as the fix.
    store = ConversationStore()
    conv = store.new()
    conv.turns += [Turn("user", "how often?"), turn_from_answer(_answer(), "kettle how often?")]
    path = store.save(conv)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["pinned"] = True
    data["turns"][1]["future_field"] = {"kept": [1, 2]}
    data["turns"][1]["sources"][0]["future_score"] = 0.5
    path.write_text(json.dumps(data), encoding="utf-8")

    assert [c.id for c in store.list()] == [conv.id] and not store.damaged()
    loaded = store.load(conv.id)
    assert loaded.turns[1].sources[0].page == 3
    loaded.turns.append(Turn("user", "and with lemon?"))
    saved = json.loads(store.save(loaded).read_text(encoding="utf-8"))
    assert saved["pinned"] is True and saved["turns"][1]["future_field"] == {"kept": [1, 2]}
    assert "newer" not in saved and "newer" not in saved["turns"][0]


def test_an_answer_is_added_to_the_conversation_as_saved_then_not_as_read(tmp_path: Path) -> None:
    # Two `ask --conversation ID` at once each wrote back the copy read at its start: the other's turns were lost,
    # and a rename or a delete meanwhile was undone.
    store = ConversationStore(tmp_path)
    first = store.new()
    first.add_question("How much sun do tomatoes need?")
    first = store.append(first, first.turns[-1:])
    other = store.load(first.id)  # a second process, started before the first one's answer
    store.append(first, [Turn("assistant", "Eight hours.")])
    other.add_question("Who created Python?")
    store.append(other, other.turns[-1:])
    store.rename(first.id, "Garden and code")
    store.append(other, [Turn("assistant", "Guido van Rossum.")])
    saved = store.load(first.id)
    assert [t.text for t in saved.turns] == ["How much sun do tomatoes need?", "Eight hours.", "Who created Python?",
                                             "Guido van Rossum."]
    assert saved.title == "Garden and code"
    store.delete(first.id)
    with pytest.raises(ConversationError, match="was deleted while this answer was written"):
        store.append(other, [Turn("assistant", "Late.")])
    assert store.list() == []


@pytest.mark.parametrize("shape", [{"turns": "oops"}, {"turns": [1, 2]}, [], {"turns": [{"role": "user", "text": 5}]}])
def test_a_file_edited_into_another_shape_is_one_line_and_list_passes_it_over(
    tmp_path: Path, shape: object
) -> None:
    store = ConversationStore(tmp_path)
    kept = store.new()
    kept.add_question("How much sun do tomatoes need?")
    store.save(kept)
    bad = store.new()
    bad.id = "20260101-000000-abcdef"
    data = {**store.load(kept.id).to_json(), "id": bad.id, **shape} if isinstance(shape, dict) else shape
    (tmp_path / f"{bad.id}.json").write_text(json.dumps(data))
    with pytest.raises(ConversationError, match="conversation file is damaged"):
        store.load(bad.id)
    assert [c.id for c in store.list()] == [kept.id] and store.damaged() == [bad.id]


def test_an_answer_an_error_stopped_is_exported_with_why() -> None:
    conv = ConversationStore().new()
    conv.turns += [Turn("user", "how often?"),
                   Turn("assistant", "", cancelled=True, failure="the index was re-embedded\nby another command")]
    text = export_markdown(conv)
    assert "_(not answered: the index was re-embedded by another command)_" in text
    assert "cut short" not in text


def test_a_copied_conversation_file_is_a_conversation_of_its_own() -> None:
    """A backup copy (ID-backup.json) held the id of its original: listed twice (the chat app failed to start),
    renamed and deleted in the original; a file manager's "ID (copy).json" was called damaged, and the delete
    the message named was refused. A rename made an old conversation `last`."""
    store = ConversationStore()
    first, second = store.new(), store.new()
    first.turns, second.turns = [Turn("user", "one?")], [Turn("user", "two?")]
    first.updated, second.updated = 100.0, 200.0
    store.save(first, touch=False)
    store.save(second, touch=False)
    original = store.folder / f"{first.id}.json"
    (store.folder / f"{first.id}-backup.json").write_bytes(original.read_bytes())
    (store.folder / f"{first.id} (copy).json").write_bytes(original.read_bytes())
    assert sorted(c.id for c in store.summaries()) == sorted([first.id, f"{first.id}-backup", second.id])
    store.rename(f"{first.id}-backup", "Backup")
    assert store.load(first.id).title != "Backup" and store.load(f"{first.id}-backup").title == "Backup"
    assert store.find("last").id == second.id  # a rename leaves the order alone
    assert store.misnamed() == [store.folder / f"{first.id} (copy).json"] and store.damaged() == []


def test_an_answer_is_saved_after_its_own_question() -> None:
    """Two asks at once saved both questions, then both answers: the export put each answer after the wrong one."""
    store = ConversationStore()
    conversation = store.new()
    meal, rail = Turn("user", "What is the meal allowance?"), Turn("user", "Is rail travel preferred?")
    conversation.turns = [meal]  # as `add_question` leaves it
    store.append(conversation, [meal])
    store.append(conversation, [rail])
    store.append(conversation, [Turn("assistant", "45 euros a day.")], after=meal)
    saved = store.append(conversation, [Turn("assistant", "Yes, under four hours.")], after=rail)
    assert [t.text for t in saved.turns] == ["What is the meal allowance?", "45 euros a day.",
                                             "Is rail travel preferred?", "Yes, under four hours."]


def test_last_is_not_an_older_conversation_when_the_latest_file_is_damaged() -> None:
    store = ConversationStore()
    older, latest = store.new(), store.new()
    older.turns, latest.turns = [Turn("user", "meals?")], [Turn("user", "hotels?")]
    older.updated = 100.0
    store.save(older, touch=False)
    path = store.save(latest)
    path.write_text(path.read_text().replace('"turns": [', '"turns": [,'))
    with pytest.raises(ConversationError, match=f"{path}: conversation file is damaged"):
        store.find("last")


def test_an_extracted_answer_and_its_quote_read_as_written_in_a_markdown_viewer() -> None:
    # A Markdown viewer hid `<!-- not -->` from the answer and from its quote marked verified, and showed
    # `__init__.py` as a bold "init.py".
    sentence = "The mooring deposit is <!-- not --> refundable; run __init__.py, see official.md"
    chunk = Chunk("c1", "d1", "/docs/harbour.md", 0, sentence, 0, len(sentence), None, "Fees")
    answer = extracted_answer("is the deposit refundable?", Evidence(1, sentence, 1.0, 0, len(sentence)),
                              [Hit(chunk, 0.9)])
    conv = ConversationStore().new()
    conv.turns += [Turn("user", "is the deposit refundable?"), turn_from_answer(answer)]
    tokens = MarkdownIt("gfm-like").parse(export_markdown(conv))
    inline = [t for t in tokens if t.type == "inline"]
    shown = ["".join(c.content for c in t.children or []) for t in inline]
    assert all(c.type in ("text", "text_special", "code_inline", "softbreak", "em_open", "em_close", "strong_open",
                          "strong_close") for t in inline for c in t.children or [])
    assert f"\"{sentence}\" [1]" in shown  # the answer
    assert f"{sentence} [1] (verified)" in shown  # its quote


def test_show_renders_the_export_on_a_terminal_and_writes_its_source_to_a_pipe(
    localrag_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a terminal `show` printed the export's Markdown source: "12\.50 EUR ... see fees\.md ... \[1\]".
    import re

    from localrag.cli import run
    from localrag.conversations import SavedQuote, SavedSource

    text = "The harbour fee is 12.50 EUR per night; see fees.md or https://marina.example/fees."
    store = ConversationStore()
    conversation = store.new()
    conversation.add_question("What is the harbour fee?")
    source = SavedSource(1, "c1", "d1", "/docs/fees.md", text, cited=True, line_start=3, line_end=3)
    conversation.turns.append(Turn("assistant", f"{text} [1]", model=EXTRACT_MODEL, sources=[source],
                                   quotes=[SavedQuote(text, 1, "verified")]))
    store.save(conversation)

    assert run(["conversations", "show", "last"]) == 0
    piped = capsys.readouterr().out
    assert piped == export_markdown(conversation) and "fees\\.md" in piped  # a pipe gets the export as saved

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    assert run(["conversations", "show", "last"]) == 0
    shown = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert f"{text} [1]" in shown and "fees.md:3-3" in shown and "\\" not in shown
    assert "**" not in shown and "## Q:" not in shown and "Q: What is the harbour fee?" in shown


def test_rename_and_delete_print_json_when_asked(localrag_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`conversations --json rename last T1` and `--json delete last --yes` took --json and printed no JSON (before
    2026-12-07)."""
    from localrag.cli import run

    store = ConversationStore()
    conv = store.new()
    store.save(conv)
    assert run(["conversations", "--json", "rename", "last", "T1"]) == 0
    assert json.loads(capsys.readouterr().out) == {"renamed": conv.id, "title": "T1"}
    assert run(["conversations", "delete", "last", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"deleted": conv.id}
    assert store.list() == []
