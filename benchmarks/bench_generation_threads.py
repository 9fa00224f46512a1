"""llama.cpp's thread count when other work holds a core: answer speed by threads, idle and beside a busy core.

    .venv/bin/python benchmarks/bench_generation_threads.py [--repeats N] [--summary S]

llama.cpp's threads meet at a barrier after every layer, and they spin while they wait. When another
process holds one of the cores, a thread that shares it is descheduled for a time slice at a time and
every other thread spins until it comes back. This measures the bundled SmolLM2-135M answering the
bench_generation RAG prompt (four sources, ~400 tokens) with n_threads 1..cores and with n_threads 0 (the
cores free when the answer starts, checked before every answer here: THREADS_RECHECK_S set to 0, so the
0.1 s sample is inside its time to the first token), (a) on an idle machine
and (b) beside `--busy` processes that each spin one core (plain Python loops), the way an ingest, a
build or a browser tab does. Prompt cache cleared before every run; medians of `--repeats`; time to the
first token (prompt reading) and decoding tokens/s as `GenerationStats` reports them, and whether every run
wrote the same answer whatever its thread count (greedy decoding).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_generation import N_CTX, QUESTION, make_hits  # noqa: E402

import localrag.generate as generate_module  # noqa: E402
from localrag.answer import build_messages  # noqa: E402
from localrag.generate import LlamaGenerator  # noqa: E402
from localrag.models import bundled_generator_path  # noqa: E402
from localrag.types import GenerationStats  # noqa: E402

NEW_TOKENS = 64


def _spin() -> None:
    while True:
        pass


def _messages(generator: LlamaGenerator) -> list[dict[str, str]]:
    return build_messages(QUESTION, make_hits(), generator, max_answer_tokens=NEW_TOKENS)[0]


def _run(generator: LlamaGenerator, messages: list[dict[str, str]]) -> tuple[float, float, int, str]:
    generator.forget_prompt_cache()
    stats = GenerationStats()
    text = "".join(generator.stream_chat(messages, max_tokens=NEW_TOKENS, temperature=0.0, stats=stats))
    return stats.time_to_first_token, stats.tokens_per_second, stats.threads, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=1, help="processes spinning one core each in condition (b)")
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    generate_module.THREADS_RECHECK_S = 0.0
    model = bundled_generator_path()
    generators = {str(n): LlamaGenerator(model, n_ctx=N_CTX, n_threads=n) for n in range(1, cores + 1)}
    generators["free cores"] = LlamaGenerator(model, n_ctx=N_CTX, n_threads=0)
    messages = _messages(generators["1"])
    for generator in generators.values():
        _run(generator, messages)  # load, and warm the caches
    rows, texts = [], set()
    for condition in ("idle", f"{args.busy} core(s) busy"):
        spinners = []
        if condition != "idle":
            spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
            for spinner in spinners:
                spinner.start()
            time.sleep(1.0)
        try:
            for threads, generator in generators.items():
                runs = [_run(generator, messages) for _ in range(args.repeats)]
                texts |= {r[3] for r in runs}
                rows.append({
                    "condition": condition, "threads": threads, "threads_used": sorted({r[2] for r in runs}),
                    "first_token_s": round(statistics.median(r[0] for r in runs), 3),
                    "decode_tok_s": round(statistics.median(r[1] for r in runs), 1),
                    "first_token_s_max": round(max(r[0] for r in runs), 3),
                })
                print(json.dumps(rows[-1]), flush=True)
        finally:
            for spinner in spinners:
                spinner.terminate()
    summary = {"cores": cores, "repeats": args.repeats, "new_tokens": NEW_TOKENS,
               "prompt_tokens": generators["1"].prompt_tokens(messages), "rows": rows,
               "one_answer_text_for_every_thread_count": len(texts) == 1,
               "load_average_after": os.getloadavg()[0]}
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
