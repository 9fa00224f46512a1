"""Time from a fresh interpreter to the chat app's first frame, with the real (lazy) Engine.

    .venv/bin/python benchmarks/bench_tui_start.py [--runs 5]

Each run is a new process: it imports the app, builds it with `create_app()` (the same factory the
CLI uses), and waits for the first frame under Textual's headless driver. Heavy libraries load in a
worker after that frame; the script also reports whether any were already imported at that point.
Goal (issue 4): under one second.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import time
started = time.perf_counter()
import asyncio, sys
from localrag.tui.app import create_app
imported = time.perf_counter() - started

async def main():
    app = create_app()
    async with app.run_test(size=(120, 40)):
        # run_test hands over once the app is running and its first screen is mounted and painted.
        elapsed = time.perf_counter() - started
        heavy = [m for m in ("torch", "llama_cpp", "lancedb", "sentence_transformers") if m in sys.modules]
        print(f"{elapsed:.3f} {imported:.3f} {','.join(heavy) or '-'}")
        app.exit()

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                                 env={"LOCALRAG_HOME": home, "PATH": "/usr/bin:/bin"}).stdout.split()
        times.append(float(out[0]))
        print(f"first frame after {out[0]} s (imports {out[1]} s); heavy modules loaded by then: {out[2]}")
    print(f"median {statistics.median(times):.3f} s over {args.runs} runs (goal < 1 s)")


if __name__ == "__main__":
    main()
