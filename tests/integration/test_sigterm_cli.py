"""SIGTERM (`kill`, `timeout`) stops a command as Ctrl-C does, in a real `localrag` child signalled by its pid."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from network_probe import child_args, users_env

from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir


def test_sigterm_stops_ask_as_ctrl_c_and_the_conversation_keeps_the_answer_cut_short(
    localrag_home: Path, engine: Engine, tmp_path: Path
) -> None:
    # Before 2026-12-07 SIGTERM ended `ask` at once: status 143, not a word, and the conversation held the question
    # with no answer and no mark, where the README promised 130 and the answer so far, marked as cut short.
    engine.ingest([sample_corpus_dir()])
    proc = subprocess.Popen(
        [sys.executable, *child_args("ask", "Describe the history of the Kestrel Point lighthouse in detail",
                                     "--conversation", "new")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=users_env(localrag_home, tmp_path / "user-home"))
    folder = localrag_home / "data" / "conversations"
    deadline = time.monotonic() + 120
    # The question is saved before the model is loaded and the answer written: signalled then, the answer is under way.
    while not (folder.is_dir() and list(folder.glob("*.json"))):
        assert proc.poll() is None and time.monotonic() < deadline, "ask ended, or saved no question"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cut short" in err and "localrag: interrupted" in err
    (saved,) = folder.glob("*.json")
    turns = json.loads(saved.read_text())["turns"]
    assert [turn["role"] for turn in turns] == ["user", "assistant"]
    assert turns[-1]["cancelled"] is True
