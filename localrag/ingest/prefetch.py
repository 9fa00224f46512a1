"""Embedding a changed file while `watch` waits for it to settle, so the ingest after it is quick.

`watch` ingests a file only once it has been quiet for `settle` seconds, so a double save is read
once; after that, most of the ingest is embedding the file's chunks (benchmarks/README.md, "Watch
latency"). `PrefetchingEmbedder.prefetch(path)` loads, chunks and embeds the file in a thread as
soon as it changes and keeps the vectors by their text; the ingest embeds through the same object,
which hands back the kept vectors (and waits for a prefetch still running rather than embed the
same text twice). Nothing is written: the commit still happens once, after the settle, so a file
changed again meanwhile is simply embedded again. Prefetching stops when many files change at once
(a folder copied in): the ordinary batched ingest is the better path for those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from localrag.ingest.pipeline import embedding_texts

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.store import Store

# Files being prefetched at once; past this, changes are a bulk copy and go through the plain ingest.
MAX_IN_FLIGHT = 4
# Vectors kept for texts no ingest asked for yet (files that changed and were deleted, say).
MAX_KEPT = 4096


class PrefetchingEmbedder:
    """`embedder` with a store of vectors made ahead of the ingest that will ask for them."""

    def __init__(self, embedder: Embedder, settings: Settings,
                 store: Callable[[], Store | None] = lambda: None) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.settings = settings
        # The index the ingest will write to (None: not open yet): the texts whose vectors it holds are not embedded
        # ahead, as the ingest takes them again; one mail appended to an .mbox had the whole mailbox embedded here.
        self.store = store
        self._vectors: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()  # guards _vectors and _in_flight
        # One of the prefetch and the ingest uses the inner embedder at a time: an ingest waits for a
        # prefetch of its texts rather than embed them twice, and a tokenizer (the torch backend's)
        # is never used from two of these threads at once.
        self._embedding = threading.Lock()
        self._in_flight = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        with self._embedding:
            return self.inner.token_counts(texts)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        with self._embedding:
            with self._lock:
                found = [self._vectors.pop(t, None) for t in texts]
            missing = [t for t, v in zip(texts, found, strict=True) if v is None]
            fresh = iter(self.inner.embed(missing)) if missing else iter(())
        rows = [v if v is not None else next(fresh) for v in found]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        # Prefetched vectors are passages': a question is embedded afresh.
        with self._embedding:
            return self.inner.embed_queries(texts)

    def prefetch(self, path: Path) -> bool:
        """Start embedding `path` in a thread; False when too many files are changing to bother."""
        with self._lock:
            if self._in_flight >= MAX_IN_FLIGHT:
                return False
            self._in_flight += 1
        threading.Thread(target=self._run, args=(path,), name="localrag-prefetch", daemon=True).start()
        return True

    def _run(self, path: Path) -> None:
        try:
            with self._embedding:
                texts = embedding_texts(path, self.inner, self.settings, self.store())
                with self._lock:
                    new = list(dict.fromkeys(t for t in texts if t not in self._vectors))
                if not new:
                    return
                vectors = self.inner.embed(new)
                with self._lock:
                    if len(self._vectors) + len(new) > MAX_KEPT:
                        self._vectors.clear()
                    self._vectors.update(zip(new, vectors, strict=True))
        except Exception:  # a guess that failed: the ingest embeds (and reports) it itself
            pass
        finally:
            with self._lock:
                self._in_flight -= 1
