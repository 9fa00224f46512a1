"""Settings: one typed dataclass, each field documented.

Precedence, lowest first: the defaults below, the TOML file at `paths.config_file()`, environment
variables `LOCALRAG_<FIELD>` (for example LOCALRAG_TOP_K=8), then explicit overrides from a CLI flag
or the TUI. `save_settings` writes the TOML file back atomically so the TUI can persist choices.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.errors import ConfigError


@dataclass
class Settings:
    model: str = field(default="", metadata={"doc": "GGUF path or name under models/; empty: bundled SmolLM2"})
    model_dirs: str = field(
        default="",
        metadata={"doc": "more folders of GGUF files for `localrag models` and --model; ':' between them"},
    )
    memory_check: bool = field(
        default=True,
        metadata={"doc": "refuse a model whose estimated memory at n_ctx exceeds the free memory"},
    )
    embedder: str = field(
        default="", metadata={"doc": "sentence-transformers folder; empty: bundled all-MiniLM-L6-v2"}
    )
    reranker: str = field(default="", metadata={"doc": "local cross-encoder folder; empty: no reranking"})
    n_ctx: int = field(default=2048, metadata={"doc": "context window in tokens; prompt and answer share it"})
    n_threads: int = field(default=0, metadata={"doc": "CPU threads for llama.cpp; 0: all cores"})
    n_gpu_layers: int = field(
        default=-1, metadata={"doc": "layers offloaded to a GPU; -1: all, ignored by a CPU-only build"}
    )
    temperature: float = field(
        default=0.0, metadata={"doc": "sampling temperature; 0 is greedy and reproducible, small models wander above"}
    )
    max_answer_tokens: int = field(default=320, metadata={"doc": "room kept in the context for the answer"})
    top_k: int = field(
        default=4, metadata={"doc": "sources put in the prompt; prompt length is latency on small models"}
    )
    chunk_tokens: int = field(
        default=200, metadata={"doc": "chunk size in embedder tokens; MiniLM silently drops past 256"}
    )
    chunk_overlap: int = field(default=32, metadata={"doc": "tokens shared by neighbouring chunks"})
    min_similarity: float = field(
        default=0.25,
        metadata={"doc": "cosine below which a vector-only hit counts as not relevant"},
    )
    allow_model_knowledge: bool = field(
        default=False,
        metadata={"doc": "answer from the model's own memory when nothing relevant is retrieved"},
    )
    attribution_turn: bool = field(
        default=True,
        metadata={"doc": "when an answer cites no source, ask the model (grammar-constrained) which one holds it"},
    )
    graph_planner: str = field(
        default="embedding",
        metadata={"doc": "graph mode planner: embedding (fine for tiny models) or grammar (the model plans)"},
    )
    graph_max_hops: int = field(
        default=3, metadata={"doc": "longest relation path graph mode plans, 1 to 4 (shorter ones when they fit)"}
    )
    embed_backend: str = field(
        default="onnx",
        metadata={
            "doc": "embedder runtime: onnx (same vectors as torch, faster on CPU), "
            "onnx-int8 (faster again, its own vectors: needs its own index) or torch"
        },
    )
    embed_batch_size: int = field(default=32, metadata={"doc": "chunks per embedding batch"})
    ocr: bool = field(
        default=True, metadata={"doc": "read scanned PDF pages and images with the bundled OCR engine (slow)"}
    )
    commit_chunks: int = field(
        default=256, metadata={"doc": "chunks per store commit; a kill loses at most one batch of work"}
    )
    vector_index_min_rows: int = field(
        default=20_000,
        metadata={"doc": "build an ANN vector index once the chunks table has this many rows"},
    )
    api_token: str = field(
        default="",
        metadata={"doc": "bearer token `localrag serve` requires of every request; needed to bind a non-loopback host"},
    )

    def replace(self, **overrides: Any) -> Settings:
        """A copy with the given fields changed; None values are ignored (unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _coerce(name: str, kind: type, value: Any, origin: str) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{origin}: setting '{name}' must be {kind.__name__}, got {value!r}",
            "fix the value or remove it to use the default",
        ) from exc


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    path = config_file or paths.config_file()
    values: dict[str, Any] = {}
    known = {f.name: _TYPES[str(f.type)] for f in fields(Settings)}
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})", "fix the file or delete it") from exc
        for name, value in raw.items():
            if name not in known:
                raise ConfigError(f"{path}: unknown setting '{name}'", f"known: {', '.join(known)}")
            values[name] = _coerce(name, known[name], value, str(path))
    for name, kind in known.items():
        env = os.environ.get(f"LOCALRAG_{name.upper()}")
        if env is not None:
            values[name] = _coerce(name, kind, env, f"LOCALRAG_{name.upper()}")
    return Settings(**values).replace(**overrides)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def save_settings(settings: Settings, config_file: Path | None = None) -> Path:
    """Write the fields that differ from the defaults, atomically."""
    path = config_file or paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    default = Settings()
    lines = [
        f"{f.name} = {_toml_value(getattr(settings, f.name))}"
        for f in fields(Settings)
        if getattr(settings, f.name) != getattr(default, f.name)
    ]
    write_text_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    return path


def update_saved_settings(changes: dict[str, Any], config_file: Path | None = None) -> Path:
    """Change only `changes` in the TOML file, keeping its other lines' values; atomically.

    Unlike `save_settings(load_settings(...))` this never writes environment variables or one-off CLI
    flags into the file: `tune` making its model the default must not also persist LOCALRAG_TOP_K=8.
    """
    path = config_file or paths.config_file()
    known = {f.name: _TYPES[str(f.type)] for f in fields(Settings)}
    current: dict[str, Any] = {}
    if path.is_file():
        try:
            current = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})", "fix the file or delete it") from exc
    for name, value in changes.items():
        if name not in known:
            raise ConfigError(f"unknown setting '{name}'", f"known: {', '.join(known)}")
        current[name] = _coerce(name, known[name], value, "update")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name} = {_toml_value(value)}" for name, value in current.items()]
    write_text_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    return path
