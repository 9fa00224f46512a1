"""The training loop on a tiny random Llama (two layers, 32 wide) built in the test: no real model.

It checks what the integration test cannot afford to repeat: a run cancelled and resumed ends with
exactly the adapter of an uninterrupted run (data order, optimizer, scheduler and dropout RNG all
restored), the run record's history, and the immediate return of a finished run.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest

from localrag.tune.config import FinetuneConfig
from localrag.tune.finetune import TrainProgress, finetune

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
WORDS = "question again documents the bee hive honey queen lays eggs answer is one two three four when how many".split()


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    vocab = {"<unk>": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token="<|im_end|>",
                                        pad_token="<|im_end|>")
    tokenizer.chat_template = CHATML
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("raft")

    def chat(n: int) -> dict[str, object]:
        document = f"[1] the queen lays {WORDS[n % 5]} eggs"
        user = f"Question: how many eggs\n\nDocuments:\n\n{document}\n\nQuestion again: when"
        return {"messages": [{"role": "system", "content": "answer"}, {"role": "user", "content": user},
                             {"role": "assistant", "content": f"the answer is {WORDS[10 + n % 8]}"}]}

    for name, count in (("train", 6), ("validation", 2)):
        (folder / f"{name}.chat.jsonl").write_text("".join(json.dumps(chat(i)) + "\n" for i in range(count)))
    return folder


CONFIG = FinetuneConfig(steps=4, grad_accum=2, max_tokens=64, save_every=2, eval_every=2, warmup_steps=1,
                        learning_rate=1e-2, lora_r=4, lora_alpha=8, lora_dropout=0.1)


def _adapter(run: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    return load_file(str(run / "adapter" / "adapter_model.safetensors"))


def test_cancelled_and_resumed_run_equals_an_uninterrupted_one(tiny_base: Path, data_dir: Path,
                                                               tmp_path: Path) -> None:
    import torch

    straight = finetune(data_dir, tmp_path / "straight", tiny_base, CONFIG)
    assert straight.steps == 4 and not straight.stopped and straight.resumed_from is None
    assert straight.val_loss is not None and straight.train_loss is not None

    cancel = threading.Event()
    updates: list[TrainProgress] = []

    def on_progress(update: TrainProgress) -> None:
        updates.append(update)
        if update.step == 3:
            cancel.set()

    first = finetune(data_dir, tmp_path / "split", tiny_base, CONFIG, progress=on_progress, cancel=cancel)
    assert first.stopped and first.steps == 3
    record = json.loads((tmp_path / "split" / "run.json").read_text())
    assert record["status"] == "stopped" and record["steps_done"] == 3
    assert not (tmp_path / "split" / "adapter").exists()
    assert [u.step for u in updates if u.loss is not None and not u.message.startswith("stopped")] == [1, 2, 3]
    assert updates[-1].message.startswith("stopped at step 3")
    assert updates[0].message == "loading the base model"

    second = finetune(data_dir, tmp_path / "split", tiny_base, CONFIG)
    assert second.resumed_from == 3 and second.steps == 4 and not second.stopped
    resumed, expected = _adapter(tmp_path / "split"), _adapter(tmp_path / "straight")
    assert resumed.keys() == expected.keys()
    assert all(torch.equal(resumed[k], expected[k]) for k in expected)  # type: ignore[arg-type]
    assert second.val_loss == pytest.approx(straight.val_loss)

    record = json.loads((tmp_path / "split" / "run.json").read_text())
    assert record["status"] == "done" and [m["step"] for m in record["metrics"]] == [1, 2, 3, 4]
    assert [m["step"] for m in record["metrics"] if "val_loss" in m] == [2, 4]

    finished = finetune(data_dir, tmp_path / "split", tiny_base, CONFIG, progress=updates.append)
    assert finished.steps == 4 and finished.resumed_from == 4 and updates[-1].step == 3


def test_lora_changes_the_model_and_loss_goes_down(tiny_base: Path, data_dir: Path, tmp_path: Path) -> None:
    config = FinetuneConfig(steps=12, grad_accum=1, max_tokens=64, save_every=100, eval_every=100, warmup_steps=0,
                            learning_rate=3e-2, lora_r=4, lora_alpha=8, lora_dropout=0.0)
    finetune(data_dir, tmp_path / "run", tiny_base, config)
    losses = [m["loss"] for m in json.loads((tmp_path / "run" / "run.json").read_text())["metrics"]]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3


def test_two_row_workers_train_exactly_the_adapter_one_trains(tiny_base: Path, data_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    from transformers import AutoTokenizer

    from localrag.tune.data import load_split
    from localrag.tune.packing import pack_rows

    examples = load_split(data_dir, "train", AutoTokenizer.from_pretrained(tiny_base), CONFIG.max_tokens)[0]
    config = dataclasses.replace(CONFIG, pack_tokens=max(len(e.input_ids) for e in examples))
    assert len(pack_rows(examples, config.pack_tokens)) == len(examples)  # a row each: two per step

    records = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("LOCALRAG_N_THREADS", workers)
        finetune(data_dir, tmp_path / workers, tiny_base, config)
        records[workers] = json.loads((tmp_path / workers / "run.json").read_text())
    assert records["1"]["row_workers"] == 1 and records["2"]["row_workers"] == 2
    one, two = _adapter(tmp_path / "1"), _adapter(tmp_path / "2")
    assert all(torch.equal(one[k], two[k]) for k in one)  # type: ignore[arg-type]
    assert [m["loss"] for m in records["1"]["metrics"]] == [m["loss"] for m in records["2"]["metrics"]]


def test_a_run_whose_loss_turns_nan_stops_and_leaves_no_adapter(tiny_base: Path, data_dir: Path,
                                                                tmp_path: Path) -> None:
    # It went on to "done" with "train loss nan" and pointed at `export`, whose model could only write garbage.
    from localrag.tune.config import FinetuneError

    config = dataclasses.replace(CONFIG, learning_rate=1e20, warmup_steps=0)
    with pytest.raises(FinetuneError, match="training diverged at step") as refused:
        finetune(data_dir, tmp_path / "run", tiny_base, config)
    assert "--lr" in refused.value.hint
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "diverged"
    assert not (tmp_path / "run" / "adapter").exists()


@pytest.mark.parametrize(("field", "value", "said"), [
    ("learning_rate", float("inf"), "the learning rate (--lr) is inf"),
    ("learning_rate", float("nan"), "the learning rate (--lr) is nan"),
    ("lora_dropout", 1.0, "the LoRA dropout (--lora-dropout) is 1.0"),
    ("warmup_steps", -1, "the warmup steps (--warmup-steps) are -1"),
    ("answer_weight", float("inf"), "the answer weight (--answer-weight) is inf"),
])
def test_a_training_value_out_of_range_is_named_as_the_command_line_names_it(field: str, value: float,
                                                                             said: str) -> None:
    from localrag.tune.config import FinetuneError

    with pytest.raises(FinetuneError, match=said.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(CONFIG, **{field: value})
