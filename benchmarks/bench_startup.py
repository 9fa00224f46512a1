"""A command's fixed cost: `import lancedb`, and `localrag status` / `search`, with and without the deferred
REST namespace client (localrag/lancedb_import.py).

    .venv/bin/python benchmarks/bench_startup.py [--runs 9] [--summary benchmarks/summaries/startup.json]

Every timing is a fresh interpreter (warm file cache: one untimed run of each first). The sample corpus is
ingested once into a temporary home, then, run after run, the two forms alternate:
- `import lancedb` alone (as before localrag deferred anything) against `import localrag, lancedb`;
- `localrag status` and `localrag search "first lit"` as a user runs them, against the same commands in an
  interpreter that imports the whole client package first (what `import lancedb` cost before the deferral).
Medians, the ratio of the deferred form to the plain one, and the load average at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_PLAIN = "import time; t = time.perf_counter(); import lancedb; print(time.perf_counter() - t)"
IMPORT_DEFERRED = "import time; t = time.perf_counter(); import localrag, lancedb; print(time.perf_counter() - t)"
# The CLI as `localrag` runs it, with the client package imported whole before localrag can defer it.
CLI_WHOLE = ("import sys, runpy, lance_namespace_urllib3_client; sys.argv = ['localrag', *sys.argv[1:]]; "
             "runpy.run_module('localrag', run_name='__main__', alter_sys=True)")
CLI_DEFERRED = ("import sys, runpy; sys.argv = ['localrag', *sys.argv[1:]]; "
                "runpy.run_module('localrag', run_name='__main__', alter_sys=True)")
COMMANDS = {"status": ["status"], "search": ["search", "first lit", "-k", "3"]}


def _printed_seconds(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.split()[-1])


def _wall_seconds(code: str, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], capture_output=True, check=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LOCALRAG_HOME": home}
        subprocess.run([sys.executable, "-m", "localrag", "ingest", str(Path(__file__).parents[1] / "localrag" /
                        "sample_corpus")], capture_output=True, check=True, env=env)
        forms: dict[str, list[float]] = {}

        def timed(name: str, seconds: float) -> None:
            forms.setdefault(name, []).append(seconds)

        for run in range(args.runs + 1):  # run 0 warms the file cache and is not kept
            keep = timed if run else (lambda _name, _seconds: None)
            for first in ((0, 1) if run % 2 else (1, 0)):  # alternate which form goes first
                if first == 0:
                    keep("import lancedb", _printed_seconds(IMPORT_PLAIN, env))
                    for name, cli in COMMANDS.items():
                        keep(f"{name}, client imported whole", _wall_seconds(CLI_WHOLE, cli, env))
                else:
                    keep("import localrag, lancedb", _printed_seconds(IMPORT_DEFERRED, env))
                    for name, cli in COMMANDS.items():
                        keep(f"{name}, client deferred", _wall_seconds(CLI_DEFERRED, cli, env))
    medians = {name: round(statistics.median(values), 3) for name, values in forms.items()}
    pairs = {"import": ("import lancedb", "import localrag, lancedb")}
    pairs |= {name: (f"{name}, client imported whole", f"{name}, client deferred") for name in COMMANDS}
    ratios = {name: round(medians[b] / medians[a], 3) for name, (a, b) in pairs.items()}
    summary = {"runs": args.runs, "cpus": os.cpu_count(), "load_average_start": [round(x, 2) for x in load_start],
               "load_average_end": [round(x, 2) for x in os.getloadavg()], "median_seconds": medians,
               "deferred_over_whole": ratios}
    for name, (a, b) in pairs.items():
        print(f"{name}: {medians[a]:.2f} s -> {medians[b]:.2f} s ({ratios[name]:.2f}x)")
    print(f"load average {summary['load_average_start']} -> {summary['load_average_end']}")
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
