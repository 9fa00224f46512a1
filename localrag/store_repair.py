"""`localrag repair`: find what is damaged in the store and put back what can be put back.

What is checked, in the order a repair needs it:
1. Each table (meta, then the collection's documents and chunks) reads end to end. A table that
   does not, or is missing, is rebuilt from what the others hold: `meta` from the embedder and the
   migrations (the fusion choice it kept is lost and chosen again later; the collections other than
   `default` are registered again as recovered-ID); `documents` from the chunks rows (path, type, count; the
   titles and sizes come back when the files still on disk are read again, `RepairReport.refresh`);
   `chunks` cannot be rebuilt from anything, so it is made again empty and its documents are read
   again from disk. Each rebuild drops the table
   and writes it anew; a kill in between leaves the table missing, which the next repair rebuilds the
   same way, and the Store refuses to open a store with a missing table, pointing here.
2. Each index answers a probe (`store_damage.index_probes`). One that fails is built again: indexes
   hold nothing the tables do not.
3. Each committed chunk row's checksums (`row_sums`). A vector that fails beside a text that passes
   is embedded again from the text; a text that fails cannot be recovered, so its whole document is
   removed and listed to be read again.
Leftover rows of killed writes are removed too (`Store.repair`). A dry run (`--check`) does steps
1-3 without changing anything. Files whose rows are gone are in `RepairReport.reingest`: the Engine
ingests those still on disk and names the rest as lost.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.collection import DEFAULT_COLLECTION, REGISTRY_KEY, missing, parse_registry, suffix
from localrag.errors import StoreError
from localrag.ingest.pipeline import embedding_text
from localrag.store import CHUNKS, DOCUMENTS, META, Store, chunks_schema, documents_schema, sql_literal
from localrag.store_damage import damaged_indexes, is_damage

if TYPE_CHECKING:
    from lancedb.db import DBConnection

    from localrag.embed import Embedder

_READ_BATCH = 4096


@dataclass
class RepairReport:
    dry_run: bool = False
    rows_checked: int = 0
    damage: list[str] = field(default_factory=list)  # one line per damaged thing found
    fixed: list[str] = field(default_factory=list)  # one line per thing rebuilt or removed
    reingest: list[str] = field(default_factory=list)  # paths whose rows are gone: read them again
    lost: list[str] = field(default_factory=list)  # of those, the ones no longer on disk
    # Paths whose chunks were kept but whose details (title, size) were lost: read again when still on disk.
    refresh: list[str] = field(default_factory=list)
    reingest_errors: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        """Nothing damaged was found, or everything found was put back."""
        return not self.damage or (not self.dry_run and not self.lost and not self.reingest_errors)


def _table_state(db: DBConnection, name: str) -> str:
    """Whether every row of the table reads: "ok", "missing" or "damaged"."""
    if name not in db.list_tables().tables:
        return "missing"
    try:
        for _ in db.open_table(name).search().limit(None).to_batches(_READ_BATCH):
            pass
    except Exception as exc:
        if is_damage(exc):
            return "damaged"
        raise
    return "ok"


@dataclass(frozen=True)
class _Tables:
    """The names of the collection's two tables under repair."""

    chunks: str
    documents: str


def _collection_tables(db: DBConnection, collection: str, meta_state: str) -> _Tables:
    """The table names of `collection`, from the registry in `meta` (`default`'s need none)."""
    if collection == DEFAULT_COLLECTION:
        return _Tables(CHUNKS, DOCUMENTS)
    if meta_state != "ok":
        raise StoreError(
            f"the meta table that names the collections is {meta_state}, so '{collection}' cannot be found",
            "run `localrag repair` without --collection first: other collections come back as recovered-ID",
        )
    rows = db.open_table(META).search().where(f"key = {sql_literal(REGISTRY_KEY)}").limit(None).to_arrow()
    registry = parse_registry(rows["value"].to_pylist()[-1] if rows.num_rows else None)
    if collection not in registry:
        raise missing(collection)
    table_suffix = suffix(registry[collection])
    return _Tables(CHUNKS + table_suffix, DOCUMENTS + table_suffix)


def _fixed_tables(
    db: DBConnection, db_dir: Path, embedder: Embedder, report: RepairReport, states: dict[str, str], tables: _Tables
) -> None:
    """Step 1: rebuild the tables that are missing or unreadable (or only report them, in a dry run)."""
    for name in (META, tables.documents, tables.chunks):
        if states[name] != "ok":
            report.damage.append(f"the {name} table is {'missing' if states[name] == 'missing' else 'unreadable'}")
    if report.dry_run:
        return
    if states[tables.chunks] != "ok":
        paths = _document_paths(db, tables) if states[tables.documents] == "ok" else []
        _recreate(db, tables.chunks, chunks_schema(embedder.dim), keys=("doc_id", "chunk_id"))
        _recreate(db, tables.documents, documents_schema(), keys=("doc_id",))
        report.reingest.extend(paths)
        report.fixed.append(
            f"the chunks table was made again, empty: {len(paths)} documents are read again"
            if paths
            else "the chunks and documents tables were made again, empty: ingest your folders again"
        )
    elif states[tables.documents] != "ok":
        rows = _documents_from_chunks(db, tables)
        _recreate(db, tables.documents, documents_schema(), keys=("doc_id",), rows=rows)
        # A blank hash makes the ingest read each file again, which brings back titles and sizes.
        report.refresh.extend(r["path"] for r in rows)
        report.fixed.append(f"the documents table was rebuilt from the chunks ({len(rows)} documents)")
    if states[META] != "ok":
        dim = db.open_table(tables.chunks).schema.field("vector").type.list_size
        if dim != embedder.dim:
            raise StoreError(
                f"{db_dir}: the store's vectors have {dim} dimensions, the embedder '{embedder.name}' {embedder.dim}",
                "run `localrag repair` with the --embedder that built the index",
            )
        if META in db.list_tables().tables:
            db.drop_table(META)
        report.fixed.append(
            f"the meta table was made again for embedder '{embedder.name}' (a fusion chosen with "
            "`localrag retrieval tune-fusion` is forgotten: run it again; collections other than 'default' "
            "come back as recovered-ID: name them again with `localrag collections rename`)"
        )


def _recreate(
    db: DBConnection, name: str, schema: Any, *, keys: tuple[str, ...], rows: list[dict[str, Any]] | None = None
) -> None:
    import pyarrow as pa
    from lancedb.index import BTree

    if name in db.list_tables().tables:
        db.drop_table(name)
    table = db.create_table(name, schema=schema)
    if rows:
        table.add(pa.Table.from_pylist(rows, schema=schema))
    for key in keys:
        table.create_index(key, config=BTree(), replace=True)


def _document_paths(db: DBConnection, tables: _Tables) -> list[str]:
    table = db.open_table(tables.documents).search().select(["path"]).limit(None).to_arrow()
    return sorted(set(table["path"].to_pylist()))


def _documents_from_chunks(db: DBConnection, tables: _Tables) -> list[dict[str, Any]]:
    """One documents row per doc id, for the commit with the most chunk rows (a killed write's leftovers are fewer)."""
    columns = ["doc_id", "commit_id", "path", "file_type"]
    counts: Counter[tuple[str, str]] = Counter()
    details: dict[str, tuple[str, str]] = {}
    for batch in db.open_table(tables.chunks).search().select(columns).limit(None).to_batches(_READ_BATCH):
        for row in batch.to_pylist():
            counts[(row["doc_id"], row["commit_id"])] += 1
            details[row["doc_id"]] = (row["path"], row["file_type"])
    best: dict[str, tuple[str, int]] = {}
    for (doc_id, commit_id), n in counts.items():
        if doc_id not in best or n > best[doc_id][1]:
            best[doc_id] = (commit_id, n)
    return [
        {
            "doc_id": doc_id,
            "path": details[doc_id][0],
            "file_type": details[doc_id][1],
            "content_hash": "",
            "size": 0,
            "mtime": 0.0,
            "title": "",
            "n_chunks": n,
            "commit_id": commit_id,
        }
        for doc_id, (commit_id, n) in sorted(best.items())
    ]


def _fixed_indexes(store: Store, report: RepairReport) -> None:
    """Step 2: probe each index; build again the ones that fail (only report them, in a dry run)."""
    for label, rebuild in damaged_indexes(store):
        report.damage.append(f"{label} is unreadable")
        if not report.dry_run:
            rebuild()
            report.fixed.append(f"{label} was built again from the table")


def _fixed_rows(store: Store, embedder: Embedder, report: RepairReport) -> None:
    """Step 3: verify every committed row's checksums; re-embed bad vectors, drop documents with bad text."""
    checked, bad = store.damaged_rows()
    report.rows_checked = checked
    vectors_only = [chunk_id for chunk_id, _doc, text_ok, vector_ok in bad if text_ok and not vector_ok]
    bad_texts = sorted({doc_id for _chunk, doc_id, text_ok, _ok in bad if not text_ok})
    if vectors_only:
        report.damage.append(f"{len(vectors_only)} chunk vectors do not match their checksums")
    if bad_texts:
        report.damage.append(f"the text of {len(bad_texts)} documents does not match its checksums")
    if report.dry_run:
        return
    if vectors_only:
        titles = {d.doc_id: d.title for d in store.documents()}
        chunks = store.chunks(vectors_only)
        store.replace_vectors(
            [c.chunk_id for c in chunks], embedder.embed([embedding_text(c, titles.get(c.doc_id, "")) for c in chunks])
        )
        report.fixed.append(f"{len(chunks)} vectors were embedded again from their chunks' text")
    if bad_texts:
        paths = {d.doc_id: d.path for d in store.documents()}
        store.delete_documents(bad_texts)
        report.reingest.extend(paths[d] for d in bad_texts if d in paths)
        report.fixed.append(f"{len(bad_texts)} documents with damaged text were removed, to be read again")


def repair_store(
    db_dir: Path, embedder: Embedder, *, dry_run: bool = False, collection: str = DEFAULT_COLLECTION
) -> RepairReport:
    """Check the store in `db_dir` (the meta table, then `collection`'s tables, indexes and row
    checksums) and, unless `dry_run`, repair it.

    The caller holds the writer lock. `embedder` is the one the store was built with (its vectors
    are compared with it, and bad ones are made again with it).
    """
    import lancedb

    report = RepairReport(dry_run=dry_run)
    db = lancedb.connect(str(db_dir))
    if not Path(db_dir).is_dir() or not db.list_tables().tables:
        raise StoreError(f"{db_dir}: there is no index here", "run `localrag ingest PATH` first")
    meta_state = _table_state(db, META)
    tables = _collection_tables(db, collection, meta_state)
    states = {META: meta_state, **{name: _table_state(db, name) for name in (tables.documents, tables.chunks)}}
    _fixed_tables(db, Path(db_dir), embedder, report, states, tables)
    if dry_run and any(state != "ok" for state in states.values()):
        return report  # the rest needs whole tables, which only a repair makes
    store = Store(db_dir, embedder_name=embedder.name, dim=embedder.dim, collection=collection)
    if not dry_run:
        removed = store.repair()
        if removed:
            report.fixed.append(f"{removed} chunk rows left by an interrupted write were removed")
    _fixed_indexes(store, report)
    _fixed_rows(store, embedder, report)
    report.reingest = sorted(set(report.reingest))
    report.refresh = sorted(set(report.refresh) - set(report.reingest))
    return report
