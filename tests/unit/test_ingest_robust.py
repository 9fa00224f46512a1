"""Ingest against hostile inputs, on a real LanceDB with the hashing embedder (no model needed)."""

from __future__ import annotations

import errno
import io
import os
import re
import socket
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from disks import fill_disk

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import DiskError, LoaderError, LocalRagError
from localrag.ingest import chunker
from localrag.ingest.chunker import chunk_document
from localrag.ingest.loaders import load_file
from localrag.ingest.zipguard import guard_zip
from localrag.safe_text import path_text
from localrag.types import LoadedText, Section


@pytest.fixture
def engine(localrag_home: Path) -> Engine:
    return Engine(Settings(commit_chunks=2), embedder=HashEmbedder(dim=32))


def _folder(tmp_path: Path, files: dict[bytes, bytes]) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, data in files.items():
        Path(os.fsdecode(os.fsencode(folder) + b"/" + name)).write_bytes(data)
    return folder


def test_file_name_that_is_not_utf8(engine: Engine, tmp_path: Path) -> None:
    folder = _folder(tmp_path, {b"caf\xe9.txt": b"Latin-1 named notes about herons.\n",
                                b"good.txt": b"Plain notes about puffins.\n",
                                b"bad\xff.txt": b"caf\x81\x02 is no text\n"})
    report = engine.ingest([folder])
    assert report.added == 2
    # A failed file is named as the index would list it, not with a U+FFFD for the byte.
    assert [e.reason for e in report.errors] == [
        f"{folder}/bad\\xff.txt: not valid UTF-8 text (byte 0x81 at offset 3), and no encoding tried reads it as "
        "text (re-save it as UTF-8: iconv -f cp1252 -t utf-8 FILE > FILE.utf8)"]
    os.remove(os.fsencode(folder) + b"/bad\xff.txt")
    paths = sorted(d.path for d in engine.documents())
    assert paths == [f"{folder}/caf\\xe9.txt", f"{folder}/good.txt"]
    again = engine.ingest([folder])
    assert (again.unchanged, again.added, again.removed) == (2, 0, 0)
    assert again.summary().startswith("0 added, 0 updated, 2 unchanged, 0 removed, 0 failed; 0 chunks written in ")
    assert engine.forget(folder).chunks > 0 and engine.documents() == []


def test_ingest_summary_counts_one_chunk_as_one(engine: Engine, tmp_path: Path) -> None:
    folder = _folder(tmp_path, {b"one.txt": b"A single short note about terns.\n", b"empty.txt": b""})
    report = engine.ingest([folder])
    assert report.summary().startswith("1 added, 0 updated, 0 unchanged, 0 removed, 0 failed; 1 chunk written in ")
    # An empty file failed nothing: passed over, and named (it made every ingest of its folder exit 1).
    assert report.blank_paths == [str(folder / "empty.txt")]
    assert f"passed over 1 file with no text (empty or blank): {folder / 'empty.txt'}" in report.notes


def test_fifo_named_explicitly_is_one_error_not_a_hang(engine: Engine, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    good = tmp_path / "good.txt"
    good.write_text("Notes about gannets.\n")
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(report=engine.ingest([fifo, good])), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "ingest of a FIFO hung"
    report = result["report"]
    assert report.added == 1  # type: ignore[attr-defined]
    assert [e.reason for e in report.errors] == [  # type: ignore[attr-defined]
        f"{fifo}: not a regular file (a FIFO, socket or device) (name a regular file)"
    ]


def test_a_socket_named_explicitly_fails_as_a_fifo_does(engine: Engine, tmp_path: Path) -> None:
    """A socket cannot be opened at all: its failure was "cannot read (No such device or address)", where a FIFO's
    says what it is and the fix."""
    sock = tmp_path / "sock.md"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(sock))
        report = engine.ingest([sock])
    assert [e.reason for e in report.errors] == [
        f"{sock}: not a regular file (a FIFO, socket or device) (name a regular file)"]


def test_a_named_file_of_no_type_localrag_reads_is_said_not_passed_over(engine: Engine, tmp_path: Path) -> None:
    """Skipped and said, not failed, as in a folder: before, each was "skipped: ..." yet counted "1 failed" (exit 1),
    and a text type was given none of the folder note's advice to rename it .txt."""
    fifo, notes, odd, latex = tmp_path / "pipe", tmp_path / "notes", tmp_path / "data.xyz", tmp_path / "paper.tex"
    os.mkfifo(fifo)
    notes.write_text("Notes about gannets.\n")
    odd.write_text("Notes about terns.\n")
    latex.write_text("\\section{Puffins}\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "skip.xyz").write_text("Met in a folder: passed over as ever.\n")
    report = engine.ingest([fifo, notes, odd, latex, tmp_path / "folder"])
    assert (report.added, report.errors) == (0, [])
    readme = 'README, "What it reads", lists them'
    assert sorted(report.notes[1:]) == sorted([
        f"skipped {fifo}: not a regular file (a FIFO, socket or device)",
        f"skipped {notes}: no file extension, so no file type localrag reads ({readme})",
        f"skipped {odd}: .xyz is no file type localrag reads ({readme})",
        # Named .txt, it was titled `\\documentclass{article}` and answered with `\\textbf{...}`: its markup stays.
        f"skipped {latex}: .tex is no file type localrag reads ({readme}; a .tex file named .txt is read with its "
        f"markup in the text: convert it to plain text first (`pandoc -t plain {latex.name} -o {latex.stem}.txt`) and "
        "ingest that)",
    ])
    assert report.notes[0].startswith("passed over 1 file of types localrag does not read (.xyz 1)")


def test_text_taken_out_of_a_file_leaves_the_index(engine: Engine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Emptied (often to take a secret out), or deleted after the walk found it: its old text goes."""
    folder = _folder(tmp_path, {b"secret.txt": b"The Zebra merger closes in May.\n",
                                b"gone.txt": b"Notes about kittiwakes.\n", b"kept.txt": b"Notes about gannets.\n"})
    engine.ingest([folder])
    (folder / "secret.txt").write_text("  \n")
    (folder / "gone.txt").write_text("Notes about kittiwakes, changed.\n")
    from localrag.ingest import pipeline

    real = pipeline._ingest_file

    def deleted_before_its_turn(path: Path, *args: Any, **kwargs: Any) -> None:
        if path.name == "gone.txt":
            path.unlink()
        real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "_ingest_file", deleted_before_its_turn)
    report = engine.ingest([folder])
    assert sorted(report.removed_paths) == [str(folder / "gone.txt"), str(folder / "secret.txt")]
    assert report.errors == [] and report.gone_paths == [str(folder / "gone.txt")]  # gone, not failed
    assert report.blank_paths == [str(folder / "secret.txt")]
    assert [d.path for d in engine.documents()] == [str(folder / "kept.txt")]
    assert not [h for h in engine.search("Zebra merger", k=5) if "Zebra" in h.chunk.text]


def test_a_parser_crash_is_one_files_error(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localrag.ingest import parts

    folder = _folder(tmp_path, {b"a.txt": b"First.\n", b"b.txt": b"Second.\n", b"c.txt": b"Third.\n"})
    real = parts.load_file

    def flaky(path: Path, **kwargs: Any) -> LoadedText:
        if path.name == "b.txt":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, **kwargs)

    monkeypatch.setattr(parts, "load_file", flaky)
    report = engine.ingest([folder])
    assert report.added == 2
    assert [e.path for e in report.errors] == [str(folder / "b.txt")]
    assert "could not be parsed (RecursionError" in report.errors[0].reason


def test_good_files_are_committed_when_the_run_stops(engine: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from localrag.ingest import parts

    folder = _folder(tmp_path, {b"a.txt": b"First.\n", b"b.txt": b"Second.\n", b"c.txt": b"Third.\n"})
    real = parts.load_file

    def interrupted(path: Path, **kwargs: Any) -> LoadedText:
        if path.name == "b.txt":
            raise KeyboardInterrupt
        return real(path, **kwargs)

    monkeypatch.setattr(parts, "load_file", interrupted)
    engine.settings = engine.settings.replace(commit_chunks=100)  # a.txt would wait in the batch
    with pytest.raises(KeyboardInterrupt):
        engine.ingest([folder])
    assert [Path(d.path).name for d in engine.documents()] == ["a.txt"]


class _PoisonEmbedder(HashEmbedder):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any("POISON" in t for t in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, InputSequence]]")
        return super().embed(texts)


def test_one_document_the_embedder_rejects_does_not_lose_the_batch(localrag_home: Path, tmp_path: Path) -> None:
    engine = Engine(Settings(), embedder=_PoisonEmbedder(dim=32))
    folder = _folder(tmp_path, {b"a.txt": b"First.\n", b"b.txt": b"POISON here.\n", b"c.txt": b"Third.\n"})
    report = engine.ingest([folder])
    assert sorted(Path(d.path).name for d in engine.documents()) == ["a.txt", "c.txt"]
    assert report.added == 2
    assert [Path(e.path).name for e in report.errors] == ["b.txt"]
    assert "could not be embedded (TypeError" in report.errors[0].reason


def test_disk_full_is_one_line_naming_the_data_dir(engine: Engine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path, {b"a.txt": b"First.\n"})
    store = engine.store

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_write", full)
    with pytest.raises(DiskError) as info:
        engine.ingest([folder])
    message = str(info.value)
    assert message.startswith(f"{store.path}: the disk is full (") and "\n" not in message
    # It read "writing 1 chunks needs about 0.0 MB more", as if it needed nothing.
    assert re.search(r"writing 1 chunk needs about \d+ kB more", message), message


def test_compaction_is_skipped_when_space_is_short(engine: Engine, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    folder = _folder(tmp_path, {b"a.txt": b"First.\n"})
    engine.ingest([folder])
    (folder / "b.txt").write_text("Second.\n")
    usage = shutil.disk_usage(tmp_path)
    # The module every disk measure in localrag reads (the store reached it as `store.shutil` before).
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=10))
    report = engine.ingest([folder])
    assert report.added == 1 and report.errors == []
    assert report.notes and report.notes[0].startswith("compaction skipped: it needs about")


def _bomb(path: Path, megabytes: int) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("word/document.xml", "w", force_zip64=True) as member:
        for _ in range(megabytes):
            member.write(b"A" * 2**20)
    path.write_bytes(buffer.getvalue())
    return path


def test_zip_bomb_docx_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.docx", 40)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(LoaderError, match=r"bomb\.docx: refused, 40 MB of markup to parse \(limit 32 MB\)"):
        load_file(bomb)
    with pytest.raises(LoaderError, match=r"inflates 1,0\d\dx \(limit 100x\)"):
        guard_zip(_bomb(tmp_path / "small.docx", 2))


def test_a_long_single_line_is_chunked_in_bounded_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunker, "SEGMENT_CHARS", 20_000)
    text = " ".join(f"word{i % 97}" for i in range(60_000))  # ~400 kB, one line, no sentence end
    longest: list[int] = []
    embedder = HashEmbedder()

    def counts(texts: Sequence[str]) -> list[int]:
        longest.append(max((len(t) for t in texts), default=0))
        return embedder.token_counts(texts)

    loaded = LoadedText(text, (Section(0, len(text), "paragraph"),), "long")
    chunks = chunk_document(loaded, doc_id="d", path="p", file_type="txt", token_counts=counts, max_tokens=128,
                            overlap=16)
    assert max(longest) <= 20_000  # no tokenizer call ever saw the whole line
    assert all(text[c.start : c.end] == c.text and c.n_tokens <= 128 for c in chunks)
    assert " ".join(c.text for c in chunks).count("word5 ") >= text.count("word5 ")


def test_stored_path_is_valid_utf8_for_any_name() -> None:
    assert path_text(os.fsdecode(b"/x/\xff\xfe.md")).encode("utf-8") == b"/x/\\xff\\xfe.md"


def test_writers_wait_for_each_other(engine: Engine, tmp_path: Path) -> None:
    from localrag.writer_lock import writer_lock

    folder = _folder(tmp_path, {b"a.txt": b"First.\n"})
    done = threading.Event()
    with writer_lock(engine.store.path):  # another writer (process or thread) is at work
        worker = threading.Thread(target=lambda: (engine.ingest([folder]), done.set()), daemon=True)
        worker.start()
        assert not done.wait(1.0), "the second writer did not wait"
    assert done.wait(60)
    assert [Path(d.path).name for d in engine.documents()] == ["a.txt"]


def test_a_forget_waiting_for_an_ingest_of_the_folder_forgets_all_it_added(localrag_home: Path, tmp_path: Path) -> None:
    """Two engines, as two processes would have: the forget asked mid-ingest runs after it, on all of it."""
    folder = _folder(tmp_path, {f"n{i:02d}.txt".encode(): f"Note {i} about auks.\n".encode() for i in range(12)})
    ingesting = Engine(Settings(commit_chunks=2), embedder=HashEmbedder(dim=32))
    forgetting = Engine(Settings(), embedder=HashEmbedder(dim=32))
    forgetting.ingest([folder / "n00.txt"])
    started, reports = threading.Event(), []

    def slowly(progress: Any) -> None:
        if progress.files_done >= 4 and not started.is_set():
            started.set()
            time.sleep(1.5)  # the forget is asked now, and waits

    worker = threading.Thread(target=lambda: reports.append(ingesting.ingest([folder], progress=slowly)), daemon=True)
    worker.start()
    assert started.wait(60)
    forgotten = forgetting.forget(folder)
    worker.join(60)
    assert reports[0].added == 11 and forgotten.documents == 12
    assert Engine(Settings(), embedder=HashEmbedder(dim=32)).documents() == []


def test_a_reader_in_another_process_goes_on_through_a_purge(localrag_home: Path, tmp_path: Path) -> None:
    """A purge keeps no old version: a server's next read at the version it last saw finds its files gone."""
    folder = _folder(tmp_path, {b"a.txt": b"Notes about auks.\n", b"b.txt": b"Notes about terns.\n"})
    purging = Engine(Settings(), embedder=HashEmbedder(dim=32))
    purging.ingest([folder])
    serving = Engine(Settings(), embedder=HashEmbedder(dim=32))
    for document in ("a.txt", "b.txt"):
        assert serving.fusion_choice() is None and serving.search("notes", k=2)
        purging.forget(folder / document, purge=True)
        assert serving.fusion_choice() is None


def test_a_new_store_opened_by_several_threads_at_once_is_migrated_once(tmp_path: Path) -> None:
    """The chat app's threads, or `status` beside the first ingest: each used to run every migration, and
    their index builds failed on each other's commits."""
    from localrag.store import Store

    db, errors, start = tmp_path / "lancedb", [], threading.Barrier(4)

    def open_it() -> None:
        start.wait()
        try:
            Store(db, embedder_name="hash", dim=32, create=True)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    keys = [row["key"] for row in Store(db, embedder_name="hash", dim=32)._meta.to_arrow().to_pylist()]
    assert len(keys) == len(set(keys))


def test_a_graph_import_waits_for_another_writer(engine: Engine, tmp_path: Path) -> None:
    """The graph tables live in the store: an import (and a graph build) is a writer like an ingest."""
    from localrag.writer_lock import writer_lock

    engine.ingest([_folder(tmp_path, {b"a.txt": b"First.\n"})])
    triples = tmp_path / "t.tsv"
    triples.write_text("Harbour\tnear\tGranite Hill\n")
    done = threading.Event()
    with writer_lock(engine.store.path):
        worker = threading.Thread(target=lambda: (engine.graph_import(triples), done.set()), daemon=True)
        worker.start()
        assert not done.wait(1.0), "the import did not wait for the writer"
    assert done.wait(60)
    assert engine.graph_stats().triples == 1


def test_links_out_of_the_folder_named_or_indexed_under_the_link(localrag_home: Path, tmp_path: Path) -> None:
    docs, elsewhere = (tmp_path / "docs").resolve(), (tmp_path / "elsewhere").resolve()
    (docs / "linked").mkdir(parents=True)
    elsewhere.mkdir()
    (docs / "own.txt").write_text("Notes about herons.\n")
    (elsewhere / "secret.txt").write_text("Notes about puffins.\n")
    link = docs / "linked" / "puffins.txt"
    link.symlink_to(elsewhere / "secret.txt")

    skipping = Engine(Settings(), embedder=HashEmbedder(dim=32))
    report = skipping.ingest([docs])
    assert [d.path for d in skipping.documents()] == [str(docs / "own.txt")]
    # A setting's choice, named in the notes: as an error it made `ingest` exit 1 in a script.
    assert report.errors == [] and report.notes == [
        f"skipped {link}: a link to {elsewhere / 'secret.txt'}, outside {docs} (set follow_links_outside = true to "
        "index it under the link's path)"]

    following = Engine(Settings(follow_links_outside=True), embedder=HashEmbedder(dim=32))
    following.ingest([docs])
    assert [d.path for d in following.documents()] == [str(link), str(docs / "own.txt")]
    assert following.forget(docs / "linked").chunks == 1  # forget of the folder holding the link removes it
    assert [d.path for d in following.documents()] == [str(docs / "own.txt")]
    following.ingest([docs])
    assert following.forget(link).chunks == 1  # the link's own path names it, not its target's
    following.ingest([docs])
    link.unlink()  # a deleted link goes from the index at the next ingest, like a deleted file
    assert following.ingest([docs]).removed == 1
    assert [d.path for d in following.documents()] == [str(docs / "own.txt")]
    assert (elsewhere / "secret.txt").is_file()


def test_a_really_full_disk(small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALRAG_HOME", str(small_disk / "home"))
    words = "harbour lantern granite orchard copper meadow falcon quarry".split()
    folder = _folder(tmp_path, {f"n{i}.md".encode(): (" ".join(words[(i + j) % 8] for j in range(400))).encode()
                                for i in range(30)})
    engine = Engine(Settings(commit_chunks=8), embedder=HashEmbedder(dim=384))
    engine.ingest([folder / "n0.md"])
    filler = fill_disk(small_disk, leave=2**16)
    with pytest.raises(DiskError) as info:
        engine.ingest([folder])
    message = str(info.value)
    assert message.startswith(f"{engine.store.path}: the disk is full (") and "\n" not in message
    assert re.search(r"\(\d+ kB free; writing \d+ chunks needs about \d+(\.\d)? [kM]B more\)", message), message
    reader = Engine(Settings(), embedder=HashEmbedder(dim=384))
    assert reader.search("granite orchard", k=3)  # reading needs no space
    assert reader.repair(dry_run=True).damage == []
    os.truncate(filler, filler.stat().st_size - 4_000_000)  # free only part of what a compaction wants
    writer = Engine(Settings(commit_chunks=8), embedder=HashEmbedder(dim=384))
    report = writer.ingest([folder])
    assert report.errors == [] and len(writer.documents()) == 30
    assert writer.ingest([folder]).unchanged == 30
    assert writer.repair(dry_run=True).damage == []


def test_a_link_named_explicitly_is_indexed_under_its_own_path(localrag_home: Path, tmp_path: Path) -> None:
    elsewhere, docs = (tmp_path / "elsewhere").resolve(), (tmp_path / "docs").resolve()
    elsewhere.mkdir()
    docs.mkdir()
    (elsewhere / "secret.txt").write_text("Notes about puffins.\n")
    link = docs / "puffins.txt"
    link.symlink_to(elsewhere / "secret.txt")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([link])
    assert [d.path for d in engine.documents()] == [str(link)]
    assert engine.forget(link).chunks == 1 and engine.documents() == []
    engine.ingest([link])
    link.unlink()  # the link gone: an ingest of its folder removes it, the target stays
    assert engine.ingest([docs]).removed == 1 and engine.documents() == []
    assert (elsewhere / "secret.txt").is_file()


def test_a_file_replaced_by_a_link_to_its_new_place_in_the_folder_leaves_the_index(
        localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = (tmp_path / "docs").resolve()
    (docs / "real").mkdir(parents=True)
    (docs / "alpha.md").write_text("# Alpha\n\nThe alpha project uses a heron mascot.\n")
    (docs / "beta.txt").write_text("The beta warehouse stores saffron.\n")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([docs])
    (docs / "alpha.md").rename(docs / "real" / "alpha.md")
    (docs / "alpha.md").symlink_to("real/alpha.md")
    report = engine.ingest([docs])
    # Its old place holds a link to a file the walk took: gone from there (as the end of an ingest says), so moved.
    assert report.removed_paths == report.added_paths == []
    assert report.moved_paths == [f"{docs / 'alpha.md'} -> {docs / 'real' / 'alpha.md'}"]
    held = [d.path for d in engine.documents()]
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "fresh"))
    fresh = Engine(Settings(), embedder=HashEmbedder(dim=32))
    fresh.ingest([docs])
    assert held == [d.path for d in fresh.documents()] == [str(docs / "beta.txt"), str(docs / "real" / "alpha.md")]


def test_forget_of_a_link_forgets_what_is_indexed_under_the_link_not_its_target(
        localrag_home: Path, tmp_path: Path) -> None:
    docs = (tmp_path / "docs").resolve()
    (docs / "real").mkdir(parents=True)
    (docs / "real" / "alpha.md").write_text("# Alpha\n\nThe alpha project uses a heron mascot.\n")
    link = docs / "alpha.md"
    link.symlink_to("real/alpha.md")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([link])  # named: indexed under the link's own path
    engine.ingest([docs / "real"])  # its target, from its own folder
    forgotten = engine.forget(link)
    assert forgotten.paths == [str(link)] and forgotten.documents == 1
    assert [d.path for d in engine.documents()] == [str(docs / "real" / "alpha.md")]
    with pytest.raises(LocalRagError) as info:  # nothing is left under the link's path: the target is named
        engine.forget(link)
    assert f"`localrag forget {docs / 'real' / 'alpha.md'}`" in str(info.value)
    assert [d.path for d in engine.documents()] == [str(docs / "real" / "alpha.md")]


def test_a_file_replaced_by_a_folder_of_its_name_leaves_the_index(engine: Engine, tmp_path: Path) -> None:
    docs = _folder(tmp_path, {b"delta.txt": b"Rail travel is second class.\n", b"beta.txt": b"Saffron crates.\n"})
    engine.ingest([docs])
    (docs / "delta.txt").unlink()
    (docs / "delta.txt").mkdir()
    (docs / "delta.txt" / "inner.txt").write_text("The omega valve opens at dawn.\n")
    report = engine.ingest([docs])
    assert report.removed_paths == [str(docs / "delta.txt")]
    assert report.added_paths == [str(docs / "delta.txt" / "inner.txt")]
    assert [d.path for d in engine.documents()] == [str(docs / "beta.txt"), str(docs / "delta.txt" / "inner.txt")]


def test_a_folder_that_cannot_be_listed_is_named_and_its_documents_stay(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _folder(tmp_path, {b"gamma.txt": b"The gamma turbine makes twelve megawatts.\n"})
    locked = docs / "sub"
    locked.mkdir()
    (locked / "beta.txt").write_text("The beta warehouse stores saffron.\n")
    engine.ingest([docs])
    (docs / "delta.txt").write_text("Rail travel is second class.\n")
    if os.geteuid() == 0:
        # Root lists and searches any folder: refuse this one's listing, and a look at a path inside it, the way
        # the OS refuses a user a folder whose mode is 000.
        real_scandir, real_stat = os.scandir, os.stat

        def scandir(path: Any) -> Any:
            if Path(os.fsdecode(path)) == locked:
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real_scandir(path)

        def refusing_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            if isinstance(path, (str, bytes, os.PathLike)) and Path(os.fsdecode(path)).is_relative_to(locked) \
                    and Path(os.fsdecode(path)) != locked:
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real_stat(path, *args, **kwargs)

        monkeypatch.setattr(os, "scandir", scandir)
        monkeypatch.setattr(os, "stat", refusing_stat)
    locked.chmod(0)
    try:
        report = engine.ingest([docs])
    finally:
        locked.chmod(0o755)
    assert [(e.path, e.reason) for e in report.errors] == [
        (str(locked), f"{locked}: cannot list the folder (Permission denied) (make it readable to this user, or "
                      "exclude it)")]
    assert report.removed == 0 and report.added_paths == [str(docs / "delta.txt")] and report.unchanged == 1
    assert [d.path for d in engine.documents()] == [str(docs / "delta.txt"), str(docs / "gamma.txt"),
                                                    str(locked / "beta.txt")]


def test_a_missing_folder_with_documents_still_indexed_says_how_to_remove_them(
        engine: Engine, tmp_path: Path) -> None:
    old = (tmp_path / "docs" / "old").resolve()
    old.mkdir(parents=True)
    (old / "theta.txt").write_text("The theta orchard grows quinces.\n")
    engine.ingest([old])
    old.rename(old.parent / "new")
    with pytest.raises(LoaderError) as info:
        engine.ingest([old])
    assert str(info.value) == (f"{old}: no such file or folder, but 1 document is still indexed under it "
                               f"(`localrag forget {old}` removes it; if it is on a drive not mounted now, mount it "
                               "and ingest again)")
    assert [d.path for d in engine.documents()] == [str(old / "theta.txt")]  # not removed: it may be unmounted
    with pytest.raises(LoaderError, match=r"no such file or folder \(check the path\)"):
        engine.ingest([tmp_path / "never-there"])


def test_one_big_file_reports_its_embedding_as_it_goes(localrag_home: Path, tmp_path: Path) -> None:
    # A file is one batch, embedded for minutes on 2 cores: a pipe heard nothing until the end of it. The count is
    # named as the batch's: "Embedding 128/256 chunks: 128/300 files 128 chunks" read as 256 chunks in all, and the
    # summary then said 300 (before 2026-12-07).
    big = tmp_path / "big.txt"
    big.write_text("\n\n".join(f"Paragraph {n} tells of the harbour and its keeper." for n in range(1500)))
    seen: list[str] = []
    report = Engine(Settings(), embedder=HashEmbedder(dim=32)).ingest([big], progress=lambda p: seen.append(p.activity))
    embedding = [a for a in seen if a.startswith("Embedding ")]
    chunks = report.chunks_written
    assert chunks > 64 and embedding[0] == f"Embedding a batch of {chunks} chunks, 64 done"
    assert embedding[-1] == f"Embedding a batch of {chunks} chunks, {chunks} done"


def test_a_file_over_a_megabyte_is_named_while_it_is_read(localrag_home: Path, tmp_path: Path) -> None:
    # A 12 MB log was read and chunked for 40 s before any progress came: a pipe's log looked hung.
    big = tmp_path / "app.log"
    big.write_text("\n".join(f"12:00:{n % 60:02d} INFO worker {n} served request {n}" for n in range(26_000)))
    assert big.stat().st_size > 2**20
    seen: list[str] = []
    Engine(Settings(), embedder=HashEmbedder(dim=32)).ingest([big], progress=lambda p: seen.append(p.activity))
    assert "Reading app.log" in seen and seen.index("Reading app.log") < min(
        i for i, activity in enumerate(seen) if activity.startswith("Embedding "))


def test_what_gitignore_names_is_left_out_and_said(localrag_home: Path, tmp_path: Path) -> None:
    repo = _folder(tmp_path, {b".gitignore": b"dist/\n*.log.txt\n", b"app.py": b"def parse_config(): ...\n",
                              b"run.log.txt": b"INFO started\n"})
    (repo / "dist").mkdir()
    (repo / "dist" / "app.js").write_text("function parse_config(){}\n")
    reading_all = Engine(Settings(respect_gitignore=False), embedder=HashEmbedder(dim=32))
    assert reading_all.ingest([repo]).added == 3
    report = Engine(Settings(), embedder=HashEmbedder(dim=32)).ingest([repo])
    assert report.notes == [
        f"left out 1 folder and 1 file that .gitignore or .localragignore names: {repo / 'dist'}/, "
        f"{repo / 'run.log.txt'} (respect_gitignore = false reads what .gitignore names)",
        # Indexed before (another setting, an older localrag): kept, as what exclude leaves out is, and said.
        f"2 indexed files that .gitignore or .localragignore names stay in the index: {repo / 'dist' / 'app.js'}, "
        f"{repo / 'run.log.txt'} (a forget takes one out)"]


def test_a_localragignore_leaves_out_at_every_ingest_whatever_the_gitignore_setting(
        localrag_home: Path, tmp_path: Path) -> None:
    # An --exclude lasted one ingest: a plain ingest of the folder later read the drafts it had left out again.
    notes = _folder(tmp_path, {b".localragignore": b"drafts/\n*.tmp.md\n", b".gitignore": b"keep.md\n",
                               b"pier.md": b"# Pier\n\nThe pier closes at dusk.\n", b"wip.tmp.md": b"# Wip\n\nHalf.\n",
                               b"keep.md": b"# Keep\n\nKept.\n"})
    (notes / "drafts").mkdir()
    (notes / "drafts" / "idea.md").write_text("# Idea\n\nMaybe islands.\n")
    for setting in (True, False):
        engine = Engine(Settings(respect_gitignore=setting), embedder=HashEmbedder(dim=32))
        report = engine.ingest([notes])
        # The setting's hint only where it helps: off, it was offered for what a .localragignore left out.
        assert ("respect_gitignore = false" in " ".join(report.notes)) is setting
        expected = ["pier.md"] if setting else ["keep.md", "pier.md"]
        assert sorted(Path(d.path).name for d in engine.documents()) == expected


def test_files_passed_over_are_named_and_renaming_is_advised_only_for_text_of_another_type(
        engine: Engine, tmp_path: Path) -> None:
    # A repository's Makefile and Dockerfile were counted, never named, with advice to name them .txt.
    repo = _folder(tmp_path, {b"Makefile": b"all:\n", b"Dockerfile": b"FROM python\n", b"app.py": b"x = 1\n",
                              b"song.mp3": b"ID3"})
    # Nor to name a song .txt (the review: the first type of any kind was offered).
    assert engine.ingest([repo]).notes == [
        f"passed over 3 files of types localrag does not read (no extension 2, .mp3 1): {repo / 'Dockerfile'}, "
        f"{repo / 'Makefile'}, {repo / 'song.mp3'} (README, \"What it reads\", lists the types)"]
    for name in ("a.tex", "b.tex", "c.bib"):
        (repo / name).write_text("Notes.\n")
    assert engine.ingest([repo]).notes == [
        f"passed over 6 files of types localrag does not read (.tex 2, no extension 2, .bib 1, .mp3 1): "
        f"{repo / 'Dockerfile'}, {repo / 'Makefile'}, {repo / 'a.tex'}, ... (README, \"What it reads\", lists the "
        "types; a .tex file or a .bib file named .txt is read with its markup in the text: convert each to plain text "
        "first (`pandoc -t plain a.tex -o a.txt`, c.bib: export it as plain text from your reference manager, as "
        "c.txt) and ingest those)"]
    # No command for a .bib: pandoc's `--citeproc -M nocite='[@*]'` advised before wrote an empty bibliography (a -M
    # value is a plain string to pandoc, no citation).
    # Each type with advice has its own, in one line, the most common first: before 2026-12-07 only the first type's
    # (a man page's replaced the .tex's and the .bib's), and a calendar's was lost beside any markup.
    (repo / "ls.1").write_bytes(b'.TH LS 1\n')
    (repo / "refs.ris").write_text("TY  - JOUR\n")
    (repo / "info.nfo").write_text("Release notes\n")
    [note] = engine.ingest([repo]).notes
    assert note.endswith(
        "types; a .tex file, a man page or a .bib file named .txt is read with its markup in the text: convert each to "
        "plain text first (`pandoc -t plain a.tex -o a.txt`, `man -l ls.1 > ls.txt`, c.bib: export it as plain text "
        "from your reference manager, as c.txt) and ingest those; a plain-text file of another "
        "type, such as .nfo or .ris, is read when named .txt)")
    for name in ("ls.1", "refs.ris", "info.nfo"):
        (repo / name).unlink()
    # A man page is told so; a rotated log of the same suffix (`syslog.1`) is read as a log.
    (tmp_path / "man").mkdir()
    man = _folder(tmp_path / "man", {b"ls.1": b'.\\" page\n.TH LS 1\n', b"syslog.1": b"Dec  7 10:00:00 host up\n"})
    report = engine.ingest([man / "ls.1", man / "syslog.1"])
    assert (report.added, report.notes) == (1, [
        f"skipped {man / 'ls.1'}: .1 is no file type localrag reads (README, \"What it reads\", lists them; a man page "
        "named .txt is read with its markup in the text: convert it to plain text first (`man -l ls.1 > ls.txt`) and "
        "ingest that)"])
    # A reference list is text too (before, no advice was given for it). A calendar and a contact card have a reader
    # of their own (test_cards).
    for name in (".ris",):
        (tmp_path / name[1:]).mkdir()
        calendar = _folder(tmp_path / name[1:], {f"export{name}".encode(): b"BEGIN:VCALENDAR\n"})
        assert engine.ingest([calendar]).notes == [
            f"passed over 1 file of types localrag does not read ({name} 1): {calendar / f'export{name}'} (README, "
            f"\"What it reads\", lists the types; a plain-text file of another type, such as {name}, is read when "
            "named .txt)"]
