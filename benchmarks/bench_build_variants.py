"""Compare two llama-cpp-python builds on the bundled model: prompt and generation tokens/s.

The project builds llama.cpp with `-DGGML_NATIVE=OFF` (portable). This measures whether the
alternative `-DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON` (every CPU variant built, the best one
picked at run time) is faster, by running the same prompt in each interpreter, alternating A and B
so that load from other processes hits both alike.

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON" \\
        /tmp/venv-dl/bin/pip install --no-cache-dir llama-cpp-python==0.3.36
    .venv/bin/python benchmarks/bench_build_variants.py .venv/bin/python /tmp/venv-dl/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=2048, n_threads=2, verbose=False, seed=0)
text = open(sys.argv[2]).read()
prompt = llm.tokenize(text.encode())[:int(sys.argv[3])]
out = []
for _ in range(int(sys.argv[4])):
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    n = 0
    for tok in llm.generate(prompt, temp=0.0, reset=False):
        n += 1
        if n >= 64:
            break
    t2 = time.perf_counter()
    out.append({"prompt_tps": len(prompt) / (t1 - t0), "gen_tps": n / (t2 - t1)})
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("python_a")
    parser.add_argument("python_b")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=400)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from localrag.models import bundled_generator_path

    model = str(bundled_generator_path())
    text_file = next((ROOT / "localrag" / "sample_corpus").glob("*.txt"))
    results: dict[str, list[dict[str, float]]] = {args.python_a: [], args.python_b: []}
    for _ in range(args.rounds):
        for python in (args.python_a, args.python_b):
            raw = subprocess.run(
                [python, "-c", CHILD, model, str(text_file), str(args.prompt_tokens), "3"],
                capture_output=True, text=True, check=True,
            ).stdout
            results[python].extend(json.loads(raw.strip().splitlines()[-1]))
    print(f"{'build':40s} {'prompt tok/s':>13s} {'gen tok/s':>10s}")
    for python, rows in results.items():
        prompt = statistics.median(r["prompt_tps"] for r in rows)
        gen = statistics.median(r["gen_tps"] for r in rows)
        print(f"{python:40s} {prompt:13.0f} {gen:10.1f}")


if __name__ == "__main__":
    main()
