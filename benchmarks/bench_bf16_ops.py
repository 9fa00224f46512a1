"""Where bf16 encoding's time goes: float32 and bf16 sentence-transformers, operator by operator.

    .venv/bin/python benchmarks/bench_bf16_ops.py [--articles 40] [--chunks 400] [--rounds 2]
        [--summary benchmarks/summaries/bf16_ops.json]

The texts are what `Engine.ingest` of the first `--articles` COVID-QA articles embeds (the chunker with
the default settings and `embedding_text`, as in bench_ingest_backends.py), without writing a store.
The first `--chunks` of them are encoded by the bundled MiniLM in float32 and with bf16 weights (the
`torch-bf16` backend's model), alternating, `--rounds` times each (chunks/s over the summed seconds),
then once more each under torch's profiler: the share of each operator in the encode's CPU time and
its milliseconds per chunk. It answers why a whole ingest with `torch-bf16` stays under 2x raw
encoding when the matrix products alone run about 2.3x faster in bf16.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_ingest_backends  # noqa: E402
from _scratch import scratch_dir

SUMMARY = Path(__file__).resolve().parent / "summaries" / "bf16_ops.json"
OPS = ("aten::addmm", "aten::_scaled_dot_product_flash_attention_for_cpu", "aten::gelu", "aten::copy_",
       "aten::native_layer_norm")


def ingest_texts(articles: int) -> list[str]:
    
    from localrag.config import load_settings
    from localrag.embed import load_embedder
    from localrag.ingest.pipeline import embedding_texts
    from localrag.models import bundled_embedder_path

    corpus = Path(scratch_dir(prefix="localrag-bf16-ops-")) / "corpus"
    bench_ingest_backends.write_corpus(corpus, articles)
    settings = load_settings()
    embedder = load_embedder(bundled_embedder_path(), backend="torch")
    return [text for path in sorted(corpus.iterdir()) for text in embedding_texts(path, embedder, settings)]


def op_shares(model: Any, texts: list[str]) -> dict[str, dict[str, float]]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model.encode(texts, batch_size=32)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    shares: dict[str, dict[str, float]] = {}
    for name in OPS:
        spent = sum(e.self_cpu_time_total for e in events if e.key == name)
        shares[name] = {"share": round(spent / total, 3), "ms_per_chunk": round(spent / 1000 / len(texts), 2)}
    shares["total"] = {"share": 1.0, "ms_per_chunk": round(total / 1000 / len(texts), 2)}
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from localrag.models import bundled_embedder_path

    texts = ingest_texts(args.articles)[: args.chunks]
    models = {}
    for kind in ("float32", "bf16"):
        model = SentenceTransformer(str(bundled_embedder_path()), device="cpu", local_files_only=True)
        if kind == "bf16":
            model.to(torch.bfloat16)
        model.encode(["warm up"] * 4)
        models[kind] = model
    load = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    seconds = dict.fromkeys(models, 0.0)
    for _ in range(args.rounds):
        for kind, model in models.items():
            began = time.perf_counter()
            model.encode(texts, batch_size=32)
            seconds[kind] += time.perf_counter() - began
    shares = {kind: op_shares(model, texts) for kind, model in models.items()}
    load.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    rate = {kind: args.rounds * len(texts) / s for kind, s in seconds.items()}
    summary = {
        "command": " ".join(["benchmarks/bench_bf16_ops.py", *sys.argv[1:]]),
        "chunks": len(texts),
        "torch_threads": torch.get_num_threads(),
        "load_average_start_end": load,
        "chunks_per_s": {kind: round(r, 1) for kind, r in rate.items()},
        "bf16_vs_float32": round(rate["bf16"] / rate["float32"], 2),
        "ops": shares,
    }
    print(json.dumps(summary, indent=2))
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
