"""Export with the bundled SmolLM2: a merged LoRA -> verified Q8_0 GGUF in models/, and a killed export.

The run folder is made by hand (a peft LoRA with small random B on the bundled base), so these tests
do not depend on the fine-tuning code, only on the run.json/adapter layout it writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from localrag.models import bundled_generator_path, read_gguf_header

KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
from typing import Any
from localrag.tune.export import export_model

def progress(stage, fraction):
    # Die by SIGKILL once part of the model has been copied into models/.
    if stage == "install" and fraction > 0:
        os.kill(os.getpid(), signal.SIGKILL)

export_model(Path(sys.argv[1]), "tuned", models_dir=Path(sys.argv[2]), quant="F16", progress=progress)
"""

CHATS = [
    ("Where is the Eiffel Tower?", "The Eiffel Tower stands in Paris, France."),
    ("What colour is the sky on a clear day?", "On a clear day the sky is blue."),
    ("Name a prime number above ten.", "Eleven is a prime number above ten."),
]


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One LOCALRAG_HOME for the module (the base's converted copy is in the session's cache, conftest)."""
    return tmp_path_factory.mktemp("export-home")


@pytest.fixture(scope="module")
def tuned_run(shared_home: Path, session_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run: run.json, a validation split, and a LoRA adapter whose merge changes the model."""
    import torch
    from peft import LoraConfig, get_peft_model

    from localrag.tune.base import base_sha256, load_base

    run = tmp_path_factory.mktemp("run")
    data = run / "raft"
    data.mkdir()
    records = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in CHATS]
    (data / "validation.chat.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    # A set built in the sentence layout (raft build --prompt-sentences 4) with the short chain: the card must say so.
    (data / "stats.json").write_text(json.dumps({"prompt_sentences": 4, "cot": "short"}), encoding="utf-8")
    base = bundled_generator_path()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOCALRAG_HOME", str(shared_home))
        mp.setenv("LOCALRAG_CACHE_DIR", str(session_cache))
        model, _ = load_base(base)
        torch.manual_seed(0)
        targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=targets))
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                torch.nn.init.normal_(param, std=0.02)
        peft_model.save_pretrained(run / "adapter")
        record = {
            "status": "done",
            "base": {"path": str(base), "sha256": base_sha256(base), "architecture": "llama"},
            "config": {"lora_r": 8, "lora_alpha": 16},
            "data": {"hash": "test-data", "dir": str(data)},
            "metrics": [{"step": 1, "loss": 2.0}],
            "backend": "peft",
        }
        (run / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return run


def _logits(path: Path, ids: list[int], lora: Path | None = None) -> np.ndarray:
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(path), lora_path=str(lora) if lora else None, n_ctx=256, logits_all=True, verbose=False
    )
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


def test_killed_export_leaves_nothing_then_export_q8_chats_and_verifies(
    tuned_run: Path, shared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    from localrag.tune.export import export_model

    monkeypatch.setenv("LOCALRAG_HOME", str(shared_home))
    models = tmp_path / "models"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(tuned_run), str(models)],
        env={**os.environ, "LOCALRAG_HOME": str(shared_home)},
        capture_output=True,
        timeout=900,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    left = [p.name for p in models.iterdir()]
    assert not [n for n in left if n.endswith((".gguf", ".json", ".md"))]
    assert [n for n in left if n.startswith(".tuned.gguf.")], "the kill should have hit the copy into models/"

    result = export_model(tuned_run, "tuned", models_dir=models, quant="Q8_0", lora_gguf=True)

    assert result.agreement_f16 >= 0.99
    assert result.path == models / "tuned.gguf"
    assert sorted(p.name for p in models.iterdir()) == ["adapters", "tuned.gguf", "tuned.json", "tuned.md"]
    assert sorted(p.name for p in (models / "adapters").iterdir()) == ["tuned.lora.gguf"]
    card = json.loads(result.card_path.read_text())
    assert card["quant"] == "Q8_0" and card["base"]["architecture"] == "llama"
    assert card["data"] == {"hash": "test-data", "dir": str(tuned_run / "raft")}
    assert card["training"]["prompt_sentences"] == 4 and card["training"]["cot"] == "short"
    assert card["evaluation"]["prompts"] == len(CHATS) and card["evaluation"]["source"] == "validation split"
    assert card["evaluation"]["agreement_quant"] == result.agreement_quant > 0.8
    from localrag.tune.card import file_sha256

    assert card["files"]["tuned.gguf"] == file_sha256(result.path)

    base = bundled_generator_path()
    header = read_gguf_header(result.path)
    assert header.chat_template == read_gguf_header(base).chat_template
    assert header.metadata["general.file_type"] == llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    llm = llama_cpp.Llama(model_path=str(result.path), n_ctx=512, verbose=False)
    try:
        reply = llm.create_chat_completion(
            messages=[{"role": "user", "content": "Say hello."}], max_tokens=16, temperature=0.0
        )
        ids = llm.tokenize(b"<|im_start|>user\nWhere is Paris?<|im_end|>\n", add_bos=True, special=True)
    finally:
        llm.close()
    assert reply["choices"][0]["message"]["content"].strip()

    # The merge is in the file: the tuned model's logits differ from the base's, and the LoRA GGUF
    # applied to the base at load time moves the base most of the way to the tuned model.
    tuned, plain = _logits(result.path, ids), _logits(base, ids)
    with_lora = _logits(base, ids, lora=result.lora_path)
    assert np.abs(tuned - plain).max() > 1.0
    assert np.abs(with_lora - tuned).mean() < 0.5 * np.abs(plain - tuned).mean()


def test_hf_folder_base_exports_an_equivalent_gguf(
    shared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Hugging Face folder base: metadata built from config + tokenizer.json, same behaviour in llama.cpp."""
    from localrag.tune.base import hf_folder, load_base
    from localrag.tune.gguf_writer import write_f16_gguf
    from localrag.tune.verify import check_gguf, reference_predictions, verification_texts

    monkeypatch.setenv("LOCALRAG_HOME", str(shared_home))
    folder = hf_folder(bundled_generator_path())
    assert folder is not None and folder.is_dir()
    model, tokenizer = load_base(folder)
    out = write_f16_gguf(model, folder, tmp_path / "from-folder.gguf").path
    header = read_gguf_header(out)
    base_header = read_gguf_header(bundled_generator_path())
    for key in ("llama.block_count", "llama.attention.head_count_kv", "tokenizer.ggml.bos_token_id"):
        assert header.metadata[key] == base_header.metadata[key], key
    assert header.tensor_count == base_header.tensor_count
    references = reference_predictions(model, tokenizer, verification_texts(None, tokenizer))
    result = check_gguf(out, references, min_agreement=0.99)
    assert result.tokenizer_mismatches == 0


def test_verification_fails_a_wrong_export(shared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the q/k permutation (a classic converter bug) must be caught, not shipped."""
    from localrag.tune.base import load_base
    from localrag.tune.gguf_writer import unpermute_qk, write_gguf_from_gguf_base
    from localrag.tune.verify import ExportVerificationError, check_gguf, reference_predictions, verification_texts

    monkeypatch.setenv("LOCALRAG_HOME", str(shared_home))
    base = bundled_generator_path()
    model, tokenizer = load_base(base)
    heads, kv_heads = model.config.num_attention_heads, model.config.num_key_value_heads
    state = {}
    for name, tensor in model.state_dict().items():
        array = tensor.float().numpy()
        # Un-permuting first cancels the writer's permutation: the file gets transformers' row order.
        if name.endswith("q_proj.weight"):
            array = unpermute_qk(array, heads, heads)
        elif name.endswith("k_proj.weight"):
            array = unpermute_qk(array, heads, kv_heads)
        state[name] = array
    out = write_gguf_from_gguf_base(state, base, tmp_path / "wrong.gguf").path
    references = reference_predictions(model, tokenizer, verification_texts(None, tokenizer, limit=2))
    with pytest.raises(ExportVerificationError, match="permutation") as info:
        check_gguf(out, references, min_agreement=0.99)
    assert "wrong.gguf" in str(info.value)


# Read at import: the autouse fixture clears LOCALRAG_* variables before each test runs. One point by
# default: each costs two real exports; tests/robustness/test_kills.py kills a tiny llama's export at many.
_KILLS = int(os.environ.get("LOCALRAG_KILLS", "1"))
_KILL_SUMMARY = os.environ.get("LOCALRAG_KILL_SUMMARY")


@pytest.mark.skipif(os.environ.get("LOCALRAG_SLOW_TESTS") != "1", reason="LOCALRAG_SLOW_TESTS=1: full exports")
def test_export_killed_at_random_writes_installs_nothing_partial_and_finishes(
    tuned_run: Path, shared_home: Path, tmp_path: Path
) -> None:
    """SIGKILL the exporting process at seeded random writes (tests/robustness/kill_points.py): models/ never
    holds a partial model under its final name, and the export run again installs the clean run's file."""
    from localrag.tune.card import file_sha256
    from tests.robustness.kill_points import draw_points, run_killed

    work = "tests.robustness.kill_points:export"
    # The first export in a home also writes caches (the merged base): the second is the one to count.
    run_killed(work, [str(tuned_run), str(tmp_path / "warm-up")], shared_home, timeout=1800)
    clean = tmp_path / "clean"
    code, total = run_killed(work, [str(tuned_run), str(clean)], shared_home, timeout=1800)
    assert code == 0 and total > 0
    final = sorted(p.name for p in clean.iterdir())
    digest = file_sha256(clean / "tuned.gguf")
    points = draw_points(total, _KILLS, seed=17)
    for n, phase in points:
        models = tmp_path / f"models-{n}-{phase}"
        code, _ = run_killed(work, [str(tuned_run), str(models)], shared_home, n, phase, timeout=1800)
        assert code == -9, f"the export ended before write {n}"
        if (models / "tuned.gguf").exists():  # installed whole, or not at all
            assert file_sha256(models / "tuned.gguf") == digest
        run_killed(work, [str(tuned_run), str(models)], shared_home, timeout=1800)
        assert sorted(p.name for p in models.iterdir()) == final
        assert file_sha256(models / "tuned.gguf") == digest
        assert json.loads((models / "tuned.json").read_text())["files"] == {"tuned.gguf": digest}
    summary = _KILL_SUMMARY
    if summary:  # beside the graph import and re-embedding figures of tests/robustness/test_kills.py
        figures = json.loads(Path(summary).read_text()) if Path(summary).is_file() else {}
        figures["export"] = {"writes_in_a_run": total, "kill_points": [f"{n}:{p}" for n, p in points],
                             "kills": len(points), "survived": len(points), "rows_lost_or_duplicated": 0}
        Path(summary).write_text(json.dumps(figures, indent=2) + "\n")


QUANTIZE_SCRIPT = """
import signal, sys
from pathlib import Path
from typing import Any
from localrag.tune.quantize import quantize
# As in a user's terminal: a test worker's children may start with SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
quantize(Path(sys.argv[1]), Path(sys.argv[2]), "Q8_0", threads=1)
"""


def _quantizers_of(partial: Path) -> list[str]:
    """The processes whose command line names `partial`: a quantizer child still writing it."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(partial).encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


def test_ctrl_c_while_llama_cpp_quantizes_stops_it_and_installs_nothing(
    shared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The KeyboardInterrupt was raised inside llama.cpp's logging callback, which swallowed it: the export went on,
    # replaced the model and exited 0 (a 7B quantize ignores Ctrl-C for minutes).
    import time

    from localrag.tune.base import load_base
    from localrag.tune.gguf_writer import write_f16_gguf

    monkeypatch.setenv("LOCALRAG_HOME", str(shared_home))
    base = bundled_generator_path()
    f16 = tmp_path / "m.F16.gguf"
    write_f16_gguf(load_base(base)[0], base, f16)
    dst = tmp_path / "m.Q8_0.gguf"
    proc = subprocess.Popen([sys.executable, "-c", QUANTIZE_SCRIPT, str(f16), str(dst)], stderr=subprocess.PIPE)
    partial = dst.with_name(f".{dst.name}.{proc.pid}.partial")  # quantize.temp_path_for in that process
    deadline = time.monotonic() + 120
    while not partial.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the quantizer never started writing"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    assert not dst.exists() and not partial.exists() and _quantizers_of(partial) == []

    # A terminal's Ctrl-C goes to its whole process group. `tune` takes its first as "stop after the current step",
    # so the quantize goes on: the child died of it, and the export failed as "llama.cpp could not quantize to Q8_0
    # (KeyboardInterrupt)", exit 2.
    going_on = "import signal; signal.signal(signal.SIGINT, lambda *_: None)\n" + QUANTIZE_SCRIPT.replace(
        "signal.signal(signal.SIGINT, signal.default_int_handler)", "")
    proc = subprocess.Popen([sys.executable, "-c", going_on, str(f16), str(dst)], stderr=subprocess.PIPE,
                            start_new_session=True)  # its own group, as a terminal's foreground job, not the test's
    partial = dst.with_name(f".{dst.name}.{proc.pid}.partial")
    while not _quantizers_of(partial):
        assert proc.poll() is None and time.monotonic() < deadline + 120, "the quantizer never started"
        time.sleep(0.005)
    time.sleep(0.15)  # the child imports llama.cpp (inside llama.cpp's quantizer, its log callback swallows it)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and dst.is_file(), err.decode()[-2000:]


def test_an_export_onto_a_full_disk_says_so_and_leaves_no_work_files(
    tuned_run: Path, shared_home: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its F16 and quantized files, hundreds of MB for a real model, stayed in the run's folder.
    from disks import fill_disk

    from localrag.disk_errors import disk_trouble
    from localrag.tune.export import export_model

    monkeypatch.setenv("LOCALRAG_HOME", str(shared_home))
    models = small_disk / "models"
    models.mkdir()
    fill_disk(small_disk, leave=0)
    with pytest.raises(Exception) as info:
        export_model(tuned_run, "tuned", models_dir=models, quant="Q8_0")
    assert disk_trouble(info.value) is not None, info.value
    assert not (tuned_run / "export").exists() and list(models.iterdir()) == []


def test_ctrl_c_while_an_export_installs_keeps_the_old_model_with_its_card_and_no_work_files(
    tuned_run: Path, shared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `export --force` onto an existing name, stopped while the model was copied in: the old model stayed without its
    # card (deleted first), and the run folder kept the F16 and quantized files (415 MB for the bundled model).
    # The Ctrl-C is raised from the progress callback at the install's first block: a real one cannot be timed.
    from localrag.tune.export import export_model

    monkeypatch.setenv("LOCALRAG_HOME", str(shared_home))
    models = tmp_path / "models"
    export_model(tuned_run, "tuned", models_dir=models, quant="Q8_0")
    before = {p.name: p.read_bytes() for p in models.iterdir()}
    assert sorted(before) == ["tuned.gguf", "tuned.json", "tuned.md"]

    def ctrl_c_while_installing(stage: str, fraction: float) -> None:
        if stage == "install" and fraction > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_model(tuned_run, "tuned", models_dir=models, quant="Q8_0", progress=ctrl_c_while_installing)
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before
    assert not (tuned_run / "export").exists()

    # A Ctrl-C once the new model is renamed in (syncing its folder): the old card is not put back beside it, and the
    # work files stay, which show `tune` the model is its own.
    import os as real_os

    real_open = real_os.open

    def ctrl_c_at_the_folder_sync(path: Any, *args: Any, **kwargs: Any) -> int:
        if Path(path) == models:
            raise KeyboardInterrupt
        return real_open(path, *args, **kwargs)

    (models / "tuned.gguf").write_bytes(b"an older model")
    monkeypatch.setattr(real_os, "open", ctrl_c_at_the_folder_sync)
    with pytest.raises(KeyboardInterrupt):
        export_model(tuned_run, "tuned", models_dir=models, quant="Q8_0")
    monkeypatch.undo()
    assert sorted(p.name for p in models.iterdir()) == ["tuned.gguf"]
    assert (models / "tuned.gguf").read_bytes() == before["tuned.gguf"] and (tuned_run / "export").is_dir()
