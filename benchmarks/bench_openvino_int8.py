"""OpenVINO int8 on the embedder: does any int8 form encode faster than OpenVINO's float32 on this CPU?

    pip install --target /tmp/nncfpkg nncf          # NNCF makes the int8 models; localrag does not depend on it
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_openvino_int8.py --nncf /tmp/nncfpkg [--chunks 240]
        [--rounds 2] [--threads 2] [--summary benchmarks/summaries/openvino_int8.json]

Issue 13's ingest goal (2x raw sentence-transformers) has a path only through bf16 on a CPU that
multiplies bf16 natively; ONNX Runtime's int8 recipes were not within 0.01 of float ("int8 recipes").
This asks the other int8 route, OpenVINO's, on the machine it runs on. Every form is made by NNCF from
the cached float ONNX export (`ensure_export`) and run through localrag's own `OnnxEmbedder` (OpenVINO
backend, the model file swapped):
- `weights-int8-asym` / `weights-int8-sym`: `nncf.compress_weights`, int8 weights per output channel,
  float activations; `weights-int8-asym-dq32` adds the CPU plugin's dynamic quantization of activations
  in groups of 32 (`DYNAMIC_QUANTIZATION_GROUP_SIZE`), the one setting that makes such a model compute
  in int8 where the plugin supports it.
- `static-int8` / `static-int8-sq`: `nncf.quantize` (model type transformer; the second with SmoothQuant
  at alpha 0.5), calibrated on the bundled sample corpus's windows, never on the texts it is timed on.

Speed: each form embeds the first `--chunks` COVID-QA chunks as ingest cuts them
(`bench_embed_backends.covid`), in alternating rounds; chunks/s is chunks over the summed seconds.
Agreement: cosine of each chunk's vector to the float32 one (min and mean). NNCF's own console output
goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_embed_backends  # noqa: E402

from localrag.embed_onnx import OnnxEmbedder, ensure_export  # noqa: E402
from localrag.ingest.discover import sample_corpus_dir  # noqa: E402
from localrag.models import bundled_embedder_path  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "openvino_int8.json"
DYNAMIC_GROUP = 32


def _calibration_texts() -> list[str]:
    """Overlapping ~1,100-character windows of the bundled sample corpus (59 windows)."""
    texts: list[str] = []
    for path in sorted(sample_corpus_dir().iterdir()):
        text = path.read_text(encoding="utf-8", errors="ignore")
        texts += [text[i:i + 1100] for i in range(0, len(text), 700)]
    return texts


def _make_forms(float_file: Path, folder: Path, out: Path) -> dict[str, Path]:
    import nncf
    import openvino as ov
    from tokenizers import Tokenizer

    core = ov.Core()
    forms = {"float32": float_file}
    for name, mode in (("weights-int8-asym", nncf.CompressWeightsMode.INT8_ASYM),
                       ("weights-int8-sym", nncf.CompressWeightsMode.INT8_SYM)):
        forms[name] = out / f"{name}.xml"
        ov.save_model(nncf.compress_weights(core.read_model(float_file), mode=mode), forms[name],
                      compress_to_fp16=False)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    model = core.read_model(float_file)
    inputs = {port.get_any_name() for port in model.inputs}

    def feed(text: str) -> dict[str, np.ndarray]:
        encoded = tokenizer.encode(text)
        arrays = {"input_ids": encoded.ids, "attention_mask": encoded.attention_mask,
                  "token_type_ids": encoded.type_ids}
        return {name: np.array([ids], dtype=np.int64) for name, ids in arrays.items() if name in inputs}

    calibration = _calibration_texts()
    dataset = nncf.Dataset(calibration, feed)
    for name, extra in (("static-int8", {}),
                        ("static-int8-sq", {"advanced_parameters": nncf.AdvancedQuantizationParameters(
                            smooth_quant_alphas=nncf.AdvancedSmoothQuantParameters(matmul=0.5))})):
        forms[name] = out / f"{name}.xml"
        quantized = nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(calibration), **extra)
        ov.save_model(quantized, forms[name], compress_to_fp16=False)
    forms["weights-int8-asym-dq32"] = forms["weights-int8-asym"]
    return forms


def _embedder(folder: Path, model_file: Path, threads: int, dynamic_group: int | None) -> OnnxEmbedder:
    import openvino as ov

    if dynamic_group is not None:
        # The one knob OnnxEmbedder's runtime does not set: passed through for this form only.
        compile_model = ov.Core.compile_model

        def with_group(core: Any, model: Any, device: Any = "CPU", config: dict[str, Any] | None = None) -> Any:
            grouped = {**(config or {}), "DYNAMIC_QUANTIZATION_GROUP_SIZE": dynamic_group}
            return compile_model(core, model, device, grouped)

        ov.Core.compile_model = with_group
    try:
        embedder = OnnxEmbedder(folder, backend="openvino", onnx_file=model_file, threads=threads)
        embedder.embed(["warm-up"])
    finally:
        if dynamic_group is not None:
            ov.Core.compile_model = compile_model
    return embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nncf", type=Path, required=True, help="folder NNCF was installed into (pip --target)")
    parser.add_argument("--chunks", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    sys.path.append(str(args.nncf))  # after the venv's packages, so NNCF's own copies of numpy etc. are not used

    folder = bundled_embedder_path()
    float_file = ensure_export(folder, "openvino")
    with tempfile.TemporaryDirectory() as tmp:
        forms = _make_forms(float_file, folder, Path(tmp))
        embedders = {name: _embedder(folder, path, args.threads, DYNAMIC_GROUP if name.endswith("-dq32") else None)
                     for name, path in forms.items()}
        texts = bench_embed_backends.covid(embedders["float32"])[2][:args.chunks]
        seconds = dict.fromkeys(embedders, 0.0)
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.rounds):
            for name, embedder in embedders.items():
                start = time.perf_counter()
                vectors[name] = embedder.embed(texts)
                seconds[name] += time.perf_counter() - start
    reference = vectors["float32"] / np.linalg.norm(vectors["float32"], axis=1, keepdims=True)
    rows = {}
    for name, found in vectors.items():
        cosine = (found / np.linalg.norm(found, axis=1, keepdims=True) * reference).sum(axis=1)
        rows[name] = {"chunks_per_s": round(args.rounds * len(texts) / seconds[name], 2),
                      "vs_float32": round(seconds["float32"] / seconds[name], 3),
                      "cosine_min": round(float(cosine.min()), 4), "cosine_mean": round(float(cosine.mean()), 5)}
        print(f"{name:24s} {rows[name]['chunks_per_s']:6.1f} chunks/s  {rows[name]['vs_float32']:.2f}x float32  "
              f"cosine min {rows[name]['cosine_min']:.4f} mean {rows[name]['cosine_mean']:.5f}")
    cpu_flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), [])
    summary = {"chunks": len(texts), "rounds": args.rounds, "threads": args.threads, "forms": rows,
               "cpu_int8_flags": sorted(f for f in cpu_flags if f.startswith(("avx", "amx")) or "vnni" in f),
               "load_average": os.getloadavg()}
    args.summary.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"summary: {args.summary}")


if __name__ == "__main__":
    main()
