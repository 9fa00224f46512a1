"""bf16 encoding through a traced graph with oneDNN Graph fusion, beside sentence-transformers' float32 and bf16.

    .venv/bin/python benchmarks/bench_bf16_traced.py [--articles 40] [--chunks 512] [--rounds 2] [--threads 1]
        [--summary benchmarks/summaries/bf16_traced.json]

The question: attention is about a third of `torch-bf16`'s encoding time on a CPU without AMX and runs no
faster in bf16 than in float32 ("bf16 encoding, operator by operator" in benchmarks/README.md). oneDNN Graph
fuses the whole attention block of a traced, frozen TorchScript graph into one bf16 kernel. Does that lift
the encoding rate enough for a whole ingest to pass 2x raw float32 encoding, and what does the first pass
(the graph's profiling and compilation for each new input shape) cost?

The texts are what `Engine.ingest` of the first `--articles` COVID-QA articles embeds (bench_bf16_ops.py).
Each path encodes the first `--chunks` of them in sentence-transformers' order (longest first, batches of
32, each padded to its longest text), through the same tokenizer, pooling and normalisation (the
model's own modules after the transformer): float32 and bf16 weights in eager mode (the `torch` and
`torch-bf16` backends), and the bf16 model traced and frozen, with eager attention, which oneDNN Graph can
fuse. Seconds are CPU seconds of the process (all of its threads), so a shared machine's load moves them
less than wall time. The traced path's first pass is reported apart: it includes the graph's compilation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_bf16_ops  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "bf16_traced.json"
BATCH = 32


def batches(model: Any, texts: list[str]) -> list[dict[str, Any]]:
    """sentence-transformers' batches: longest text first, each batch tokenized and padded on its own."""
    ordered = sorted(texts, key=len, reverse=True)
    return [model.preprocess(ordered[i : i + BATCH]) for i in range(0, len(ordered), BATCH)]


def pooled(model: Any, token_embeddings: Any, features: dict[str, Any]) -> Any:
    """The model's modules after the transformer (pooling, normalisation) on its token embeddings."""
    import torch

    out = {"token_embeddings": token_embeddings, "attention_mask": features["attention_mask"]}
    for module in list(model)[1:]:
        out = module(out)
    return torch.nn.functional.normalize(out["sentence_embedding"].float(), dim=-1)


def encode(model: Any, transformer: Callable[[dict[str, Any]], Any], feats: list[dict[str, Any]]) -> tuple[float, Any]:
    import torch

    began = time.process_time()
    with torch.inference_mode():
        vectors = torch.cat([pooled(model, transformer(f), f) for f in feats])
    return time.process_time() - began, vectors


def traced_transformer(model: Any) -> tuple[Callable[[dict[str, Any]], Any], float]:
    """The bf16 transformer traced on a tiny input and frozen, with oneDNN Graph fusion on; and the CPU seconds."""
    import torch
    from transformers import AutoModel

    began = time.process_time()
    folder = str(model_folder())
    inner = AutoModel.from_pretrained(folder, attn_implementation="eager").eval().to(torch.bfloat16)

    class LastHidden(torch.nn.Module):
        def __init__(self, wrapped: Any) -> None:
            super().__init__()
            self.wrapped = wrapped

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.wrapped(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    torch.jit.enable_onednn_fusion(True)
    tiny = model.preprocess(["a b", "c d e f"])
    with torch.no_grad():
        graph = torch.jit.freeze(
            torch.jit.trace(LastHidden(inner).eval(), (tiny["input_ids"], tiny["attention_mask"]), check_trace=False)
        )

    def run(features: dict[str, Any]) -> Any:
        with torch.no_grad():
            return graph(features["input_ids"], features["attention_mask"])

    return run, time.process_time() - began


def model_folder() -> Path:
    from localrag.models import bundled_embedder_path

    return bundled_embedder_path()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    texts = bench_bf16_ops.ingest_texts(args.articles)[: args.chunks]
    models: dict[str, Any] = {}
    for kind in ("float32", "bf16"):
        model = SentenceTransformer(str(model_folder()), device="cpu", local_files_only=True)
        models[kind] = model.to(torch.bfloat16) if kind == "bf16" else model
    feats = batches(models["float32"], texts)

    def eager(kind: str) -> Callable[[dict[str, Any]], Any]:
        auto = models[kind][0].auto_model
        return lambda f: auto(input_ids=f["input_ids"], attention_mask=f["attention_mask"]).last_hidden_state

    traced, trace_s = traced_transformer(models["bf16"])
    load = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    first_s, _ = encode(models["bf16"], traced, feats)
    paths = {"float32": eager("float32"), "bf16": eager("bf16"), "bf16_traced": traced}
    seconds = dict.fromkeys(paths, 0.0)
    vectors: dict[str, Any] = {}
    for _ in range(args.rounds):
        for kind, transformer in paths.items():
            spent, vectors[kind] = encode(models["bf16" if kind != "float32" else "float32"], transformer, feats)
            seconds[kind] += spent
    load.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    rate = {kind: args.rounds * len(texts) / s for kind, s in seconds.items()}
    reference = vectors["float32"]
    summary = {
        "command": " ".join(["benchmarks/bench_bf16_traced.py", *sys.argv[1:]]),
        "chunks": len(texts),
        "shapes": sorted({tuple(f["input_ids"].shape) for f in feats}),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_average_start_end": load,
        "chunks_per_cpu_s": {kind: round(r, 2) for kind, r in rate.items()},
        "vs_float32": {kind: round(r / rate["float32"], 2) for kind, r in rate.items()},
        "traced_vs_bf16": round(rate["bf16_traced"] / rate["bf16"], 2),
        "trace_and_freeze_cpu_s": round(trace_s, 2),
        "traced_first_pass_cpu_s": round(first_s, 2),
        "traced_later_pass_cpu_s": round(seconds["bf16_traced"] / args.rounds, 2),
        "cosine_to_float32_min": {
            kind: round(float((v * reference).sum(1).min()), 6) for kind, v in vectors.items() if kind != "float32"
        },
    }
    print(json.dumps(summary, indent=2))
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
