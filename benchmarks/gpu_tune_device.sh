#!/usr/bin/env bash
# Issue 14 section 4 on a lent GPU machine: see benchmarks/gpu_tune.py for the whole procedure.
#
# The machine has no registry, and one call carries at most 64 MiB, so what it needs arrives in two calls
# from an ignored folder .gpu/ of this checkout (benchmarks/README.md, "Unsloth on a GPU"):
#   .gpu/a: the bundled GGUF's first part, the llama-cpp-python build for its Python 3.12
#   .gpu/b: the GGUF's second part and its sha256, unsloth + unsloth_zoo and their missing needs, and
#           tune.tgz (chain.json and the RAFT files the fine-tune stage reads)
# Made here with a Python 3.12 (the machine's): `pip download --no-deps --only-binary=:all: --python-version 3.12
# --platform manylinux_2_28_x86_64 ...` of unsloth, unsloth_zoo, trl, datasets<5, dill, multiprocess, tyro,
# docstring_parser, shtab, typeguard, pydantic, pydantic_core, annotated_types, typing_inspection, msgspec,
# json5, nest_asyncio, structlog, cut_cross_entropy, gguf, peft and bitsandbytes; `pip install --no-deps
# --target` of them, less unsloth's `studio` app and bitsandbytes' libraries for other CUDA versions, tarred
# as siteA.tgz; llama-cpp-python built with CMAKE_ARGS="-DGGML_NATIVE=OFF" and diskcache as siteL.tgz;
# `split` of the GGUF so that each call, with the working tree, stays under 64 MiB.
#   benchmarks/gpu_tune_device.sh stage a      # first call: copy part a to /tmp/stage
#   benchmarks/gpu_tune_device.sh run          # second call: part b, then train, train, export
#   benchmarks/gpu_tune_device.sh run unsloth 540   # or: part b, then one backend within 540 s, no export
#                                                   # (the same adapter exports to the same file here)
# What comes back is in $OUT: machine.txt and one log per step, each ending in its figures as one JSON line.
set -u
stage=/tmp/stage
mkdir -p "$stage"
if [ "${1:-}" = "stage" ]; then
  cp ".gpu/$2"/* "$stage"/
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__)"
  ls -l "$stage"
  exit 0
fi
cp .gpu/b/* "$stage"/
tune=/tmp/dev-tune
mkdir -p "$tune" /tmp/site
tar xzf "$stage/tune.tgz" -C "$tune"
tar xzf "$stage/siteA.tgz" -C /tmp/site
tar xzf "$stage/siteL.tgz" -C /tmp/site
# The base at the absolute path the plan names, so the run record matches the CPU machine's.
base=$(python3 -c "import json; print(json.load(open('$tune/chain.json'))['plan']['base'])")
check() { [ -f "$base" ] && echo "$(cat "$stage/gguf.sha256")  $base" | sha256sum --quiet -c - 2>/dev/null; }
if ! check; then
  mkdir -p "$(dirname "$base")"
  cat "$stage"/gguf.part.* > "$base"
  check || { echo "the reassembled GGUF's sha256 differs"; exit 1; }
fi
export PYTHONPATH="$PWD:/tmp/site" LOCALRAG_HOME=/tmp/dev-home PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/machine.txt"
python3 -c "import torch, transformers, peft, unsloth; print(torch.__version__, transformers.__version__, \
peft.__version__, unsloth.__version__)" >> "$OUT/machine.txt" 2>&1
tail -1 "$OUT/machine.txt"
if [ -n "${2:-}" ]; then
  # One lease has no time for a second start: a backend that fails leaves the rest of the limit to peft.
  deadline=$((SECONDS + ${3:-540}))
  timeout "${3:-540}" python3 benchmarks/gpu_tune.py train --tune-dir "$tune" --backend "$2" --out "/tmp/$2.json" \
    > "$OUT/$2.log" 2>&1
  tail -3 "$OUT/$2.log"
  if [ ! -f "$tune/run/adapter/adapter_config.json" ] && [ "$2" != peft ] && [ $((deadline - SECONDS)) -gt 60 ]; then
    rm -rf "$tune/run"
    timeout $((deadline - SECONDS)) python3 benchmarks/gpu_tune.py train --tune-dir "$tune" --backend peft \
      --out /tmp/peft.json > "$OUT/peft.log" 2>&1
    tail -3 "$OUT/peft.log"
  fi
else
  timeout 280 python3 benchmarks/gpu_tune.py train --tune-dir "$tune" --backend unsloth --out /tmp/unsloth.json \
    > "$OUT/unsloth.log" 2>&1
  tail -3 "$OUT/unsloth.log"
  timeout 160 python3 benchmarks/gpu_tune.py train --tune-dir "$tune" --backend peft --run /tmp/peft-run \
    --out /tmp/peft.json > "$OUT/peft.log" 2>&1
  tail -3 "$OUT/peft.log"
fi
if [ -f "$tune/run/adapter/adapter_config.json" ]; then
  if [ -z "${2:-}" ]; then
    timeout 120 python3 benchmarks/gpu_tune.py export --tune-dir "$tune" --out /tmp/export.json > "$OUT/export.log" 2>&1
    tail -2 "$OUT/export.log"
  fi
  # The run folder without its checkpoints comes back (files of at most 16 MiB each).
  tar czf /tmp/run.tgz -C "$tune" --exclude checkpoints run
  split -b 15m /tmp/run.tgz "$OUT/run.tgz."
fi
ls -l "$OUT"
