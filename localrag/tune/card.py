"""The model card written beside every exported GGUF: models/NAME.json.

It records what the model is made of and how well it came out, so a GGUF found in models/ months
later can be traced to its base file, its training data and its hyper-parameters, and its file can
be checked against the recorded hash. The card is plain JSON (no schema library) and is written
atomically, after the GGUF, so a card never describes a file that is not there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localrag.atomic import write_text_atomic

CARD_KEYS = ("name", "created", "base", "quant", "data", "config", "training", "evaluation", "files")


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def build_card(
    name: str,
    *,
    base_path: str,
    base_sha256: str,
    architecture: str,
    quant: str,
    data_hash: str,
    data_dir: str,
    config: Mapping[str, Any],
    training: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    files: Mapping[str, str],
    data_splits: Mapping[str, Any] | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The card as a dict with exactly CARD_KEYS at the top level."""
    return {
        "name": name,
        "created": (created or datetime.now(UTC)).isoformat(timespec="seconds"),
        "base": {"path": base_path, "sha256": base_sha256, "architecture": architecture},
        "quant": quant,
        "data": {"hash": data_hash, "dir": data_dir, **dict(data_splits or {})},
        "config": dict(config),
        "training": dict(training),
        "evaluation": dict(evaluation),
        "files": dict(files),
    }


def write_card(path: Path, card: Mapping[str, Any]) -> Path:
    write_text_atomic(path, json.dumps(card, indent=2, sort_keys=False, default=str) + "\n")
    return path


def read_card(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))
