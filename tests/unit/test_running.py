"""Long-running processes leave a mark, and `config set` names them: they keep the settings they started with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.running import Running, running_now

HOLD = ("import time\nfrom localrag.running import marked_running\n"
        "with marked_running('serve --port 8765'):\n    print('running', flush=True)\n    time.sleep(60)\n")


def test_config_set_names_a_running_server_until_it_has_gone(
    localrag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # After `config set top_k 2` a running server went on answering from 4 sources, and nothing said so.
    server = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline() == "running\n"
        assert running_now() == [Running(server.pid, "serve --port 8765")]
        assert run(["config", "set", "top_k", "2"]) == 0
        said = " ".join(capsys.readouterr().err.split())
        assert f"still running with the settings they started with, until started again: localrag serve --port " \
               f"8765 (pid {server.pid})" in said
    finally:
        server.kill()
        server.wait()
    # Killed, it left its mark: the mark of a process that has gone is passed over, and removed.
    assert running_now() == []
    assert run(["config", "set", "top_k", "3"]) == 0
    assert "still running" not in capsys.readouterr().err
    assert not list((localrag_home / "data" / "running").glob("*.json"))


def test_a_killed_process_not_yet_waited_for_is_not_running() -> None:
    # A zombie answered the signal test as if it ran: an eval run killed under a script stayed "running".
    import os
    import signal
    import time

    from localrag.processes import process_alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_alive(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while process_alive(child.pid):  # a zombie at once, not reaped until the wait below
            assert time.monotonic() < deadline, "a zombie counts as running"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()


def test_a_copy_of_the_folder_or_a_pid_given_again_names_no_process(
        localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A backup restored elsewhere carried the marks of the server serving the original: `config set` there named
    # it; once its pid was given again, it named a `sleep`.
    import shutil

    from localrag import paths

    server = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline() == "running\n"
        assert [r.pid for r in running_now()] == [server.pid]
        mark = paths.data_dir() / "running" / f"{server.pid}.json"
        copy = tmp_path / "copy"
        shutil.copytree(localrag_home, copy)
        monkeypatch.setenv("LOCALRAG_HOME", str(copy))
        assert running_now() == []
        monkeypatch.setenv("LOCALRAG_HOME", str(localrag_home))
        said = json.loads(mark.read_text())
        mark.write_text(json.dumps({**said, "started": "1"}))  # as another process that had the pid before
        assert running_now() == [] and not mark.exists()
    finally:
        server.kill()
        server.wait()
