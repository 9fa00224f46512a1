"""`localrag serve` killed (SIGKILL) while a POST /ingest runs leaves the store consistent and resumable.

Slow (a server process that loads both models, then a resumed ingest): it runs with
LOCALRAG_SLOW_TESTS=1. The store's own crash safety is in the default suite
(test_ingest_engine.py::test_sigkill_mid_ingest_then_resume); the server only runs that ingest in a thread.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_ingest_engine import _assert_consistent, _write_corpus

from localrag.engine import Engine

FILES = 60


@pytest.mark.skipif(os.environ.get("LOCALRAG_SLOW_TESTS") != "1", reason="slow: set LOCALRAG_SLOW_TESTS=1")

def test_server_killed_mid_ingest(localrag_home: Path, engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    _write_corpus(folder, FILES)
    env = {**os.environ, "LOCALRAG_COMMIT_CHUNKS": "8", "LOCALRAG_N_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "localrag", "serve", "--port", "0"],
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert "serving" in line, line
        port = int(line.rsplit(":", 1)[1])

        def post() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            try:
                conn.request("POST", "/ingest", body=json.dumps({"paths": [str(folder)]}))
                conn.getresponse().read()
            except OSError:
                pass  # the server dies under it: that is the point

        threading.Thread(target=post, daemon=True).start()
        deadline = time.monotonic() + 240
        while not engine.documents():
            assert time.monotonic() < deadline and server.poll() is None, "the server committed nothing"
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    finally:
        server.kill()

    partial = len(engine.documents())
    assert 0 < partial < FILES, "the ingest finished before the server could be killed"
    _assert_consistent(engine)
    report = engine.ingest([folder])
    assert (report.unchanged, report.added) == (partial, FILES - partial)
    _assert_consistent(engine)
