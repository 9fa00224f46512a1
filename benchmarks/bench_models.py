"""Model discovery over a store of 50 models, and `models pull` throughput against curl.

    nice -n 10 .venv/bin/python benchmarks/bench_models.py [--models 50] [--pull-mb 512] [--summary PATH]

Discovery: a temp HOME holds 50 models spread over Ollama (manifests + blobs), LM Studio, GPT4All and
the Hugging Face cache layouts. Each is a hard link to the bundled SmolLM2 GGUF (a real header with a
49k-token vocabulary, the part that costs time; hard links are distinct paths, so nothing is deduplicated
and nothing is copied). Timed: `discover()` with an empty header cache (first run after new models
arrive) and with a warm cache (every later `localrag models` and chat start), median of --runs.
Goal (issue 17): under 200 ms.

Pull: a file of --pull-mb MiB served by a ThreadingHTTPServer on 127.0.0.1; `pull()` (streamed, hashed,
renamed, header checked) against `curl -s -o FILE` of the same URL, alternating, median of --runs.
Goal: pull >= 0.9x curl's throughput. Load average is recorded: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "unit"))

from model_stores import gguf_bytes, hf_cache_model, ollama_model  # noqa: E402

from localrag.discover_models import HeaderCache, discover  # noqa: E402
from localrag.model_pull import pull  # noqa: E402
from localrag.models import bundled_generator_path  # noqa: E402


def _link(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(source, target)
    return target


def build_store(home: Path, count: int) -> None:
    bundled = bundled_generator_path()
    quarter = count // 4
    links = home / "links"
    for i in range(quarter):
        # Ollama blobs are content-addressed files; here each is a hard link to the bundled GGUF.
        blob = ollama_model(home / ".ollama" / "models", f"model{i}", "latest", gguf=b"")
        blob.unlink()
        os.link(bundled, blob)
    for i in range(quarter):
        _link(bundled, home / ".lmstudio" / "models" / f"pub{i}" / "repo-GGUF" / f"m{i}-Q4_1.gguf")
    for i in range(quarter):
        _link(bundled, home / ".local" / "share" / "nomic.ai" / "GPT4All" / f"g{i}.gguf")
    hub = home / ".cache" / "huggingface" / "hub"
    for i in range(count - 3 * quarter):
        snapshot = hf_cache_model(hub, "owner", f"repo{i}", {"placeholder.gguf": gguf_bytes()})
        (snapshot / "placeholder.gguf").unlink()
        os.symlink(_link(bundled, links / f"hf{i}.gguf"), snapshot / f"r{i}.gguf")


def bench_discovery(count: int, runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["HOME"] = str(home)
        for name in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ.pop(name, None)
        build_store(home, count)
        cold, warm = [], []
        for run in range(runs):
            cache_file = home / f"index-{run}.json"
            started = time.perf_counter()
            cache = HeaderCache(cache_file)
            found = discover(cache=cache)
            cache.save()
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            again = discover(cache=HeaderCache(cache_file))
            warm.append(time.perf_counter() - started)
            assert len(found) == len(again) == count, (len(found), count)
            assert all(m.architecture == "llama" and not m.error for m in again)
    return {"models": count, "runs": runs, "cold_ms": round(1000 * statistics.median(cold), 1),
            "warm_ms": round(1000 * statistics.median(warm), 1), "goal_ms": 200}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def bench_pull(megabytes: int, runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        served = root / "served"
        served.mkdir()
        data = gguf_bytes()
        payload = served / "big.gguf"
        with payload.open("wb") as f:
            f.write(data)
            block = os.urandom(1 << 20)
            for _ in range(megabytes):
                f.write(block)
        size = payload.stat().st_size
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(served)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/big.gguf"
        ours, curl = [], []
        try:
            for run in range(runs):
                target = root / f"curl-{run}.gguf"
                started = time.perf_counter()
                subprocess.run(["curl", "-s", "--noproxy", "*", "-o", str(target), url], check=True)
                curl.append(time.perf_counter() - started)
                target.unlink()
                models = root / f"models-{run}"
                started = time.perf_counter()
                result = pull(url, models)
                ours.append(time.perf_counter() - started)
                assert result.size == size
                result.path.unlink()
        finally:
            httpd.shutdown()
            httpd.server_close()
    mib = size / (1 << 20)
    ours_rate, curl_rate = mib / statistics.median(ours), mib / statistics.median(curl)
    return {"mib": round(mib, 1), "runs": runs, "pull_mib_s": round(ours_rate, 1), "curl_mib_s": round(curl_rate, 1),
            "ratio": round(ours_rate / curl_rate, 3), "goal_ratio": 0.9}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--pull-mb", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--summary", type=Path, default=Path("benchmarks/summaries/models.json"))
    args = parser.parse_args()
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    summary: dict[str, object] = {"loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    summary["discovery"] = bench_discovery(args.models, args.runs)
    summary["pull"] = bench_pull(args.pull_mb, args.runs)
    summary["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(summary, indent=2))
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
