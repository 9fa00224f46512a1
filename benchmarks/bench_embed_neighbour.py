"""Float embedding runtimes on an idle machine and beside a busy neighbour, each in a fresh process.

    .venv/bin/python benchmarks/bench_embed_neighbour.py [--backends onnx,openvino] [--rounds 2] [--chunks 300]
        [--summary benchmarks/summaries/embed_neighbour.json]

The embedder takes the cores other processes leave free (`localrag.cpu.worker_threads`), asked once when it
loads; so each measurement is its own process, started after the neighbour (a pure-Python busy loop, one core)
is running. Per backend and round: the threads the rule gave, chunks/s over the first `--chunks` chunk texts an
ingest of 20 COVID-QA articles embeds (one `embed` call, as ingest makes), and the median of 40 single-question
`embed_queries` calls. Backends alternate within a round, so a change in the machine's load hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _scratch import scratch_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SUMMARY = Path(__file__).resolve().parent / "summaries" / "embed_neighbour.json"
QUESTIONS = ["What percentage of people infected with influenza have a viral coinfection?",
             "How many hives are behind the old mill?"] * 20


def measure(backend: str, texts_file: Path) -> dict[str, object]:
    """One backend in this process: load (the thread rule asked now), embed the chunks, then the questions."""
    import numpy as np

    from localrag.embed import load_embedder
    from localrag.models import bundled_embedder_path

    texts = json.loads(texts_file.read_text())
    embedder = load_embedder(bundled_embedder_path(), backend)
    embedder.embed(["warm up"])
    start = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - start
    waits = []
    for question in QUESTIONS:
        start = time.perf_counter()
        embedder.embed_queries([question])
        waits.append(time.perf_counter() - start)
    return {"backend": backend, "threads": getattr(embedder, "session_threads", None),
            "chunks_per_s": round(len(texts) / seconds, 1), "query_p50_ms": round(1000 * float(np.median(waits)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="onnx,openvino")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=300)
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "TEXTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], Path(args.one[1]))))
        return
    from bench_bf16_ops import ingest_texts

    texts_file = Path(scratch_dir(prefix="localrag-neighbour-")) / "texts.json"
    texts_file.write_text(json.dumps(ingest_texts(20)[: args.chunks]))
    runs: list[dict[str, object]] = []
    for neighbour in (False, True):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if neighbour else None
        try:
            time.sleep(1.5)  # the rule's CPU sample must see the neighbour running
            for round_ in range(args.rounds):
                for backend in args.backends.split(","):
                    done = subprocess.run([sys.executable, __file__, "--one", backend, str(texts_file)],
                                          capture_output=True, text=True, check=True)
                    run = {"neighbour": neighbour, "round": round_, **json.loads(done.stdout.strip().splitlines()[-1]),
                           "load_average": os.getloadavg()[0]}
                    runs.append(run)
                    print(json.dumps(run), flush=True)
        finally:
            if busy is not None:
                busy.kill()
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps({"command": " ".join(["benchmarks/bench_embed_neighbour.py", *sys.argv[1:]]),
                                        "chunks": args.chunks, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
