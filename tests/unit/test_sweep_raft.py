"""The RAFT sweep runner resumes after a kill: finished recipes stay in the table once, the rest run.

The benchmark it drives takes hours, so a stand-in script takes its place (it writes the results.json
an eval run writes); the sweep itself, its table files and the kill are real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "benchmarks" / "sweep_raft.py"
STAND_IN = '''
import json, os, sys, time
from pathlib import Path
args = sys.argv[1:]
name, out = args[args.index("--name") + 1], Path(args[args.index("--out") + 1])
with open(os.environ["SWEEP_LOG"], "a") as log:
    log.write(name + (" base-reused" if "--base-records" in args else "") + "\\n")
if os.environ.get("SWEEP_BLOCK") == name:
    time.sleep(120)
(out / "eval").mkdir(parents=True, exist_ok=True)
row = lambda model, v: {"model": model, "figures": {"f1": {"value": v, "low": v - 0.05, "high": v + 0.05, "n": 4}}}
(out / "eval" / "results.json").write_text(json.dumps({
    "headline": "f1", "rows": [row("bundled", 0.2), row(name, 0.25)],
    "differences": [{"value": 0.05, "low": -0.01, "high": 0.11, "n": 4}]}))
'''


def sweep(tmp_path: Path, block: str = "") -> subprocess.Popen[bytes]:
    runner = tmp_path / "stand_in.py"
    runner.write_text(STAND_IN)
    env = {**os.environ, "SWEEP_LOG": str(tmp_path / "calls.log"), "SWEEP_BLOCK": block}
    # Its own session, so the kill below reaches the sweep and the stand-in it is waiting on, nothing else.
    return subprocess.Popen([sys.executable, str(SWEEP), "--out", str(tmp_path / "sweep"), "--runner", str(runner)],
                            env=env, start_new_session=True, stderr=subprocess.DEVNULL)


def test_a_killed_sweep_resumes_without_repeating_finished_recipes(tmp_path: Path) -> None:
    first = sweep(tmp_path, block="sweep-lr1e-4-3ep")
    table = tmp_path / "sweep" / "table.jsonl"
    deadline = time.monotonic() + 60
    log = tmp_path / "calls.log"
    while not log.exists() or "sweep-lr1e-4-3ep" not in log.read_text():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert [json.loads(line)["recipe"] for line in table.read_text().splitlines()] == ["baseline-lr1e-4"]

    second = sweep(tmp_path)
    assert second.wait(timeout=120) == 0
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert [r["recipe"] for r in rows] == ["baseline-lr1e-4", "lr1e-4-3ep", "lr5e-5-3ep", "lr5e-5-3ep-k3-oracle1"]
    calls = log.read_text().splitlines()
    # The finished recipe is not run again; the killed one starts over; later ones reuse the base answers.
    assert calls == ["sweep-baseline-lr1e-4", "sweep-lr1e-4-3ep base-reused", "sweep-lr1e-4-3ep base-reused",
                     "sweep-lr5e-5-3ep base-reused", "sweep-lr5e-5-3ep-k3-oracle1 base-reused"]
    assert rows[0]["difference"]["value"] == 0.05 and rows[0]["figures"]["tuned"] == "25.0 [20.0, 30.0]"
    assert "| lr5e-5-3ep | `--lr 5e-5 --steps 270` | +5.0 [-1.0, +11.0] (f1)" in (table.parent / "table.md").read_text()
