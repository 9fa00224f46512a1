"""`export_model`: a finished fine-tuning run -> a verified, quantized models/NAME.gguf and its card.

The stages, each reported through `progress(stage, fraction)`:

    load      the base (localrag.tune.base.load_base) and the run's peft adapter
    merge     merge_and_unload: the LoRA update is added into the base weights
    write     an F16 GGUF in run_dir/export/ (gguf_writer: base metadata, base tensor set)
    verify    the F16 file against the merged model: greedy top-1 agreement >= 0.99 or
              ExportVerificationError (a wrong export fails here, before anything reaches models/)
    quantize  llama.cpp's quantizer to the requested type, then the same check, reported only:
              quantization is meant to change some predictions
    lora      optionally, a llama.cpp LoRA adapter GGUF in models/adapters/
    install   copy into models/ under a hidden temporary name, fsync, rename to NAME.gguf
    card      models/NAME.json, written last and atomically

Why this order: everything slow or fallible happens in the run's own work folder, and models/ only
ever sees a rename of a complete, verified file. Temporary files in models/ start with "." and do
not end in ".gguf" (so `localrag models` never lists them); one left by a killed export is removed
by the next export once its process id is no longer alive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localrag.atomic import write_bytes_atomic
from localrag.cpu import worker_threads
from localrag.paths import typed_path
from localrag.processes import remove_left_by_dead
from localrag.raft.dataset import COT_STYLES
from localrag.tune.card import base_licence, build_card, file_sha256, write_card
from localrag.tune.gguf_writer import ExportError, write_f16_gguf, write_lora_gguf
from localrag.tune.quantize import QUANT_TYPES, check_quant, quantize, temp_path_for
from localrag.tune.verify import (
    F16_AGREEMENT_MIN,
    VerifyResult,
    check_chat_template,
    check_gguf,
    reference_predictions,
    validation_conversations,
    verification_texts,
)

__all__ = ["QUANT_TYPES", "ExportResult", "export_merged", "export_model", "clean_stale_temps"]

ProgressFn = Callable[[str, float], None]
# The owner's process id, then (from an atomic write) "-" and its thread id.
_TEMP_NAME = re.compile(r"^\..+\.(\d+)(?:-\d+)?\.(partial|tmp)$")
_COPY_CHUNK = 16 << 20


@dataclass
class ExportResult:
    path: Path
    card_path: Path
    quant: str
    agreement_f16: float
    agreement_quant: float
    perplexity_f16: float | None
    perplexity_quant: float | None
    seconds: float
    lora_path: Path | None
    prompts: int = 0
    reference_perplexity: float | None = None


@dataclass
class MergedExport:
    """What `export_merged` wrote and measured."""

    f16_path: Path
    quant_path: Path
    quant: str
    architecture: str
    f16: VerifyResult
    quantized: VerifyResult


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove temporary files left in `folder` by exports whose process is gone; returns them."""
    return remove_left_by_dead(folder, _TEMP_NAME)


def _stamp(path: Path) -> list[int] | None:
    """What tells a file from the one `install_file` renames over it (`stages.file_stamp`); None if absent."""
    from localrag.tune.stages import file_stamp

    return file_stamp(path) if path.is_file() else None


def install_file(src: Path, dst: Path, progress: ProgressFn | None = None) -> Path:
    """Copy `src` to `dst` through a hidden temporary sibling, fsync, then rename; never a partial `dst`."""
    tmp = temp_path_for(dst)
    total = max(1, src.stat().st_size)
    done = 0
    try:
        with src.open("rb") as fin, tmp.open("wb") as fout:
            while block := fin.read(_COPY_CHUNK):
                fout.write(block)
                done += len(block)
                if progress is not None:
                    progress("install", done / total)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(dst.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return dst


def export_merged(
    model: Any,
    tokenizer: Any,
    base: Path,
    out_path: Path,
    *,
    quant: str = "Q8_0",
    data_dir: Path | None = None,
    prompts: int = 8,
    max_tokens: int = 256,
    name: str | None = None,
    progress: ProgressFn | None = None,
) -> MergedExport:
    """Write `model` as F16 GGUF at `out_path`, verify it, quantize beside it and check the quantized file.

    `out_path` is the F16 file; the quantized one is `out_path` with the quant type in its name.
    Raises ExportVerificationError when the F16 agreement is below F16_AGREEMENT_MIN.
    """
    quant = check_quant(quant)
    report = progress or (lambda stage, fraction: None)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    overrides = {"general.name": name} if name else None
    written = write_f16_gguf(model, base, out_path, metadata_overrides=overrides, progress=report)
    report("verify f16", 0.0)
    check_chat_template(out_path, tokenizer)
    texts = verification_texts(data_dir, tokenizer, limit=prompts)
    references = reference_predictions(model, tokenizer, texts, max_tokens=max_tokens)
    f16 = check_gguf(out_path, references, min_agreement=F16_AGREEMENT_MIN, label="the F16 export")
    report("verify f16", 1.0)
    if quant == "F16":
        return MergedExport(out_path, out_path, quant, written.architecture, f16, f16)
    report("quantize", 0.0)
    stem = out_path.name.removesuffix(".gguf").removesuffix(".F16")
    quant_path = out_path.with_name(f"{stem}.{quant}.gguf")
    quantize(out_path, quant_path, quant)
    report("quantize", 1.0)
    report("verify quant", 0.0)
    quantized = check_gguf(quant_path, references, label=f"the {quant} export")
    report("verify quant", 1.0)
    return MergedExport(out_path, quant_path, quant, written.architecture, f16, quantized)


def _load_merged(base: Path, adapter_dir: Path, report: ProgressFn) -> tuple[Any, Any]:
    from localrag.offline import enforce_offline
    from localrag.tune.base import load_base, peft_quietly

    enforce_offline()
    from peft import PeftModel

    weights = [adapter_dir / name for name in ("adapter_model.safetensors", "adapter_model.bin")]
    if not (adapter_dir / "adapter_config.json").is_file() or not any(w.is_file() for w in weights):
        # peft then looked for the files on the hub, and the message blamed the base model and spoke of downloads.
        raise ExportError(
            f"{adapter_dir}: the adapter is incomplete (adapter_config.json and adapter_model.safetensors are "
            "both needed)",
            "copy the whole run folder again (a run trained on another machine), or train it again",
        )
    model, tokenizer = load_base(base)
    try:
        with peft_quietly():
            tuned = PeftModel.from_pretrained(model, str(adapter_dir))
    except (ValueError, OSError, RuntimeError, KeyError) as exc:
        raise ExportError(
            f"{adapter_dir}: the adapter does not load onto {base.name} ({exc})",
            "export with the base model the run was trained on",
        ) from exc
    report("merge", 0.0)
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(worker_threads())
    try:
        merged = tuned.merge_and_unload()
    finally:
        torch.set_num_threads(previous)
    report("merge", 1.0)
    return merged, tokenizer


def _run_record(run_dir: Path) -> dict[str, Any]:
    from localrag.tune.checkpoint import finetune_command, read_run

    record = read_run(run_dir)
    if record is None:
        raise ExportError(f"{run_dir}: no run.json here", "point --run at a fine-tuning run folder")
    if not (run_dir / "adapter" / "adapter_config.json").is_file():
        raise ExportError(
            f"{run_dir}: the run has no final adapter yet (status '{record.get('status', 'unknown')}')",
            f"finish the fine-tuning run first: {finetune_command(run_dir)} resumes it",
        )
    return record


def _run_base(run_dir: Path, base_info: dict[str, Any], given: Path | None) -> tuple[Path, str]:
    """The run's base model file and its sha256: the recorded path, else `given` when it is the same file."""
    from localrag.tune.base import base_sha256

    recorded = typed_path(str(base_info.get("path", "")))
    base = recorded if recorded.exists() or given is None else typed_path(given)
    if not base.exists():
        if base != recorded:
            raise ExportError(f"{base}: no such file", "give the path of the base model the run was trained on")
        raise ExportError(f"{run_dir}: the run's base model {recorded} is gone",
                          "restore the base model file, or name the same file here with --base")
    base_hash = base_sha256(base)
    if base_info.get("sha256") and base_info["sha256"] != base_hash:
        changed = "the file changed since the run was trained on it" if base == recorded else (
            f"not the base the run was trained on ({recorded})")
        raise ExportError(f"{base}: {changed} (sha256 differs)",
                          "restore the original base model, or fine-tune again")
    return base, base_hash


def export_model(
    run_dir: Path,
    name: str,
    *,
    models_dir: Path,
    quant: str = "Q8_0",
    lora_gguf: bool = False,
    progress: ProgressFn | None = None,
    base: Path | None = None,
) -> ExportResult:
    """Merge, write, verify, quantize and install a finished run as models_dir/NAME.gguf (+ NAME.json).

    `base`: the base model file here, for a run whose recorded base path is not on this machine (trained
    on another one, a GPU machine say); it must be the very file the run was trained on (same sha256).
    """
    from localrag.tune.runs import check_model_name

    start = time.monotonic()
    name = check_model_name(name)
    quant = check_quant(quant)
    report = progress or (lambda stage, fraction: None)
    run_dir = Path(run_dir)
    record = _run_record(run_dir)
    base_info = record.get("base", {})
    base, base_hash = _run_base(run_dir, base_info, base)
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(models_dir)
    clean_stale_temps(models_dir / "adapters")

    report("load", 0.0)
    model, tokenizer = _load_merged(base, run_dir / "adapter", report)
    data = record.get("data", {})
    data_dir = Path(data["dir"]) if data.get("dir") else None
    work = run_dir / "export"
    shutil.rmtree(work, ignore_errors=True)
    dst = models_dir / f"{name}.gguf"
    before = _stamp(dst)
    cards: dict[Path, bytes] = {}
    try:
        merged = export_merged(model, tokenizer, base, work / f"{name}.F16.gguf", quant=quant, data_dir=data_dir,
                               name=name, progress=report)

        lora_path = None
        if lora_gguf:
            report("lora", 0.0)
            (models_dir / "adapters").mkdir(exist_ok=True)
            lora_work = write_lora_gguf(run_dir / "adapter", base, work / f"{name}.lora.gguf").path
            lora_path = install_file(lora_work, models_dir / "adapters" / f"{name}.lora.gguf")
            report("lora", 1.0)
        # An old card must not outlive the file it describes, even for the moment before the new one lands.
        cards = {old: old.read_bytes() for old in (models_dir / f"{name}.json", models_dir / f"{name}.md")
                 if old.is_file()}
        for old in cards:
            old.unlink()
        final = install_file(merged.quant_path, dst, report)
    except BaseException:
        if _stamp(dst) == before:
            # Stopped before the new model landed (Ctrl-C, a full disk): the old one gets its card back (Ctrl-C during
            # the copy left it without), and the F16 and quantized work files go (hundreds of MB, left behind). Once
            # it has landed they stay: they show `tune` the installed model is its own.
            for old, text in cards.items():
                write_bytes_atomic(old, text)
            shutil.rmtree(work, ignore_errors=True)
        raise
    files = {final.name: file_sha256(final)}
    if lora_path is not None:
        files[f"adapters/{lora_path.name}"] = file_sha256(lora_path)

    report("card", 0.0)
    f16, quantized = merged.f16, merged.quantized
    training_keys = ("status", "backend", "device", "seconds", "steps_done", "train_loss", "val_loss", "metrics")
    training = {k: record[k] for k in training_keys if k in record}
    training |= _trained_recipe(data_dir)
    card = build_card(
        name,
        base_path=str(base),
        base_sha256=base_hash,
        architecture=str(base_info.get("architecture") or merged.architecture),
        licence=base_licence(base),
        quant=quant,
        data_hash=str(data.get("hash", "")),
        data_dir=str(data.get("dir", "")),
        config=record.get("config", {}),
        training=training,
        evaluation={
            "agreement_f16": f16.agreement,
            "agreement_quant": quantized.agreement,
            "perplexity_f16": f16.perplexity,
            "perplexity_quant": quantized.perplexity,
            "perplexity_merged": f16.reference_perplexity,
            "prompts": f16.prompts,
            "positions": f16.positions,
            # The fixed chats when the split holds none: an empty file is there when a small set holds none out.
            "source": "validation split" if validation_conversations(data_dir, limit=1) else "fixed",
        },
        files=files,
        data_splits={k: data[k] for k in ("train", "validation") if k in data},
    )
    card_path = write_card(models_dir / f"{name}.json", card)
    shutil.rmtree(work, ignore_errors=True)
    report("card", 1.0)
    return ExportResult(
        path=final,
        card_path=card_path,
        quant=quant,
        agreement_f16=f16.agreement,
        agreement_quant=quantized.agreement,
        perplexity_f16=f16.perplexity,
        perplexity_quant=quantized.perplexity,
        seconds=time.monotonic() - start,
        lora_path=lora_path,
        prompts=f16.prompts,
        reference_perplexity=f16.reference_perplexity,
    )


def _trained_recipe(data_dir: Path | None) -> dict[str, Any]:
    """What of the RAFT set's recipe the card carries for the engine, from its stats.json: the prompt layout
    (`prompt_sentences`, left out for whole documents; `models.trained_on_whole_chunks`) and the chain of thought
    (`cot`, which says whether the `quote_grammar` setting suits it)."""
    stats = data_dir / "stats.json" if data_dir is not None else None
    if stats is None or not stats.is_file():
        return {}
    try:
        recorded = json.loads(stats.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(recorded, dict):
        return {}
    layout, chain = recorded.get("prompt_sentences", 0), recorded.get("cot")
    return ({"prompt_sentences": layout} if isinstance(layout, int) and layout > 0 else {}) | (
        {"cot": chain} if chain in COT_STYLES else {})
