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
- a table that does not open (its newest manifest damaged): rolled back to the newest version that
  opens, or its folder set aside when none does (table_rollback.py); the chunks whose triples were in
  the commits lost lose their extraction record, missing entities are made again, and the index
  file is removed (the tables will reach again the version numbers it was saved for).
A missing graph table is no damage either: a store without a graph has none until the first write.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.graph.store import BUILT, ENTITIES, INDEX_FILE, TRIPLES, GraphStore
from localrag.graph.triples import Triple, imported_file
from localrag.store_schema import batches, sql_in
from localrag.table_rollback import opens, roll_back
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
    rolled = [kind for kind, name in names.items() if name in db.list_tables().tables and not opens(db, name)]
    for kind in rolled:
        damage.append(f"the {names[kind]} table does not open: the manifest of its newest version is damaged")
        if not dry_run:
            fixed.append(roll_back(db, db_dir, names[kind]).summary())
    states = {kind: table_state(db, name) for kind, name in names.items()}
    if dry_run:
        states.update(dict.fromkeys(rolled, "unopened"))
    index_file = Path(db_dir) / f"{Path(INDEX_FILE).stem}{table_suffix}.npz"
    index_ok = index_file_readable(index_file)
    if rolled and not dry_run:
        # Rolled back, the tables will reach again the version numbers the saved index file names.
        index_file.unlink(missing_ok=True)
        _after_rollback(db, db_dir, embedder, table_suffix, names, states, rolled, fixed)
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
    files = sorted({imported_file(d) for d in triples["doc_id"].to_pylist() if d and imported_file(d)})
    reimport.extend(files)
    lost = _lost_extractions(db, names, states, set(triples["source"].to_pylist()))
    fixed.append(
        f"the {names[TRIPLES]} table was rebuilt from its readable rows ({triples.num_rows} triples): "
        f"run `localrag graph build` to extract again the {len(lost)} chunks whose triples were lost; "
        f"{len(files)} imported files are imported again; triples imported from other files are lost: "
        "run `localrag graph import FILE` for them again"
    )


def _lost_extractions(db: DBConnection, names: dict[str, str], states: dict[str, str], sources: set[str]) -> list[str]:
    """Drop the extraction records of the chunks recorded with triples none of which is in `sources`; their ids."""
    if states[BUILT] != "ok":
        return []
    built = db.open_table(names[BUILT]).search().select(["chunk_id", "triples"]).limit(None).to_arrow()
    lost = [c for c, n in zip(built["chunk_id"].to_pylist(), built["triples"].to_pylist(), strict=True)
            if n and c not in sources]
    for part in batches(lost):
        db.open_table(names[BUILT]).delete(sql_in("chunk_id", part))
    return lost


def _after_rollback(
    db: DBConnection,
    db_dir: Path,
    embedder: Embedder,
    table_suffix: str,
    names: dict[str, str],
    states: dict[str, str],
    rolled: list[str],
    fixed: Lines,
) -> None:
    """Graph tables rolled back to an older version (table_rollback.py): make the others agree with them.

    Chunks whose triples were in the commits lost lose their extraction record, so `graph build`
    extracts them again; entities named by the triples kept but lost themselves are made again.
    Triples imported in the commits lost cannot be named: the report says to import them again.
    """
    if TRIPLES in rolled and states[TRIPLES] != "damaged":  # a damaged one is salvaged, which does the same
        sources = set()
        if states[TRIPLES] == "ok":
            sources = set(db.open_table(names[TRIPLES]).search().select(["source"]).limit(None).to_arrow()
                          ["source"].to_pylist())
        lost = _lost_extractions(db, names, states, sources)
        fixed.append(
            f"run `localrag graph build` to extract again the {len(lost)} chunks whose triples were lost with the "
            "rollback; triples imported since that version are lost: run `localrag graph import FILE` for them again"
        )
    if BUILT in rolled:
        fixed.append("run `localrag graph build`: chunks whose extraction record was lost with the rollback are "
                     "extracted again")
    if states[ENTITIES] != "damaged" and states[TRIPLES] != "damaged" and (ENTITIES in rolled or TRIPLES in rolled):
        _entities_again(GraphStore(db_dir, embedder, table_suffix), fixed)


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
