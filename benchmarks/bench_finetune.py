"""Training speed of `localrag.tune.finetune` against a plain transformers + peft Trainer loop.

    .venv/bin/python benchmarks/bench_finetune.py --quick     # 4 steps per run, 1 round
    .venv/bin/python benchmarks/bench_finetune.py             # 6 steps per run, 2 rounds (A/B/C, A/B/C)
    .venv/bin/python benchmarks/bench_finetune.py --passes 3  # one process, passes interleaved A/B/C x 3

`--passes N` is the measurement that survives a loaded shared machine: one process loads the model
once and times single training passes (forward + backward of one example; the LoRA optimizer step is
negligible beside them) of each variant in turn, A/B/C, N rounds, on the same examples, in process
CPU seconds. trainer: the full forward `model(input_ids, labels=labels)` that the Trainer runs, float32;
ours: localrag's pass (output layer on answer positions, per-example attention, bf16 autocast where
native); fp32: ours in float32. Both use the same thread count here, so the threads' share is not in it.

Every variant trains the bundled SmolLM2-135M with the same LoRA config (r 16, alpha 32, dropout 0.05,
all seven projections), 4 examples per optimizer step (batch 1 x 4 accumulation, the `tune` default),
max 512 tokens, on the same tokenized RAFT examples (built from three sample documents and a small
Q&A list, two distractors each), in the same order (token ids from llama.cpp's vocabulary, as localrag
trains). Variants:

- trainer: transformers' Trainer over a peft model with the full forward (`model(..., labels=...)`),
  linear schedule, same learning rate, warm-up, clipping and seed; torch's default thread count.
- ours: `localrag.tune.finetune` as shipped: output layer on answer positions only, load-aware
  thread count, bf16 autocast on a CPU with native bf16 (`precision="auto"`), each step's examples
  packed into rows of at most max_tokens (here every example is ~500 tokens, so one per row).
- fp32: the same loop with `precision="fp32"` (bf16's share of the speed-up).
- packed2k: the fp32 loop with `pack_tokens=2048`, four examples per row (packing's share; memory);
  compare it with fp32, which at max_tokens 512 leaves every ~500-token example in a row of its own.

Each run is its own process (its peak RSS is its own), and the variants alternate round by round, so
a change in the shared machine's load hits all of them. Timing is per optimizer step from the end of
step 1 to the end of step N-1 (the first step pays one-off allocations, localrag's last one the final
validation pass). Trained tokens/s counts every token of the examples in the timed steps, which all
variants share. Wall and process CPU seconds are both reported; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The children run this file again: they must import the localrag beside it, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QA = [
    ("beekeeping-basics.txt", "When was the Hollow Brook Beekeepers Association founded?", "1962"),
    ("beekeeping-basics.txt", "How many frames does a brood box hold?", "eleven frames"),
    ("beekeeping-basics.txt", "How long does a worker bee live in summer?", "about six weeks"),
    ("kestrel-point-lighthouse.md", "How tall is Kestrel Point Lighthouse?", "38 metres"),
    ("kestrel-point-lighthouse.md", "When was the Kestrel Point light first lit?", "14 March 1871"),
    ("kestrel-point-lighthouse.md", "How many steps lead to the lantern gallery?", "142 steps"),
    ("quillpad-formatting-codes.md", "How deep can Quillpad codes be nested?", "up to 8 levels deep"),
    ("quillpad-formatting-codes.md", "When was Quillpad version 4.2 released?", "3 June 2023"),
]


def build_data(home: Path) -> Path:
    from localrag.config import load_settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir
    from localrag.jsonl import write_jsonl
    from localrag.raft.build import build_raft
    from localrag.raft.dataset import RaftConfig
    from localrag.raft.qa import store_chunks

    corpus = sample_corpus_dir()
    engine = Engine(load_settings(), embedder=HashEmbedder())
    engine.ingest([corpus / name for name in {path for path, _, _ in QA}])
    qa_file = home / "qa.jsonl"
    write_jsonl(qa_file, [{"question": q, "answer": a, "path": p} for p, q, a in QA])
    out = home / "raft"
    build_raft(out, store_chunks(engine.store), qa_files=[qa_file], search=engine.retriever.search,
               config=RaftConfig(k=2, p_oracle=1.0, split=(0.8, 0.2, 0.0)))
    return out


ACCUM = 4
VARIANTS = {"trainer": "transformers Trainer + peft", "ours": "localrag finetune() (default)",
            "fp32": "localrag, precision fp32", "packed2k": "localrag, fp32, pack_tokens 2048"}
OVERRIDES: dict[str, dict[str, Any]] = {"ours": {}, "fp32": {"precision": "fp32"},
                                        "packed2k": {"pack_tokens": 2048, "precision": "fp32"}}


def _config(steps: int, **overrides: Any) -> Any:
    from localrag.tune.config import FinetuneConfig

    return FinetuneConfig(steps=steps, grad_accum=ACCUM, max_tokens=512, warmup_steps=1, save_every=10_000,
                          eval_every=10_000, eval_examples=1, backend="peft", **overrides)


def _examples(data: Path) -> list[Any]:
    from transformers import AutoTokenizer

    from localrag.models import bundled_generator_path
    from localrag.tune.base import hf_folder
    from localrag.tune.data import gguf_encoder, load_split

    folder = hf_folder(bundled_generator_path())
    assert folder is not None
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return load_split(data, "train", tokenizer, 512, gguf_encoder(bundled_generator_path()))[0]


def _timed_tokens(data: Path, steps: int) -> int:
    """Tokens of the examples in the timed steps (2 .. N-1), in the order both loops take them."""
    from localrag.tune.config import FinetuneConfig
    from localrag.tune.finetune import _Order

    examples = _examples(data)
    order = _Order(len(examples), FinetuneConfig().seed)
    return sum(len(examples[order.batch(m, 1)[0]].input_ids) for m in range(ACCUM, (steps - 1) * ACCUM))


def _per_step(stamps: dict[int, tuple[float, float]], steps: int, data: Path) -> dict[str, float]:
    first, last = stamps[1], stamps[steps - 1]
    n = steps - 2
    wall = last[0] - first[0]
    return {"wall_s_per_step": wall / n, "cpu_s_per_step": (last[1] - first[1]) / n,
            "tokens_per_s": _timed_tokens(data, steps) / wall}


def run_ours(data: Path, steps: int, overrides: dict[str, Any]) -> dict[str, float]:
    from localrag.models import bundled_generator_path
    from localrag.tune.finetune import TrainProgress, finetune

    stamps: dict[int, tuple[float, float]] = {}

    def note(update: TrainProgress) -> None:
        if update.loss is not None:
            stamps[update.step] = (time.perf_counter(), time.process_time())

    with tempfile.TemporaryDirectory() as run:
        finetune(data, Path(run) / "run", bundled_generator_path(), _config(steps, **overrides), progress=note)
    return _per_step(stamps, steps, data)


def run_trainer(data: Path, steps: int) -> dict[str, float]:
    import torch
    from peft import LoraConfig, get_peft_model
    from torch.utils.data import SequentialSampler
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from localrag.models import bundled_generator_path
    from localrag.tune.backends import lora_settings
    from localrag.tune.base import load_base
    from localrag.tune.data import IGNORE, gguf_encoder, load_split
    from localrag.tune.finetune import _Order

    config = _config(steps)
    model, tokenizer = load_base(bundled_generator_path())
    model.config.use_cache = False
    torch.manual_seed(config.seed)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora_settings(config)))
    examples, _ = load_split(data, "train", tokenizer, config.max_tokens, gguf_encoder(bundled_generator_path()))
    # The very examples localrag's loop takes, in its order, so both variants do the same work per step.
    order = _Order(len(examples), config.seed)
    rows = [{"input_ids": examples[i].input_ids, "labels": examples[i].labels}
            for i in (order.batch(m, 1)[0] for m in range(steps * ACCUM))]

    def collate(batch: list[dict[str, list[int]]]) -> dict[str, Any]:
        width = max(len(r["input_ids"]) for r in batch)
        pad = tokenizer.pad_token_id or 0
        return {
            "input_ids": torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in batch]),
            "labels": torch.tensor([r["labels"] + [IGNORE] * (width - len(r["labels"])) for r in batch]),
            "attention_mask": torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"]))
                                            for r in batch]),
        }

    class InOrder(Trainer):
        def _get_train_sampler(self, *args: Any, **kwargs: Any) -> Any:
            return SequentialSampler(self.train_dataset)

    stamps: dict[int, tuple[float, float]] = {}

    class Stamp(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            stamps[state.global_step] = (time.perf_counter(), time.process_time())

    with tempfile.TemporaryDirectory() as out:
        arguments = TrainingArguments(
            output_dir=out, max_steps=steps, per_device_train_batch_size=1, gradient_accumulation_steps=ACCUM,
            learning_rate=config.learning_rate, warmup_steps=config.warmup_steps, lr_scheduler_type="linear",
            weight_decay=config.weight_decay, max_grad_norm=config.max_grad_norm, seed=config.seed,
            logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0,
            disable_tqdm=True,
        )
        InOrder(model=model, args=arguments, train_dataset=rows, data_collator=collate,
                callbacks=[Stamp()]).train()
    return _per_step(stamps, steps, data)


def child(variant: str, data: Path, steps: int) -> None:
    from localrag.offline import enforce_offline

    enforce_offline()
    if variant == "trainer":
        figures = run_trainer(data, steps)
    else:
        figures = run_ours(data, steps, OVERRIDES[variant])
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def passes(data: Path, rounds: int) -> dict[str, Any]:
    """Single training passes of each variant, interleaved in one process; see the module docstring."""
    import torch
    from peft import LoraConfig, get_peft_model

    from localrag.cpu import worker_threads
    from localrag.models import bundled_generator_path
    from localrag.tune.backends import lora_settings
    from localrag.tune.base import load_base
    from localrag.tune.finetune import _autocast, _row_loss_sum, use_bf16
    from localrag.tune.packing import pack, packed_attention

    torch.set_num_threads(worker_threads())
    config = _config(4)
    model, _ = load_base(bundled_generator_path())
    model.config.use_cache = False
    torch.manual_seed(config.seed)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora_settings(config)))
    model.train()
    examples = _examples(data)[:rounds]
    bf16 = use_bf16("auto")

    def trainer(example: Any) -> Any:
        return model(input_ids=torch.tensor([example.input_ids]), labels=torch.tensor([example.labels])).loss

    def _ours(example: Any, autocast: bool) -> Any:
        with packed_attention(model):
            return next(_autocast((_row_loss_sum(model, pack([example])) for _ in [0]), autocast))

    variants = {"trainer": trainer, "ours": lambda e: _ours(e, bf16), "fp32": lambda e: _ours(e, False)}
    timings: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for example in [examples[0], *examples]:  # the first round warms every variant up and is not kept
        for name, run in variants.items():
            cpu, wall = time.process_time(), time.perf_counter()
            run(example).backward()
            model.zero_grad(set_to_none=True)
            timings[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    tokens = sum(len(e.input_ids) for e in examples)
    out: dict[str, Any] = {"threads": torch.get_num_threads(), "bf16": bf16, "examples": len(examples),
                           "tokens": tokens, "variants": {}}
    for name, values in timings.items():
        kept = values[1:]
        cpu, wall = sum(c for c, _ in kept), sum(w for _, w in kept)
        out["variants"][name] = {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                                 "tokens_per_cpu_s": tokens / cpu, "tokens_per_wall_s": tokens / wall}
    return out


def _mean(runs: list[dict[str, float]], key: str) -> float:
    return sum(r[key] for r in runs) / len(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 steps per run and one round")
    parser.add_argument("--rounds", type=int, help="rounds of all variants (default 2; 1 with --quick)")
    parser.add_argument("--variants", default="trainer,ours,fp32", help="comma-separated, run in this order")
    parser.add_argument("--summary", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--passes", type=int, help="time N interleaved rounds of single passes in one process")
    parser.add_argument("--variant", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        child(args.variant, args.data, args.steps)
        return
    if args.passes:
        _main_passes(args)
        return
    steps = args.steps or (4 if args.quick else 6)
    rounds = args.rounds or (1 if args.quick else 2)
    variants = [v for v in args.variants.split(",") if v]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "LOCALRAG_HOME": str(home)}
        os.environ["LOCALRAG_HOME"] = str(home)
        data = build_data(home)
        from localrag.models import bundled_generator_path
        from localrag.tune.base import hf_folder

        hf_folder(bundled_generator_path())  # convert the GGUF once, outside every timing
        results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        loads = [os.getloadavg()[0]]
        for _ in range(rounds):
            for variant in variants:
                done = subprocess.run([sys.executable, __file__, "--variant", variant, "--data", str(data),
                                       "--steps", str(steps)], env=env, capture_output=True, text=True, check=True)
                results[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
                loads.append(os.getloadavg()[0])
    print(f"bench_finetune: SmolLM2-135M, LoRA r16 all projections, {ACCUM} examples per step, max 512 tokens, "
          f"{steps} steps per run, {rounds} round(s); load average (1 min) {min(loads):.1f}-{max(loads):.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'variant':<32} {'tokens/s':>9} {'wall s/step':>12} {'cpu s/step':>11} {'peak RSS MB':>12}")
    for variant, runs in results.items():
        print(f"{VARIANTS[variant]:<32} {_mean(runs, 'tokens_per_s'):>9.1f} {_mean(runs, 'wall_s_per_step'):>12.2f} "
              f"{_mean(runs, 'cpu_s_per_step'):>11.2f} {max(r['peak_rss_mb'] for r in runs):>12.0f}")
    ratios = {}
    if "trainer" in results:
        for variant in (v for v in variants if v != "trainer"):
            ratios[variant] = _mean(results[variant], "tokens_per_s") / _mean(results["trainer"], "tokens_per_s")
            print(f"{VARIANTS[variant]} / Trainer, trained tokens/s: {ratios[variant]:.2f}x (goal >= 1.5)")
    if args.summary:
        args.summary.write_text(json.dumps({
            "command": "benchmarks/bench_finetune.py " + " ".join(sys.argv[1:]), "steps": steps, "rounds": rounds,
            "examples_per_step": ACCUM, "load_average_1min": [round(x, 2) for x in loads],
            "cores": os.cpu_count(), "runs": results, "ratios_vs_trainer": ratios,
        }, indent=2) + "\n")


def _main_passes(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOCALRAG_HOME"] = tmp
        data = build_data(Path(tmp))
        loads = [os.getloadavg()[0]]
        result = passes(data, args.passes)
        loads.append(os.getloadavg()[0])
    variants = result["variants"]
    print(f"bench_finetune --passes: SmolLM2-135M, LoRA r16, {result['examples']} examples ({result['tokens']} tokens) "
          f"x {len(variants)} variants interleaved, {result['threads']} thread(s), bf16 native: {result['bf16']}; "
          f"load average (1 min) {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")
    print(f"{'variant':<12} {'tokens/CPU s':>13} {'tokens/wall s':>14} {'vs trainer (CPU)':>17}")
    base = variants["trainer"]["tokens_per_cpu_s"]
    for name, v in variants.items():
        print(f"{name:<12} {v['tokens_per_cpu_s']:>13.1f} {v['tokens_per_wall_s']:>14.1f} "
              f"{v['tokens_per_cpu_s'] / base:>16.2f}x")
    if args.summary:
        args.summary.write_text(json.dumps({"command": "benchmarks/bench_finetune.py " + " ".join(sys.argv[1:]),
                                            "load_average_1min": [round(x, 2) for x in loads], **result},
                                           indent=2) + "\n")


if __name__ == "__main__":
    main()
