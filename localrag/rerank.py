"""Optional cross-encoder reranking of retrieved hits.

A cross-encoder reads the question and a chunk together, so it judges relevance better than either
retrieval leg, but it costs one transformer pass per candidate: only the top `top_n` fused
candidates are rescored and the rest keep their fused order behind them. The model is a local
sentence-transformers CrossEncoder folder (never a hub name), loaded on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localrag.errors import ModelError
from localrag.offline import enforce_offline
from localrag.types import Hit


class Reranker:
    def __init__(self, folder: Path, batch_size: int = 16, device: str = "cpu", top_n: int = 20) -> None:
        self.folder = Path(folder)
        self.batch_size = batch_size
        self.device = device
        self.top_n = top_n
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if not self.folder.is_dir():
                    raise ModelError(
                        f"{self.folder}: reranker folder not found",
                        "set reranker to a local cross-encoder folder, or leave it empty",
                    )
                enforce_offline()
                from sentence_transformers import CrossEncoder

                try:
                    self._model = CrossEncoder(str(self.folder), device=self.device, local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ModelError(
                        f"{self.folder}: could not load the cross-encoder ({exc})",
                        "point the reranker setting at a complete local cross-encoder folder",
                    ) from exc
        return self._model

    def score_pairs(self, query: str, texts: Sequence[str]) -> list[float]:
        """Relevance of each text to the query; higher is better."""
        if not texts:
            return []
        scores = self._load().predict([(query, t) for t in texts], batch_size=self.batch_size, show_progress_bar=False)
        return [float(s) for s in scores]

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The first `top_n` hits reordered by cross-encoder score (kept in `rerank_score`)."""
        head, tail = hits[: self.top_n], hits[self.top_n :]
        for hit, score in zip(head, self.score_pairs(query, [h.chunk.text for h in head]), strict=True):
            hit.rerank_score = score
        return sorted(head, key=lambda h: -(h.rerank_score or 0.0)) + tail
