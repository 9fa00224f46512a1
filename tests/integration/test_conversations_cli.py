"""`ask --conversation` and `localrag conversations`: the chat app's saved conversations from the command line,
on a real LanceDB with the bundled MiniLM (and the bundled model where an answer is generated)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FILMS
from rich.console import Console

from localrag.cli import run
from localrag.conversations import Conversation, ConversationStore, new_id
from localrag.embed import SentenceTransformerEmbedder

NOTES = ("# Office\n\nThe office moves to Baker Street 221 on 1 February.\n\n"
         "# Parking\n\nParking is in the basement, level minus two.\n")


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder: SentenceTransformerEmbedder,
          capsys: pytest.CaptureFixture[str]) -> Path:
    # Each command builds its own Engine: they share the session's loaded MiniLM instead of loading it again.
    monkeypatch.setattr("localrag.embed.load_embedder", lambda *_a, **_k: real_embedder)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "office.md").write_text(NOTES)
    assert run(["ingest", str(folder), "--json"]) == 0
    capsys.readouterr()
    return folder


def test_ask_continues_a_conversation_that_the_commands_list_show_rename_and_delete(
    notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["conversations"]) == 0
    assert "no conversations in" in capsys.readouterr().out
    assert run(["ask", "Where does the office move?", "--extract", "--conversation", "new"]) == 0
    first = capsys.readouterr()
    assert "Baker Street" in first.out and "saved in conversation" in first.err
    # In a pipe: the answer once, no status line before it.
    assert first.out.count("Baker Street 221") == 2 and not first.out.startswith("Answering")
    assert run(["ask", "Where is parking?", "--extract", "--conversation", "last", "--json"]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert "basement" in answered["text"] and answered["query"] == "Where is parking?"
    # A follow-up is searched for with the question before it, and --json says so.
    assert run(["ask", "And which level is it on?", "--extract", "--conversation", "last", "--json"]) == 0
    followed = json.loads(capsys.readouterr().out)
    assert followed["query"] == "Where is parking? And which level is it on?" and "minus two" in followed["text"]

    (saved,) = ConversationStore().list()
    assert answered["conversation"] == saved.id and saved.title == "Where does the office move?"
    assert [t.role for t in saved.turns] == ["user", "assistant"] * 3
    assert saved.turns[3].sources and saved.turns[3].evidence_text and saved.turns[5].query == followed["query"]

    assert run(["conversations"]) == 0
    lines = capsys.readouterr().out.splitlines()  # a pipe: one tab-separated line per conversation
    assert lines[0] == "id\tupdated\tquestions\ttitle"
    assert lines[1].split("\t")[0] == saved.id and lines[1].split("\t")[2:] == ["3", saved.title]
    assert run(["conversations", "show", saved.id]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# Where does the office move?") and "## Q: Where is parking?" in shown
    assert run(["conversations", "show", "last", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["turns"]) == 6

    assert run(["conversations", "rename", "last", "Office  and\nparking"]) == 0
    assert ConversationStore().load(saved.id).title == "Office and parking"
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert run(["conversations", "delete", saved.id]) == 2  # no terminal to confirm on
    assert "--yes" in capsys.readouterr().err
    other = Conversation(id=new_id(), title="Parking")
    ConversationStore().save(other)
    assert run(["conversations", "delete", saved.id, "--yes"]) == 0
    assert run(["conversations", "--yes", "delete", other.id]) == 0  # before the action, as before it had a parser
    assert ConversationStore().list() == []


def test_bad_ids_and_combinations_are_one_line_errors(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ask", "Where is parking?", "--conversation", "last"]) == 2
    assert "no conversations yet" in capsys.readouterr().err
    assert run(["ask", "Where is parking?", "--conversation", "../etc"]) == 2
    assert "not a valid conversation id" in capsys.readouterr().err
    assert run(["ask", "Where is parking?", "--conversation", "20260101-000000-abcdef"]) == 2
    assert "no such conversation" in capsys.readouterr().err
    assert run(["ask", "Where is parking?", "--conversation", "new", "--model", "nowhere.gguf"]) == 2
    (failed,) = ConversationStore().list()  # the question is kept, its answer marked as cut short
    assert [(t.role, t.cancelled) for t in failed.turns] == [("user", False), ("assistant", True)]
    ConversationStore().delete(failed.id)
    with pytest.raises(SystemExit) as refused:  # argparse's usage error: the id is required
        run(["conversations", "show"])
    assert refused.value.code == 2
    assert run(["conversations", "delete", "new"]) == 2
    assert "`new` names no saved conversation (it starts one: `localrag ask --conversation new QUESTION`" in \
        capsys.readouterr().err
    assert ConversationStore().list() == []


def test_ctrl_c_keeps_the_question_and_what_was_written_marked_cut_short(
    notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import localrag.cli.everyday as everyday

    shown: list[str] = []

    def printable_then_ctrl_c(text: str) -> str:
        # Ctrl-C lands where the CLI spends its time while an answer streams: printing a token.
        shown.append(text)
        if len(shown) == 2:
            raise KeyboardInterrupt
        return text

    monkeypatch.setattr(everyday, "printable", printable_then_ctrl_c)
    # Tokens stream only to a terminal (a pipe gets the finished answer once).
    monkeypatch.setattr(Console, "is_terminal", property(lambda _self: True))
    assert run(["ask", "Where does the office move?", "--conversation", "new"]) == 130
    (saved,) = ConversationStore().list()
    assert f"saved in conversation {saved.id}, cut short" in capsys.readouterr().err
    question, answer = saved.turns
    assert question.text == "Where does the office move?"
    assert answer.cancelled and answer.text == "".join(shown) and answer.text


def test_a_graph_answer_is_kept_with_its_paths_as_the_chat_app_keeps_it(
    notes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.graph.turns import RELATED_MODEL

    films = tmp_path / "films.tsv"
    films.write_text(FILMS, encoding="utf-8")
    assert run(["graph", "import", str(films)]) == 0
    question = "Who directed the film that Tom Hanks starred in?"
    assert run(["ask", "--graph", "--json", question, "--conversation", "new"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["answer"] == "Penny_Marshall"
    (saved,) = ConversationStore().list()
    assert printed["conversation"] == saved.id
    answer = saved.turns[1]
    assert answer.text.startswith("**Penny\\_Marshall**") and answer.model == "graph · paths"
    assert [s.relation for s in answer.graph_paths[0].steps] == ["starred_in", "directed_by"]
    assert answer.graph_paths[0].supports_answer

    assert run(["ask", "--graph", "What else is like Big?", "--conversation", "last"]) == 0
    assert "saved in conversation" in capsys.readouterr().err
    related = ConversationStore().load(saved.id).turns[3]
    assert related.model == RELATED_MODEL and related.text.endswith("shares a neighbour with Big.")


def test_a_question_or_query_of_dash_is_read_from_stdin(
    notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Where is\nparking?\n"))
    assert run(["ask", "-", "--extract", "--json"]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert answered["question"] == "Where is\nparking?" and "basement" in answered["text"]
    monkeypatch.setattr("sys.stdin", io.StringIO("basement parking\n"))
    assert run(["search", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["query"] == "basement parking"
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert run(["ask", "-"]) == 2
    assert "the question is empty" in capsys.readouterr().err


def test_show_prints_no_control_character_from_a_document(
    notes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (notes / "office.md").write_text("# Office\n\nThe office moves \x1b[2J\x1b]0;owned\x07to Baker Street.\n")
    assert run(["ingest", str(notes), "--json"]) == 0
    assert run(["ask", "Where does the office move?", "--extract", "--conversation", "new"]) == 0
    capsys.readouterr()
    assert run(["conversations", "show", "last"]) == 0
    shown = capsys.readouterr().out
    assert "Baker Street" in shown and "\x1b" not in shown and "\x07" not in shown


def test_a_refusal_prints_and_keeps_the_closest_passages_and_sentence(
    notes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.answer.evidence import CLOSEST_SENTENCE_LABEL, CLOSEST_SOURCES_LABEL

    # Close in subject (an office), answered by neither note: the sentence floor refuses.
    assert run(["ask", "Which floor is the canteen on?", "--extract", "--conversation", "new"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "I could not find anything about that in your documents."
    assert "under min_evidence" in lines[1]
    listed = lines.index(CLOSEST_SOURCES_LABEL)
    assert [line.split(" — ")[1] for line in lines[listed + 1:listed + 3]] == ["Parking", "Office"]
    assert lines[listed + 3] == f"  {CLOSEST_SENTENCE_LABEL} [1] “Parking is in the basement, level minus two.”"
    assert "Sources" not in lines and not any("cited" in line for line in lines)
    (saved,) = ConversationStore().list()
    refused = saved.turns[1]
    assert refused.refused and len(refused.sources) == 2 and refused.evidence_text.startswith("Parking is")
    assert run(["ask", "Which floor is the canteen on?", "--extract", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["refused"] and len(printed["sources"]) == 2 and printed["evidence"]["source"] == 1


def test_forget_names_the_conversations_holding_a_document_and_a_purge_erases_it_everywhere(
    notes: Path, localrag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pay = notes / "pay.md"
    pay.write_text("# Salaries\n\nThe chief executive earns 410,000 euros a year.\n")
    assert run(["ingest", str(notes), "--json"]) == 0
    assert run(["ask", "How much does the chief executive earn?", "--extract", "--conversation", "new"]) == 0
    assert "410,000" in capsys.readouterr().out
    (saved,) = ConversationStore().list()

    def files_holding(text: str) -> list[Path]:
        return [p for p in localrag_home.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]

    assert run(["forget", str(pay)]) == 0
    told = capsys.readouterr().err.splitlines()
    assert told[0] == f"forgot {pay}: 1 document, 1 chunk removed"
    assert told[1].endswith("and in 1 saved conversation:") and told[2].startswith(f"  {saved.id}  ")
    assert told[-1] == f"`localrag forget {pay} --purge` erases it now"
    assert files_holding("410,000")  # the old versions and the conversation

    # A dataset made from the documents is the user's: a purge names its folder and leaves it be.
    dataset = localrag_home / "data" / "raft" / "train.jsonl"
    dataset.parent.mkdir(parents=True)
    dataset.write_text('{"context": "The chief executive earns 410,000 euros a year."}\n')
    # So is a table `repair` set aside, damaged, as it was.
    set_aside = localrag_home / "data" / "quarantine" / "20261201-000000-abc" / "chunks.lance" / "data.lance"
    set_aside.parent.mkdir(parents=True)
    set_aside.write_bytes(b"...The chief executive earns 410,000 euros a year...")
    assert run(["forget", str(pay), "--purge", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 0 and report["purged"] and report["conversations"] == [
        {"conversation_id": saved.id, "title": saved.title, "passages": 1, "answers": 1}]
    assert report["not_erased"] == [
        {"path": str(dataset.parent), "holds": "datasets `raft build` wrote"},
        {"path": str(set_aside.parents[2]), "holds": "tables `localrag repair` set aside, damaged, as they were"}]
    # Nowhere else under the data and config folders.
    assert sorted(files_holding("410,000")) == sorted([dataset, set_aside])
    assert run(["ask", "Where is parking?", "--extract"]) == 0  # the rest of the index answers as before
    assert "basement" in capsys.readouterr().out
    # Several paths: each checked before anything is removed.
    assert run(["forget", str(notes / "office.md"), str(pay)]) == 2
    assert "pay.md: not in the index" in capsys.readouterr().err
    assert run(["documents", "--json"]) == 0 and len(json.loads(capsys.readouterr().out)["documents"]) == 1


def test_search_finds_the_conversations_holding_every_word(notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ask", "Where does the office move?", "--extract", "--conversation", "new"]) == 0
    assert run(["ask", "Where is parking?", "--extract", "--conversation", "new"]) == 0
    capsys.readouterr()
    office, parking = sorted(ConversationStore().list(), key=lambda c: c.title)
    assert run(["conversations", "search", "BASEMENT level"]) == 0
    lines = capsys.readouterr().out.splitlines()  # a pipe: a header, then one tab-separated line each
    assert lines[0] == "id\tupdated\ttitle\twhere" and len(lines) == 2
    assert lines[1].split("\t")[0] == parking.id and "basement, level minus two" in lines[1].split("\t")[3]
    assert run(["conversations", "search", "baker street", "--json"]) == 0
    assert [(m["id"], m["turn"]) for m in json.loads(capsys.readouterr().out)] == [(office.id, 1)]
    assert run(["conversations", "search", "basement baker"]) == 1  # as grep: none holds both
    assert "no saved conversation holds every word of 'basement baker'" in capsys.readouterr().err
    # Unquoted words are words too: the first alone was searched for, and a third was "unrecognized".
    assert run(["conversations", "search", "basement", "baker"]) == 1
    assert "holds every word of 'basement baker'" in capsys.readouterr().err
    assert run(["conversations", "search", "basement", "level", "MINUS", "--json"]) == 0
    assert [m["id"] for m in json.loads(capsys.readouterr().out)] == [parking.id]
    assert run(["conversations", "search", " "]) == 2
    assert "give the words to find" in capsys.readouterr().err
    for argv in (["search"], ["list", "extra"], ["show"], ["show", "last", "extra"], ["rename", "last"]):
        with pytest.raises(SystemExit) as refused:  # argparse's own usage error: it was passed over in silence
            run(["conversations", *argv])
        assert refused.value.code == 2
    assert "unrecognized arguments: extra" in capsys.readouterr().err
    assert run(["conversations", "rename", "last", "Parking", "level"]) == 0
    assert run(["conversations", "--json"]) == 0
    assert "Parking level" in [c["title"] for c in json.loads(capsys.readouterr().out)]


def test_a_question_an_error_left_unanswered_is_saved_with_the_error_and_leans_no_follow_up(
        notes: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for floor in ("MIN_SIMILARITY", "MIN_EVIDENCE"):  # so that the model is asked, not the question refused
        monkeypatch.setenv(f"LOCALRAG_{floor}", "0")
    digits = "Where does the office move? " + " ".join("9 4 5 8" for _ in range(480))  # too long for the model
    assert run(["ask", digits, "--conversation", "new"]) == 2
    assert "exceed" in capsys.readouterr().err
    (saved,) = ConversationStore().list()
    question, answer = saved.turns
    # It was saved as "answer cut short", as if the user had stopped it, and the error was lost.
    assert answer.cancelled and "exceed the prompt" in answer.failure
    # The next question's search leant on the failed one (20,000 characters of it); it is left out.
    assert saved.history() == []


def test_a_graph_question_an_error_stopped_is_saved_with_the_error(
        notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ask", "--graph", "Who directed Big?", "--conversation", "new"]) == 2
    assert "graph" in capsys.readouterr().err
    (saved,) = ConversationStore().list()
    question, answer = saved.turns  # the question was saved alone, and leant on by the next follow-up
    assert question.text == "Who directed Big?" and "graph" in answer.failure and saved.history() == []


def test_watch_of_a_path_longer_than_the_system_takes_is_one_line(
        notes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["watch", str(notes / ("a" * 300))]) == 2
    err = capsys.readouterr().err
    assert "a path longer than this system's files can have" in err and "Traceback" not in err
