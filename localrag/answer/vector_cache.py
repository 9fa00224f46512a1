"""Embeddings of the source sentences scored lately, kept per embedder so a sentence is embedded once.

An answer scores its sources' sentences twice: before the reply, to choose the prompt's sentences
(`prompt_sentences`), and after it, for the answer's evidence over the sources that went in; a follow-up
question often retrieves the same chunks again. Embedding the sentences is nearly all of that scoring's
time, so each embedder keeps the vectors of its last `SIZE` sentences, the least recently used dropped
first. Keyed by the embedder object (weakly, so a closed engine's embedder is not kept alive) and by the
exact text embedded, so two embedders never share a vector.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from localrag.embed import Embedder

# About 1.5 MB of float32 at MiniLM's 384 dimensions: a conversation's worth of retrieved chunks.
SIZE = 1024


class SentenceVectors:
    """`embed` with a per-embedder cache of the last SIZE texts; safe to share between threads."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._by_embedder: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, NDArray[np.float32]]] = (
            weakref.WeakKeyDictionary())

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> NDArray[np.float32]:
        """`embedder.embed(texts)`, embedding only the texts not cached for this embedder (once each)."""
        with self._lock:
            cache = self._by_embedder.setdefault(embedder, OrderedDict())
            vectors = {text: cache[text] for text in texts if text in cache}
        missing = list(dict.fromkeys(text for text in texts if text not in vectors))
        if missing:
            vectors.update(zip(missing, embedder.embed(missing), strict=True))
        with self._lock:
            for text in texts:
                cache[text] = vectors[text]
                cache.move_to_end(text)
            while len(cache) > self.size:
                cache.popitem(last=False)
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.vstack([vectors[text] for text in texts])

    def clear(self) -> None:
        with self._lock:
            self._by_embedder.clear()


SENTENCE_VECTORS = SentenceVectors()
