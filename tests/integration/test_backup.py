"""`localrag backup`: a copy taken while the writes wait, usable as a LOCALRAG_HOME, never half of one."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from localrag import paths
from localrag.cli import run
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError
from localrag.types import IngestProgress


def _notes(folder: Path, count: int) -> Path:
    folder.mkdir(exist_ok=True)
    for n in range(count):
        (folder / f"n{n}.md").write_text(f"# Note {n}\n\nThe harbour pilot {n} logged the tide.\n")
    return folder


def test_a_backup_waits_for_a_writer_and_reads_as_a_home(localrag_home: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain copy of a folder an ingest was writing paired tables of two moments: documents without their text.
    engine = Engine(Settings(), embedder=HashEmbedder())
    engine.ingest([_notes(tmp_path / "notes", 3)])
    (paths.models_dir()).mkdir(exist_ok=True)
    (paths.models_dir() / "tuned.gguf").write_bytes(b"GGUF" + bytes(60))
    dest = tmp_path / "drive"
    dest.mkdir()
    (dest / ".localrag-backup-999999.partial").mkdir()  # a killed backup's: never taken for a whole one
    held = threading.Event()

    def slowly(_progress: IngestProgress) -> None:
        if not held.is_set():  # the ingest holds the writer lock from its start to its end
            held.set()
            time.sleep(1)

    thread = threading.Thread(target=engine.ingest, args=([_notes(tmp_path / "notes", 5)],),
                              kwargs={"progress": slowly})
    thread.start()
    assert held.wait(30)
    report = Engine(Settings(), embedder=HashEmbedder()).backup(dest)
    assert report.seconds > 0.8  # it waited for the writer, whose commit it holds whole (below)
    thread.join()
    copy = Path(report.path)
    assert sorted(p.name for p in dest.iterdir()) == [copy.name] and copy.name.startswith("localrag-backup-")
    assert sorted(p.name for p in copy.iterdir()) == ["config", "data"] and copy.stat().st_mode & 0o777 == 0o700
    assert not (copy / "data" / "running").exists() and not list(copy.rglob("*.lock"))
    assert [what for what, _, _ in report.left_out] == ["the models folder (`--models` copies it)"]
    monkeypatch.setenv("LOCALRAG_HOME", str(copy))
    restored = Engine(Settings(), embedder=HashEmbedder())
    assert len(restored.documents()) == 5 and restored.repair(dry_run=True).damage == []

    monkeypatch.setenv("LOCALRAG_HOME", str(localrag_home))
    again = engine.backup(dest, models=True)  # within the same second: a name of its own
    assert again.path != report.path and (Path(again.path) / "models" / "tuned.gguf").is_file()
    with pytest.raises(LocalRagError, match="no such folder .is its drive mounted"):
        engine.backup(tmp_path / "unmounted")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(LocalRagError, match="a-file: a file, not a folder"):
        engine.backup(tmp_path / "a-file")
    with pytest.raises(LocalRagError, match="inside localrag's own folders"):
        engine.backup(paths.data_dir())


def test_backup_cli_says_where_and_what_it_left_out(localrag_home: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    Engine(Settings(), embedder=HashEmbedder()).ingest([_notes(tmp_path / "notes", 2)])
    (tmp_path / "drive").mkdir()
    assert run(["backup", str(tmp_path / "drive"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert Path(report["path"]).parent == tmp_path / "drive" and report["files"] > 0
    assert run(["backup", str(tmp_path / "drive")]) == 0
    said = capsys.readouterr()
    assert said.out.startswith(f"backed up to {tmp_path / 'drive'}/localrag-backup-")
    assert "localrag status" in said.err


def test_an_index_behind_a_link_is_copied_not_linked(localrag_home: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # An index moved to another disk with a link left in its place was "backed up" as that link: 0 bytes, exit 0.
    Engine(Settings(), embedder=HashEmbedder()).ingest([_notes(tmp_path / "notes", 2)])
    moved = tmp_path / "bigdisk" / "lancedb"
    moved.parent.mkdir()
    paths.db_dir().rename(moved)
    paths.db_dir().symlink_to(moved)
    (tmp_path / "drive").mkdir()
    monkeypatch.chdir(tmp_path)
    report = Engine(Settings(), embedder=HashEmbedder()).backup("drive")
    copy = Path(report.path)
    assert copy.is_absolute() and report.size > 0  # a relative DEST named whole, so the line works from anywhere
    assert not (copy / "data" / "lancedb").is_symlink() and list((copy / "data" / "lancedb").iterdir())


def test_a_restore_done_as_the_backup_says_brings_back_the_index_and_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Without LOCALRAG_HOME the data folder is `XDG_DATA_HOME/localrag`, not `.../data`: "put its folders back
    where localrag keeps them (`localrag status` names them)" had a user copy the backup's `data` folder into it,
    one level too deep, and `status` named no config folder."""
    import re
    import shutil

    monkeypatch.delenv("LOCALRAG_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "conf"))
    assert run(["ingest", str(_notes(tmp_path / "notes", 2))]) == 0
    assert run(["config", "set", "top_k", "7"]) == 0
    (tmp_path / "drive").mkdir()
    capsys.readouterr()
    assert run(["backup", str(tmp_path / "drive")]) == 0
    hint = capsys.readouterr().err.replace("\n", "")
    moves = re.findall(r"(\S+/(?:data|config)) as (\S+?)[,;]", hint)
    assert moves == [(str(next((tmp_path / "drive").iterdir()) / name), str(place)) for name, place in
                     (("data", tmp_path / "share" / "localrag"), ("config", tmp_path / "conf" / "localrag"))], hint
    assert "each in place of the folder there (moved aside or deleted first, not copied into it)" in hint

    for _, place in moves:  # the disk lost
        shutil.rmtree(place)
    for copied, place in moves:  # the restore, as the hint says
        shutil.copytree(copied, place)
    assert run(["documents"]) == 0 and capsys.readouterr().out.count("notes/n") == 2
    assert run(["config", "show", "top_k"]) == 0 and "7" in capsys.readouterr().out
    assert run(["status"]) == 0
    assert re.search(rf"config dir\s+{re.escape(str(tmp_path / 'conf' / 'localrag'))}\n", capsys.readouterr().out)
