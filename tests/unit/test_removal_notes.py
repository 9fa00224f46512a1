"""An ingest that removes the documents of deleted files says where their text still is, as `forget` says it, and
`forget PATH --purge` of the deleted file erases it (localrag/forget.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.config import Settings
from localrag.conversations import Conversation, ConversationStore, SavedSource, Turn
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.shapes import ingest_report_json

SECRET = "The settlement code for the Orion matter is ZEBRA-5555-SECRET, agreed with the client."


def _files_holding(folder: Path, word: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and word.encode() in path.read_bytes()]


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "client").mkdir(parents=True)
    for i in range(40):  # one row of 41 deleted: under compaction's tenth, its data file keeps it for good
        (docs / f"memo{i}.md").write_text(f"# Memo {i}\n\nThe canteen menu for week {i} lists soup.\n")
    (docs / "client" / "conf.md").write_text(f"# Orion matter\n\n{SECRET}\n")
    return docs


def _asked(conf: Path) -> Conversation:
    """A saved conversation whose answer quoted the file."""
    store = ConversationStore()
    conversation = store.new()
    conversation.turns = [Turn("user", "What is the settlement code for the Orion matter?"),
                          Turn("assistant", "It is in the client file [1].", sources=[
                              SavedSource(1, "c1", "d1", str(conf.resolve()), SECRET)])]
    store.save(conversation)
    return conversation


def test_an_ingest_removing_a_deleted_file_says_its_text_stays_and_how_to_erase_it(
        localrag_home: Path, tmp_path: Path) -> None:
    # Before, the ingest said "1 removed" and nothing else; the text stayed in a .lance file and the conversation.
    docs = _docs(tmp_path)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([docs])
    conversation = _asked(docs / "client" / "conf.md")
    conf = str((docs / "client" / "conf.md").resolve())
    (docs / "client" / "conf.md").unlink()

    report = engine.ingest([docs])
    assert report.removed_paths == [conf] and report.removed_text_in == [conversation.id]
    assert report.notes == [
        "1 document removed, not erased: its text stays in the index's files (a delete only marks rows, and old "
        "versions are kept for readers) until a later ingest compacts them, usually, and in 1 saved conversation; "
        f"`localrag forget {conf} --purge` erases it now"]
    assert ingest_report_json(report)["removed_text_in"] == [conversation.id]
    assert _files_holding(engine.store.path, "ZEBRA-5555") and _files_holding(localrag_home, "ZEBRA-5555")

    done = engine.forget(conf, purge=True, conversations=ConversationStore())  # the command the note names
    assert done.documents == 0 and [k.conversation_id for k in done.conversations] == [conversation.id]
    assert _files_holding(localrag_home, "ZEBRA-5555") == []


def test_many_removed_are_not_all_named_in_the_command(localrag_home: Path, tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    engine = Engine(Settings(collection="work"), embedder=HashEmbedder(dim=32))
    engine.create_collection("work")
    engine.ingest([docs])
    for i in range(5):
        (docs / f"memo{i}.md").unlink()
    report = engine.ingest([docs])
    assert report.removed == 5 and report.removed_text_in == []
    assert report.notes == [
        "5 documents removed, not erased: its text stays in the index's files (a delete only marks rows, and old "
        "versions are kept for readers) until a later ingest compacts them, usually; `localrag forget PATH... "
        "--collection work --purge` naming them (`removed_paths` in `--json`) erases it now"]


def test_a_purge_of_a_file_an_ingest_removed_says_what_it_did(
        localrag_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # It said "nothing under PATH is in the index", then that the text lay in no file: which was it?
    docs = _docs(tmp_path)
    assert run(["ingest", str(docs)]) == 0
    _asked(docs / "client" / "conf.md")
    (docs / "client" / "conf.md").unlink()
    assert run(["ingest", str(docs)]) == 0
    assert "`localrag forget" in capsys.readouterr().err
    assert run(["forget", str(docs / "client" / "conf.md"), "--purge"]) == 0
    said = capsys.readouterr().err
    assert f"nothing under {(docs / 'client' / 'conf.md').resolve()} is in the index now: erased what removing it " \
           "left" in said
    assert "erased from 1 saved conversation" in said
    assert _files_holding(localrag_home, "ZEBRA-5555") == []


def test_a_watch_round_names_its_own_json_field_and_the_collection_flag(
        localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The round's note said "naming them (`removed_paths` in `--json`)", a field of an ingest's --json that a watch's
    # has not (it lists them as `forgotten`); and with LOCALRAG_COLLECTION naming another collection, its
    # `localrag forget PATH... --purge` for the default one purged in that other one.
    import threading

    from localrag.ingest.watch import WatchEvent, watch

    monkeypatch.setenv("LOCALRAG_COLLECTION", "other")
    docs = _docs(tmp_path)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))  # `--collection default`
    events: list[WatchEvent] = []
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=watch, args=(engine, [docs]), daemon=True,
                              kwargs={"settle": 1.0, "stop": stop, "on_event": events.append, "ready": ready})
    thread.start()
    try:
        assert ready.wait(60)
        for i in range(4):
            (docs / f"memo{i}.md").unlink()
        for _ in range(300):
            if any(e.forgotten for e in events):
                break
            threading.Event().wait(0.1)
    finally:
        stop.set()
        thread.join(10)
    round_ = next(e for e in events if e.forgotten)
    assert len(round_.forgotten) == 4
    assert round_.notes[0].endswith("`localrag forget PATH... --collection default --purge` naming them "
                                    "(`forgotten` in `--json`) erases it now")


def test_a_hint_for_the_default_collection_names_it_where_another_is_configured(
        localrag_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # `localrag graph stats` as suggested ran in LOCALRAG_COLLECTION's collection, not the default one asked.
    monkeypatch.setenv("LOCALRAG_COLLECTION", "other")
    assert run(["graph", "triples", "--collection", "default"]) == 0
    said = capsys.readouterr().err
    assert "`localrag graph stats --collection default`" in said and "`graph build --collection default`" in said


def test_a_file_replaced_by_a_folder_of_its_name_is_named_in_no_command(localrag_home: Path, tmp_path: Path) -> None:
    # `localrag forget docs/memo0.md --purge` was suggested: a forget of a path takes every document under it, and
    # it forgot the new folder's live memo0.md/inner.md with the removed file's text.
    docs = _docs(tmp_path)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([docs])
    replaced, deleted = (docs / "memo0.md").resolve(), (docs / "memo1.md").resolve()
    replaced.unlink()
    replaced.mkdir()
    (replaced / "inner.md").write_text("# Inner\n\nThe inner memo lists bread.\n")
    deleted.unlink()

    report = engine.ingest([docs])
    assert sorted(report.removed_paths) == [str(replaced), str(deleted)]
    assert report.notes == [
        "2 documents removed, not erased: its text stays in the index's files (a delete only marks rows, and old "
        f"versions are kept for readers) until a later ingest compacts them, usually; `localrag forget {deleted} "
        f"--purge` erases it now; a folder is now named {replaced}, so no command names it: a forget of that name "
        "would take the folder's documents too"]
    engine.forget(deleted, purge=True, conversations=ConversationStore())  # the command the note names
    assert str(replaced / "inner.md") in {d.path for d in engine.documents()}

    shutil.rmtree(replaced)
    replaced.write_text("# Memo 0\n\nBack as a file.\n")
    engine.ingest([docs])
    replaced.unlink()
    replaced.mkdir()
    # An empty folder holds no indexed document a forget of its name could take: the command is named (a watched
    # folder moved away and back before its note was written was named in no command).
    assert engine.ingest([docs]).notes == [
        "1 document removed, not erased: its text stays in the index's files (a delete only marks rows, and old "
        f"versions are kept for readers) until a later ingest compacts them, usually; `localrag forget {replaced} "
        "--purge` erases it now"]


def test_forgetting_many_files_names_a_few_and_a_purge_command_that_still_works(
        localrag_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `forget wiki/daily/standup*` (127 notes) printed three lines of 6,000 characters and more: "forgot ...", "note:
    # still on disk: ..." and the purge command each named every path (before 2026-12-07).
    wiki = tmp_path / "wiki"
    for folder in ("daily", "standups"):
        (wiki / folder).mkdir(parents=True)
        for n in range(40):
            (wiki / folder / f"standup-{n:02}.md").write_text(f"# Standup {n}\n\nThe team shipped item {n}.\n")
    (wiki / "daily" / "retro.md").write_text("# Retro\n\nThe retro moved to Friday.\n")
    assert run(["ingest", str(wiki)]) == 0
    capsys.readouterr()
    standups = sorted(str((wiki / "standups").resolve() / f"standup-{n:02}.md") for n in range(40))
    assert run(["forget", *standups]) == 0
    said = capsys.readouterr().err
    assert not [path for path in standups[3:] if path in said], said
    lines = said.splitlines()
    assert lines[0] == f"forgot {', '.join(standups[:3])}, ...: 40 documents, 40 chunks removed"
    assert any(line.startswith(f"note: still on disk: {', '.join(standups[:3])}, ...; ") for line in lines)
    # Nothing else is indexed under their folder: it stands for them, and the command it names works.
    assert lines[-1] == f"`localrag forget {(wiki / 'standups').resolve()} --purge` erases it now"
    assert run(["forget", str(wiki / "standups"), "--purge"]) == 0
    assert "erased what removing it left" in capsys.readouterr().err
    # The retro stays indexed beside these: their folder would forget it too, so the command is said in words.
    daily = sorted(str((wiki / "daily").resolve() / f"standup-{n:02}.md") for n in range(40))
    assert run(["forget", *daily]) == 0
    said = capsys.readouterr().err
    assert not [path for path in daily[3:] if path in said], said
    lines = said.splitlines()
    assert lines[-1] == "`localrag forget PATH... --purge`, naming these 40 paths, erases it now"
    assert [d.path for d in Engine(Settings(), embedder=HashEmbedder(dim=8)).documents()] == [
        str((wiki / "daily" / "retro.md").resolve())]
