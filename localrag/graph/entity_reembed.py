"""The graph's entity-name vectors made again by another embedder, when the index is re-embedded.

Linking compares a question's words with these vectors (`GraphIndex.link`, when no name matches
exactly), so they must come from the embedder that embeds the question: the old model's vectors
would be compared with the new one's, and an entities table of another dimension would not open.
Names are short, so this costs a fraction of re-embedding the chunks.

Each entities table of the old folder is copied into the new one a batch at a time, with the same
rows and new vectors. A stopped copy resumes: the ids already in the new table are skipped.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.graph.store import ENTITIES, entities_schema, entities_table

if TYPE_CHECKING:
    from localrag.embed import Embedder

_BATCH = 1024


def reembed_entities(source: Path, target: Path, embedder: Embedder, cancel: threading.Event | None = None) -> int:
    """Copy every entities table of `source` into `target` with `embedder`'s vectors; the rows written.

    Stops between batches when `cancel` is set; what was written stays and is skipped next time.
    """
    import lancedb
    import pyarrow.compute as pc

    old_db, new_db = lancedb.connect(str(source)), lancedb.connect(str(target))
    written = 0
    for folder in sorted(source.glob(f"{ENTITIES}*.lance")):
        if folder.stem.partition("__")[0] != ENTITIES:
            continue
        rows = old_db.open_table(folder.stem).search().select(["entity_id", "name", "aliases"]).limit(None).to_arrow()
        table = new_db.create_table(folder.stem, schema=entities_schema(embedder.dim), exist_ok=True)
        done = table.search().select(["entity_id"]).limit(None).to_arrow()["entity_id"].combine_chunks()
        missing = rows.filter(pc.invert(pc.is_in(rows["entity_id"], value_set=done)))
        for start in range(0, missing.num_rows, _BATCH):
            if cancel is not None and cancel.is_set():
                return written
            batch = missing.slice(start, _BATCH)
            # The text `GraphStore.add_triples` embeds for a new entity.
            pairs = zip(batch["name"].to_pylist(), batch["entity_id"].to_pylist(), strict=True)
            names = [str(name or eid).replace("_", " ") for name, eid in pairs]
            table.add(entities_table(batch, embedder.embed(names), embedder.dim))
            written += batch.num_rows
    return written
