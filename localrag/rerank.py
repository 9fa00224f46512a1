"""Optional cross-encoder reranking of retrieved hits.

A cross-encoder reads the question and a chunk together, so it judges relevance better than either
retrieval leg, but it costs one transformer pass per candidate: only the top `top_n` fused
candidates are rescored and the rest keep their fused order behind them. The model is a local
sentence-transformers CrossEncoder folder (never a hub name), loaded on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localrag.errors import ModelError
from localrag.offline import enforce_offline
from localrag.types import Hit

_REMEDY = "set reranker to a local cross-encoder folder, or leave it empty"


def check_reranker_folder(folder: Path) -> None:
    """Refuse what is no local cross-encoder: a missing folder, one without a transformers config, or a model
    without a classification head. sentence-transformers gives an embedder's folder (the bundled MiniLM, say)
    an untrained head instead of failing: every passage then scores about 0.5 and the order is random."""
    if not folder.is_dir():
        raise ModelError(f"{folder}: reranker folder not found", _REMEDY)
    try:
        architectures = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError, AttributeError) as exc:
        raise ModelError(f"{folder}: no readable config.json, so no transformers model folder", _REMEDY) from exc
    if not any(str(name).endswith("ForSequenceClassification") for name in architectures):
        shown = ", ".join(map(str, architectures)) or "unnamed"
        raise ModelError(f"{folder}: not a cross-encoder (its model is {shown}, with no classification head: an "
                         "embedder's folder would rank passages at random)",
                         "point reranker at a sequence-classification (cross-encoder) model folder, or leave it empty")


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
                check_reranker_folder(self.folder)
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
