"""Fuzz: one ingest over hundreds of malformed files mixed with good ones, with the real MiniLM and LanceDB.

Zero crashes, no hang, every bad file named once, every good file findable, peak memory bounded.
The default suite runs a small seeded slice (100 inputs); LOCALRAG_FUZZ=1 runs the full set
(LOCALRAG_FUZZ_COUNT inputs for each seed, default 250; seeds 11-14 or LOCALRAG_FUZZ_SEEDS=11,12)
and LOCALRAG_FUZZ_BIG=1 makes the large cases large (a 20 MB single line, a zip that inflates to
1.2 GB). LOCALRAG_FUZZ_SUMMARY=FILE writes the figures as JSON (see benchmarks/README.md).
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from localrag.config import load_settings
from localrag.engine import Engine
from localrag.safe_text import path_text
from localrag.types import IngestReport
from tests.robustness.fuzz_inputs import Case, generate

if TYPE_CHECKING:
    from localrag.embed import SentenceTransformerEmbedder

FULL = os.environ.get("LOCALRAG_FUZZ") == "1"
BIG = os.environ.get("LOCALRAG_FUZZ_BIG") == "1"
SEEDS = tuple(int(s) for s in os.environ.get("LOCALRAG_FUZZ_SEEDS", "11,12,13,14" if FULL else "11").split(","))
COUNT = int(os.environ.get("LOCALRAG_FUZZ_COUNT", "250")) if FULL else 100
# Read at import: the autouse fixture clears LOCALRAG_* variables before each test runs.
SUMMARY = os.environ.get("LOCALRAG_FUZZ_SUMMARY")
HANG_SECONDS = 1800 if BIG else 1200  # a busy 2-core machine needs minutes for 250 files
MEMORY_LIMIT_MB = 1024  # growth of the test process's peak RSS over the ingest, models already loaded
CONTROL = {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)} | {"\u202e"}
_figures: dict[str, Any] = {"inputs": 0, "good": 0, "bad": 0, "crashes": 0, "hangs": 0, "runs": []}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest_with_deadline(engine: Engine, folder: Path) -> IngestReport:
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["report"] = engine.ingest([folder])
        except BaseException as exc:  # a crash is what this test looks for
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    if thread.is_alive():
        _figures["hangs"] += 1
        pytest.fail(f"ingest still running after {HANG_SECONDS}s: a hang")
    if "error" in result:
        _figures["crashes"] += 1
        raise result["error"]
    return result["report"]


def _check(cases: list[Case], report: IngestReport, engine: Engine, seed: int) -> None:
    named = Counter(e.path for e in report.errors)
    stored = {d.path: d for d in engine.documents()}
    for error in report.errors:
        assert not CONTROL & set(error.reason), f"seed {seed}: control character in {error.reason!r}"
        error.reason.encode("utf-8")
    for case in cases:
        key = path_text(case.path)
        where = f"seed {seed}, {case.kind} {key!r}"
        if case.expect == "good":
            assert key in stored and named[key] == 0, f"{where}: good file not indexed ({named[key]} errors)"
            chunks = engine.store.doc_chunks(stored[key].doc_id)
            assert any(case.marker in c.text for c in chunks), f"{where}: marker not in its chunks"
        elif case.expect == "bad":
            assert named[key] == 1 and key not in stored, f"{where}: named {named[key]} times, stored {key in stored}"
        elif case.expect == "blank":  # no text: passed over and named in a note, not failed
            assert key in report.blank_paths and named[key] == 0 and key not in stored, f"{where}: not passed over"
        elif case.expect == "either":
            assert named[key] + (key in stored) == 1, f"{where}: named {named[key]} times, stored {key in stored}"
        else:
            assert named[key] == 0 and key not in stored, f"{where}: should be ignored"
    # Good files are findable by their marker through BM25 (a sample keeps the test fast).
    good = [c for c in cases if c.expect == "good"]
    for case in good[:: max(1, len(good) // 20)]:
        hits = engine.store.text_search(case.marker, 3)
        assert hits and hits[0][0].path == path_text(case.path), f"seed {seed}: {case.marker} not found first"


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_ingest(seed: int, tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir()
    # Lines of many MB make a run embedding-bound (minutes per file on 2 cores) without finding more:
    # their memory is measured one by one in benchmarks/bench_hostile_inputs.py and with LOCALRAG_FUZZ_BIG.
    cases = generate(folder, COUNT, seed, big=BIG, long_line_max=20_000 if FULL else 10_000)
    engine = Engine(load_settings(), embedder=real_embedder)
    real_embedder.token_counts(["warm up"])
    before = _peak_mb()
    started = time.monotonic()
    report = _ingest_with_deadline(engine, folder)
    seconds = time.monotonic() - started
    growth = _peak_mb() - before
    _check(cases, report, engine, seed)
    again = engine.ingest([folder])  # nothing changed: nothing re-read, the same files named
    assert again.added == again.updated == again.removed == 0
    assert Counter(e.path for e in again.errors) == Counter(e.path for e in report.errors)

    kinds = Counter(c.expect for c in cases)
    _figures["inputs"] += len(cases)
    _figures["good"] += kinds["good"]
    _figures["bad"] += len(cases) - kinds["good"]
    _figures["runs"].append({"seed": seed, "inputs": len(cases), "errors_reported": len(report.errors),
                             "indexed": report.added, "seconds": round(seconds, 1),
                             "peak_rss_growth_mb": round(growth, 1), "kinds": dict(Counter(c.kind for c in cases))})
    if SUMMARY:
        Path(SUMMARY).write_text(json.dumps({**_figures, "big": BIG, "load_average": os.getloadavg()}, indent=2))
    assert growth < MEMORY_LIMIT_MB, f"seed {seed}: peak memory grew by {growth:.0f} MB"
