"""LoRA fine-tuning of the bundled SmolLM2 on a tiny RAFT set: template fidelity, kill -9 resume,
cancel, and a tuned model that still chats.

The RAFT set is built once per module from three sample documents and a small Q&A file (one
distractor per example, so examples are ~250 tokens and a CPU step takes seconds). The GGUF base is
converted to its cached Hugging Face folder once per session (the session's LOCALRAG_CACHE_DIR, conftest).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from disks import fill_disk

from localrag.cli import run
from localrag.config import load_settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.generate import LlamaGenerator
from localrag.ingest.discover import sample_corpus_dir
from localrag.models import bundled_generator_path
from localrag.raft.build import build_raft
from localrag.raft.dataset import RaftConfig
from localrag.raft.qa import store_chunks
from localrag.tune.config import FinetuneConfig, FinetuneError
from localrag.tune.data import IGNORE, gguf_encoder, read_chats, render, tokenize_chat
from localrag.tune.finetune import TrainProgress, finetune

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

CONFIG = FinetuneConfig(steps=3, grad_accum=1, max_tokens=512, save_every=1, eval_every=100, warmup_steps=1,
                        eval_examples=2)

TRAIN_SCRIPT = """
import sys
from pathlib import Path
from localrag.models import bundled_generator_path
from localrag.tune.config import FinetuneConfig
from localrag.tune.finetune import finetune
config = FinetuneConfig.from_json({config})
finetune(Path(sys.argv[1]), Path(sys.argv[2]), bundled_generator_path(), config)
"""


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("finetune-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALRAG_HOME", str(home))
        patch.setenv("LOCALRAG_CACHE_DIR", str(session_cache))
        yield home


@pytest.fixture(scope="module")
def raft_dir(module_home: Path) -> Path:
    corpus = sample_corpus_dir()
    engine = Engine(load_settings(), embedder=HashEmbedder())
    engine.ingest([corpus / name for name in {path for path, _, _ in QA}])
    qa_file = module_home / "qa.jsonl"
    qa_file.write_text("".join(json.dumps({"question": q, "answer": a, "path": p}) + "\n" for p, q, a in QA))
    out = module_home / "raft"
    report = build_raft(out, store_chunks(engine.store), qa_files=[qa_file], search=engine.retriever.search,
                        config=RaftConfig(k=1, p_oracle=1.0, split=(0.6, 0.3, 0.1)))
    assert report.stats["train"]["examples"] >= 3 and report.stats["validation"]["examples"] >= 1  # type: ignore[index]
    return out


@pytest.fixture(scope="module")
def base_folder(module_home: Path) -> Path:
    """The bundled model's converted folder, made before a test's trainer (a child process) would make it."""
    from localrag.tune.base import hf_folder

    folder = hf_folder(bundled_generator_path())
    assert folder is not None and (folder / "config.json").is_file()
    return folder


def test_training_prompt_is_what_llama_cpp_renders_and_tokenizes(raft_dir: Path, base_folder: Path,
                                                                 real_generator: LlamaGenerator) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    chat = read_chats(raft_dir / "train.chat.jsonl")[0]
    prompt, answer = render(chat, tokenizer)
    assert prompt == real_generator.render(chat[:-1])
    assert answer.startswith(chat[-1]["content"]) and answer.rstrip().endswith("<|im_end|>")

    example = tokenize_chat(chat, tokenizer, 100_000, gguf_encoder(bundled_generator_path()))
    assert example is not None
    llama_ids = list(real_generator._load().tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
    n_prompt = sum(1 for label in example.labels if label == IGNORE)
    assert example.input_ids[:n_prompt] == llama_ids


def test_the_gguf_vocabulary_encodes_as_llama_cpp_does_and_says_nothing(
        real_generator: LlamaGenerator, capfd: pytest.CaptureFixture[str]) -> None:
    # `Llama(vocab_only=True)` warned of a "possible training context overflow" in the middle of `tune`.
    llama = real_generator._load()
    capfd.readouterr()
    encode = gguf_encoder(bundled_generator_path())
    assert capfd.readouterr().err == ""
    for text in ("<|im_start|>user\nhello wörld 日本語<|im_end|>\n", "", "a" * 5000, "tabs\t and \x01 control"):
        assert encode(text) == list(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))
    with pytest.raises(FinetuneError, match="could not read the GGUF's vocabulary"):
        gguf_encoder(Path(__file__))


def _greedy_reply(model: Any, tokenizer: Any, question: str) -> str:
    messages = [{"role": "user", "content": question}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    output = model.generate(**inputs, max_new_tokens=30, do_sample=False)
    return str(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))


@pytest.mark.usefixtures("base_folder")
def test_killed_run_resumes_cancel_stops_and_the_tuned_model_still_chats(raft_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT.format(config=repr(CONFIG.to_json())))
    child = subprocess.Popen([sys.executable, str(script), str(raft_dir), str(run)], env=dict(os.environ),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 900
    while not (run / "checkpoints" / "step-000001").is_dir():
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else "trainer exited"
        assert time.monotonic() < deadline, "no checkpoint within the time limit"
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert not (run / "adapter").exists()

    cancel = threading.Event()
    seen: list[TrainProgress] = []

    def stop_after_one_step(update: TrainProgress) -> None:
        seen.append(update)
        if update.step >= 1 and update.loss is not None:
            cancel.set()

    stopped = finetune(raft_dir, run, bundled_generator_path(), CONFIG, progress=stop_after_one_step, cancel=cancel)
    assert stopped.stopped and stopped.resumed_from is not None and stopped.resumed_from >= 1
    assert stopped.steps == stopped.resumed_from + 1
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "stopped" and record["steps_done"] == stopped.steps
    assert (run / "checkpoints" / f"step-{stopped.steps:06d}" / "adapter_model.safetensors").is_file()
    assert any(u.steps_per_second > 0 and u.eta_seconds is not None for u in seen)

    done = finetune(raft_dir, run, bundled_generator_path(), CONFIG)
    assert not done.stopped and done.resumed_from == stopped.steps and done.steps == CONFIG.steps
    assert done.train_loss is not None and math.isfinite(done.train_loss)
    assert done.val_loss is not None and math.isfinite(done.val_loss)
    assert (done.adapter_dir / "adapter_config.json").is_file()
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "done" and record["backend"] == "peft"
    assert [m["step"] for m in record["metrics"]] == [1, 2, 3]
    assert record["base"]["architecture"] == "llama" and len(record["base"]["sha256"]) == 64

    again = finetune(raft_dir, run, bundled_generator_path(), CONFIG)
    assert again.steps == CONFIG.steps and not again.stopped
    with pytest.raises(FinetuneError, match="pick a new run folder"):
        finetune(raft_dir, run, bundled_generator_path(), FinetuneConfig(steps=4, max_tokens=512))

    from peft import PeftModel

    from localrag.tune.base import load_base

    base, tokenizer = load_base(bundled_generator_path())
    merged = PeftModel.from_pretrained(base, done.adapter_dir).merge_and_unload()
    reply = _greedy_reply(merged, tokenizer, "What is the capital of France?")
    words = reply.split()
    assert "Paris" in reply
    trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
    assert not trigrams or max(trigrams.values()) <= 2, reply


def test_finetune_on_a_full_disk_says_so_and_leaves_no_half_converted_base(
    raft_dir: Path, small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = small_disk / "cache"
    monkeypatch.setenv("LOCALRAG_CACHE_DIR", str(cache))
    fill_disk(small_disk, leave=2**20)
    # The base's conversion fails in safetensors, whose error is neither an OSError nor a RuntimeError.
    assert run(["finetune", "--data", str(raft_dir), "--run", str(tmp_path / "run"), "--steps", "1"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]  # after the line saying what is being tuned
    assert err.startswith("localrag: the disk is full (") and f"{cache}: " in err, err
    assert [p.name for p in (cache / "gguf-hf").iterdir()] == []
