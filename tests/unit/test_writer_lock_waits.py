"""A writer that has to wait for the store's writer lock says for whom (`localrag/writer_lock.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from localrag.writer_lock import command_name, tell_waits, writer_lock

HOLD = ("import sys, time\nfrom pathlib import Path\nfrom localrag.writer_lock import writer_lock\n"
        "with writer_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n")


def test_a_writer_behind_another_process_names_it_then_goes_on(tmp_path: Path) -> None:
    # A `forget` behind a long ingest printed nothing for as long as it waited.
    store = tmp_path / "db"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    told: list[str] = []
    done = threading.Event()

    def write() -> None:
        with writer_lock(store):
            done.set()

    tell_waits(told.append)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        waiting = threading.Thread(target=write)
        waiting.start()
        waiting.join(1.0)
        assert not done.is_set()
        assert told == [f"waiting for -c (pid {holder.pid}) to finish writing to the index (Ctrl-C gives up)"]
        holder.kill()
        waiting.join(30)
        assert done.is_set()
        # Nobody holds it now: no second notice.
        with writer_lock(store):
            pass
        assert len(told) == 1
    finally:
        tell_waits(None)
        holder.kill()
        holder.wait()


def test_a_command_naming_a_file_whose_name_is_not_utf8_takes_the_lock(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`localrag forget résumé.md` of a Latin-1 name (argv holds it as surrogates) failed writing its command into
    the lock file: UnicodeEncodeError, and the document could not be forgotten by its path."""
    monkeypatch.setattr(sys, "argv", ["localrag", "forget", "docs/r\udce9sum\udce9.md"])
    with writer_lock(tmp_path / "db"):
        pass
    assert (tmp_path / "db.writer.lock").read_bytes() == f"{os.getpid()} localrag forget".encode()


def test_the_lock_file_keeps_the_command_name_not_its_arguments(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After `localrag forget docs/client --purge` the lock file kept the whole command line, the forgotten folder's
    name with it, though the purge said the text of what it forgot lay in no file of the index."""
    monkeypatch.setattr(sys, "argv", ["/usr/bin/localrag", "--config", "conf/client.toml", "forget",
                                      "/tmp/docs/client", "--purge"])
    with writer_lock(tmp_path / "db"):
        pass
    assert (tmp_path / "db.writer.lock").read_text() == f"{os.getpid()} localrag forget"
    assert command_name(["localrag"]) == "localrag"  # the chat app
    assert command_name(["/x/localrag/__main__.py", "ingest", "notes"]) == "localrag ingest"
    assert command_name(["localrag", "/tmp/docs/client"]) == "localrag"  # never a path, whatever its place
    # argparse takes any prefix of --config: `--conf clientacme` recorded "localrag clientacme" as the holder.
    for flag in ("--conf", "--c", "--config"):
        assert command_name(["localrag", flag, "clientacme", "ingest", "notes"]) == "localrag ingest", flag
    assert command_name(["localrag", "--conf=clientacme", "ingest"]) == "localrag ingest"


def test_an_ingest_waiting_for_another_writer_is_given_up_by_its_cancel(tmp_path: Path) -> None:
    # The CLI's ingest runs in a worker thread, so Ctrl-C sets its cancel: the wait in flock heard nothing, and the
    # ingest went on once the other writer finished, though it had said "Ctrl-C gives up".
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine
    from localrag.store import Store

    store = Store(tmp_path / "db", embedder_name="hash-embedder", dim=32)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32), store=store)
    (tmp_path / "note.txt").write_text("The harbour crane was painted red.\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store.path)], stdout=subprocess.PIPE, text=True)
    cancel = threading.Event()
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        threading.Timer(0.5, cancel.set).start()
        report = engine.ingest([tmp_path / "note.txt"], cancel=cancel)
        assert report.cancelled and report.added == 0 and holder.poll() is None
        assert report.notes == ["stopped while waiting for another writer: nothing was read; the next ingest reads "
                                "it all"]
    finally:
        holder.kill()
        holder.wait()
    assert engine.ingest([tmp_path / "note.txt"]).added == 1


def test_an_empty_collection_blames_a_writer_only_when_it_writes_to_that_collection(tmp_path: Path) -> None:
    """With `ingest --collection notes` running, `search --collection work` said "collection work holds no documents
    yet: localrag ingest (pid N) is writing to the index", and work stayed empty once it was done."""
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine
    from localrag.store import Store

    hold = HOLD.replace("writer_lock(Path(sys.argv[1]))", "writer_lock(Path(sys.argv[1]), collection=sys.argv[2])")
    engines = {name: Engine(Settings(collection=name), embedder=HashEmbedder(dim=32),
                            store=Store(tmp_path / "db", embedder_name="hash-embedder", dim=32, collection=name,
                                          create=True))
               for name in ("work", "notes")}
    holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path / "db"), "notes"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert engines["work"].why_nothing_found() == ("collection work holds no documents yet: add some with "
                                                       "`localrag ingest PATH` (in the chat app, the Library)")
        assert engines["notes"].why_nothing_found().startswith(
            f"collection notes holds no documents yet: -c (pid {holder.pid}) is writing to the index")
    finally:
        holder.kill()
        holder.wait()


def test_a_check_that_cannot_wait_names_the_writer_of_a_collection(tmp_path: Path) -> None:
    """`backup` or `repair --check` on a home this account may only read holds the lock for reading, and is refused
    while a writer works: the writer is named, as the docstring said, but an ingest records its collection, and any
    writer that did was "another localrag command"."""
    import pytest

    from localrag.backup import _shared_lock
    from localrag.errors import LocalRagError

    # As an ingest holds it: its command, and the collection it writes to on the next line.
    hold = HOLD.replace("with writer_lock(Path(sys.argv[1]))",
                        "store, sys.argv = Path(sys.argv[1]), ['localrag', 'ingest']\n"
                        "with writer_lock(store, collection='default')")
    store = tmp_path / "db"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(LocalRagError) as refused, _shared_lock(store):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert refused.value.message == (f"{store}: localrag ingest (pid {holder.pid}) is writing to the index, which "
                                     "this account cannot lock to wait for it")


def test_a_stop_with_no_other_writer_is_not_blamed_on_one(tmp_path: Path) -> None:
    # The lock came at once, yet a stop set before it made an ingest say "stopped while waiting for another writer"
    # and a forget "cancelled while waiting for another writer", with no other writer anywhere.
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine
    from localrag.store import Store

    store = Store(tmp_path / "db", embedder_name="hash-embedder", dim=32)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32), store=store)
    (tmp_path / "note.txt").write_text("The harbour crane was painted red.\n", encoding="utf-8")
    engine.ingest([tmp_path / "note.txt"])
    stopped = threading.Event()
    stopped.set()
    report = engine.ingest([tmp_path / "note.txt"], cancel=stopped)
    assert not any("another writer" in note for note in report.notes), report.notes
    assert engine.forget(tmp_path / "note.txt", cancel=stopped).documents == 1
    assert engine.documents() == []
