"""Watch latency: from a file's save to the moment a search finds it, through `localrag watch`.

    nice -n 10 .venv/bin/python benchmarks/bench_watch.py [--saves N] [--settle S] [--summary PATH]

A real folder watched by `ingest.watch.watch` with the bundled MiniLM and a LanceDB in a temp
LOCALRAG_HOME. Each round writes a new one-page Markdown note (a COVID-QA paragraph of ~2,500
characters, with a unique code word) and polls `Engine.search` every 20 ms until the note is the top
hit for its code word. Reported: median and worst seconds from the save, with the settle time
(the quiet time watch waits so a double save is read once) as part of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COVID = Path(__file__).resolve().parents[2] / "shared/data/covidqa/data/question-answering/200423_covidQA.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--summary", type=Path, default=Path("benchmarks/summaries/watch.json"))
    args = parser.parse_args()
    summary_path = args.summary.resolve()
    articles = [p["context"] for a in json.loads(COVID.read_text())["data"] for p in a["paragraphs"]]
    with tempfile.TemporaryDirectory() as home:
        os.environ["LOCALRAG_HOME"] = home
        from localrag.config import load_settings
        from localrag.engine import Engine
        from localrag.ingest.watch import watch

        folder = Path(home) / "notes"
        folder.mkdir()
        engine = Engine(load_settings())
        engine.embedder.embed(["load the embedder before timing"])
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(target=watch, args=(engine, [folder]),
                                  kwargs={"settle": args.settle, "stop": stop, "ready": ready}, daemon=True)
        thread.start()
        ready.wait()
        latencies = []
        for round_number in range(args.saves):
            code = f"zebracode{round_number}x"
            note = folder / f"note-{round_number}.md"
            saved = time.monotonic()
            note.write_text(f"# Note {round_number}\n\n{code} {articles[round_number][:2500]}\n", encoding="utf-8")
            while True:
                hits = engine.search(code, k=1)
                if hits and hits[0].chunk.path == str(note):
                    break
                time.sleep(0.02)
            latencies.append(time.monotonic() - saved)
            print(f"save {round_number}: searchable after {latencies[-1]:.2f} s", flush=True)
        stop.set()
        thread.join(10)
    load = Path("/proc/loadavg").read_text().split()[:3]
    summary = {"command": " ".join(sys.argv), "cpus": os.cpu_count(), "loadavg_end": load, "settle": args.settle,
               "median_s": round(statistics.median(latencies), 2), "max_s": round(max(latencies), 2),
               "latencies": [round(x, 2) for x in latencies]}
    print(f"median {summary['median_s']} s, worst {summary['max_s']} s (settle {args.settle} s); "
          f"load average {' '.join(load)}")
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
