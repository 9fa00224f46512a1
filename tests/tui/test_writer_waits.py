"""The chat app says when a write of its waits for another process's writer, as the CLI does."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import wait_for
from fakes import FakeEngine

from localrag.tui.app import LocalRagApp
from localrag.writer_lock import writer_lock

pytestmark = pytest.mark.anyio

HOLD = ("import sys, time\nfrom pathlib import Path\nfrom localrag.writer_lock import writer_lock\n"
        "with writer_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n")


async def test_a_write_behind_another_process_is_told_in_a_notification(tmp_path: Path) -> None:
    """A forget in the Library behind a CLI ingest showed nothing for the minute it waited."""
    store = tmp_path / "db"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store), "ingest", "big"], stdout=subprocess.PIPE,
                              text=True)
    app = LocalRagApp(FakeEngine(), warm_up=False)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        async with app.run_test(size=(100, 30)) as pilot:
            done = threading.Event()

            def write() -> None:  # what the app's forget worker does
                with writer_lock(store):
                    done.set()

            threading.Thread(target=write, daemon=True).start()
            await wait_for(pilot, lambda: any("to finish writing to the index" in n.message
                                              for n in app._notifications), 30)
            told = next(n.message for n in app._notifications if "writing" in n.message)
            assert told.startswith("Waiting for ") and f"(pid {holder.pid})" in told
            holder.kill()
            await wait_for(pilot, done.is_set, 30)
    finally:
        holder.kill()
        holder.wait()
