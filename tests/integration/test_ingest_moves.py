"""A file moved is one read for the first time whose old place, in a folder being ingested, is empty: a file
outside those folders (a drive not mounted just now) or still on the disk under a name not valid UTF-8 is not gone,
and its documents stay (README: "a drive not mounted just now must not empty the index")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine

TEXT = "The quarterly report on the harbour crane budget, signed by the council.\n"


def _engine() -> Engine:
    return Engine(load_settings(), embedder=HashEmbedder(dim=32))


def test_a_file_of_a_drive_not_mounted_is_not_moved_by_a_copy_elsewhere(tmp_path: Path) -> None:
    # The drive's file went at the copy's ingest ("1 moved ... usb/report.txt -> home/report-copy.txt"), and with the
    # drive back the index held only the copy.
    engine = _engine()
    (tmp_path / "usb").mkdir()
    (tmp_path / "usb" / "report.txt").write_text(TEXT, encoding="utf-8")
    engine.ingest([tmp_path / "usb"])
    (tmp_path / "usb").rename(tmp_path / "unplugged")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "report-copy.txt").write_text(TEXT, encoding="utf-8")
    report = engine.ingest([tmp_path / "home"])
    assert (report.added, report.moved) == (1, 0), report.moved_paths
    (tmp_path / "unplugged").rename(tmp_path / "usb")
    assert sorted(d.path for d in engine.documents()) == [f"{tmp_path}/home/report-copy.txt",
                                                          f"{tmp_path}/usb/report.txt"]


def test_a_folder_renamed_inside_the_folder_ingested_moves(tmp_path: Path) -> None:
    engine = _engine()
    (tmp_path / "r" / "notes").mkdir(parents=True)
    (tmp_path / "r" / "notes" / "n.txt").write_text(TEXT, encoding="utf-8")
    engine.ingest([tmp_path / "r"])
    (tmp_path / "r" / "notes").rename(tmp_path / "r" / "archive")
    report = engine.ingest([tmp_path / "r"])
    assert (report.added, report.removed, report.moved) == (0, 0, 1)
    assert report.moved_paths == [f"{tmp_path}/r/notes/n.txt -> {tmp_path}/r/archive/n.txt"]


def test_a_file_named_with_bytes_not_utf8_is_still_on_the_disk(tmp_path: Path) -> None:
    # Stored as `caf\xe9.txt`, a name no file has: asked of the disk by that text, it was always gone, so a copy read
    # in the same folder "moved" it and the file on the disk left the index.
    engine = _engine()
    folder = tmp_path / "a"
    folder.mkdir()
    odd = os.fsencode(folder) + b"/caf\xe9.txt"
    with open(odd, "w", encoding="utf-8") as f:
        f.write(TEXT)
    engine.ingest([folder])
    (folder / "copy.txt").write_text(TEXT, encoding="utf-8")
    # Only the copy is named: the folder's walk does not meet the odd one, which is asked of the disk.
    report = engine.ingest([folder], include=["copy.txt"])
    assert (report.added, report.moved, report.removed) == (1, 0, 0), (report.moved_paths, report.removed_paths)
    assert sorted(d.path for d in engine.documents()) == [f"{folder}/caf\\xe9.txt", f"{folder}/copy.txt"]


def test_a_folder_renamed_and_ingested_by_its_new_name_takes_its_vectors_and_names_the_old_paths(
    tmp_path: Path,
) -> None:
    # `ingest r/notes; mv r/notes r/archive; ingest r/archive` embedded every chunk again (150 files: 33 s, not 7 s),
    # and the old paths stayed in the index without a word, cited by answers.
    engine = _engine()
    (tmp_path / "r" / "notes").mkdir(parents=True)
    for n in range(3):
        (tmp_path / "r" / "notes" / f"n{n}.txt").write_text(f"Note {n}. {TEXT}", encoding="utf-8")
    engine.ingest([tmp_path / "r" / "notes"])
    (tmp_path / "r" / "notes").rename(tmp_path / "r" / "archive")
    report = engine.ingest([tmp_path / "r" / "archive"])
    assert (report.added, report.removed, report.moved) == (3, 0, 0)
    assert report.chunks_written == report.chunks_reused == 3  # none embedded again
    old, new = tmp_path / "r" / "notes", tmp_path / "r" / "archive"
    assert report.moved_elsewhere == [f"{old}/n{n}.txt -> {new}/n{n}.txt" for n in range(3)]
    (note,) = [n for n in report.notes if "not found where they were" in n]
    assert note.startswith("3 files have the bytes of indexed files not found where they were (moved, or on a drive "
                           f"not mounted): {old}/n0.txt -> {new}/n0.txt"), note
    assert note.endswith(f"`localrag forget {old}` takes the old paths out"), note
    # Nothing outside the folder ingested is deleted: the old paths stay until that forget.
    assert len(engine.documents()) == 6
    engine.forget(old)
    assert sorted(d.path for d in engine.documents()) == [f"{new}/n{n}.txt" for n in range(3)]


def test_a_copy_of_a_file_of_a_drive_not_mounted_takes_its_vectors_and_the_drive_keeps_its_documents(
    tmp_path: Path,
) -> None:
    engine = _engine()
    (tmp_path / "usb").mkdir()
    (tmp_path / "usb" / "report.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "usb" / "other.txt").write_text("Another text on the drive, about the ferry timetable.\n")
    engine.ingest([tmp_path / "usb"])
    (tmp_path / "usb").rename(tmp_path / "unplugged")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "report-copy.txt").write_text(TEXT, encoding="utf-8")
    report = engine.ingest([tmp_path / "home"])
    assert (report.added, report.moved, report.removed, report.chunks_reused) == (1, 0, 0, 1)
    assert report.moved_elsewhere == [f"{tmp_path}/usb/report.txt -> {tmp_path}/home/report-copy.txt"]
    # The drive holds another document: its folder is no command to give, the old file is.
    (note,) = [n for n in report.notes if "not found where they were" in n]
    assert note.endswith(f"`localrag forget {tmp_path}/usb/report.txt` takes the old paths out"), note
    assert len(engine.documents()) == 3


def test_status_and_documents_find_a_file_by_any_name_the_disk_gives_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, `status` counted as not on disk (with a forget that takes them out) and `documents` marked so a file
    named in bytes not UTF-8 (stored `chimn\\xe9y.txt`) and one stored decomposed (NFD) whose name on disk is now
    composed (NFC), while ingest, forget and search found them there."""
    import unicodedata

    import localrag.cli.common
    from localrag.cli import run

    engine = _engine()
    folder = tmp_path / "a"
    folder.mkdir()
    with open(os.fsencode(folder) + b"/chimn\xe9y.txt", "w", encoding="utf-8") as f:
        f.write(TEXT)
    decomposed = folder / unicodedata.normalize("NFD", "café.txt")
    decomposed.write_text(TEXT.replace("quarterly", "yearly"), encoding="utf-8")
    engine.ingest([folder])
    decomposed.rename(folder / unicodedata.normalize("NFC", "café.txt"))
    assert engine.status().not_on_disk == 0
    monkeypatch.setattr(localrag.cli.common, "engine_from_args", lambda args, **_: engine)
    assert run(["documents"]) == 0
    out, err = capsys.readouterr()
    assert "not on disk" not in out + err and err.strip().startswith("2 documents")
    # A file gone is still judged so.
    (folder / unicodedata.normalize("NFC", "café.txt")).unlink()
    assert engine.status().not_on_disk == 1
