"""Export time and peak memory for the bundled 135M model, beside llama.cpp's reference converter.

What it measures, each in a fresh subprocess so the times include imports and the peak RSS is that
process's own (from wait4):

    export     `export_model` end to end on a finished run (a LoRA with random B on the bundled
               SmolLM2): load base + adapter, merge, F16 GGUF, verify, quantize Q8_0, verify, install
               (goal <= 60 s). The base's one-time GGUF -> HF conversion is cached first, as the
               fine-tune that made the run would have done.
    writer     our F16 writer alone on the merged model saved with save_pretrained (HF-folder path):
               load the folder, write F16 GGUF.
    reference  llama.cpp's convert_hf_to_gguf.py --outtype f16 on the same merged folder, run from a
               temporary copy with its own gguf-py (goal: writer <= 1.5x its time). Skipped when the
               script is not given; it ships in the llama-cpp-python sdist:

        pip download --no-binary :all: --no-deps llama-cpp-python==0.3.36 -d /tmp/sdist
        tar xzf /tmp/sdist/llama_cpp_python-0.3.36.tar.gz -C /tmp/sdist
        .venv/bin/python benchmarks/bench_export.py \\
            --reference /tmp/sdist/llama_cpp_python-0.3.36/vendor/llama.cpp/convert_hf_to_gguf.py

Runs alternate (writer, reference, writer, ...) so load from other processes hits both alike; the
median is reported. It also checks that our F16 tensors equal the reference converter's.
`--quick` runs each measurement once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MAKE_RUN = r"""
import json, sys, torch
from pathlib import Path
from peft import LoraConfig, get_peft_model
from localrag.models import bundled_generator_path
from localrag.tune.base import base_sha256, load_base
run, merged_dir = Path(sys.argv[1]), Path(sys.argv[2])
base = bundled_generator_path()
model, tokenizer = load_base(base)
torch.manual_seed(0)
targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
peft_model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets))
for name, p in peft_model.named_parameters():
    if "lora_B" in name:
        torch.nn.init.normal_(p, std=0.02)
peft_model.save_pretrained(run / "adapter")
record = {"status": "done", "base": {"path": str(base), "sha256": base_sha256(base), "architecture": "llama"},
          "config": {"lora_r": 16, "lora_alpha": 32}, "data": {"hash": "bench"}, "backend": "peft"}
(run / "run.json").write_text(json.dumps(record))
merged = peft_model.merge_and_unload()
merged.save_pretrained(merged_dir)
tokenizer.save_pretrained(merged_dir)
"""

EXPORT = r"""
import json, sys, time
from pathlib import Path
from localrag.tune.export import export_model
stages, start = {}, time.monotonic()
def progress(stage, fraction):
    stages.setdefault(stage, round(time.monotonic() - start, 2))
r = export_model(Path(sys.argv[1]), "bench", models_dir=Path(sys.argv[2]), quant="Q8_0", progress=progress)
print(json.dumps({"seconds": r.seconds, "agreement_f16": r.agreement_f16, "agreement_quant": r.agreement_quant,
                  "perplexity_f16": r.perplexity_f16, "perplexity_quant": r.perplexity_quant,
                  "perplexity_merged": r.reference_perplexity, "stages": stages}))
"""

WRITER = r"""
import sys
from pathlib import Path
from localrag.tune.base import load_base
from localrag.tune.gguf_writer import write_f16_gguf
model, _ = load_base(Path(sys.argv[1]))
write_f16_gguf(model, Path(sys.argv[1]), Path(sys.argv[2]))
"""


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, the child's own peak RSS in MiB from wait4, its stdout)."""
    start = time.perf_counter()
    # stderr goes to a file: llama.cpp's quantize log could fill a pipe nobody reads while stdout is read.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{err.read().decode(errors='replace')[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, out.decode()


def tensors_equal(ours: Path, reference: Path) -> str:
    import gguf
    import numpy as np

    a = {t.name: t for t in gguf.GGUFReader(ours).tensors}
    b = {t.name: t for t in gguf.GGUFReader(reference).tensors}
    if set(a) != set(b):
        return (
            f"tensor sets differ: only ours {sorted(set(a) - set(b))[:3]}, only reference {sorted(set(b) - set(a))[:3]}"
        )
    worst = max(float(np.abs(np.asarray(a[n].data, np.float32) - np.asarray(b[n].data, np.float32)).max()) for n in a)
    return f"{len(a)} tensors, same names; max abs difference {worst:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run of each measurement")
    parser.add_argument("--reference", type=Path, help="llama.cpp's convert_hf_to_gguf.py (from the sdist)")
    parser.add_argument("--no-export", action="store_true", help="only the writer and the reference converter")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "LOCALRAG_HOME": str(tmp / "home"), "PYTHONPATH": str(ROOT)}
        run, merged, models = tmp / "run", tmp / "merged", tmp / "models"
        run.mkdir()
        print("preparing: base conversion (cached), LoRA adapter, merged folder ...", flush=True)
        run_measured([py, "-c", MAKE_RUN, str(run), str(merged)], env)

        exports = []
        for _ in range(0 if args.no_export else repeats):
            seconds, peak, out = run_measured([py, "-c", EXPORT, str(run), str(models)], env)
            exports.append((seconds, peak, json.loads(out.strip().splitlines()[-1])))
        if exports:
            detail = exports[-1][2]
            print(
                f"export Q8_0 end to end: median {statistics.median(s for s, _, _ in exports):.1f} s wall "
                f"(inside export_model {detail['seconds']:.1f} s), peak RSS {max(p for _, p, _ in exports):.0f} MiB"
            )
            print(f"  stage start times (s): {detail['stages']}")
            print(
                f"  agreement F16 {detail['agreement_f16']:.4f}, Q8_0 {detail['agreement_quant']:.4f}; perplexity "
                f"merged {detail['perplexity_merged']:.2f}, F16 {detail['perplexity_f16']:.2f}, "
                f"Q8_0 {detail['perplexity_quant']:.2f}"
            )

        ref_script = None
        if args.reference is not None:
            # The converter imports its sibling packages; copy them so nothing is written beside the original.
            src = args.reference.resolve().parent
            ref_dir = tmp / "llama.cpp"
            ref_dir.mkdir()
            shutil.copy2(args.reference, ref_dir / "convert_hf_to_gguf.py")
            for sub in ("gguf-py", "conversion"):
                if (src / sub).is_dir():
                    shutil.copytree(src / sub, ref_dir / sub)
            ref_script = ref_dir / "convert_hf_to_gguf.py"
            # The llama converter tries sentencepiece first and only falls back to tokenizer.json when
            # there is no tokenizer.model; sentencepiece is not installed here, so a stand-in module lets
            # it reach that fallback exactly as it would with sentencepiece installed.
            (tmp / "stub").mkdir()
            (tmp / "stub" / "sentencepiece.py").write_text("class SentencePieceProcessor:\n    pass\n")
        ref_path = os.pathsep.join([str(tmp / "llama.cpp" / "gguf-py"), str(tmp / "stub")])
        ref_env = {**env, "PYTHONPATH": ref_path, "NO_LOCAL_GGUF": ""}

        ours_runs, ref_runs = [], []
        for _ in range(repeats):
            ours_runs.append(run_measured([py, "-c", WRITER, str(merged), str(tmp / "ours.gguf")], env))
            if ref_script is not None:
                cmd = [py, str(ref_script), str(merged), "--outtype", "f16", "--outfile", str(tmp / "ref.gguf")]
                ref_runs.append(run_measured(cmd, ref_env, cwd=ref_script.parent))
        ours_s = statistics.median(s for s, _, _ in ours_runs)
        print(
            f"writer (merged HF folder -> F16 GGUF): median {ours_s:.1f} s, "
            f"peak RSS {max(p for _, p, _ in ours_runs):.0f} MiB"
        )
        if ref_runs:
            ref_s = statistics.median(s for s, _, _ in ref_runs)
            print(
                f"llama.cpp convert_hf_to_gguf.py --outtype f16: median {ref_s:.1f} s, "
                f"peak RSS {max(p for _, p, _ in ref_runs):.0f} MiB"
            )
            print(f"ratio ours / reference: {ours_s / ref_s:.2f} (goal <= 1.5)")
            print(f"tensors: {tensors_equal(tmp / 'ours.gguf', tmp / 'ref.gguf')}")
        else:
            print("reference converter: skipped (pass --reference PATH/convert_hf_to_gguf.py)")


if __name__ == "__main__":
    main()
