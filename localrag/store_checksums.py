"""A Store's check of its rows' checksums and the rewrite of damaged vectors: what `localrag repair` acts on.

`Store` (localrag/store.py) inherits these methods. Every chunk row carries sums of its text and its vector
(`row_sums`); a flipped block that still reads fails its sum here. Only committed rows are checked: rows a killed
write left are `Store.repair`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from localrag.row_sums import text_sum, vector_sums
from localrag.store_damage import guarded
from localrag.store_schema import SUM_BATCH, sum_inputs

if TYPE_CHECKING:
    from lancedb.table import Table


class StoreChecksums:
    """The checksum methods of a Store, over its chunks table."""

    dim: int
    _lock: threading.RLock

    if TYPE_CHECKING:

        @property
        def chunks_table(self) -> Table: ...

        def _committed_ids(self) -> dict[str, str]: ...

        def repair(self) -> int: ...

    @guarded
    def damaged_rows(self) -> tuple[int, list[tuple[str, str, bool, bool]]]:
        """(rows checked, [(chunk_id, doc_id, text_ok, vector_ok)] of committed rows whose sums fail)."""
        import pyarrow.compute as pc

        committed = self._committed_ids()
        checked, bad = 0, []
        columns = ["chunk_id", "doc_id", "commit_id", "text", "vector", "text_sum", "vector_sum"]
        for batch in self.chunks_table.search().select(columns).limit(None).to_batches(SUM_BATCH):
            ids, texts, vectors = sum_inputs(batch, self.dim)
            doc_ids = batch.column("doc_id").to_pylist()
            commits = batch.column("commit_id").to_pylist()
            stored_text = pc.fill_null(batch.column("text_sum"), 0).to_pylist()
            stored_vector = pc.fill_null(batch.column("vector_sum"), 0).to_pylist()
            for i, (chunk_id, doc_id) in enumerate(zip(ids, doc_ids, strict=True)):
                if committed.get(doc_id) != commits[i]:
                    continue
                checked += 1
                text_ok = text_sum(chunk_id, texts[i]) == stored_text[i]
                vector_ok = vector_sums([chunk_id], vectors[i : i + 1])[0] == stored_vector[i]
                if not (text_ok and vector_ok):
                    bad.append((chunk_id, doc_id, text_ok, vector_ok))
        return checked, bad

    @guarded
    def replace_vectors(self, chunk_ids: Sequence[str], vectors: np.ndarray) -> None:
        """New vectors (and their sums) for these committed chunks; text and ids stay as they are."""
        import pyarrow as pa

        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(chunk_ids), self.dim)
        update = pa.table(
            {
                "chunk_id": pa.array(list(chunk_ids), pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), self.dim),
                "vector_sum": pa.array(vector_sums(chunk_ids, vectors), pa.int64()),
            }
        )
        with self._lock:
            self.repair()  # one row per chunk id for the merge
            self.chunks_table.merge_insert("chunk_id").when_matched_update_all().execute(update)
