"""SIGKILL a long operation at a chosen one of its writes, in the process doing the work.

`run_killed(work, kill_at, home)` starts `python -c CHILD` (the interpreter itself, no shell or
`timeout` between, so the signal reaches the worker) with LOCALRAG_HOME set. The child counts every
write that can leave state behind: LanceDB table writes (add, delete, merge, update, add_columns,
create_index, optimize), table creation and removal, renames and replaces (atomic file writes end
in one), file and folder removals. A kill point is (n, "before" | "after"): the child SIGKILLs
itself just before the n-th write starts or just after it returns or raises, so a point reproduces; n = 0 never
kills and the child prints the number of writes a whole run made, from which a test draws its
points with a seeded random.Random. Work functions are `module:function` names taking string
arguments; the ones the kill tests use live below and build their parts as the Engine does.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localrag.embed import HashEmbedder

CHILD = r"""
import functools, importlib, os, shutil, signal, sys
from lancedb.db import LanceDBConnection
from lancedb.merge import LanceMergeInsertBuilder
from lancedb.table import LanceTable

kill_at, phase, work, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
count = 0

def counted(owner, name):
    original = getattr(owner, name)

    @functools.wraps(original)
    def write(*a, **k):
        global count
        count += 1
        mine = count  # a write may make others (rmtree unlinks): "after" is after this one
        if mine == kill_at and phase == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            return original(*a, **k)
        finally:  # a write that raises (an unlink of what is gone) has happened too
            if mine == kill_at and phase == "after":
                os.kill(os.getpid(), signal.SIGKILL)

    setattr(owner, name, write)

for name in ("add", "delete", "update", "add_columns", "create_index", "optimize"):
    counted(LanceTable, name)
for name in ("rename", "replace", "unlink"):
    counted(os, name)
counted(LanceMergeInsertBuilder, "execute")
counted(LanceDBConnection, "create_table")
counted(LanceDBConnection, "drop_table")
counted(shutil, "rmtree")
module, function = work.split(":")
getattr(importlib.import_module(module), function)(*args)
print("writes", count, flush=True)
"""


def run_killed(work: str, args: list[str], home: Path, kill_at: int = 0, phase: str = "before",
               timeout: float = 300) -> tuple[int, int]:
    """(return code, writes counted; -1 when killed) of one run of `work` in a child process."""
    root = str(Path(__file__).resolve().parents[2])  # the child imports this module's work functions
    env = {**os.environ, "LOCALRAG_HOME": str(home),
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(kill_at), phase, work, *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )
    writes = next((int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("writes ")), -1)
    if proc.returncode not in (0, -9):
        raise AssertionError(f"{work} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode, writes


def draw_points(total: int, count: int, seed: int) -> list[tuple[int, str]]:
    """`count` kill points out of a run of `total` writes, drawn with random.Random(seed), in order."""
    every = [(n, phase) for n in range(1, total + 1) for phase in ("before", "after")]
    return sorted(random.Random(seed).sample(every, min(count, len(every))))


# --- work functions (run in the child) ---------------------------------------------------------

def _hash_embedder(dim: str, name: str = "") -> HashEmbedder:
    from localrag.embed import HashEmbedder

    embedder = HashEmbedder(dim=int(dim))
    if name:
        embedder.name = name  # another embedder, from the store's point of view
    return embedder


def ingest(folder: str) -> None:
    """An ingest of `folder` as `localrag ingest` makes it, with a hashing embedder and commits of 4 chunks."""
    from localrag.config import Settings
    from localrag.engine import Engine

    Engine(Settings(commit_chunks=4), embedder=_hash_embedder("32")).ingest([Path(folder)])


def graph_import(*files: str) -> None:
    from localrag.config import Settings
    from localrag.engine import Engine

    engine = Engine(Settings(), embedder=_hash_embedder("32"))
    for file in files:
        engine.graph_import(file)


def reembed(dim: str, db_dir: str = "") -> None:
    """What `Engine.switch_embedder` does to the store (LOCALRAG_HOME's unless `db_dir`), with a hashing
    embedder of another size."""
    from localrag import paths
    from localrag.reembed import reembed_index

    reembed_index(Path(db_dir) if db_dir else paths.db_dir(), _hash_embedder(dim, f"hash-{dim}"), commit_chunks=4)


def export(run_dir: str, models_dir: str) -> None:
    from localrag.tune.export import export_model

    export_model(Path(run_dir), "tuned", models_dir=Path(models_dir), quant="F16")


# --- made in the test process ----------------------------------------------------------------

def tiny_tuned_run(folder: Path) -> Path:
    """A finished fine-tuning run on a tiny random llama, whose export (`export` above) takes seconds.

    The base is a Hugging Face folder: a 2-layer, 64-wide llama with random weights and the bundled
    SmolLM2's tokenizer (the export writes a byte-level BPE vocabulary and checks llama.cpp reads
    the texts as transformers does); the adapter is a LoRA whose random B makes the merge change the
    weights. The export runs every stage the real one does (load, merge, F16 write, verification
    against the merged model, install, card). Returns the run folder.
    """
    import json

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from localrag.models import bundled_generator_path
    from localrag.tune.base import base_sha256

    bundled = bundled_generator_path()
    tokenizer = AutoTokenizer.from_pretrained(bundled.parent, gguf_file=bundled.name)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, initializer_range=0.5,
    )
    base, run = folder / "tiny-base", folder / "tiny-run"
    model = LlamaForCausalLM(config)
    model.save_pretrained(base)
    tokenizer.save_pretrained(base)
    tuned = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    for name, param in tuned.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.2)
    tuned.save_pretrained(str(run / "adapter"))
    record = {
        "status": "done",
        "base": {"path": str(base), "sha256": base_sha256(base), "architecture": "llama"},
        "config": {"lora_r": 4, "lora_alpha": 8},
        "data": {"hash": "tiny"},
        "backend": "peft",
    }
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return run
