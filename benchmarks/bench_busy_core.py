"""Embedding and reranking beside a busy core: do their threads slow each other down as llama.cpp's do?

    .venv/bin/python benchmarks/bench_busy_core.py [--repeats N] [--summary S]

bench_generation_threads.py found llama.cpp's two threads a tenth as fast as one beside a busy core. This asks
the same of the other two CPU-heavy parts that keep a fixed thread count: the OpenVINO embedder (the default
backend; its threads are chosen once, when it loads) and a torch cross-encoder (the optional reranker; torch's
own thread setting). Each runs with 1 and 2 threads, on an idle machine and beside a process spinning one
core: the bundled MiniLM embeds 256 chunk-sized texts, and a cross-encoder made from the same MiniLM weights
(an untrained scoring head: the time is the same as a trained one's) scores 20 question-chunk pairs, as
`Reranker.rerank` does. Medians of `--repeats`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEXT = "Clean the group head every day: remove the portafilter, run water for five seconds and brush the gasket. "
QUESTION = "How often should the espresso machine be descaled?"


def _spin() -> None:
    while True:
        pass


def _median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch
    from sentence_transformers import CrossEncoder

    from localrag.embed import load_embedder
    from localrag.models import bundled_embedder_path

    texts = [TEXT * 6 + str(i) for i in range(256)]
    pairs = [(QUESTION, TEXT * 8 + str(i)) for i in range(20)]
    embedders = {n: load_embedder(bundled_embedder_path(), "openvino", threads=n) for n in (1, 2)}
    scorer = CrossEncoder(str(bundled_embedder_path()), device="cpu", local_files_only=True, num_labels=1)
    for embedder in embedders.values():
        embedder.embed(texts[:32])
    scorer.predict(pairs[:4], show_progress_bar=False)
    rows = []
    for condition in ("idle", "1 core busy"):
        spinner = None
        if condition != "idle":
            spinner = multiprocessing.Process(target=_spin, daemon=True)
            spinner.start()
            time.sleep(1.0)
        try:
            for threads, embedder in embedders.items():
                seconds = _median_seconds(lambda e=embedder: e.embed(texts), args.repeats)
                rows.append({"part": "openvino embedder", "condition": condition, "threads": threads,
                             "chunks_per_s": round(len(texts) / seconds, 1)})
                print(json.dumps(rows[-1]), flush=True)
            for threads in (1, 2):
                torch.set_num_threads(threads)
                seconds = _median_seconds(lambda: scorer.predict(pairs, batch_size=16, show_progress_bar=False),
                                          args.repeats)
                rows.append({"part": "torch cross-encoder", "condition": condition, "threads": threads,
                             "seconds_for_20_pairs": round(seconds, 3)})
                print(json.dumps(rows[-1]), flush=True)
        finally:
            if spinner is not None:
                spinner.terminate()
    summary = {"cores": os.cpu_count(), "repeats": args.repeats, "rows": rows, "load_average_after": os.getloadavg()[0]}
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
