"""The model card written beside every exported GGUF: models/NAME.json.

It records what the model is made of and how well it came out, so a GGUF found in models/ months
later can be traced to its base file, its training data and its hyper-parameters, and its file can
be checked against the recorded hash. The card is plain JSON (no schema library) and is written
atomically, after the GGUF, so a card never describes a file that is not there. A Markdown copy for
people, models/NAME.md, is rendered from the same dict beside it; the JSON is the one programs read.

`localrag tune` adds a "gate" key once it has compared the model with its base on held-out
questions (`localrag.tune.gate`); the card is rewritten, JSON and Markdown, with the comparison.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localrag.atomic import write_text_atomic
from localrag.errors import ModelError
from localrag.models import card_section, extract_summary, gate_summary, read_gguf_header

CARD_KEYS = ("name", "created", "base", "quant", "data", "config", "training", "evaluation", "files")


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def base_licence(base: Path) -> str:
    """The licence the base model states: a GGUF's `general.license`, or a Hugging Face folder's README
    front matter (`license: ...`); "" when it states none. A tuned model inherits its base's terms."""
    try:
        if base.is_file():
            return str(read_gguf_header(base).metadata.get("general.license") or "")
        readme = base / "README.md"
        if readme.is_file():
            lines = readme.read_text(encoding="utf-8-sig", errors="replace").splitlines()
            if lines and lines[0].strip() == "---":
                for line in lines[1:]:
                    if line.strip() == "---":
                        break
                    key, _, value = line.partition(":")
                    if key.strip() == "license":
                        return value.strip().strip("'\"")
    except (ModelError, OSError):
        pass
    return ""


def build_card(
    name: str,
    *,
    base_path: str,
    base_sha256: str,
    architecture: str,
    licence: str = "",
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
        "base": {"path": base_path, "sha256": base_sha256, "architecture": architecture, "license": licence},
        "quant": quant,
        "data": {"hash": data_hash, "dir": data_dir, **dict(data_splits or {})},
        "config": dict(config),
        "training": dict(training),
        "evaluation": dict(evaluation),
        "files": dict(files),
    }


def write_card(path: Path, card: Mapping[str, Any]) -> Path:
    """models/NAME.json, then its Markdown twin models/NAME.md; returns the JSON path."""
    write_text_atomic(path, json.dumps(card, indent=2, sort_keys=False, default=str) + "\n")
    write_text_atomic(path.with_suffix(".md"), card_markdown(card))
    return path


def _cell(value: Any) -> str:
    # Card values come from files and flags: keep a table row one row.
    return str(value).replace("|", "\\|").replace("\n", " ")


def card_markdown(card: Mapping[str, Any]) -> str:
    """The card for people: what the model is, how it compares with its base, how it was made."""
    base = card_section(card, "base")
    lines = [f"# {card.get('name', 'model')}", ""]
    gate = card_section(card, "gate")
    lines += [f"**{gate_summary(dict(card))}**" if gate else "Not compared with its base model.", ""]
    if gate:
        splits = str(gate.get("split") or "test").split("+")
        asked, available = int(gate.get("questions", 0)), int(gate.get("available", 0))
        lines += [
            f"Compared on {asked}{f' of the {available}' if available > asked else ''} questions of the held-out "
            f"{' and '.join(splits)} "
            f"split{'s' if len(splits) > 1 else ''} "
            "of its own Q&A set "
            f"(documents never seen in training), base + RAG vs tuned + RAG through `localrag eval`; "
            f"paired bootstrap interval of the {gate.get('metric_label', gate.get('metric', ''))} difference. "
            f"Default model: {'switched to it' if gate.get('default') else 'not switched to it'}.",
            "",
        ]
        figures = card_section(gate, "figures")
        names = sorted({n for side in figures.values() if isinstance(side, Mapping) for n in side})
        if names:
            lines += ["| model | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
            for label, side in figures.items():
                cells = [side.get(n, "–") if isinstance(side, Mapping) else "–" for n in names]
                lines.append(f"| {_cell(label)} | " + " | ".join(_cell(c) for c in cells) + " |")
            lines.append("")
        extract = extract_summary(dict(card))
        if extract:
            lines += [f"On the same questions, {extract}.", ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| base | {_cell(base.get('path', ''))} |",
        f"| architecture | {_cell(base.get('architecture', ''))} |",
        f"| base licence | {_cell(base.get('license') or 'not stated by the base model')} |",
        f"| quantization | {_cell(card.get('quant', ''))} |",
        f"| created | {_cell(card.get('created', ''))} |",
    ]
    training = card_section(card, "training")
    for key in ("backend", "steps_done", "train_loss", "val_loss"):
        if key in training:
            lines.append(f"| {key.replace('_', ' ')} | {_cell(training[key])} |")
    evaluation = card_section(card, "evaluation")
    for key in ("agreement_f16", "agreement_quant"):
        if key in evaluation:
            lines.append(f"| {key.replace('_', ' ')} | {_cell(evaluation[key])} |")
    return "\n".join([*lines, "", "The full record is in the JSON card beside this file.", ""])


def read_card(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))
