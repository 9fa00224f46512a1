"""Model discovery over a store of 50 models, and `models pull` throughput against curl.

    nice -n 10 .venv/bin/python benchmarks/bench_models.py [--models 50] [--pull-mb 512] [--summary PATH]

Discovery: a temp HOME holds 50 models spread over Ollama (manifests + blobs), LM Studio, GPT4All and
the Hugging Face cache layouts. Each is a hard link to the bundled SmolLM2 GGUF (a real header with a
49k-token vocabulary, the part that costs time; hard links are distinct paths, so nothing is deduplicated
and nothing is copied). Timed: `discover()` with an empty header cache (first run after new models
arrive) and with a warm cache (every later `localrag models` and chat start), median of --runs.
Goal (issue 17): under 200 ms.

Pull: a file of --pull-mb MiB served by `python -m http.server` (its own process) on 127.0.0.1; `pull()`
(streamed, hashed, fsynced, renamed, header checked) against `curl -s -o FILE` of the same URL,
alternating, median of --runs.
Goal: pull >= 0.9x curl's throughput. Load average is recorded: the machine is shared.

Memory: the estimate localrag checks before loading (model_memory.estimate) against the peak resident
memory (VmHWM) of a process that loads the bundled model at that n_ctx and evaluates one prompt, less
the peak of a process that only imports llama_cpp.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
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


def _wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the test server on port {port} did not start")


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
        # The server runs in its own process, so neither client shares an interpreter (or its GIL) with it.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                   "--directory", str(served)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/big.gguf"
        ours, curl = [], []
        try:
            _wait_for_port(port)
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
            server.terminate()
            server.wait()
    mib = size / (1 << 20)
    ours_rate, curl_rate = mib / statistics.median(ours), mib / statistics.median(curl)
    return {"mib": round(mib, 1), "runs": runs, "pull_mib_s": round(ours_rate, 1), "curl_mib_s": round(curl_rate, 1),
            "ratio": round(ours_rate / curl_rate, 3), "goal_ratio": 0.9}


MEMORY_CHILD = r"""
import sys, llama_cpp
llm = llama_cpp.Llama(sys.argv[1], n_ctx=int(sys.argv[2]), n_threads=2, verbose=False)
llm.eval(llm.tokenize(b"Hello, how are you today?"))
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(peak)
"""


def bench_memory(contexts: list[int]) -> list[dict[str, object]]:
    """The estimate against the peak resident memory of a process that loads the bundled model and evaluates."""
    from localrag.discover_models import shape_of
    from localrag.model_memory import estimate

    path = bundled_generator_path()
    baseline = int(subprocess.run([sys.executable, "-c", "import llama_cpp, sys\n"
                                   "print(next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') "
                                   "if l.startswith('VmHWM:')))"], capture_output=True, text=True, check=True).stdout)
    rows = []
    for n_ctx in contexts:
        peak = int(subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(path), str(n_ctx)], capture_output=True,
                                  text=True, check=True).stdout)
        need = estimate(shape_of(path), n_ctx)
        rows.append({"n_ctx": n_ctx, "estimate_mib": round(need.total / 2**20), "kv_mib": round(need.kv_cache / 2**20),
                     "measured_mib": round((peak - baseline) / 2**20)})
    return rows


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
    summary["memory_bundled"] = bench_memory([2048, 8192])
    summary["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(summary, indent=2))
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
