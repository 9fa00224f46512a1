"""The two ways to get a LoRA-wrapped model: transformers + peft anywhere, Unsloth on a CUDA GPU.

Both return a peft model with the same LoRA settings (rank, alpha, dropout, target modules, seed) and
the tokenizer with the base's chat template; `localrag.tune.finetune` trains either with the same loop.

- "peft": `load_base` (GGUF or folder), then `peft.get_peft_model` with a LoraConfig. On a CUDA machine
  without Unsloth the model moves to the GPU; otherwise it trains on the CPU in float32.
- "unsloth": `unsloth.FastLanguageModel.from_pretrained` on a Hugging Face folder (a GGUF base goes
  through `hf_folder`, the cached conversion) and `FastLanguageModel.get_peft_model` with the same
  settings plus Unsloth's own gradient checkpointing, then `FastLanguageModel.for_training`.
  Unsloth patches transformers when it is imported, so it is imported before anything loads a model.

"auto" picks Unsloth only when both a CUDA device and the `unsloth` package are present; asking for
"unsloth" without them is a MissingExtraError / FinetuneError that says what is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from localrag.errors import MissingExtraError
from localrag.offline import enforce_offline
from localrag.tune.base import hf_folder, load_base, peft_quietly
from localrag.tune.config import FinetuneConfig, FinetuneError


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def unsloth_installed() -> bool:
    return importlib.util.find_spec("unsloth") is not None


def select_backend(requested: str) -> str:
    """ "peft" or "unsloth" for a config's backend setting; see the module docstring."""
    if requested == "peft":
        return "peft"
    if requested == "unsloth":
        if not unsloth_installed():
            raise MissingExtraError(
                "backend 'unsloth' asked for, but the unsloth package is not installed",
                "pip install 'localrag[gpu]' on a CUDA machine, or use --backend peft",
            )
        if not cuda_available():
            raise FinetuneError(
                "backend 'unsloth' needs a CUDA GPU and none is visible", "use --backend peft (or auto) on this machine"
            )
        return "unsloth"
    if requested != "auto":
        raise FinetuneError(f"unknown fine-tuning backend '{requested}'", "use auto, peft or unsloth")
    return "unsloth" if unsloth_installed() and cuda_available() else "peft"


def lora_settings(config: FinetuneConfig) -> dict[str, Any]:
    """The LoRA arguments both backends share (peft's LoraConfig and Unsloth's get_peft_model)."""
    return {
        "r": config.lora_r,
        "lora_alpha": config.lora_alpha,
        "lora_dropout": config.lora_dropout,
        "target_modules": list(config.target_modules),
        "bias": "none",
    }


def load_peft(base: Path, config: FinetuneConfig) -> tuple[Any, Any, str]:
    """(peft model, tokenizer, device) with transformers + peft."""
    enforce_offline()
    import torch
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_base(base)
    model.config.use_cache = False
    # LoRA's A matrices start random: seed them so a run is reproducible from its config.
    torch.manual_seed(config.seed)
    with peft_quietly():
        peft_model: Any = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora_settings(config)))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return peft_model.to(device), tokenizer, device


def load_unsloth(base: Path, config: FinetuneConfig, sha256: str | None = None) -> tuple[Any, Any, str]:
    """(peft model, tokenizer, "cuda") through Unsloth's FastLanguageModel."""
    enforce_offline()
    from unsloth import FastLanguageModel  # before transformers loads anything: Unsloth patches it on import

    folder = hf_folder(base, sha256)
    if folder is None:
        raise FinetuneError(
            f"{base}: this GGUF is too large to convert for Unsloth here",
            "give the model as a Hugging Face folder, or use --backend peft",
        )
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=str(folder),
        max_seq_length=config.max_tokens,
        dtype=None,
        # The LoRA is merged into full-precision weights at export; 4-bit would tune a different model.
        load_in_4bit=False,
    )
    model = FastLanguageModel.get_peft_model(
        model,
        **lora_settings(config),
        use_gradient_checkpointing="unsloth",
        random_state=config.seed,
        max_seq_length=config.max_tokens,
    )
    FastLanguageModel.for_training(model)
    return model, tokenizer, "cuda"


def load_for_training(
    base: Path, config: FinetuneConfig, backend: str, sha256: str | None = None
) -> tuple[Any, Any, str]:
    if backend == "unsloth":
        return load_unsloth(base, config, sha256)
    return load_peft(base, config)
