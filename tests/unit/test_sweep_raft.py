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

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "benchmarks" / "sweep_raft.py"
sys.path.insert(0, str(SWEEP.parent))
from sweep_raft import RECIPES  # noqa: E402

STAND_IN = '''
import json, os, sys, time
from pathlib import Path
args = sys.argv[1:]
name = args[args.index("--name") + 1] if "--name" in args else "base"
out = Path(args[args.index("--out") + 1])
with open(os.environ["SWEEP_LOG"], "a") as log:
    log.write(name + (" base-reused" if "--base-records" in args else "") + "\\n")
if os.environ.get("SWEEP_BLOCK") == name:
    time.sleep(120)
(out / "eval").mkdir(parents=True, exist_ok=True)
figure = lambda v: {"value": v, "low": v - 0.05, "high": v + 0.05, "n": 4}
row = lambda model, v: {"model": model, "figures": {"f1": figure(v), "citation_precision": figure(0.7),
                                                    **({} if model == "bundled" else {"quote_rate": figure(0.4)})}}
rows = [row("bundled", 0.2)] + ([] if name == "base" else [row(name, 0.25), row(name + "+quote", 0.3)])
differences = [{"a": "bundled/rag", "b": r["model"] + "/rag", "value": r["figures"]["f1"]["value"] - 0.2,
                "low": -0.01, "high": 0.11, "n": 4} for r in rows[1:]]
(out / "eval" / "results.json").write_text(json.dumps({"headline": "f1", "questions": 4, "rows": rows,
                                                      "differences": differences}))
'''


def sweep(tmp_path: Path, block: str = "") -> subprocess.Popen[bytes]:
    runner = tmp_path / "stand_in.py"
    runner.write_text(STAND_IN)
    env = {**os.environ, "SWEEP_LOG": str(tmp_path / "calls.log"), "SWEEP_BLOCK": block}
    # Its own session, so the kill below reaches the sweep and the stand-in it is waiting on, nothing else.
    return subprocess.Popen([sys.executable, str(SWEEP), "--out", str(tmp_path / "sweep"), "--runner", str(runner)],
                            env=env, start_new_session=True, stderr=subprocess.DEVNULL)


def test_a_killed_sweep_resumes_without_repeating_finished_recipes(tmp_path: Path) -> None:
    recipes = list(RECIPES)
    first = sweep(tmp_path, block=f"sweep-{recipes[1]}")
    table = tmp_path / "sweep" / "table.jsonl"
    deadline = time.monotonic() + 60
    log = tmp_path / "calls.log"
    while not log.exists() or f"sweep-{recipes[1]}" not in log.read_text():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    # The process doing the work is the stand-in the sweep waits on: kill it, then the sweep.
    stand_in = int(subprocess.run(["pgrep", "-P", str(first.pid)], capture_output=True, text=True).stdout.split()[0])
    os.kill(stand_in, signal.SIGKILL)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert [json.loads(line)["recipe"] for line in table.read_text().splitlines()] == recipes[:1]

    second = sweep(tmp_path)
    assert second.wait(timeout=120) == 0
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert [r["recipe"] for r in rows] == recipes
    calls = log.read_text().splitlines()
    # The base runs once; the finished recipe is not run again; the killed one starts over; all reuse the base.
    assert calls == ["base", f"sweep-{recipes[0]} base-reused", f"sweep-{recipes[1]} base-reused",
                     *[f"sweep-{name} base-reused" for name in recipes[1:]]]
    first_row = {m["model"]: m for m in rows[0]["models"]}
    assert set(first_row) == {"base", f"sweep-{recipes[0]}", f"sweep-{recipes[0]}+quote"}
    assert first_row[f"sweep-{recipes[0]}+quote"]["difference"]["value"] == pytest.approx(0.1)
    assert first_row["base"]["difference"] is None
    md = (table.parent / "table.md").read_text()
    row = ("| short-aw3 | sweep-short-aw3+quote | 30.0 [25.0, 35.0] (f1) | 70.0 [65.0, 75.0] | 40.0 [35.0, 45.0] "
           "| +10.0 [-1.0, +11.0] |")
    assert row in md
