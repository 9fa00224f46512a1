"""Reading a GGUF base: for fine-tuning (transformers' own three parses against localrag's one) and for export
(gguf's GGUFReader against `read_base_gguf`).

    .venv/bin/python benchmarks/bench_gguf_base.py [--model PATH] [--rounds 2]

`localrag.tune.base` converts a GGUF base into a Hugging Face folder once (then caches it); this times
that read, `_read_gguf`, each way in its own fresh process (so neither finds the other's imports or file
pages warm in Python), alternating the two for `--rounds` rounds:

    transformers   AutoTokenizer / AutoModelForCausalLM.from_pretrained(folder, gguf_file=name) as they are
    one parse      the same two calls inside `_one_parse` (one shared GGUFReader, one tensor-name table)

and checks that both give the same result: every weight tensor equal, and the same tokenizer files byte
for byte. Then the read export makes of the base's key/values and tensor table, in the same way:

    GGUFReader     gguf.GGUFReader(path), as `write_gguf_from_gguf_base` used it
    read_base_gguf localrag.tune.gguf_base.read_base_gguf(path)

(that both read the same is a unit test, tests/unit/test_tune_gguf_base.py). Summary:
benchmarks/summaries/gguf_base.json.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SUMMARIES = Path(__file__).resolve().parent / "summaries"
ROOT = Path(__file__).resolve().parents[1]

# Run in a child: read the base one way, save weights and tokenizer, print the seconds the read took.
CHILD = """
import sys, time, torch
from pathlib import Path
from localrag.tune import base as tune_base
path, way, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
from transformers import AutoModelForCausalLM, AutoTokenizer
tune_base._quiet_transformers()
start = time.perf_counter()
if way == "one-parse":
    model, tokenizer = tune_base._read_gguf(path)
else:
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
seconds = time.perf_counter() - start
torch.save(dict(model.state_dict()), out / "weights.pt")
tokenizer.save_pretrained(out / "tokenizer")
print(seconds)
"""


# Run in a child: read the base's key/values and tensor table one way, print the seconds.
EXPORT_CHILD = """
import sys, time
from pathlib import Path
path, way = Path(sys.argv[1]), sys.argv[2]
import gguf
from localrag.tune.gguf_base import read_base_gguf
start = time.perf_counter()
if way == "read_base_gguf":
    read_base_gguf(path)
else:
    gguf.GGUFReader(path)
print(time.perf_counter() - start)
"""


def read_once(model: Path, way: str, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    return _child(CHILD, str(model), way, str(out))


def _child(code: str, *args: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1"},
    )
    return float(done.stdout.strip().splitlines()[-1])


def same_result(a: Path, b: Path) -> dict[str, bool]:
    import torch

    wa, wb = torch.load(a / "weights.pt"), torch.load(b / "weights.pt")
    weights = wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    compare = filecmp.dircmp(a / "tokenizer", b / "tokenizer")
    files = not (compare.left_only or compare.right_only or compare.diff_files or compare.funny_files)
    return {"weights_equal": bool(weights), "tokenizer_files_equal": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="a GGUF base (default: the bundled SmolLM2)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from localrag.models import bundled_generator_path

    model = Path(args.model).expanduser() if args.model else bundled_generator_path()
    seconds: dict[str, list[float]] = {"transformers": [], "one-parse": []}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for way in seconds:
                took = read_once(model, way, Path(tmp) / f"{way}-{round_}")
                seconds[way].append(round(took, 2))
                print(f"round {round_ + 1}: {way:<12} {took:6.1f} s", flush=True)
        checks = same_result(Path(tmp) / "transformers-0", Path(tmp) / "one-parse-0")
    export_reads: dict[str, list[float]] = {"GGUFReader": [], "read_base_gguf": []}
    for round_ in range(args.rounds):
        for way in export_reads:
            took = _child(EXPORT_CHILD, str(model), way)
            export_reads[way].append(round(took, 3))
            print(f"round {round_ + 1}: {way:<14} {took:6.2f} s", flush=True)
    best = {way: min(times) for way, times in seconds.items()}
    summary: dict[str, Any] = {
        "model": model.name,
        "model_bytes": model.stat().st_size,
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "load_average_before": round(load, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "seconds": seconds,
        "speedup_best_of_rounds": round(best["transformers"] / best["one-parse"], 2),
        **checks,
        "export_read_seconds": export_reads,
    }
    SUMMARIES.mkdir(exist_ok=True)
    (SUMMARIES / "gguf_base.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
