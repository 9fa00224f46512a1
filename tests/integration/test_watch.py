"""`ingest.watch` on a real temp folder with the real file watcher, embedder and LanceDB.

Each step waits for the index to reach the expected state (polling, with a generous deadline);
speed is measured in benchmarks, not here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.ingest.watch import WatchEvent, is_watched_name, remember_folders, remembered_folders, watch


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the index did not reach the expected state in time")
        time.sleep(0.1)


@pytest.fixture
def watched(localrag_home: Path, real_embedder: SentenceTransformerEmbedder,
            tmp_path: Path) -> Iterator[tuple[Engine, Path, list[WatchEvent]]]:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "old.md").write_text("# Old\n\nThe pier closes at dusk.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    events: list[WatchEvent] = []
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=watch, args=(engine, [folder]),
        kwargs={"settle": 0.3, "stop": stop, "on_event": events.append, "ready": ready}, daemon=True,
    )
    thread.start()
    assert ready.wait(60)
    yield engine, folder, events
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


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
    wait_for(lambda: len([e for e in events if e.ingested]) == 1)  # the event follows the commit

    # Saved twice in quick succession: ingested once, as its final version.
    batches = 1
    note.write_text("# Ferry\n\nThe first ferry leaves at 07:10.\n")
    note.write_text("# Ferry\n\nThe first ferry leaves at 07:25.\n")
    wait_for(lambda: "07:25" in engine.search("first ferry", k=1)[0].chunk.text)
    time.sleep(1.0)
    assert len([e for e in events if e.ingested]) == batches + 1

    note.rename(folder / "boats.md")
    wait_for(lambda: paths(engine) == ["boats.md", "old.md"])

    (folder / "old.md").unlink()
    wait_for(lambda: paths(engine) == ["boats.md"])


def test_temp_and_hidden_names_are_ignored(tmp_path: Path) -> None:
    for name in ("a.md.swp", ".#a.md", "~$report.docx", "a.md~", "download.pdf.part", "4913", ".hidden.md"):
        assert not is_watched_name(tmp_path / name), name
    assert not is_watched_name(tmp_path / ".git" / "notes.md")
    assert not is_watched_name(tmp_path / "node_modules" / "x" / "readme.md")
    assert is_watched_name(tmp_path / "notes" / "plan.md")


def test_folders_are_remembered(localrag_home: Path, tmp_path: Path) -> None:
    assert remembered_folders() == []
    remember_folders([tmp_path / "a", tmp_path / "b"])
    assert remembered_folders() == [tmp_path / "a", tmp_path / "b"]
