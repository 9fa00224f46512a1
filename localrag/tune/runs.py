"""Where fine-tuning work lives on disk, and the names a tuned model may take.

Everything sits under the data dir, next to the index it was made from:

    data_dir/raft/                  `localrag raft build` without --out
    data_dir/runs/DATA-HASH8/       `localrag finetune --data DATA` without --run
    data_dir/tune/NAME/             `localrag tune --name NAME`: chain.json, raft/, run/

Default folders are derived from their inputs (the data folder's resolved path, the model name), so
running the same command again finds the same folder and resumes there instead of starting over.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from localrag import paths
from localrag.errors import LocalRagError
from localrag.models import BUNDLED_NAME

# A model name becomes models/NAME.gguf and a `--model NAME` argument: a plain file name, nothing
# that a shell or another OS would read differently.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class TuneError(LocalRagError):
    title = "Fine-tuning error"


def check_model_name(name: str) -> str:
    """`name` itself when it is usable as models/NAME.gguf; else TuneError saying what is allowed."""
    if not _NAME.fullmatch(name) or name.endswith(".gguf"):
        raise TuneError(
            f"'{name}' cannot be a model name",
            "use letters, digits, '.', '_' or '-' (at most 64, not starting with '.' or '-', no .gguf suffix)",
        )
    if name == BUNDLED_NAME:  # `--model bundled` always means the bundled model: models/bundled.gguf was unreachable
        raise TuneError(f"'{name}' cannot be a model name: it names the bundled model", "pick another name")
    return name


def default_raft_dir() -> Path:
    return paths.data_dir() / "raft"


def default_run_dir(data_dir: Path) -> Path:
    """One run folder per RAFT folder, so `localrag finetune --data D` twice resumes the first run."""
    resolved = paths.typed_path(data_dir).resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return paths.data_dir() / "runs" / f"{resolved.name}-{digest}"


def tune_dir(name: str) -> Path:
    return paths.data_dir() / "tune" / check_model_name(name)


def own_base(name: str, base: Path, models_dir: Path) -> Path:
    """`base`, unless it is models/NAME.gguf, the very model a tune of `name` writes: then the base that model was
    tuned from (its card's), for a model tuned into the default would otherwise be retrained from itself. TuneError
    when its card names no base file here."""
    import json

    target = Path(models_dir) / f"{name}.gguf"
    if not target.exists() or base.resolve() != target.resolve():
        return base
    try:
        recorded = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))["base"]["path"]
    except (OSError, ValueError, KeyError, TypeError):
        recorded = None
    if isinstance(recorded, str) and Path(recorded).is_file():
        return Path(recorded)
    raise TuneError(
        f"the default model is '{name}', the model this tune writes: it cannot be its own base",
        "name the base model with --base MODEL (a file, or a name `localrag models` lists)",
    )
