"""File names starting with `~` (Word's lock file `~$Report.docx`, a `~notes.txt`) are files, not a user's home:
pathlib's expanduser() raised RuntimeError for them, a traceback from ingest, forget, summarize, watch and --path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localrag.engine import Engine
from localrag.paths import typed_path
from localrag.retrieve import SearchFilters


def test_a_typed_path_reads_a_tilde_as_home_only_where_it_names_one(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert typed_path("~") == tmp_path
    assert typed_path("~/docs/a.txt") == tmp_path / "docs" / "a.txt"
    assert typed_path("~$Report.docx") == Path("~$Report.docx")  # no user `$Report.docx`: the file so named
    assert typed_path(Path("~notes.txt")) == Path("~notes.txt")
    assert typed_path("./~notes.txt") == Path("~notes.txt")
    assert typed_path("a/~b") == Path("a/~b")


def test_a_word_lock_file_named_is_skipped_and_the_rest_ingested(engine: Engine, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Report.txt").write_text("Quarterly revenue grew by ten percent in the northern region.\n",
                                         encoding="utf-8")
    (tmp_path / "~$Report.docx").write_bytes(b"\x0bJohn Smith\0\0")  # what Word leaves beside an open file
    monkeypatch.chdir(tmp_path)
    report = engine.ingest(sorted(os.listdir(".")))  # a shell's `localrag ingest *`
    assert report.added == 1, report
    assert not report.errors
    assert any(note.startswith(f"skipped {tmp_path}/~$Report.docx: ") for note in report.notes), report.notes
    assert [Path(d.path).name for d in engine.documents()] == ["Report.txt"]


def test_a_document_named_with_a_tilde_is_summarized_found_and_forgotten(engine: Engine, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "~temp notes"
    folder.mkdir()
    (folder / "~notes.txt").write_text("The fire drill starts at noon on Friday. Everyone meets in the car park "
                                       "behind the building, and the wardens count heads there.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert engine.ingest(["."]).added == 1
    assert engine.folders_to_watch([Path("~temp notes")]) == [folder]
    document, _summary = engine.summarize("./~temp notes/~notes.txt")
    assert document.path == str(folder / "~notes.txt")
    hits = engine.search("fire drill", filters=SearchFilters(path_glob="~notes*"))
    assert [hit.chunk.path for hit in hits] == [str(folder / "~notes.txt")]
    monkeypatch.chdir(folder)
    engine.forget("./~notes.txt")
    assert engine.documents() == []


def test_a_path_typed_as_dot_slash_tilde_user_is_the_folder_here_not_that_users_home(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localrag.cli import _parser

    # `root` is a user here: `~root/...` typed is root's home, `./~root/...` a folder of that name here. A Path has
    # lost the `./`: read again as typed, it walked root's home (`localrag ingest ./~root`).
    assert typed_path("~root/notes.txt") == Path(os.path.expanduser("~root")) / "notes.txt" != Path("~root/notes.txt")
    assert typed_path("./~root/notes.txt") == Path("~root/notes.txt")
    assert typed_path(Path("./~root/notes.txt")) == Path("~root/notes.txt")
    (tmp_path / "~root").mkdir()
    (tmp_path / "~root" / "notes.txt").write_text("The boiler is serviced every October by Halden Heating.\n",
                                                  encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ingest, forget = (_parser().parse_args([command, "./~root"]) for command in ("ingest", "forget"))
    assert ingest.paths == forget.paths == [Path("~root")]
    report = engine.ingest(ingest.paths)
    assert (report.added, report.errors) == (1, [])
    assert [d.path for d in engine.documents()] == [str(tmp_path / "~root" / "notes.txt")]
    engine.forget(forget.paths[0])
    assert engine.documents() == []


def test_a_base_model_named_with_a_tilde_of_no_user_is_looked_for_not_a_traceback(tmp_path: Path) -> None:
    from localrag.errors import ModelError
    from localrag.tune.base import resolve_base

    # Before: RuntimeError "Could not determine home directory" from `localrag tune --base '~nouser/base.gguf'`.
    with pytest.raises(ModelError, match="~nouser/base.gguf"):
        resolve_base("~nouser/base.gguf", tmp_path)
    # The TUI's box of paths reads them by the same rule.
    from localrag.tui.screens.library import parse_paths

    assert parse_paths("~nouser/a; ./~root") == [Path("~nouser/a"), Path("~root")]
