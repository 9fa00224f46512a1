"""`localrag repair` for the knowledge graph: its three tables and the saved column-wise index file.

What each can be rebuilt from (store_repair.py runs this after the chunk tables are whole):
- `triples` damaged: the rows of its fragments that read are kept (table_salvage.py). A chunk whose
  extraction was recorded in `graph_built` with triples but none of whose triples was read back
  loses its record, so `localrag graph build` extracts it again (one add writes a chunk's triples,
  so they sit in one fragment: read back whole or not at all). An imported file some of whose
  triples were read back is imported again (duplicates are skipped, the missing ones come back);
  files none of whose triples was read back cannot be named: the report says to import them again.
- `entities` damaged: its readable rows are kept and every entity a triple names but no row holds
  is made again from its id (the normalised name: the first surface spelling and the aliases of
  those rows are lost), embedded with the store's embedder.
- `graph_built` damaged: its readable rows are kept; the chunks whose record was lost are
  extracted again by the next `graph build` (their triples are kept, a duplicate is skipped).
- the index file (`graph_index*.npz`) unreadable: removed and built again from the tables. A file
  that is only stale (saved for other table versions) is not damage: it is rebuilt on first use.
A missing graph table is no damage either: a store without a graph has none until the first write.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.graph.store import BUILT, ENTITIES, INDEX_FILE, TRIPLES, GraphStore, Triple
from localrag.store import _batches, sql_in
from localrag.table_salvage import readable_rows, recreate_table, table_state

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.db import DBConnection

    from localrag.embed import Embedder

# Lines go to the report's damage and fixed lists; paths of files to import again to `reimport`.
Lines = list[str]


def index_file_readable(path: Path) -> bool:
    """Whether a saved graph index file opens and every array in it reads (a missing file does too)."""
    import numpy as np

    if not path.exists():
        return True
    try:
        with np.load(path) as saved:
            json.loads(bytes(saved["meta"]).decode("utf-8"))
            for name in saved.files:
                saved[name]  # noqa: B018  # reading it is the check: a cut or flipped member fails its CRC
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError):
        return False
    return True


def repair_graph(
    db: DBConnection,
    db_dir: Path,
    embedder: Embedder,
    table_suffix: str,
    *,
    dry_run: bool,
    damage: Lines,
    fixed: Lines,
    reimport: Lines,
) -> None:
    """Check (and unless `dry_run`, repair) the graph tables of one collection; see the module docstring."""
    names = {kind: kind + table_suffix for kind in (TRIPLES, ENTITIES, BUILT)}
    states = {kind: table_state(db, name) for kind, name in names.items()}
    index_file = Path(db_dir) / f"{Path(INDEX_FILE).stem}{table_suffix}.npz"
    index_ok = index_file_readable(index_file)
    salvaged = {kind: readable_rows(db.open_table(names[kind])) for kind in names if states[kind] == "damaged"}
    for kind, salvage in salvaged.items():
        damage.append(f"the {names[kind]} table is unreadable: {salvage.summary(names[kind])}")
    if not index_ok:
        damage.append(f"the graph index file {index_file.name} is unreadable")
    if dry_run or (index_ok and not salvaged):
        return
    if TRIPLES in salvaged:
        _forget_lost_extractions(db, names, states, salvaged[TRIPLES].rows, fixed, reimport)
    for kind, salvage in salvaged.items():
        recreate_table(db, names[kind], db.open_table(names[kind]).schema, rows=salvage.rows)
    index_file.unlink(missing_ok=True)
    graph = GraphStore(db_dir, embedder, table_suffix)
    if states[ENTITIES] == "damaged" or states[TRIPLES] == "damaged":
        _entities_again(graph, fixed)
    if states[BUILT] == "damaged":
        fixed.append(f"the {names[BUILT]} table was rebuilt from its readable rows: run `localrag graph build` "
                     "to extract again the chunks whose record was lost")
    graph.columns()  # built from the tables and saved
    fixed.append(f"the graph index file {index_file.name} was built again from the tables")


def _forget_lost_extractions(
    db: DBConnection, names: dict[str, str], states: dict[str, str], triples: pa.Table, fixed: Lines, reimport: Lines
) -> None:
    """Before the triples table is rewritten from its readable rows: drop the extraction records of the
    chunks whose triples were all lost, and list the imported files to import again."""
    sources = set(triples["source"].to_pylist())
    files = sorted({d.removeprefix("file:") for d in triples["doc_id"].to_pylist() if d and d.startswith("file:")})
    reimport.extend(files)
    lost: list[str] = []
    if states[BUILT] == "ok":
        built = db.open_table(names[BUILT]).search().select(["chunk_id", "triples"]).limit(None).to_arrow()
        lost = [c for c, n in zip(built["chunk_id"].to_pylist(), built["triples"].to_pylist(), strict=True)
                if n and c not in sources]
        for part in _batches(lost):
            db.open_table(names[BUILT]).delete(sql_in("chunk_id", part))
    fixed.append(
        f"the {names[TRIPLES]} table was rebuilt from its readable rows ({triples.num_rows} triples): "
        f"run `localrag graph build` to extract again the {len(lost)} chunks whose triples were lost; "
        f"{len(files)} imported files are imported again; triples imported from other files are lost: "
        "run `localrag graph import FILE` for them again"
    )


def _entities_again(graph: GraphStore, fixed: Lines) -> None:
    """Make again every entity a triple names and the entities table lacks (from its id)."""
    rows = graph.triple_rows()
    before = graph.entity_rows().num_rows
    triples = [
        Triple(h, r, t, s or "", d or "")
        for h, r, t, s, d in zip(*(rows[c].to_pylist() for c in ("head", "relation", "tail", "source", "doc_id")),
                                 strict=True)
    ]
    _, made = graph.add_triples(triples)  # every triple is there already: only the missing entities are written
    fixed.append(
        f"the entities table has {before} readable rows; {made} entities named by triples were made again "
        "from their ids (their first spelling and aliases are lost)"
    )
