"""A second Ctrl-C or SIGTERM ends the process even when an exit handler never returns (LanceDB's runtime
shutdown, after one of its threads panicked for want of memory): it printed "localrag: interrupted" and stayed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import atexit, sys, threading
from rich.console import Console
from localrag.cli.cancellable import run_cancellable

atexit.register(lambda: threading.Event().wait())  # runs last (atexit is last in, first out), and never returns
atexit.register(lambda: open(sys.argv[1], "w").write("ran"))  # a handler that returns still runs
print("ready", flush=True)
run_cancellable(lambda cancel: threading.Event().wait(), Console(stderr=True), "stopping")  # a write never answered
"""


def test_a_second_signal_quits_with_130_although_an_exit_handler_never_returns(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ran)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(0.5)  # inside the wait, its SIGTERM handler set
        child.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = child.wait(timeout=20)
        assert code == 130
        assert time.monotonic() - started < 10
        assert ran.read_text() == "ran"
        assert child.stderr is not None and "localrag: interrupted" in child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
