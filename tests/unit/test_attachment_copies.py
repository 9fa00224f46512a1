"""A mail attachment's copy, which its file type's loader reads, lies in localrag's own data folder (0700), and the
copy a killed ingest left is removed by the next ingest and by `forget --purge` (`localrag/ingest/mail.py`)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from localrag import paths
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine

SECRET = b"ZEBRA-5555-SECRET settlement terms of the Orion matter\n"
# Loads an attachment through localrag's own load_attachment, and is killed while its loader reads the copy.
LOADING = ("import sys, time\nfrom localrag.ingest.mail import Attachment, load_attachment\n"
           "def loader(path):\n    print(path, flush=True)\n    time.sleep(60)\n"
           "attachment = Attachment('secret-terms.txt', sys.stdin.buffer.read())\n"
           "load_attachment(attachment, 'm.eml/secret-terms.txt', loader)\n")


def _killed_while_loading() -> Path:
    """The copy a SIGKILLed process left, where it was."""
    child = subprocess.Popen([sys.executable, "-c", LOADING], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(SECRET * 1000)
    child.stdin.close()
    copy = Path(child.stdout.readline().decode().strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert copy.read_bytes().startswith(SECRET)  # left behind: its cleanup never ran
    return copy


def _holding_secret(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and b"ZEBRA-5555" in p.read_bytes()]


def test_a_killed_ingests_attachment_copy_is_under_the_home_and_cleared_by_the_next_ingest(
        localrag_home: Path, tmp_path: Path) -> None:
    # Before, the copy was in /tmp/localrag-mail-*/, readable by the machine's other accounts' tools, for good.
    before = set(Path(tempfile.gettempdir()).glob("localrag-mail-*"))
    copy = _killed_while_loading()
    assert copy.is_relative_to(paths.scratch_dir()) and copy.parent.parent == paths.scratch_dir()
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    assert set(Path(tempfile.gettempdir()).glob("localrag-mail-*")) == before
    (tmp_path / "note.txt").write_text("The canteen is on the second floor.\n", encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    assert engine.ingest([tmp_path / "note.txt"]).added == 1
    assert not copy.parent.exists() and _holding_secret(localrag_home) == []


def test_a_purge_clears_a_killed_ingests_attachment_copy(localrag_home: Path, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("The canteen is on the second floor.\n", encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([tmp_path / "note.txt"])
    copy = _killed_while_loading()
    engine.forget(tmp_path / "note.txt", purge=True)
    assert not copy.parent.exists() and _holding_secret(localrag_home) == []


def test_a_running_ingests_copy_is_left_alone(localrag_home: Path) -> None:
    # The folder is named by its process: one still running is another ingest's, reading it now.
    from localrag.ingest.mail import clear_dead_copies

    alive = paths.scratch_dir() / f"mail-{os.getpid()}-abc"
    alive.mkdir(parents=True)
    assert clear_dead_copies() == [] and alive.is_dir()
