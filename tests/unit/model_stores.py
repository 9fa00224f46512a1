"""Small, valid GGUF files and the folder layouts Ollama, LM Studio, GPT4All and the HF cache use.

The GGUF files are real (magic, version, metadata, one f32 tensor and its data), so localrag's header
reader accepts them; they are a few hundred bytes, so a test can build a store of fifty in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

_U32, _STR = 4, 8


def _s(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_bytes(arch: str = "llama", *, name: str = "tiny", file_type: int = 15, context_length: int = 4096,
               layers: int = 2, embd: int = 64, heads: int = 4, kv_heads: int = 2, chat_template: str = "",
               size_label: str = "") -> bytes:
    kv: list[tuple[str, int, object]] = [
        ("general.architecture", _STR, arch), ("general.name", _STR, name), ("general.file_type", _U32, file_type),
        (f"{arch}.context_length", _U32, context_length), (f"{arch}.block_count", _U32, layers),
        (f"{arch}.embedding_length", _U32, embd), (f"{arch}.attention.head_count", _U32, heads),
        (f"{arch}.attention.head_count_kv", _U32, kv_heads),
    ]
    if chat_template:
        kv.append(("tokenizer.chat_template", _STR, chat_template))
    if size_label:
        kv.append(("general.size_label", _STR, size_label))
    body = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kv))
    for key, vtype, value in kv:
        body += _s(key) + struct.pack("<I", vtype)
        body += _s(str(value)) if vtype == _STR else struct.pack("<I", int(value))  # type: ignore[call-overload]
    body += _s("w") + struct.pack("<I", 1) + struct.pack("<Q", 32) + struct.pack("<IQ", 0, 0)
    body += b"\0" * (-len(body) % 32)
    return body + b"\0" * 128


def write_gguf(path: Path, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gguf_bytes(**kw))  # type: ignore[arg-type]
    return path


def ollama_model(root: Path, model: str, tag: str, *, namespace: str = "library", gguf: bytes | None = None,
                 link_to: Path | None = None, config: dict[str, str] | None = None,
                 registry: str = "registry.ollama.ai") -> Path:
    """A manifest and its blobs under root (an Ollama models folder); returns the model blob's path."""
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    data = gguf if gguf is not None else gguf_bytes(name=model)
    content = data if link_to is None else str(link_to).encode()
    digest = hashlib.sha256(f"{registry}/{model}:{tag}".encode() + content).hexdigest()
    blob = blobs / f"sha256-{digest}"
    if link_to is not None:
        if not blob.exists():
            os.symlink(link_to, blob)
    else:
        blob.write_bytes(data)
    config_data = json.dumps(config or {"model_family": "llama", "model_type": "1B", "file_type": "Q4_K_M"}).encode()
    config_digest = hashlib.sha256(config_data).hexdigest()
    (blobs / f"sha256-{config_digest}").write_bytes(config_data)
    manifest = root / "manifests" / registry / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": f"sha256:{config_digest}"},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": 1},
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64, "size": 1},
        ],
    }))
    return blob


def hf_cache_model(hub: Path, owner: str, repo: str, files: dict[str, bytes], revision: str = "abc123",
                   main: bool = True) -> Path:
    """A models--OWNER--REPO folder whose snapshot files link to blobs, as huggingface_hub writes it."""
    folder = hub / f"models--{owner}--{repo}"
    (folder / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot = folder / "snapshots" / revision
    for name, data in files.items():
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    if main:
        (folder / "refs").mkdir(exist_ok=True)
        (folder / "refs" / "main").write_text(revision)
    return snapshot


def ollama_copy(root: Path, model: str, tag: str, *, to_model: str, to_tag: str, to_namespace: str = "library",
                to_registry: str = "registry.ollama.ai") -> Path:
    """A second name for a library model's manifest, as `ollama cp` or a pull of another tag of the same file
    writes it: one blob, two manifests."""
    manifests = root / "manifests"
    copy = manifests / to_registry / to_namespace / to_model / to_tag
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes((manifests / "registry.ollama.ai" / "library" / model / tag).read_bytes())
    return copy
