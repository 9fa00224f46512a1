"""The tune chain's fine-tune stage on a CUDA GPU: Unsloth against transformers + peft, then the export.

Issue 14 section 4. The chain runs here on the CPU up to its fine-tune stage; that stage runs on a lent
GPU machine with this script; the run folder comes back and the chain goes on here (export, verify, gate):

    # here: COVID-QA as a folder of papers and their gold pairs (all 98 papers, or --papers N of them)
    python3 benchmarks/gpu_tune.py corpus --folder F --out F/corpus.json
    localrag ingest F/docs
    # with the `gpu` extra absent, the chain builds the RAFT set and stops at the fine-tune stage:
    localrag tune --name covid-unsloth --qa-file F/qa.jsonl --backend unsloth
    # on the GPU machine: the tune folder anywhere (a run is tied to its data's hash, not its path), the base
    # GGUF at the plan's absolute path (the run records it, and export here reads it from there):
    python3 benchmarks/gpu_tune.py train --tune-dir DIR --backend unsloth --out OUT/unsloth.json
    python3 benchmarks/gpu_tune.py train --tune-dir DIR --backend peft --run /tmp/peft-run --out OUT/peft.json
    python3 benchmarks/gpu_tune.py export --tune-dir DIR --models /tmp/models --out OUT/export.json
    # here again: DIR/run replaced by the GPU's run folder, and the same `localrag tune` command resumes
    # then, for a gate that ran before it scored it: the sources' best sentence (`ask --extract`, no model)
    python3 benchmarks/gpu_tune.py extract --tune-dir DIR --out OUT/extract.json

`train` runs `finetune()` with the plan's own configuration (chain.json), only the backend set, so the
run folder passes the chain's same-run check when it comes back. Each backend trains in a process of
its own: Unsloth patches transformers when it is imported, which would change the peft run beside it.
Steps/s counts from the first finished step to the last (model loading and Unsloth's compilation
excluded, validation passes included for both); the JSON also holds the whole call's seconds, the
final losses and the peak GPU memory.

`export` merges the run's adapter into the base, writes and quantizes the GGUF as `tune` does, and prints
its sha256: the same adapter exported on the CPU machine must give the same file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _plan(tune_dir: Path) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((tune_dir / "chain.json").read_text(encoding="utf-8"))["plan"]
    return plan


def _gpu() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"gpu": None, "torch": torch.__version__}
    return {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
            "peak_gpu_bytes": int(torch.cuda.max_memory_allocated())}


def train(tune_dir: Path, backend: str, run: Path | None, steps: int | None = None) -> dict[str, Any]:
    from localrag.tune.config import FinetuneConfig
    from localrag.tune.finetune import TrainProgress, finetune

    plan = _plan(tune_dir)
    config = dataclasses.replace(FinetuneConfig.from_json(plan["finetune"]), backend=backend)
    if steps is not None:
        config = dataclasses.replace(config, steps=steps, eval_every=steps, save_every=steps)
    marks: list[tuple[int, float]] = []

    def on_step(p: TrainProgress) -> None:
        if p.step and (not marks or marks[-1][0] != p.step):
            marks.append((p.step, time.perf_counter()))
        if p.step and (p.step % 25 == 0 or p.step == p.total):
            print(f"{backend}: step {p.step}/{p.total} loss {p.loss} val {p.val_loss}", flush=True)

    started = time.perf_counter()
    result = finetune(tune_dir / "raft", run or tune_dir / "run", Path(plan["base"]), config, progress=on_step)
    (first, t_first), (last, t_last) = marks[0], marks[-1]
    return {
        "backend": result.backend,
        "steps": result.steps,
        "steps_per_second": (last - first) / (t_last - t_first) if last > first else None,
        "call_seconds": time.perf_counter() - started,
        "train_loss": result.train_loss,
        "val_loss": result.val_loss,
        "examples_per_step": config.batch_size * config.grad_accum,
        "max_tokens": config.max_tokens,
        **_gpu(),
    }


def corpus(folder: Path, papers: int) -> dict[str, Any]:
    """COVID-QA as a user's folder: each article a text file (its paragraphs), its gold pairs in qa.jsonl."""
    import random

    import _corpus

    source = _corpus.DATA / "covidqa/data/question-answering/200423_covidQA.json"
    articles = sorted(json.loads(source.read_text(encoding="utf-8"))["data"],
                      key=lambda a: a["paragraphs"][0]["document_id"])
    random.Random(7).shuffle(articles)
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    pairs = []
    for i, article in enumerate(articles[:papers]):
        name = f"paper-{i:02d}.txt"
        (folder / "docs" / name).write_text("\n\n".join(p["context"] for p in article["paragraphs"]), encoding="utf-8")
        pairs += [{"question": q["question"], "answer": q["answers"][0]["text"], "path": name}
                  for p in article["paragraphs"] for q in p["qas"]]
    (folder / "qa.jsonl").write_text("".join(json.dumps(pair) + "\n" for pair in pairs), encoding="utf-8")
    return {"papers": min(papers, len(articles)), "pairs": len(pairs)}


def extract(tune_dir: Path, run_dir: Path) -> dict[str, Any]:
    """What the gate now does after its comparison, for a gate that ran before it did: the sources' best sentence
    (no model) on the gate's questions, and its paired token F1 difference against the gate's two models."""
    from localrag.engine import Engine
    from localrag.tune.gate import extract_figures, gate_dataset
    from localrag.tune.stages import ingested_chunks

    engine = Engine()
    base, tuned = json.loads((tune_dir / "gate" / "run.json").read_text(encoding="utf-8"))["config"]["models"]
    figures = extract_figures(gate_dataset(tune_dir / "raft", ingested_chunks(engine.store)), run_dir,
                              tune_dir / "gate", {"base": base, "tuned": tuned}, settings=engine.settings)
    return figures or {}


def export(tune_dir: Path, models: Path) -> dict[str, Any]:
    from localrag.tune.card import file_sha256
    from localrag.tune.export import export_model

    plan = _plan(tune_dir)
    started = time.perf_counter()
    result = export_model(tune_dir / "run", plan["name"], models_dir=models, quant=plan["quant"])
    return {
        "gguf": result.path.name,
        "sha256": file_sha256(result.path),
        "bytes": result.path.stat().st_size,
        "quant": result.quant,
        "agreement_f16": result.agreement_f16,
        "agreement_quant": result.agreement_quant,
        "seconds": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("corpus", "train", "export", "extract"))
    parser.add_argument("--tune-dir", type=Path, help="the chain's folder, data_dir/tune/NAME")
    parser.add_argument("--folder", type=Path, help="corpus: write docs/ and qa.jsonl here")
    parser.add_argument("--papers", type=int, default=98, help="corpus: how many COVID-QA articles (of 98)")
    parser.add_argument("--backend", choices=("unsloth", "peft"), default="unsloth")
    parser.add_argument("--run", type=Path, help="train into this folder instead of the chain's run/; extract: "
                        "the eval run folder")
    parser.add_argument("--steps", type=int, help="fewer steps, for a smoke run (the run then differs from the plan)")
    parser.add_argument("--models", type=Path, default=Path("/tmp/gpu-models"))
    parser.add_argument("--out", type=Path, required=True, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.action == "corpus":
        if args.folder is None:
            parser.error("corpus needs --folder")
        figures = corpus(args.folder, args.papers)
    elif args.tune_dir is None:
        parser.error(f"{args.action} needs --tune-dir")
    elif args.action == "train":
        figures = train(args.tune_dir, args.backend, args.run, args.steps)
    elif args.action == "extract":
        figures = extract(args.tune_dir, args.run or args.tune_dir / "gate-extract")
    else:
        figures = export(args.tune_dir, args.models)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
