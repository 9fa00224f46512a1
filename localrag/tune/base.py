"""Load the base model for fine-tuning from a GGUF file or a local Hugging Face folder.

A GGUF base (the bundled SmolLM2, or any llama.cpp model a user has) is read by transformers itself
(`from_pretrained(folder, gguf_file=name)`), which de-quantizes the weights to float32 and rebuilds the
tokenizer and its chat template from the GGUF metadata, so the tuned model keeps the template llama.cpp
uses at answer time. transformers leaves a GGUF "quantizer" on such a model that refuses
`save_pretrained`; it is cleared here, since the weights are plain float32 by then.

Reading a GGUF this way is slow, and not for the arithmetic: transformers parses the whole file three
times (config, tokenizer, model; each parse walks the 49k-token vocabulary element by element) and
rebuilds gguf's tensor-name table once per module of the model. `_one_parse` shares one parse and one
table across the three reads (29-31 -> 13-16 s for the 135M model, identical weights and tokenizer files:
benchmarks/bench_gguf_base.py). Every fine-tune, resume and export still needs the base again, so a GGUF
of up to `CACHE_MAX_BYTES` is converted once into a Hugging Face folder under the data dir's cache,
keyed by the file's sha256 and the transformers version, and later loads read that folder (under a
second). The folder is written to a temporary name and renamed, so a killed conversion leaves nothing
that looks complete. Larger GGUFs are not cached: their float32 copy would take tens of GB of disk.

Only architectures the GGUF writer in `localrag.tune` can write back are accepted; anything else is
refused before any weights are read, with the supported list in the message.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag import paths
from localrag.errors import ModelError
from localrag.models import read_gguf_header, resolve_generator
from localrag.offline import enforce_offline
from localrag.processes import remove_left_by_dead

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

SUPPORTED_ARCHITECTURES = ("llama", "qwen2", "gemma", "gemma2", "mistral")

# float32 is ~4x a Q4 file and ~2x an F16 one; 2 GiB of GGUF keeps the cached copy within a few GB.
CACHE_MAX_BYTES = 2 * 1024**3
# A conversion's temporary folder in the cache, by its pid (`hf_folder`).
_TMP_NAME = re.compile(r"^\..+\.(\d+)\.tmp$")


class UnsupportedModelError(ModelError):
    title = "Unsupported model"


def is_gguf(base: Path) -> bool:
    return Path(base).is_file()


def resolve_base(spec: str, models_dir: Path, model_dirs: str = "") -> Path:
    """The base model a `--base` value names: a local Hugging Face folder, or any GGUF `--model` takes (a file, a
    models/ name, `ollama:NAME:TAG`, `lmstudio:...`, a plain name another tool keeps, `bundled`).

    Raises ModelError naming the value when nothing is found. Before 2026-12-07 the value was taken as a path
    unlooked-at: `--base ollama:smol:135m` ran the Q&A stage (minutes with written questions), recorded
    `./ollama:smol:135m` as the run's base, then failed at the fine-tune.
    """
    folder = paths.typed_path(spec)
    if folder.is_dir():
        return folder.resolve()
    return resolve_generator(spec, models_dir, model_dirs)


def base_architecture(base: Path) -> str:
    """The base's architecture (GGUF general.architecture or config.json model_type), checked.

    Raises ModelError for a missing or unreadable base, UnsupportedModelError for another family.
    """
    base = Path(base)
    if is_gguf(base):
        architecture = read_gguf_header(base).architecture
    elif (base / "config.json").is_file():
        try:
            architecture = str(json.loads((base / "config.json").read_text(encoding="utf-8")).get("model_type", ""))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{base / 'config.json'}: unreadable ({exc})", "point at a complete model folder") from exc
    else:
        raise ModelError(
            f"{base}: neither a GGUF file nor a Hugging Face model folder (no config.json)",
            "give a .gguf file or a local folder saved with save_pretrained",
        )
    if architecture not in SUPPORTED_ARCHITECTURES:
        raise UnsupportedModelError(
            f"{base}: architecture '{architecture or 'unknown'}' cannot be fine-tuned and exported here",
            f"use a model of one of these families: {', '.join(SUPPORTED_ARCHITECTURES)}",
        )
    return architecture


def base_sha256(base: Path) -> str:
    """sha256 of a GGUF file, or of a folder's file names and contents (weights, config, tokenizer)."""
    base = Path(base)
    if is_gguf(base):
        with base.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    digest = hashlib.sha256()
    for file in sorted(p for p in base.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(base)).encode() + b"\x00")
        with file.open("rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def _cache_dir(sha256: str) -> Path:
    import transformers

    return paths.cache_dir() / "gguf-hf" / f"{sha256[:20]}-transformers{transformers.__version__}"


def _strip_gguf_quantizer(model: Any) -> None:
    # The weights are de-quantized float32 already; the leftover GGUF quantizer only blocks saving.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def _quiet_transformers() -> None:
    # Loading bars from transformers would land in the middle of the CLI's own progress display.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


@contextmanager
def peft_quietly() -> Iterator[None]:
    """Within the block, peft's look-up of a property transformers has renamed does not warn: the warning
    is theirs to settle and would print in the middle of `tune`'s progress."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


# `_one_parse` swaps two module attributes of `gguf`; two conversions at once must not interleave.
_ONE_PARSE_LOCK = threading.Lock()


@contextmanager
def _one_parse(base: Path) -> Iterator[None]:
    """Within the block, `gguf.GGUFReader(base)` returns one shared reader and the tensor-name table is
    built once per (architecture, layers).

    transformers imports both names from `gguf` at each call, so replacing the module attributes reaches
    it; any other file or argument still gets a fresh reader. The reader is only read from. Its bar over
    the tensors is off in the block too: it is tqdm's own, which `disable_progress_bar` does not reach, and
    would land in the middle of `tune`'s progress.
    """
    import gguf as gguf_package
    import transformers.modeling_gguf_pytorch_utils as gguf_utils_package

    # Typed loosely: the point is to put other callables where gguf's own class and function are.
    gguf: Any = gguf_package
    gguf_utils: Any = gguf_utils_package
    with _ONE_PARSE_LOCK:
        fresh_reader, fresh_name_map, fresh_bar = gguf.GGUFReader, gguf.get_tensor_name_map, gguf_utils.tqdm
        target = base.resolve()
        shared = fresh_reader(target)

        def reader(path: Any, *args: Any, **kwargs: Any) -> Any:
            if not args and not kwargs and Path(path).resolve() == target:
                return shared
            return fresh_reader(path, *args, **kwargs)

        gguf.GGUFReader = reader
        gguf.get_tensor_name_map = functools.cache(fresh_name_map)
        gguf_utils.tqdm = functools.partial(fresh_bar, disable=True)
        try:
            yield
        finally:
            gguf.GGUFReader = fresh_reader
            gguf.get_tensor_name_map = fresh_name_map
            gguf_utils.tqdm = fresh_bar


@contextmanager
def _named_gguf(base: Path) -> Iterator[Path]:
    """`base` under a name that ends in `.gguf`: itself, or a link to it in a scratch folder removed after the block.

    transformers picks its GGUF reader by that ending; an Ollama blob (`sha256-…`) was read as a torch pickle and
    failed with "Weights only load failed". The link resolves to `base`, so `_one_parse`'s shared reader serves it.
    """
    if base.name.endswith(".gguf"):
        yield base
        return
    with tempfile.TemporaryDirectory(prefix="localrag-gguf-") as scratch:
        link = Path(scratch) / f"{base.name}.gguf"
        link.symlink_to(base.resolve())
        yield link


def _read_gguf(base: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()

    try:
        with _one_parse(base), _named_gguf(base) as named:
            tokenizer = AutoTokenizer.from_pretrained(named.parent, gguf_file=named.name)
            model = AutoModelForCausalLM.from_pretrained(named.parent, gguf_file=named.name)
    # Broad on purpose: on a GGUF it does not understand, transformers' path fails with whatever gguf's reader,
    # numpy or the tokenizers library raise (IndexError, a bare Exception for a merge outside the vocabulary).
    except Exception as exc:
        raise ModelError(
            f"{base}: transformers could not read the GGUF ({exc})",
            "use an unquantized or Q8/Q4 GGUF of a supported family, or a Hugging Face folder",
        ) from exc
    _strip_gguf_quantizer(model)
    return model, tokenizer


def hf_folder(base: Path, sha256: str | None = None) -> Path | None:
    """A Hugging Face folder holding `base`: the folder itself, or the cached conversion of a GGUF.

    Converts (and caches) a GGUF on first use; None for a GGUF too large to cache.
    """
    base = Path(base)
    if not is_gguf(base):
        return base
    if base.stat().st_size > CACHE_MAX_BYTES:
        return None
    enforce_offline()
    target = _cache_dir(sha256 or base_sha256(base))
    if (target / "config.json").is_file():
        return target
    model, tokenizer = _read_gguf(base)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    remove_left_by_dead(tmp.parent, _TMP_NAME)  # a killed conversion's half copy: hundreds of MB
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "localrag-source.json").write_text(json.dumps({"gguf": str(base)}), encoding="utf-8")
    except BaseException:
        # A full disk or Ctrl-C: the half-written copy (hundreds of MB, named by this pid) would never be reused.
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        tmp.rename(target)
    except OSError:
        # Another process finished the same conversion first; its copy is as good as ours.
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_base(base: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The base model (float32, on CPU) and its tokenizer with the chat template; see the module docstring."""
    base = paths.typed_path(base)
    base_architecture(base)
    enforce_offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _quiet_transformers()
    folder = hf_folder(base)
    if folder is None:
        model, tokenizer = _read_gguf(base)
    else:
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
        except (ValueError, OSError, RuntimeError, KeyError) as exc:
            raise ModelError(
                f"{base}: transformers could not load the model ({exc})",
                "check that the folder holds config.json, the weights and the tokenizer",
            ) from exc
    if getattr(tokenizer, "chat_template", None) in (None, ""):
        raise ModelError(
            f"{base}: the model has no chat template",
            "fine-tune an instruct model whose tokenizer carries a chat template",
        )
    return model, tokenizer
