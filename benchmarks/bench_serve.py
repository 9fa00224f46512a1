"""What `localrag serve` adds to `Engine.ask`: per-request overhead, throughput under 4 clients, memory.

    .venv/bin/python benchmarks/bench_serve.py [--requests 12] [--clients 4]    (LOCALRAG_* settings apply)

The bundled SmolLM2 and MiniLM answer the same question over the sample corpus, in a private
LOCALRAG_HOME. The API server (uvicorn in a thread, the app of `localrag serve`) wraps the same
Engine, whose `ask` is timed inside each request; the overhead of a request is its time at the
client minus that engine time (HTTP, JSON, the queue, the thread hop), so generation time and its
noise cancel out. Each pass alternates a direct `Engine.ask` and an API request.
Throughput: `--clients` threads send `--requests` requests in all, against the same number asked
one after another directly; one model answers one request at a time, so the ceiling is the direct
rate. Memory: the process's resident set with both models loaded and after the runs.
Writes benchmarks/summaries/serve.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _scratch import scratch_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUESTION = "When was the Kestrel Point lighthouse first lit?"
SUMMARY = Path(__file__).resolve().parent / "summaries" / "serve.json"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(port: int, body: dict[str, Any]) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    os.environ["LOCALRAG_HOME"] = scratch_dir(prefix="bench-serve-")

    import uvicorn

    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir
    from localrag.serve.http import create_app
    from localrag.serve.limits import Limits

    engine = Engine(load_settings())
    engine.ingest([sample_corpus_dir()])
    engine.warm_up()
    engine.ask(QUESTION)  # first answer fills llama.cpp's caches; not counted
    rss_loaded = rss_mb()

    engine_seconds: list[float] = []
    ask = engine.ask

    def timed_ask(*a: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        answer = ask(*a, **kw)
        engine_seconds.append(time.perf_counter() - started)
        return answer

    served = Engine(engine.settings, embedder=engine.embedder, generator=engine.generator, store=engine.store)
    served.ask = timed_ask  # type: ignore[method-assign]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(served, limits=Limits(queue_size=64)), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    body = {"model": "any", "messages": [{"role": "user", "content": QUESTION}]}

    direct: list[float] = []
    api: list[float] = []
    overhead: list[float] = []
    for _ in range(args.requests):
        started = time.perf_counter()
        engine.ask(QUESTION)
        direct.append(time.perf_counter() - started)
        status, seconds = post(port, body)
        assert status == 200, status
        api.append(seconds)
        overhead.append(seconds - engine_seconds[-1])

    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        statuses = list(pool.map(lambda _: post(port, body)[0], range(args.requests)))
    concurrent_seconds = time.perf_counter() - started
    assert statuses == [200] * args.requests, statuses
    server.should_exit = True
    thread.join(10)

    sequential_rate = args.requests / sum(direct)
    summary = {
        "command": " ".join([*(f"{k}={v}" for k, v in sorted(os.environ.items())
                                if k.startswith("LOCALRAG_") and k != "LOCALRAG_HOME"),
                              f"benchmarks/bench_serve.py --requests {args.requests} --clients {args.clients}"]),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "model": engine.model_name(),
        "settings": {"n_threads": engine.settings.n_threads, "top_k": engine.settings.top_k,
                     "max_answer_tokens": engine.settings.max_answer_tokens},
        "requests": args.requests,
        "engine_ask_p50_s": round(statistics.median(direct), 3),
        "api_request_p50_s": round(statistics.median(api), 3),
        "api_overhead_p50_ms": round(1000 * statistics.median(overhead), 2),
        "api_overhead_max_ms": round(1000 * max(overhead), 2),
        "clients": args.clients,
        "throughput_concurrent_rps": round(args.requests / concurrent_seconds, 3),
        "throughput_direct_sequential_rps": round(sequential_rate, 3),
        "throughput_ratio": round(args.requests / concurrent_seconds / sequential_rate, 3),
        "rss_models_loaded_mb": round(rss_loaded),
        "rss_after_runs_mb": round(rss_mb()),
    }
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
