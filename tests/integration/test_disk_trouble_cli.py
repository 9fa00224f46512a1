"""Writers other than `ingest` on a full or a read-only disk: one line naming the place and what to do, not a
traceback (`localrag/disk_errors.py`); an answer is shown before its saving fails. A real tmpfs where the
tests may mount one (root); skipped elsewhere."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from disks import fill_disk

from localrag.cli import run
from localrag.conversations import ConversationStore
from localrag.running import marked_running, running_now

pytestmark = pytest.mark.integration


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_writers_on_a_full_then_a_read_only_disk_say_so_in_one_line(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCALRAG_HOME", str(small_disk / "home"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hotels.md").write_text("Hotels are capped at 150 euros per night.\n", encoding="utf-8")
    triples = tmp_path / "kg.tsv"
    triples.write_text("Alice\tknows\tBob\nBob\tknows\tCarol\n", encoding="utf-8")
    assert run(["ingest", str(docs)]) == 0
    assert run(["config", "set", "answer_mode", "extract"]) == 0
    capsys.readouterr()

    filler = fill_disk(small_disk, leave=0)
    # Each printed a traceback (OSError from the settings file, LanceDB's RuntimeError from the graph tables).
    for argv in (["config", "set", "top_k", "6"], ["graph", "import", str(triples)]):
        assert run(argv) == 2
        assert "the disk is full (" in _one_line(capsys)
    # The question's turn could not be saved: no answer was shown at all (the README says it is, then the error).
    assert run(["ask", "--conversation", "new", "hotel cap per night"]) == 2
    captured = capsys.readouterr()
    assert "150 euros" in captured.out and captured.err.splitlines()[-1].startswith(
        "localrag: the answer was not saved in the conversation: the disk is full (")
    with marked_running("serve --port 8765"):  # serve, mcp and the chat app refused to start, for this mark
        assert running_now() == []
    filler.unlink()
    # The graph tables the import began were made half: repair --check called them damaged.
    assert run(["repair", "--check"]) == 0
    capsys.readouterr()
    assert run(["graph", "import", str(triples)]) == 0
    assert run(["config", "show", "top_k", "--json"]) == 0 and "top_k" in capsys.readouterr().out

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        assert run(["ingest", str(docs), "--force"]) == 2  # the writer lock's file: OSError EROFS
        assert "the disk is read-only (this command writes to localrag's folders" in _one_line(capsys)
        assert run(["ask", "hotel cap per night"]) == 0  # reading needs no writing
        assert "150 euros" in capsys.readouterr().out
        with marked_running("serve --port 8765"):  # and ends cleanly: the unlink of no mark failed, EROFS
            pass
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


def test_an_answer_whose_saving_fails_is_shown_then_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The answer was computed and lost: saving it came before printing it. A full disk is what fails here (mocked:
    the question's turn fits, the answer's does not)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hotels.md").write_text("Hotels are capped at 150 euros per night.\n", encoding="utf-8")
    assert run(["ingest", str(docs)]) == 0
    capsys.readouterr()
    append = ConversationStore.append
    calls = []

    def full_at_the_answer(self, conversation, turns, after=None):  # type: ignore[no-untyped-def]
        calls.append(turns)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.folder))
        return append(self, conversation, turns, after=after)

    monkeypatch.setattr(ConversationStore, "append", full_at_the_answer)
    assert run(["ask", "--extract", "--conversation", "new", "hotel cap per night"]) == 2
    captured = capsys.readouterr()
    assert "150 euros" in captured.out
    assert captured.err.splitlines()[-1].startswith(
        f"localrag: the answer was not saved in the conversation: the disk is full ({ConversationStore().folder}: ")


def test_a_graph_answer_whose_saving_fails_is_shown_then_the_error(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ask --graph --conversation` saved the answer's turn before printing it, then, its saving failed, saved a
    "not answered" turn in its place, which failed again: on a disk that filled between the question's turn and the
    answer's, the answer was never shown and the error did not say it was the answer's saving that failed."""
    monkeypatch.setenv("LOCALRAG_HOME", str(small_disk / "home"))
    triples = tmp_path / "kg.tsv"
    triples.write_text("Alice\tknows\tBob\n", encoding="utf-8")
    assert run(["graph", "import", str(triples)]) == 0
    (ConversationStore().folder / ".lock").parent.mkdir(parents=True)
    (ConversationStore().folder / ".lock").touch()
    capsys.readouterr()
    # One page left: the question's turn, a new file of less than a page, fits; the answer's, written whole beside
    # the question's before it replaces it, does not.
    fill_disk(small_disk, leave=4096)
    assert run(["ask", "--graph", "--conversation", "new", "Who does Alice know?"]) == 2
    captured = capsys.readouterr()
    assert "Alice -> knows -> Bob" in captured.out
    assert captured.err.splitlines()[-1].startswith(
        f"localrag: the answer was not saved in the conversation: the disk is full ({small_disk / 'home' / 'data'}: ")
    saved = ConversationStore().load(ConversationStore().summaries()[0].id)
    assert [turn.role for turn in saved.turns] == ["user"]


def test_an_embedder_export_on_a_full_disk_says_the_disk_is_full(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export's ENOSPC came with the fix `embed_backend = "torch"`, which frees no space."""
    from localrag.embed_onnx import OnnxEmbedder
    from localrag.errors import ModelError
    from localrag.models import bundled_embedder_path

    monkeypatch.setenv("LOCALRAG_CACHE_DIR", str(small_disk / "cache"))  # 40 MB: the export takes about 90
    with pytest.raises(ModelError) as info:
        OnnxEmbedder(bundled_embedder_path()).embed(["hotel cap"])
    assert ": the disk is full (the embedder's ONNX export takes about " in str(info.value)
    assert str(info.value).endswith("(free space on that disk, or point LOCALRAG_CACHE_DIR at another one, then run "
                                    "it again)")
    assert [p.name for p in (small_disk / "cache").rglob("*") if p.is_file()] == []  # no half export kept


def test_output_to_a_full_disk_is_said_as_the_output_s_not_the_data_folder_s(
        small_disk: Path, tmp_path: Path) -> None:
    # Cron's log on a full /var/log: "the disk is full (.../data: 76,799 MB free) ... point LOCALRAG_HOME at
    # another one", exit 2, after the work was done.
    import sys

    from network_probe import child_args, users_env

    (small_disk / "home").mkdir()
    fill_disk(small_disk, leave=0)
    # The data folder on the full disk too: the write that failed is the output's (it read as the data folder's).
    for env, args in ((users_env(tmp_path / "home", tmp_path / "user-home"), ["status"]),
                      (users_env(tmp_path / "home", tmp_path / "user-home"), ["status", "--json"]),
                      (users_env(small_disk / "home", tmp_path / "user-home"), ["status"])):
        with (small_disk / "cron.log").open("a") as log:
            done = subprocess.run([sys.executable, *child_args(*args)], stdout=log, stderr=subprocess.PIPE,
                                  text=True, env=env, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip() == ("localrag: cannot write the command's output: the disk it goes to is full "
                                       "(what the command did is done)")


def test_repair_check_reports_on_a_read_only_disk(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = small_disk / "home"
    monkeypatch.setenv("LOCALRAG_HOME", str(home))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hotels.md").write_text("Hotels are capped at 150 euros per night.\n", encoding="utf-8")
    assert run(["ingest", str(docs)]) == 0
    capsys.readouterr()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        # It was refused for want of the writer lock's file: "the disk is read-only", exit 2.
        assert run(["repair", "--check"]) == 0
        assert "no damage found" in capsys.readouterr().out
        assert run(["repair"]) == 2  # a repair writes: still refused, in one line
        assert "the disk is read-only" in _one_line(capsys)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    for index in (home / "data" / "lancedb").glob("chunks.lance/_indices/*/part_0_invert.lance"):
        index.write_bytes(index.read_bytes()[:10])
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        assert run(["repair", "--check"]) == 1
        assert "damaged: the FTS index on chunks.fts_text is unreadable" in capsys.readouterr().out
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


def test_a_backup_on_a_read_only_disk_is_searched_asked_and_checked(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backup (no models folder, no cache) mounted read-only: `search`, `ask` and `repair --check` were refused
    "models: the disk is read-only", then "data/cache", for folders they only make; the embedder's export, which
    its cache cannot take, is made once under the temp folder and said so."""
    import tempfile

    from localrag.embed_onnx import export_dir
    from localrag.models import bundled_embedder_path

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "light.md").write_text("Zephyrine is the code name of the lighthouse restoration, led by Anna.\n",
                                   encoding="utf-8")
    assert run(["ingest", str(docs)]) == 0
    assert run(["backup", str(small_disk)]) == 0
    capsys.readouterr()
    backup = next(small_disk.glob("localrag-backup-*"))
    monkeypatch.setenv("LOCALRAG_HOME", str(backup))
    monkeypatch.delenv("LOCALRAG_CACHE_DIR")  # the cache is the backup's own data/cache, which it left out
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    before = sorted(str(p.relative_to(backup)) for p in backup.rglob("*"))
    assert "models" not in before and "data/cache" not in before
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        assert run(["search", "Zephyrine"]) == 0
        captured = capsys.readouterr()
        assert "lighthouse restoration" in captured.out
        made = temp / f"localrag-{os.getuid()}-cache" / "onnx" / export_dir(bundled_embedder_path()).name
        assert [line for line in captured.err.splitlines() if "ONNX export" in line] == [
            f"localrag: the embedder's ONNX export cannot be kept in {backup / 'data' / 'cache'} (the disk is "
            f"read-only): it is made in {made} instead, once while that folder lasts; LOCALRAG_CACHE_DIR names a "
            "cache folder on a writable disk"], captured.err
        assert (made / "model.onnx").is_file()
        assert run(["ask", "--extract", "What is Zephyrine?"]) == 0  # the export found in the temp folder, unsaid
        captured = capsys.readouterr()
        assert "led by Anna" in captured.out and "ONNX export" not in captured.err
        assert run(["repair", "--check"]) == 0
        assert "no damage found" in capsys.readouterr().out
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert sorted(str(p.relative_to(backup)) for p in backup.rglob("*")) == before
