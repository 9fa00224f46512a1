"""`search` on a log: the excerpt and the place are the matching line's, on a real LanceDB through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.config import load_settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine

ERROR = "2026-03-05 03:20:00 ERROR could not write WAL segment: No space left on device"


def test_a_logs_error_line_is_shown_and_cited_at_its_line(localrag_home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # `search "No space left on device" -k 1` cited db.log:15 and showed heartbeat lines, the passage's first ones.
    import localrag.cli.common

    log = tmp_path / "db.log"
    heartbeat = "2026-03-05 03:{:02d}:00 INFO worker heartbeat ok queue=12"
    log.write_text("".join(f"{ERROR if n == 21 else heartbeat.format(n - 1)}\n" for n in range(1, 31)))
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([tmp_path])
    monkeypatch.setattr(localrag.cli.common, "engine_from_args", lambda args, **overrides: engine)
    capsys.readouterr()
    assert run(["search", "No space left on device", "-k", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"1. {log}:21" and out[2].startswith(f"   …{ERROR} 2026-03-05 03:21:00 INFO")
    assert run(["search", "No space left on device", "-k", "1", "--json"]) == 0
    (hit,) = json.loads(capsys.readouterr().out)["hits"]
    assert hit["excerpt"]["line"] == 21 and hit["excerpt"]["text"].startswith(f"…{ERROR}")
