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


SHORT_OF_MEMORY = """
import re, resource, threading
from rich.console import Console
from localrag.cli.cancellable import run_cancellable

def work(cancel):
    # The state the exit handlers' thread is for: too little memory left to start a thread (its stack).
    size = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read())[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))
    print("ready", flush=True)
    threading.Event().wait()

run_cancellable(work, Console(stderr=True), "stopping")
"""


def test_a_second_signal_quits_with_130_when_no_thread_can_start_for_the_exit_handlers() -> None:
    # "can't start new thread" from the exit handlers' thread left the signal handler as the command's error: a
    # traceback and status 1, never the os._exit(130) after it.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", SHORT_OF_MEMORY], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 130
        assert child.stderr is not None and "Traceback" not in child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
