"""A writer that has to wait for the store's writer lock says for whom (`localrag/writer_lock.py`)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from localrag.writer_lock import tell_waits, writer_lock

HOLD = ("import sys, time\nfrom pathlib import Path\nfrom localrag.writer_lock import writer_lock\n"
        "with writer_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n")


def test_a_writer_behind_another_process_names_it_then_goes_on(tmp_path: Path) -> None:
    # A `forget` behind a long ingest printed nothing for as long as it waited.
    store = tmp_path / "db"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    told: list[str] = []
    done = threading.Event()

    def write() -> None:
        with writer_lock(store):
            done.set()

    tell_waits(told.append)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        waiting = threading.Thread(target=write)
        waiting.start()
        waiting.join(1.0)
        assert not done.is_set()
        assert told == [f"waiting for -c {store} (pid {holder.pid}) to finish writing to the index (Ctrl-C gives up)"]
        holder.kill()
        waiting.join(30)
        assert done.is_set()
        # Nobody holds it now: no second notice.
        with writer_lock(store):
            pass
        assert len(told) == 1
    finally:
        tell_waits(None)
        holder.kill()
        holder.wait()
