"""Find GGUF models other tools already keep on this machine, read them in place, name them for `--model`.

Sources (no network; a blob is never copied, the model is loaded from where it lies):
- ollama: `$OLLAMA_MODELS` or ~/.ollama/models. manifests/REGISTRY/NAMESPACE/MODEL/TAG is JSON whose
  layer of media type `application/vnd.ollama.image.model` names a GGUF blob at blobs/sha256-HEX; its
  config blob holds the parameter size and quantization (the family is the header's architecture).
  Named as `ollama list` names it: MODEL:TAG (NAMESPACE/MODEL:TAG outside the default `library` namespace),
  with the registry in front when it is not Ollama's own (`hf.co/OWNER/REPO:QUANT`, from `ollama pull hf.co/...`).
- lmstudio: ~/.lmstudio/models and ~/.cache/lm-studio/models, PUBLISHER/REPO/FILE.gguf, named
  PUBLISHER/REPO/FILE.
- gpt4all: the GPT4All app's data folder (FILE.gguf), named FILE.
- hf: the Hugging Face hub cache (`$HF_HUB_CACHE`, `$HF_HOME/hub` or ~/.cache/huggingface/hub),
  models--OWNER--REPO/snapshots/REV/FILE.gguf, named OWNER/REPO/FILE; the revision refs/main names wins.
- dir: every folder in the `model_dirs` setting (separated by the OS path separator, ':' on Linux),
  searched recursively, named by the path below the folder.
Vision projectors (mmproj files) are skipped; of a split model (NAME-00001-of-00003.gguf) only the first
part is listed, with the size of all parts, since llama.cpp loads the rest from it.

`--model` takes SOURCE:NAME (`ollama:llama3.2:3b`, `lmstudio:PUBLISHER/REPO/FILE`, `hf:OWNER/REPO/FILE`)
or a plain name (`llama3.2:3b`, `llama3.2` for its `latest` tag, or a file name without .gguf) when
exactly one model answers to it; otherwise the error lists the candidates by their full names.

Header summaries are cached in DATA_DIR/model-index.json, keyed by path, size and modification time:
a real model's header carries its whole vocabulary (100k+ strings) and takes a noticeable fraction of
a second to walk, and discovery runs on every `localrag models` and chat start.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.errors import ModelError
from localrag.model_memory import ModelShape, estimate
from localrag.models import ModelInfo, list_models, read_gguf_header

# Listing order and the prefix `--model` takes for each source.
SOURCES: dict[str, str] = {
    "bundled": "bundled", "models": "models/", "configured": "configured", "ollama": "ollama",
    "lmstudio": "lmstudio", "gpt4all": "gpt4all", "hf": "hf", "dir": "dir",
}
SOURCE_TITLES: dict[str, str] = {
    "bundled": "Bundled", "models/": "localrag models/", "configured": "Configured", "ollama": "Ollama",
    "lmstudio": "LM Studio", "gpt4all": "GPT4All", "hf": "Hugging Face cache", "dir": "model_dirs folders",
}
_OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$")
# 2: a header's error is kept as its message and its hint apart, so an Ollama model's error can give Ollama's fix.
_CACHE_VERSION = 2


@dataclass
class Found:
    """A GGUF file a source points at, before its header is read."""

    name: str
    path: Path
    source: str
    parameters: str = ""
    quantization: str = ""


# -- where each tool keeps its models ---------------------------------------------------------------


def ollama_root() -> Path:
    explicit = os.environ.get("OLLAMA_MODELS")
    return paths.typed_path(explicit) if explicit else Path.home() / ".ollama" / "models"


def lmstudio_roots() -> list[Path]:
    return [Path.home() / ".lmstudio" / "models", Path.home() / ".cache" / "lm-studio" / "models"]


def gpt4all_roots() -> list[Path]:
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    roots = [Path(data) / "nomic.ai" / "GPT4All"]
    if sys.platform == "darwin":
        roots.append(Path.home() / "Library" / "Application Support" / "nomic.ai" / "GPT4All")
    if os.environ.get("LOCALAPPDATA"):
        roots.append(Path(os.environ["LOCALAPPDATA"]) / "nomic.ai" / "GPT4All")
    return roots


def hf_cache_root() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return paths.typed_path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return paths.typed_path(os.environ["HF_HOME"]) / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "huggingface" / "hub"


def _listed(path: Path) -> bool:
    """Skip vision projectors and the later parts of a split model."""
    if path.name.lower().startswith("mmproj"):
        return False
    shard = _SHARD.search(path.name)
    return shard is None or shard.group(1) == "00001"


def total_size(path: Path) -> int:
    """The file's size, or the size of all parts of a split model whose first part it is."""
    shard = _SHARD.search(path.name)
    if shard is None:
        return path.stat().st_size
    stem = path.name[: shard.start()]
    parts = [path.with_name(f"{stem}-{i:05d}-of-{shard.group(2)}.gguf") for i in range(1, int(shard.group(2)) + 1)]
    return sum(p.stat().st_size for p in parts if p.is_file())


# The registry `ollama pull NAME` uses; `ollama list` leaves it out of names, and names any other one.
_OLLAMA_REGISTRY = "registry.ollama.ai"


def _ollama(root: Path) -> Iterator[Found]:
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(manifests.glob("*/*/*/*")):
        if not manifest.is_file():
            continue
        registry, namespace, model, tag = manifest.relative_to(manifests).parts
        name = f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
        if registry != _OLLAMA_REGISTRY:
            # Left out, `hf.co/bartowski/X:Q4_1` was listed under a name that `--model` then did not take, and hid a
            # model of the same name from Ollama's own registry.
            name = f"{registry}/{name}"
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            layers = data.get("layers") or []
            digest = next(layer["digest"] for layer in layers if layer.get("mediaType") == _OLLAMA_MODEL_LAYER)
        except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError):
            # An embedding-only or half-pulled manifest: nothing a chat model can use.
            continue
        found = Found(name, root / "blobs" / str(digest).replace(":", "-"), "ollama")
        config_digest = (data.get("config") or {}).get("digest") if isinstance(data.get("config"), dict) else None
        if config_digest:
            try:
                config = json.loads((root / "blobs" / str(config_digest).replace(":", "-")).read_text(encoding="utf-8"))
                found.parameters = str(config.get("model_type") or "")
                found.quantization = str(config.get("file_type") or "")
            except (OSError, ValueError, AttributeError):
                pass  # the header still gives architecture and quantization
        yield found


def _folder_tree(root: Path, source: str, pattern: str) -> Iterator[Found]:
    if not root.is_dir():
        return
    for path in sorted(root.glob(pattern)):
        if path.is_file() and _listed(path):
            yield Found(path.relative_to(root).with_suffix("").as_posix(), path, source)


def _hf_cache(root: Path) -> Iterator[Found]:
    if not root.is_dir():
        return
    for repo_dir in sorted(root.glob("models--*")):
        owner, _, repo = repo_dir.name[len("models--"):].partition("--")
        snapshots = repo_dir / "snapshots"
        ref = repo_dir / "refs" / "main"
        revision = ref.read_text(encoding="utf-8").strip() if ref.is_file() else ""
        if revision and (snapshots / revision).is_dir():
            chosen = [snapshots / revision]
        else:
            chosen = sorted(snapshots.glob("*"), key=lambda p: p.stat().st_mtime, reverse=True)
        seen: set[str] = set()
        for snapshot in chosen:
            for path in sorted(snapshot.rglob("*.gguf")):
                relative = path.relative_to(snapshot).with_suffix("").as_posix()
                if relative not in seen and path.is_file() and _listed(path):
                    seen.add(relative)
                    yield Found(f"{owner}/{repo}/{relative}", path, "hf")


def model_dir_list(model_dirs: str) -> list[Path]:
    return [paths.typed_path(p) for p in model_dirs.split(os.pathsep) if p.strip()]


def find_all(model_dirs: str = "") -> Iterator[Found]:
    """Every GGUF the other tools' stores and the `model_dirs` folders hold (headers not read yet)."""
    yield from _ollama(ollama_root())
    for root in lmstudio_roots():
        yield from _folder_tree(root, "lmstudio", "*/*/*.gguf")
    for root in gpt4all_roots():
        yield from _folder_tree(root, "gpt4all", "*.gguf")
    yield from _hf_cache(hf_cache_root())
    for root in model_dir_list(model_dirs):
        yield from _folder_tree(root, "dir", "**/*.gguf")


# -- which architectures this llama.cpp build knows ---------------------------------------------------


@functools.lru_cache(maxsize=1)
def _llama_library() -> bytes | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    for name in ("libllama.so", "libllama.dylib", "llama.dll"):
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    return None


def can_load(architecture: str) -> bool | None:
    """Whether the installed llama.cpp names this architecture; None when its library cannot be read.

    llama.cpp keeps each architecture's name as a C string in its architecture table, and loading a
    GGUF whose `general.architecture` is not in that table fails; looking the string up in the
    library file answers without importing llama_cpp (which would load the library). The linker
    stores a string that ends another one only once (`qwen2` inside `rwkv6qwen2`), so the name is
    matched as the end of a string, not as a whole one.
    """
    library = _llama_library()
    if library is None or not architecture:
        return None
    return architecture.encode() + b"\0" in library


# -- header summaries, cached ----------------------------------------------------------------------


def _cache_file() -> Path:
    return paths.data_dir() / "model-index.json"


class HeaderCache:
    """Header summaries by path, valid while the file's size and modification time are unchanged."""

    def __init__(self, file: Path | None = None) -> None:
        self.file = file or _cache_file()
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if data.get("version") == _CACHE_VERSION and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]
        except (OSError, ValueError, AttributeError):
            pass  # no cache, or a damaged one: rebuilt from the headers

    def summary(self, path: Path) -> dict[str, Any]:
        stat = path.stat()
        key = str(path)
        entry = self.entries.get(key)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return entry
        entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        try:
            header = read_gguf_header(path)
        except ModelError as exc:
            entry["error"], entry["hint"] = exc.message, exc.hint
        else:
            entry.update(
                architecture=header.architecture,
                model_name=header.name,
                size_label=str(header.metadata.get("general.size_label") or ""),
                context_length=header.context_length,
                shape=dataclasses.asdict(ModelShape.from_header(header)),
            )
        self.entries[key] = entry
        self.dirty = True
        return entry

    def save(self) -> None:
        if not self.dirty:
            return
        live = {k: v for k, v in self.entries.items() if Path(k).exists()}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.file, json.dumps({"version": _CACHE_VERSION, "entries": live}))
        except OSError:
            pass  # a read-only data dir only costs the next listing its speed
        self.dirty = False


def shape_of(path: Path, cache: HeaderCache | None = None) -> ModelShape:
    """The memory-relevant header fields of a model file (all parts of a split model counted)."""
    own = cache or HeaderCache()
    entry = own.summary(path)
    if cache is None:
        own.save()
    if "error" in entry:
        raise ModelError(entry["error"], entry.get("hint", ""))
    return dataclasses.replace(ModelShape(**entry["shape"]), file_size=total_size(path))


def _ollama_error(found: Found, problem: str, hint: str) -> str:
    """An Ollama model's error (`problem`, about its blob, and its `hint`), naming the model as `--model` and `ollama
    list` do rather than the blob (a hash), with Ollama's fix where pulling the model again mends it."""
    blob = found.path.name[: len("sha256-") + 12]  # as `ollama list` shows an ID: its first 12 digits
    fix = f"pull it again: ollama pull {found.name}"
    if not found.path.exists():
        return str(ModelError(f"ollama:{found.name}: its manifest names a blob that is not in Ollama's store ({blob}…)",
                              fix))
    problem = problem.removeprefix(f"{found.path}: ")
    # A blob that cannot be read is a permissions matter; one that reads but is no model, a pull mends.
    return str(ModelError(f"ollama:{found.name}: its blob in Ollama's store ({blob}…): {problem}",
                          fix if os.access(found.path, os.R_OK) else hint))


def describe(found: Found, cache: HeaderCache) -> ModelInfo:
    """A ModelInfo for a found file: its header fields, whether this llama.cpp can load it."""
    try:
        entry = cache.summary(found.path)
        size = total_size(found.path)
    except OSError as exc:
        entry, size = {"error": f"{found.path}: {exc.strerror or exc}"}, 0
    if "error" not in entry:
        error = ""
    elif found.source == "ollama":
        error = _ollama_error(found, entry["error"], entry.get("hint", "check the file's permissions"))
    else:
        error = str(ModelError(entry["error"], entry.get("hint", "")))
    info = ModelInfo(found.name, found.path, found.source, size, error=error)
    if not info.error:
        info.architecture = entry["architecture"]
        info.quantization = found.quantization or entry["shape"]["quantization"]
        info.parameters = found.parameters or entry["size_label"]
        info.context_length = entry["context_length"]
        info.loadable = can_load(info.architecture)
    return info


def discover(model_dirs: str = "", cache: HeaderCache | None = None) -> list[ModelInfo]:
    """Models in the other tools' stores and the `model_dirs` folders, each file once, except that each Ollama
    tag is a model of its own: `llama3.2:latest` and `llama3.2:3b` name one blob, and either is what a user types."""
    own = cache or HeaderCache()
    found: list[ModelInfo] = []
    seen: set[Path | str] = set()
    for item in find_all(model_dirs):
        real = item.path.resolve()
        if (item.name if item.source == "ollama" else real) in seen:
            continue
        seen |= {real, item.name} if item.source == "ollama" else {real}
        info = describe(item, own)
        if info.architecture != "clip":
            found.append(info)
    if cache is None:
        own.save()
    return found


def list_all(models_dir: Path, configured: str = "", model_dirs: str = "", n_ctx: int = 0) -> list[ModelInfo]:
    """What `localrag models` shows: the bundled model, models/, the configured file, then the other tools'.

    With `n_ctx`, each model's estimated memory at that context is filled in (see model_memory).
    """
    cache = HeaderCache()
    own = list_models(models_dir, configured)
    seen = {m.path.resolve() for m in own}
    for info in own:
        info.loadable = can_load(info.architecture)
    found = own + [m for m in discover(model_dirs, cache) if m.path.resolve() not in seen]
    if n_ctx:
        for info in found:
            if not info.error:
                info.memory = estimate(shape_of(info.path, cache), n_ctx).total
    cache.save()
    return found


# -- names for --model -------------------------------------------------------------------------------


def full_name(info: ModelInfo) -> str:
    """What --model takes for this model: SOURCE:NAME, or the path of a configured file."""
    if info.source == "configured":
        return str(info.path)
    prefix = next((p for p, s in SOURCES.items() if s == info.source), info.source)
    return f"{prefix}:{info.name}"


def _answers_to(info: ModelInfo, name: str) -> bool:
    if name.removesuffix(".gguf") in (info.name, info.path.stem):
        return True
    # Ollama's own rule: a name without a tag means its `latest` tag.
    return info.source == "ollama" and ":" not in name and info.name == f"{name}:latest"


def matching(spec: str, models: list[ModelInfo]) -> list[ModelInfo]:
    prefix, _, rest = spec.partition(":")
    if prefix in SOURCES and rest:
        spec, models = rest, [m for m in models if m.source == SOURCES[prefix]]
    found = [m for m in models if _answers_to(m, spec)]
    if found:
        return found
    # The name an Ollama model from another registry had before the registry was shown (a `model` setting saved
    # then): it still names that model, and where two registries hold one name, the error lists both.
    return [m for m in models if m.source == "ollama" and "/" in m.name and m.name.split("/", 1)[1] == spec]


def _untagged(spec: str) -> str:
    """The Ollama model a name without a tag (`ghost`, `ollama:ghost`) names; "" for any other name."""
    prefix, _, rest = spec.partition(":")
    if prefix in SOURCES and rest:
        return rest if prefix == "ollama" and ":" not in rest else ""
    return "" if ":" in spec else spec


def resolve_name(spec: str, models: list[ModelInfo]) -> Path | None:
    """The one model `spec` names; None when none does; ModelError listing them when several do, and when a name
    without a tag finds no `latest` tag but the model's other tags, naming those."""
    hits = matching(spec, models)
    if len(hits) > 1:
        raise ModelError(
            f"model '{spec}' is ambiguous: {', '.join(full_name(m) for m in hits)}",
            "pass one of these full names to --model",
        )
    if not hits:
        model = _untagged(spec)
        tags = [full_name(m) for m in models if model and m.source == "ollama" and m.name.rpartition(":")[0] == model]
        if tags:
            raise ModelError(
                f"model '{spec}' not found: a name without a tag means {model}:latest, which Ollama's store lacks",
                f"did you mean {' or '.join(tags)}?",
            )
        return None
    if hits[0].error:
        raise ModelError(hits[0].error)
    return hits[0].path


def the_one_named(spec: str, path: Path, models: list[ModelInfo]) -> ModelInfo | None:
    """Which listed model `spec` names, given the file it resolves to (`models.resolve_generator`): of the models in
    that file, the one that answers to the name, else the first listed (the bundled model for "" or "bundled", a file
    in models/ or one named by its path). Ollama's tags of one blob share its file, and each is a model of its own:
    `smol` is `smol:latest`, not `smol:135m` or `hf.co/.../SmolLM2-GGUF:Q4_1` beside it."""
    in_file = [m for m in models if m.path.resolve() == path.resolve()]
    named = matching(spec, in_file) if spec else []
    return next(iter(named or in_file), None)
