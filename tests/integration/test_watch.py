"""`ingest.watch` on a real temp folder with the real file watcher, embedder and LanceDB.

Each step waits for the index to reach the expected state (polling, with a generous deadline);
speed is measured in benchmarks, not here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from network_probe import child_args, users_env

from localrag.config import load_settings
from localrag.conversations import ConversationStore, SavedSource, Turn
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.ingest.watch import (
    FAILED_SETTLE,
    WatchEvent,
    is_watched_name,
    remember_folders,
    remembered_folders,
    watch,
)
from localrag.writer_lock import file_lock, lock_file


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the index did not reach the expected state in time")
        time.sleep(0.1)


@contextmanager
def watching(engine: Engine, folder: Path, **options: Any) -> Iterator[list[WatchEvent]]:
    """`watch` over `folder` in a thread, caught up; its events as they come."""
    events: list[WatchEvent] = []
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=watch, args=(engine, [folder]),
        kwargs={"settle": 0.3, "stop": stop, "on_event": events.append, "ready": ready, **options}, daemon=True,
    )
    thread.start()
    assert ready.wait(60)
    yield events
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


@pytest.fixture
def watched(localrag_home: Path, real_embedder: SentenceTransformerEmbedder,
            tmp_path: Path) -> Iterator[tuple[Engine, Path, list[WatchEvent]]]:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "old.md").write_text("# Old\n\nThe pier closes at dusk.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, folder) as events:
        yield engine, folder, events


def paths(engine: Engine) -> list[str]:
    return sorted(Path(d.path).name for d in engine.documents())


def test_create_modify_rename_delete(watched: tuple[Engine, Path, list[WatchEvent]]) -> None:
    engine, folder, events = watched
    assert paths(engine) == ["old.md"]  # the first pass ingests what is already there

    note = folder / "ferry.md"
    note.write_text("# Ferry\n\nThe first ferry leaves at 06:40.\n")
    (folder / ".ferry.md.swp").write_bytes(b"vim swap")  # editor files are never ingested
    (folder / "ferry.md~").write_text("backup")
    wait_for(lambda: paths(engine) == ["ferry.md", "old.md"])
    wait_for(lambda: len([e for e in events[1:] if e.ingested]) == 1)  # the event follows the commit

    # Saved twice in quick succession: ingested once, as its final version.
    batches = 1
    note.write_text("# Ferry\n\nThe first ferry leaves at 07:10.\n")
    note.write_text("# Ferry\n\nThe first ferry leaves at 07:25.\n")
    wait_for(lambda: "07:25" in engine.search("first ferry", k=1)[0].chunk.text)
    time.sleep(1.0)
    assert len([e for e in events[1:] if e.ingested]) == batches + 1

    note.rename(folder / "boats.md")
    wait_for(lambda: paths(engine) == ["boats.md", "old.md"])
    # The round's summary counts the file the rename took out (it said "1 added, ... 0 removed").
    wait_for(lambda: any(e.forgotten and e.report for e in events))
    renamed = next(e for e in events if e.forgotten and e.report)
    assert renamed.report is not None
    assert renamed.report.summary().startswith("1 added, 0 updated, 0 unchanged, 1 removed")

    (folder / "old.md").unlink()
    wait_for(lambda: paths(engine) == ["boats.md"])


def test_a_watched_folder_deleted_or_moved_away_and_made_again_is_followed_again(
    watched: tuple[Engine, Path, list[WatchEvent]], tmp_path: Path
) -> None:
    """The watcher follows a folder's inode: after `rm -rf notes; mkdir notes` (a clone, an unzip, a sync tool's
    replace) or `mv notes elsewhere`, nothing in the new folder was ever indexed, and watch said nothing."""
    engine, folder, events = watched
    shutil.rmtree(folder)
    wait_for(lambda: paths(engine) == [])
    assert any(note.endswith(": the folder is gone; its documents are forgotten, and it is followed again if it "
                             "comes back") for e in events for note in e.notes)
    folder.mkdir()
    (folder / "capybara.md").write_text("# Festival\n\nThe capybara festival is in May.\n")
    wait_for(lambda: paths(engine) == ["capybara.md"])
    (folder / "later.md").write_text("# Later\n\nA note written after the folder came back.\n")
    wait_for(lambda: paths(engine) == ["capybara.md", "later.md"])  # followed again, not only read once

    folder.rename(tmp_path / "notes.old")  # moved away: its files are not under the watched name any more
    wait_for(lambda: paths(engine) == [])
    (tmp_path / "notes.old" / "ignored.md").write_text("Written in the moved folder.\n")
    folder.mkdir()
    (folder / "fresh.md").write_text("# Fresh\n\nA fresh note.\n")
    wait_for(lambda: paths(engine) == ["fresh.md"])


def test_a_folder_made_and_deleted_is_reported_by_its_documents(
    watched: tuple[Engine, Path, list[WatchEvent]]
) -> None:
    engine, folder, events = watched
    assert events[0].ingested == [str((folder / "old.md").resolve())]  # the catch-up ingest names what it read
    deep = folder / "new" / "deep"
    deep.mkdir(parents=True)
    (deep / "d.md").write_text("# Deep\n\nThe well is forty metres deep.\n")
    (deep / "empty.md").write_text("")  # no text: named in the report as passed over, not as ingested
    wait_for(lambda: paths(engine) == ["d.md", "old.md"])
    wait_for(lambda: any(e.ingested for e in events[1:]))
    added = [e for e in events[1:] if e.ingested]
    assert [e.ingested for e in added] == [[str((deep / "d.md").resolve())]]
    wait_for(lambda: any(e.report and e.report.blank_paths for e in events[1:]))

    shutil.rmtree(folder / "new")
    wait_for(lambda: paths(engine) == ["old.md"])
    wait_for(lambda: any(e.forgotten for e in events))
    assert [e.forgotten for e in events if e.forgotten] == [[str((deep / "d.md").resolve())]]


def test_a_watched_folder_holding_localrag_home_leaves_its_files_out(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # Each ingest rewrites its tables' version files: were they watched, every ingest would start another.
    (tmp_path / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, tmp_path) as events:
        (tmp_path / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
        wait_for(lambda: paths(engine) == ["kiln.md", "pier.md"])
        time.sleep(3.0)
    assert [e.ingested for e in events] == [[str((tmp_path / "pier.md").resolve())],
                                            [str((tmp_path / "kiln.md").resolve())]]
    assert all(not e.forgotten for e in events)


def test_links_made_in_a_watched_folder_are_taken_as_an_ingest_of_it_takes_them(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """The watcher reports changes through folder links; a walk follows none, and takes a file link only by its
    rules. A link to `..`, which holds localrag's home here, would otherwise have each ingest answer its own
    writes."""
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    docs.mkdir()
    (outside / "deeper").mkdir(parents=True)
    (docs / "notes.md").write_text("# Notes\n\nThe pier closes at dusk.\n")
    (outside / "tax.txt").write_text("The vault password is swordfish.\n")
    (outside / "deeper" / "letter.md").write_text("# Letter\n\nDear Ada.\n")
    (tmp_path / "sibling.txt").write_text("A sibling of the watched folder.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, docs) as events:
        (docs / "ext").symlink_to(outside, target_is_directory=True)
        (docs / "up").symlink_to(tmp_path, target_is_directory=True)
        (docs / "secret-link.txt").symlink_to(outside / "tax.txt")
        (docs / "notes-link.md").symlink_to(docs / "notes.md")
        (outside / "deeper" / "new.md").write_text("# New\n\nWritten behind the link.\n")
        time.sleep(2.0)
        (docs / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
        wait_for(lambda: paths(engine) == ["kiln.md", "notes.md"])
        time.sleep(3.0)
    assert paths(engine) == ["kiln.md", "notes.md"]
    assert [e.ingested for e in events[1:] if not e.notes] == [[str((docs / "kiln.md").resolve())]]
    # The link out of the folder is named, as an ingest names it (it was passed over in silence).
    assert [n for e in events for n in e.notes] == [
        f"skipped {docs / 'secret-link.txt'}: a link to {outside / 'tax.txt'}, outside {docs} (set "
        "follow_links_outside = true to index it under the link's path)"]


def test_a_link_to_the_parent_present_at_the_start_hides_no_change(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """The watcher names a folder reached through a link by the link's path: with `up -> ..` there from the start,
    every change was reported as `docs/up/docs/NAME`, which no walk takes, and nothing was indexed after the
    catch-up, in silence."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    (docs / "up").symlink_to("..", target_is_directory=True)
    (docs / "inner").mkdir()
    (docs / "in").symlink_to("inner", target_is_directory=True)  # a link to a folder inside the watched one
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, docs) as events:
        (docs / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
        (docs / "inner" / "well.md").write_text("# Well\n\nThe well is forty metres deep.\n")
        wait_for(lambda: paths(engine) == ["kiln.md", "pier.md", "well.md"])
        (docs / "pier.md").write_text("# Pier\n\nThe pier closes at noon.\n")
        wait_for(lambda: "noon" in engine.search("pier closes", k=1)[0].chunk.text)
        (docs / "kiln.md").unlink()
        wait_for(lambda: paths(engine) == ["pier.md", "well.md"])
    assert sorted(d.path for d in engine.documents()) == [str(docs / "inner" / "well.md"), str(docs / "pier.md")]
    assert not [n for e in events for n in e.notes if "up" in n]


def test_a_file_whose_name_is_not_utf8_is_taken_in_and_the_watch_goes_on(
    watched: tuple[Engine, Path, list[WatchEvent]]
) -> None:
    """The watcher cannot report a name that is not UTF-8: its error ended `watch` with a traceback at the first
    save of such a file. The folders are read again instead, and the one note names the file."""
    engine, folder, events = watched
    latin1 = Path(os.fsdecode(bytes(folder) + b"/caf\xe9.md"))
    latin1.write_text("# Cafe\n\nThe egret nests by the cafe.\n")
    wait_for(lambda: len(paths(engine)) == 2)
    assert "egret" in engine.search("egret nests", k=1)[0].chunk.text
    with latin1.open("a") as out:
        out.write("\nThe egret left in May.\n")
    (folder / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
    wait_for(lambda: len(paths(engine)) == 3 and "May" in engine.search("egret left", k=1)[0].chunk.text)
    (folder / "ferry.md").write_text("# Ferry\n\nThe first ferry leaves at 06:40.\n")  # still watched
    wait_for(lambda: len(paths(engine)) == 4)
    notes = [n for e in events for n in e.notes]
    assert notes == [f"{folder.resolve()}/caf\\xe9.md: its name is not UTF-8, so the watcher cannot say what "
                     "changed; each change to it reads the watched folders again (rename it to a UTF-8 name to have "
                     "it followed alone)"]


def test_a_file_whose_name_is_not_utf8_there_at_the_start_is_no_change_until_it_changes(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """The watcher chokes on any event for such a name, a read too: the catch-up's own read of it was taken for a
    change, its note given with nothing changed, and each rescan, reading it again, asked for another, so the folders
    were read again and again and a stop said "stopped before taking in at least 1 changed path". The note named
    the file through a link to `..` (`docs/up/docs/caf\\xE9.md`)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    latin1 = Path(os.fsdecode(bytes(docs) + b"/caf\xe9.md"))
    latin1.write_text("# Cafe\n\nThe egret nests by the cafe.\n")
    (docs / "up").symlink_to("..", target_is_directory=True)
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, docs) as events:
        time.sleep(3.0)  # ten times the settle: a rescan asked for by the catch-up's read would have come
        assert [n for e in events for n in e.notes] == []
        (docs / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
        wait_for(lambda: paths(engine) == ["caf\\xe9.md", "kiln.md", "pier.md"])
        with latin1.open("a") as out:
            out.write("\nThe egret left in May.\n")
        wait_for(lambda: "May" in engine.search("egret left", k=1)[0].chunk.text)
        time.sleep(1.0)
    reports = [e.report for e in events if e.report is not None]
    # The catch-up, kiln.md alone (no rescan: pier.md is not counted unchanged), then the rescan the change asked for.
    assert [(r.added, r.updated, r.unchanged) for r in reports] == [(2, 0, 0), (1, 0, 0), (0, 1, 2)]
    assert [n for e in events for n in e.notes] == [
        f"{docs.resolve()}/caf\\xe9.md: its name is not UTF-8, so the watcher cannot say what changed; each change "
        "to it reads the watched folders again (rename it to a UTF-8 name to have it followed alone)"]


def test_a_fifo_made_in_a_watched_folder_is_passed_over_as_an_ingest_passes_it_over(
    watched: tuple[Engine, Path, list[WatchEvent]]
) -> None:
    """README: a FIFO, socket or device met in a folder is passed over; a watch named it to its ingest, which
    reported it as failed ("not a regular file"), and each round exited 1."""
    engine, folder, events = watched
    os.mkfifo(folder / "pipe.md")
    time.sleep(1.0)
    (folder / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
    wait_for(lambda: paths(engine) == ["kiln.md", "old.md"])
    time.sleep(FAILED_SETTLE + 2.0)  # a failed read is reported once it failed again, that long after
    assert not [error for e in events if e.report for error in e.report.errors]


def test_a_watch_whose_collection_is_deleted_says_so(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    Engine(load_settings(), embedder=real_embedder).create_collection("tmpw")
    engine = Engine(load_settings(collection="tmpw"), embedder=real_embedder)
    failed: list[BaseException] = []
    ready = threading.Event()

    def run() -> None:
        try:
            watch(engine, [folder], settle=0.3, ready=ready)
        except BaseException as exc:  # what the thread ended with, for the test to read
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(60)
    Engine(load_settings(), embedder=real_embedder).delete_collection("tmpw")  # another command, as a user would
    (folder / "kiln.md").write_text("# Kiln\n\nThe kiln fires at 1280 degrees.\n")
    thread.join(60)
    assert not thread.is_alive()
    # Not "the store is damaged ... run `localrag repair`": its tables were deleted, not damaged.
    assert len(failed) == 1 and "collection 'tmpw' was deleted while it was watched" in str(failed[0])


def _files_holding(root: Path, word: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and word in p.read_bytes()]


def test_purge_erases_a_deleted_file_but_not_a_renamed_one(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    salary, pier = folder / "salary.md", folder / "pier.md"
    salary.write_text("# Pay\n\nThe chief executive earns quillfeather euros a year.\n")
    pier.write_text("# Pier\n\nThe pier closes at dusk, said the harbourmaster.\n")
    engine = Engine(load_settings(commit_chunks=1), embedder=real_embedder)
    conversations = ConversationStore()
    conversation = conversations.new()
    conversation.add_question("What does the chief executive earn?")
    conversation.turns.append(Turn("assistant", "A lot [1].", sources=[
        SavedSource(1, "c1", "d1", str(salary.resolve()), "The chief executive earns quillfeather euros a year."),
        SavedSource(2, "c2", "d2", str(pier.resolve()), "The pier closes at dusk, said the harbourmaster.")]))
    conversations.save(conversation)
    with watching(engine, folder, purge=True, conversations=conversations) as events:
        # A rename is a move: the text is still on disk, so it is only forgotten under its old name.
        pier.rename(folder / "harbour.md")
        wait_for(lambda: paths(engine) == ["harbour.md", "salary.md"])
        wait_for(lambda: any(e.forgotten for e in events))  # told once the round is over, after the index
        moved = next(e for e in events if e.forgotten)
        assert moved.forgotten == [str(pier.resolve())] and moved.erased == []
        assert conversations.load(conversation.id).turns[1].sources[1].text

        salary.unlink()
        wait_for(lambda: paths(engine) == ["harbour.md"])
        wait_for(lambda: any(e.erased for e in events))
        erased = next(e for e in events if e.erased)
        assert erased.erased == [str(salary.resolve())]
        assert [kept.conversation_id for kept in erased.conversations] == [conversation.id]
    assert _files_holding(localrag_home, b"quillfeather") == []
    assert conversations.load(conversation.id).turns[1].sources[1].text  # the renamed file's passage stays


def test_without_purge_a_deleted_files_round_says_where_its_text_stays(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # The round said "forgot PATH" alone; the text stayed in the index's files and the conversation quoting it.
    folder = tmp_path / "notes"
    folder.mkdir()
    salary = folder / "salary.md"
    salary.write_text("# Pay\n\nThe chief executive earns quillfeather euros a year.\n")
    (folder / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    conversations = ConversationStore()
    conversation = conversations.new()
    conversation.turns = [Turn("user", "What does the chief executive earn?"), Turn("assistant", "A lot [1].", sources=[
        SavedSource(1, "c1", "d1", str(salary.resolve()), "The chief executive earns quillfeather euros a year.")])]
    conversations.save(conversation)
    with watching(engine, folder, conversations=conversations) as events:
        salary.unlink()
        wait_for(lambda: any(e.forgotten for e in events))
    gone = next(e for e in events if e.forgotten)
    assert gone.erased == [] and len(gone.notes) == 1
    assert gone.notes[0].startswith("1 document removed, not erased: its text stays in the index's files") \
        and gone.notes[0].endswith(f"and in 1 saved conversation; `localrag forget {salary.resolve()} --purge` "
                                   "erases it now")
    assert _files_holding(localrag_home, b"quillfeather")


def test_a_folder_moved_away_or_deleted_is_counted_by_its_documents(
    watched: tuple[Engine, Path, list[WatchEvent]], tmp_path: Path
) -> None:
    # The note counted the paths forgotten: "1 document removed" of a folder of 5 moved away, "6" of its deletion.
    engine, folder, events = watched
    sub = folder / "sub"
    sub.mkdir()
    for n in range(5):
        (sub / f"d{n}.md").write_text(f"# D{n}\n\nNote {n} on the tides.\n")
    wait_for(lambda: len(paths(engine)) == 6)
    sub.rename(tmp_path / "sub.old")  # out of the watched folder
    wait_for(lambda: paths(engine) == ["old.md"])
    (tmp_path / "sub.old").rename(sub)
    wait_for(lambda: len(paths(engine)) == 6)
    shutil.rmtree(sub)
    wait_for(lambda: paths(engine) == ["old.md"])
    wait_for(lambda: sum(len(e.forgotten) for e in events) == 10)
    for event in (e for e in events if e.forgotten):
        assert len(event.notes) == 1
        assert event.notes[0].startswith(f"{len(event.forgotten)} document{'s' * (len(event.forgotten) > 1)} removed")
        if len(event.forgotten) == 5:  # each file an event of its own, or not: the folder is named
            assert f"`localrag forget {sub.resolve()} --purge` erases it now" in event.notes[0]


def test_a_file_written_with_a_pause_is_no_failure_and_a_broken_one_is_reported(
    watched: tuple[Engine, Path, list[WatchEvent]]
) -> None:
    # A copy that paused for longer than `settle` was read half written and reported as corrupt ("not a readable
    # PDF ... (it may be corrupt or truncated)"), and added a moment later.
    engine, folder, events = watched
    whole = (Path(__file__).parents[2] / "localrag" / "sample_corpus" / "aurora-espresso-manual.pdf").read_bytes()
    copy = folder / "manual.pdf"
    with copy.open("wb") as out:
        out.write(whole[:len(whole) // 2])
        out.flush()
        time.sleep(2.0)  # settle is 0.3
        out.write(whole[len(whole) // 2:])
    wait_for(lambda: "manual.pdf" in paths(engine))
    assert not any(e.report and e.report.errors for e in events)
    broken = folder / "broken.pdf"
    broken.write_bytes(whole[:len(whole) // 2])
    written = time.monotonic()
    wait_for(lambda: any(e.report and e.report.errors for e in events))
    # Reported once it stayed unchanged for FAILED_SETTLE seconds after a failed read, and only it.
    assert time.monotonic() - written >= FAILED_SETTLE
    assert [error.path for e in events if e.report for error in e.report.errors] == [str(broken.resolve())]
    assert "broken.pdf" not in paths(engine)


def test_a_stop_while_another_writer_holds_the_index_reports_no_empty_round(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # A round a stop cancelled before it read anything printed "0 added, 0 updated, 0 unchanged, 0 removed, 0 failed",
    # and its file was not among those the stop said it had not taken in.
    folder = tmp_path / "notes"
    folder.mkdir()
    engine = Engine(load_settings(), embedder=real_embedder)
    events: list[WatchEvent] = []
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=watch, args=(engine, [folder]), daemon=True,
                              kwargs={"settle": 0.3, "stop": stop, "on_event": events.append, "ready": ready})
    thread.start()
    assert ready.wait(60)
    caught_up = len(events)
    with file_lock(lock_file(engine._writer_lock_dir())):  # another ingest, say
        (folder / "quay.md").write_text("# Quay\n\nThe quay floods at spring tides.\n")
        time.sleep(2.0)  # settled, its ingest waiting for the lock
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert [e.notes for e in events[caught_up:]] == [[
        "stopped before taking in at least 1 changed path; the next `localrag watch` (or an ingest of the folders) "
        "takes them"]]


def test_watch_purge_cli_reports_what_it_erased_as_json(localrag_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "salary.md").write_text("# Pay\n\nThe chief executive earns quillfeather euros a year.\n")
    (folder / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    watcher = subprocess.Popen(
        [sys.executable, *child_args("watch", str(folder), "--purge", "--json", "--settle", "0.3")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=users_env(localrag_home, tmp_path / "user"),
    )
    try:
        assert watcher.stdout is not None and watcher.stderr is not None
        assert json.loads(watcher.stdout.readline())["added"] == 2  # the catch-up ingest
        (folder / "salary.md").unlink()
        line = json.loads(watcher.stdout.readline())
        assert line["forgotten"] == line["erased"] == [str((folder / "salary.md").resolve())]
        assert line["conversations"] == []
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
        assert "a deleted file's text is erased" in watcher.stderr.read()
    finally:
        watcher.kill()
    assert _files_holding(localrag_home, b"quillfeather") == []

    # In text, each change names its files too, not only the deleted ones.
    watcher = subprocess.Popen(
        [sys.executable, *child_args("watch", str(folder), "--settle", "0.3")],
        stderr=subprocess.PIPE, text=True, env=users_env(localrag_home, tmp_path / "user"),
    )
    said: list[str] = []
    try:
        assert watcher.stderr is not None
        threading.Thread(target=lambda: said.extend(watcher.stderr or ()), daemon=True).start()
        wait_for(lambda: any("0 added, 0 updated, 1 unchanged" in line for line in said), 60)
        (folder / "quay.md").write_text("# Quay\n\nThe quay floods at spring tides.\n")
        wait_for(lambda: f"added {(folder / 'quay.md').resolve()}\n" in said, 60)
        # A service manager stops it with SIGTERM: it ended at once, saying nothing, its indexes not refreshed.
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=60) == 0
        wait_for(lambda: said[-1:] == ["stopped\n"], 10)
    finally:
        watcher.kill()


def test_a_stop_says_what_it_did_not_take_in(localrag_home: Path, tmp_path: Path) -> None:
    # Changes seen but not settled were dropped in silence (deleted files stayed searchable), and a SIGTERM raised
    # mid-batch cut it between its forget and its report.
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    watcher = subprocess.Popen(
        [sys.executable, *child_args("watch", str(folder), "--json", "--settle", "60")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=users_env(localrag_home, tmp_path / "user"),
    )
    try:
        assert watcher.stdout is not None and watcher.stderr is not None
        assert json.loads(watcher.stdout.readline())["added"] == 1
        (folder / "quay.md").write_text("# Quay\n\nThe quay floods at spring tides.\n")
        # And a save as Vim makes it, its probe and backup gone by the stop: they counted as 3 changed paths.
        (folder / "4913").write_text("")
        (folder / "4913").unlink()
        (folder / "pier.md").rename(folder / "pier.md~")
        (folder / "pier.md").write_text("# Pier\n\nThe pier opens at dawn.\n")
        (folder / "pier.md~").unlink()
        time.sleep(3)  # seen by the watcher, settling for a minute
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=60) == 0
        last = json.loads(watcher.stdout.read().splitlines()[-1])
        assert last["notes"] == ["stopped before taking in at least 2 changed paths; the next `localrag watch` (or an "
                                 "ingest of the folders) takes them"]
        assert watcher.stderr.read().endswith("stopped\n")
    finally:
        watcher.kill()


def test_temp_and_hidden_names_are_ignored(tmp_path: Path) -> None:
    for name in ("a.md.swp", ".#a.md", "~$report.docx", "a.md~", "download.pdf.part", "4913", ".hidden.md",
                 "#a.md#"):
        assert not is_watched_name(tmp_path / name, [tmp_path]), name
    assert not is_watched_name(tmp_path / ".git" / "notes.md", [tmp_path])
    assert not is_watched_name(tmp_path / "node_modules" / "x" / "readme.md", [tmp_path])
    (tmp_path / "graph" / "logseq").mkdir(parents=True)
    (tmp_path / "graph" / "logseq" / "config.edn").write_text("{}")
    assert not is_watched_name(tmp_path / "graph" / "logseq" / "bak" / "pages" / "Plan" / "2026.Desktop.md",
                               [tmp_path])
    # Windows' own on a drive it wrote to: a deleted file in its recycle bin, a folder's view settings, and what a
    # browser saved beside a page.
    assert not is_watched_name(tmp_path / "$RECYCLE.BIN" / "S-1-5-21-1" / "$R7QK2ZD.txt", [tmp_path])
    assert not is_watched_name(tmp_path / "Photos" / "desktop.ini", [tmp_path])
    (tmp_path / "Page.html").write_text("<p>x</p>")
    assert not is_watched_name(tmp_path / "Page_files" / "startup.js", [tmp_path])
    assert is_watched_name(tmp_path / "notes" / "plan.md", [tmp_path])
    # A note, not an Emacs autosave (`#x#`).
    assert is_watched_name(tmp_path / "notes" / "#1 priorities.md", [tmp_path])
    # The folder watched is the user's choice, whatever its name: what changes in it is taken in, as its walk takes
    # it. Before, `watch dl/Page_files` or `watch ~/.notes` ignored every change.
    for folder in (tmp_path / "Page_files", tmp_path / ".notes", tmp_path / "$RECYCLE.BIN"):
        assert is_watched_name(folder / "notes.txt", [tmp_path, folder]), folder
        assert not is_watched_name(folder / "notes.txt", [tmp_path]), folder
    # A watched recycle bin's binary record of a deleted file is no document (it failed as one).
    (tmp_path / "$RECYCLE.BIN" / "$I7QK2ZD.txt").parent.mkdir()
    (tmp_path / "$RECYCLE.BIN" / "$I7QK2ZD.txt").write_bytes(b"\x02" + bytes(40))
    assert not is_watched_name(tmp_path / "$RECYCLE.BIN" / "$I7QK2ZD.txt", [tmp_path, tmp_path / "$RECYCLE.BIN"])


def test_editor_and_download_leftovers_are_no_failures_and_a_hash_name_is_followed(
        watched: tuple[Engine, Path, list[WatchEvent]]) -> None:
    engine, folder, events = watched
    for name in ("#old.md#", "old.md~", "4913", "report.pdf.crdownload", "~WRL0002.tmp"):
        (folder / name).write_text("leftover")
    first = folder / "#1 priorities.md"
    first.write_text("# Priorities\n\nTop priority is the manatee launch.\n")
    wait_for(lambda: paths(engine) == ["#1 priorities.md", "old.md"])
    first.write_text("# Priorities\n\nTop priority is the dugong rollout.\n")
    wait_for(lambda: "dugong" in engine.search("top priority", k=1)[0].chunk.text)
    time.sleep(1.0)  # the leftovers settled long since
    assert [e.report.errors for e in events if e.report and e.report.errors] == []
    first.unlink()
    wait_for(lambda: paths(engine) == ["old.md"])  # the watch followed it to the end (it never saw it)
    moved = folder.parent / "arch.bak"  # a folder named like a leftover is a folder: moved in, it is read
    moved.mkdir()
    (moved / "k.md").write_text("# K\n\nThe kiln fires at dawn.\n")
    moved.rename(folder / "arch.bak")
    wait_for(lambda: paths(engine) == ["k.md", "old.md"])


def test_folders_are_remembered(localrag_home: Path, tmp_path: Path) -> None:
    assert remembered_folders() == []
    remember_folders([tmp_path / "a", tmp_path / "b"])
    assert remembered_folders() == [tmp_path / "a", tmp_path / "b"]


def test_a_folder_with_a_dot_in_its_name_is_followed_when_moved_or_renamed(
    watched: tuple[Engine, Path, list[WatchEvent]], tmp_path: Path
) -> None:
    # Only names without a suffix were taken for folders: `proj.v2` moved out stayed searchable, `2026.archive`
    # moved in was never read, and `plain` renamed `plain.old` left the index.
    engine, folder, _ = watched
    (folder / "proj.v2").mkdir()
    (folder / "proj.v2" / "p.md").write_text("# P\n\nThe bison grazes.\n")
    (folder / "plain").mkdir()
    (folder / "plain" / "d.md").write_text("# D\n\nThe heron fishes.\n")
    (tmp_path / "2026.archive").mkdir()
    (tmp_path / "2026.archive" / "a.md").write_text("# A\n\nThe moose swims.\n")
    wait_for(lambda: paths(engine) == ["d.md", "old.md", "p.md"])
    (folder / "proj.v2").rename(tmp_path / "proj.v2")
    (folder / "plain").rename(folder / "plain.old")
    (tmp_path / "2026.archive").rename(folder / "2026.archive")
    wait_for(lambda: sorted(d.path for d in engine.documents()) == sorted(
        str((folder / name).resolve()) for name in ("2026.archive/a.md", "old.md", "plain.old/d.md")))


def test_the_catch_up_names_the_documents_deleted_while_nothing_watched(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # Its event said `"forgotten": []` while it removed them (476 in one user's folder).
    folder = tmp_path / "notes"
    folder.mkdir()
    for name in ("a.md", "b.md"):
        (folder / name).write_text(f"# {name}\n\nA note called {name}.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([folder])
    (folder / "a.md").unlink()
    with watching(engine, folder) as events:
        assert events[0].forgotten == [str((folder / "a.md").resolve())]


def test_a_file_that_never_falls_quiet_is_compacted_all_the_same(localrag_home: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Compaction waited for the folders to fall quiet: a log appended to every few seconds kept them busy, and the
    # tables grew about 1 MB a minute (12 minutes: 498 versions), old versions with the cut text kept on disk.
    from localrag.embed import HashEmbedder
    from localrag.ingest import watch as watch_module

    monkeypatch.setattr(watch_module, "COMPACT_EVERY", 1.5)
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / "app.log.md"
    log.write_text("# Log\n\nstarted\n")
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=64))
    compactions: list[float] = []
    refresh = engine.refresh_indexes
    monkeypatch.setattr(engine, "refresh_indexes", lambda: compactions.append(time.monotonic()) or refresh())
    with watching(engine, folder) as events:
        started = time.monotonic()
        for n in range(12):
            with log.open("a") as f:
                f.write(f"line {n} logword{n}\n")
            time.sleep(0.45)  # settled (0.3 s) and ingested, never the 10 quiet seconds compaction waited for
        assert any(e.ingested for e in events)
        assert [t for t in compactions if t > started], "no compaction while the file kept changing"


def test_patterns_leave_out_at_the_catch_up_in_changes_and_in_a_folder_moved_in(
        localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    # `watch` took no patterns: a folder ingested with --exclude had what it left out indexed by its watch.
    folder = tmp_path / "notes"
    (folder / "drafts").mkdir(parents=True)
    (folder / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    (folder / "drafts" / "wip.md").write_text("# Wip\n\nA half-written thought.\n")
    (folder / "todo.txt").write_text("Buy rope.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, folder, include=["*.md"], exclude=["drafts"]) as events:
        assert paths(engine) == ["pier.md"]
        (folder / "drafts" / "next.md").write_text("# Next\n\nAnother draft.\n")
        (folder / "list.txt").write_text("Tar the hull.\n")
        (folder / "quay.md").write_text("# Quay\n\nThe quay floods at spring tides.\n")
        wait_for(lambda: paths(engine) == ["pier.md", "quay.md"])
        # A folder moved in is read as the walk of the watched folder reads it: `drafts` at any depth, `*.md` only.
        outside = tmp_path / "trip"
        (outside / "drafts").mkdir(parents=True)
        (outside / "plan.md").write_text("# Plan\n\nSail at dawn.\n")
        (outside / "kit.txt").write_text("Oars.\n")
        (outside / "drafts" / "idea.md").write_text("# Idea\n\nMaybe islands.\n")
        outside.rename(folder / "trip")
        wait_for(lambda: paths(engine) == ["pier.md", "plan.md", "quay.md"])
        time.sleep(1)  # nothing more follows
        assert paths(engine) == ["pier.md", "plan.md", "quay.md"]
    assert not any(error for event in events if event.report for error in event.report.errors)


def test_watch_remembers_its_patterns_and_says_them(localrag_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    (folder / "bak").mkdir(parents=True)
    (folder / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    (folder / "bak" / "pier.md").write_text("# Pier\n\nThe pier closed at noon.\n")

    def watch_once(*args: str) -> str:
        watcher = subprocess.Popen([sys.executable, *child_args("watch", *args, "--json", "--settle", "0.3")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=users_env(localrag_home, tmp_path / "user"), cwd=folder)
        try:
            assert watcher.stdout is not None and watcher.stderr is not None
            assert json.loads(watcher.stdout.readline())["errors"] == []  # caught up
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=60) == 0
            return watcher.stderr.read()
        finally:
            watcher.kill()

    # Written from the current folder (`./bak`): remembered whole, so it means the same from anywhere.
    said = f"watching {folder.resolve()} (Ctrl-C stops); leaving out {folder.resolve() / 'bak'}\n"
    assert said in watch_once(str(folder), "--exclude", "./bak")
    assert said in watch_once()  # resumed: the folder and its pattern
    engine = Engine(load_settings())
    assert paths(engine) == ["pier.md"]


def test_what_gitignore_names_is_not_watched(
        localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    # A build writing build/ and dist/ had each of its files ingested, as the catch-up's walk now leaves them out.
    repo = tmp_path / "repo"
    (repo / "build").mkdir(parents=True)
    (repo / ".gitignore").write_text("build/\n*.gen.md\n")
    (repo / "app.md").write_text("# App\n\nThe app reads its config.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    with watching(engine, repo) as events:
        assert paths(engine) == ["app.md"]
        (repo / "build" / "out.md").write_text("# Out\n\nGenerated.\n")
        (repo / "api.gen.md").write_text("# Api\n\nGenerated too.\n")
        (repo / "guide.md").write_text("# Guide\n\nHow to run the app.\n")
        wait_for(lambda: paths(engine) == ["app.md", "guide.md"])
        # A .gitignore changed is read again: what it names from now on is left out.
        (repo / ".gitignore").write_text("build/\n*.gen.md\nscratch.md\n")
        time.sleep(1)
        (repo / "scratch.md").write_text("# Scratch\n\nA note to self.\n")
        (repo / "more.md").write_text("# More\n\nAnother page.\n")
        wait_for(lambda: paths(engine) == ["app.md", "guide.md", "more.md"])
        time.sleep(1)  # nothing more follows
        assert paths(engine) == ["app.md", "guide.md", "more.md"]
        # What it no longer names is read at once: its folder is read again (the retest: never, until edited).
        (repo / ".gitignore").write_text("*.gen.md\n")
        wait_for(lambda: paths(engine) == ["app.md", "guide.md", "more.md", "out.md", "scratch.md"])
    assert not any(error for event in events if event.report for error in event.report.errors)
