"""`localrag repair`: find what is damaged in the store and put back what can be put back.

What is checked, in the order a repair needs it:
0. Each table opens. One whose newest manifest is damaged is rolled back to the newest version that
   opens, its damaged manifests set aside in the quarantine folder (`table_rollback.py`); the
   documents and chunks tables are then made to agree (`_reconciled`). When no version opens, the
   table's folder is set aside and the table is missing, which step 1 rebuilds.
1. Each table (meta, then the collection's documents and chunks) reads end to end. A table that
   does not, or is missing, is rebuilt from what the others hold: `meta` from the embedder and the
   migrations (the fusion choice it kept is lost and chosen again later; the collections other than
   `default` are registered again as recovered-ID); `documents` from the chunks rows (path, type, count; the
   titles and sizes come back when the files still on disk are read again, `RepairReport.refresh`);
   `chunks` cannot be rebuilt from anything: the rows of its data fragments that still read are kept
   (`table_salvage.py`), a document all of whose chunks were read back stays, and the others are read
   again from disk (a missing chunks table: all of them). Each rebuild drops the table and writes it
   anew; a kill in between leaves the table missing, which the next repair rebuilds the
   same way, and the Store refuses to open a store with a missing table, pointing here.
   Then the graph's tables and index file (`graph/repair.py`).
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
from localrag.graph.repair import repair_graph
from localrag.ingest.pipeline import embedding_text
from localrag.sizes import count_text
from localrag.store import Store
from localrag.store_damage import damaged_indexes
from localrag.store_migrations import RECOVERED
from localrag.store_schema import (
    CHUNK_KEYS,
    CHUNKS,
    DOCUMENT_KEYS,
    DOCUMENTS,
    META,
    batches,
    chunks_schema,
    documents_schema,
    meta_schema,
    sql_in,
    sql_literal,
)
from localrag.table_rollback import opens, roll_back
from localrag.table_salvage import readable_rows, recreate_table, table_state

if TYPE_CHECKING:
    import pyarrow as pa
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
    # Of those, the ones not on disk (moved, a drive not mounted): their text stays searchable, their details lost;
    # `not_on_disk_note` names the forget that takes them out.
    not_on_disk: list[str] = field(default_factory=list)
    not_on_disk_note: str = ""
    reingest_errors: list[str] = field(default_factory=list)
    # Triple files some of whose triples were lost with a damaged triples table: imported again.
    reimport: list[str] = field(default_factory=list)
    # Collections registered again as recovered-ID with a remade meta table: `collections rename` names them.
    recovered: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        """Nothing damaged was found, or everything found was put back."""
        return not self.damage or (not self.dry_run and not self.lost and not self.reingest_errors)


@dataclass(frozen=True)
class _Tables:
    """The names of the collection's two tables under repair."""

    chunks: str
    documents: str
    suffix: str = ""


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
    return _Tables(CHUNKS + table_suffix, DOCUMENTS + table_suffix, table_suffix)


def _fixed_tables(
    db: DBConnection, db_dir: Path, embedder: Embedder, report: RepairReport, states: dict[str, str], tables: _Tables
) -> None:
    """Step 1: rebuild the tables that are missing or unreadable (or only report them, in a dry run)."""
    for name in (META, tables.documents, tables.chunks):
        if states[name] not in ("ok", "unopened"):  # one that does not open is reported by _rolled_back
            report.damage.append(f"the {name} table is {'missing' if states[name] == 'missing' else 'unreadable'}")
    if states[tables.chunks] == "damaged":
        _salvaged_chunks(db, embedder, report, states, tables)
    if report.dry_run:
        return
    if states[tables.chunks] == "missing":
        paths = _document_paths(db, tables) if states[tables.documents] == "ok" else []
        recreate_table(db, tables.chunks, chunks_schema(embedder.dim), keys=CHUNK_KEYS)
        recreate_table(db, tables.documents, documents_schema(), keys=DOCUMENT_KEYS)
        report.reingest.extend(paths)
        report.fixed.append(
            f"the chunks table was made again, empty: {len(paths)} documents are read again"
            if paths
            else "the chunks and documents tables were made again, empty: ingest your folders again"
        )
    elif states[tables.documents] != "ok":
        columns = ["doc_id", "commit_id", "path", "file_type"]
        rows = _documents_from_chunks(db.open_table(tables.chunks).search().select(columns).limit(None).to_arrow())
        recreate_table(db, tables.documents, documents_schema(), keys=DOCUMENT_KEYS, rows=rows)
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
        # Made here, empty, for the Store to fill: an opening never makes it beside other tables (a read command did,
        # and the damage went unsaid).
        db.create_table(META, schema=meta_schema())
        report.fixed.append(
            f"the meta table was made again for embedder '{embedder.name}' (a fusion chosen with "
            "`localrag retrieval tune-fusion` is forgotten: run it again)"
        )


def _name_recovered(db_dir: Path, store: Store, report: RepairReport) -> None:
    """Say which collections the remade meta table registered as recovered-ID (their names were in the meta table
    lost), each with what it holds and the command that names it again."""
    for name in sorted(n for n in store.registry() if n.startswith(RECOVERED)):
        documents = Store.open_existing(db_dir, name).documents()
        example = f", e.g. {documents[0].path}" if documents else ""
        report.recovered.append(name)
        report.fixed.append(f"a collection came back as '{name}' ({count_text(len(documents), 'document')}{example}): "
                            "name it again with "
                            f"`localrag collections rename {name} NAME`")


def _rolled_back(db: DBConnection, db_dir: Path, names: list[str], report: RepairReport) -> list[str]:
    """The tables among `names` that do not open (a damaged newest manifest); unless a dry run, each
    is rolled back to the newest version that opens, or set aside whole to be rebuilt (table_rollback.py)."""
    unopened = [name for name in names if name in db.list_tables().tables and not opens(db, name)]
    for name in unopened:
        report.damage.append(f"the {name} table does not open: the manifest of its newest version is damaged")
        if not report.dry_run:
            report.fixed.append(roll_back(db, db_dir, name).summary())
    return unopened


def _reconciled(db: DBConnection, tables: _Tables, report: RepairReport, *, rolled_back: bool) -> None:
    """Make the documents and chunks tables agree again.

    A document whose committed chunks are not all there (written in a commit the chunks table lost to a
    rollback, or a copy of the index taken while an ingest wrote it: its chunks folder copied before the
    documents one) is read again from its file: its content hash is blanked first, so a kill before the end
    still leaves it to be read again by the next ingest, then its rows go. Without this, such a document kept
    no text, `repair` found nothing, and each ingest called its file unchanged. After a rollback (`rolled_back`),
    chunks whose document has no row (the documents table lost its commit) get a row made from them, and the
    file is read again for its title and size; otherwise such chunks are an interrupted write's, and go with
    `Store.repair`, as do chunks of a commit their document does not name. A dry run says what it would do.
    """
    chunks = db.open_table(tables.chunks)
    documents = db.open_table(tables.documents)
    rows = chunks.search().select(["doc_id", "commit_id", "path", "file_type"]).limit(None).to_arrow()
    docs = documents.search().select(["doc_id", "commit_id", "n_chunks", "path"]).limit(None).to_arrow().to_pylist()
    counts = Counter(zip(rows["doc_id"].to_pylist(), rows["commit_id"].to_pylist(), strict=True))
    partial = [d for d in docs if counts[(d["doc_id"], d["commit_id"])] != d["n_chunks"]]
    known = {d["doc_id"] for d in docs}
    found = _documents_from_chunks(rows.filter([d not in known for d in rows["doc_id"].to_pylist()])) \
        if rolled_back else []
    if partial:
        report.damage.append(f"{len(partial)} documents lack some or all of their chunks (a rollback, or a copy "
                             "of the index taken while it was written)")
    if report.dry_run:
        report.reingest.extend(d["path"] for d in partial)
        return
    for part in batches([d["doc_id"] for d in partial]):
        documents.update(where=sql_in("doc_id", part), values={"content_hash": ""})
    for part in batches([d["doc_id"] for d in partial]):
        chunks.delete(sql_in("doc_id", part))
        documents.delete(sql_in("doc_id", part))
    if found:
        documents.add(found)
        report.refresh.extend(d["path"] for d in found)
        report.fixed.append(f"{len(found)} documents rows lost with the rollback were made again from their chunks")
    if partial:
        report.reingest.extend(d["path"] for d in partial)
        report.fixed.append(f"{len(partial)} documents whose chunks were missing are read again")


def _document_paths(db: DBConnection, tables: _Tables) -> list[str]:
    table = db.open_table(tables.documents).search().select(["path"]).limit(None).to_arrow()
    return sorted(set(table["path"].to_pylist()))


def _documents_from_chunks(chunks: pa.Table) -> list[dict[str, Any]]:
    """One documents row per doc id, for the commit with the most chunk rows (a killed write's leftovers are fewer)."""
    counts: Counter[tuple[str, str]] = Counter()
    details: dict[str, tuple[str, str]] = {}
    for batch in chunks.select(["doc_id", "commit_id", "path", "file_type"]).to_batches(_READ_BATCH):
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


def _salvaged_chunks(
    db: DBConnection, embedder: Embedder, report: RepairReport, states: dict[str, str], tables: _Tables
) -> None:
    """The chunks table is damaged: keep the rows of the fragments that read (table_salvage.py).

    With the documents table whole, a document is kept when every chunk of its committed write was
    read back; the others lose their partial rows and are read again from their files. Their
    content hash is blanked first, so a kill before the end still leaves them to be read again by
    the next ingest. Without a documents table, the documents are rebuilt from the rows read back
    (each file is read again, as when only the documents table is damaged); a document none of
    whose rows was read back is unknown, and the report says to ingest the folders again.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = db.open_table(tables.chunks)
    salvage = readable_rows(chunks)
    rows = salvage.rows
    report.damage.append(salvage.summary(tables.chunks))
    if report.dry_run:
        return
    if rows.schema.field("vector").type.list_size != embedder.dim:
        raise StoreError(
            f"{tables.chunks}: the store's vectors have {rows.schema.field('vector').type.list_size} dimensions, "
            f"the embedder '{embedder.name}' {embedder.dim}",
            "run `localrag repair` with the --embedder that built the index",
        )
    if states[tables.documents] == "ok":
        documents = db.open_table(tables.documents)
        docs = documents.search().limit(None).to_arrow().to_pylist()
        read_back = Counter(zip(rows["doc_id"].to_pylist(), rows["commit_id"].to_pylist(), strict=True))
        whole = {d["doc_id"]: d["commit_id"] for d in docs if read_back[(d["doc_id"], d["commit_id"])] == d["n_chunks"]}
        partial = [d for d in docs if d["doc_id"] not in whole]
        for part in batches([d["doc_id"] for d in partial]):
            documents.update(where=sql_in("doc_id", part), values={"content_hash": ""})
        kept = pc.is_in(
            pc.binary_join_element_wise(rows["doc_id"], rows["commit_id"], "\x00"),
            value_set=pa.array([f"{d}\x00{c}" for d, c in whole.items()], type=pa.string()),
        )
        recreate_table(db, tables.chunks, chunks.schema, keys=CHUNK_KEYS, rows=rows.filter(kept))
        for part in batches([d["doc_id"] for d in partial]):
            documents.delete(sql_in("doc_id", part))
        report.reingest.extend(d["path"] for d in partial)
        report.fixed.append(
            f"the chunks table was rebuilt from the rows read back: {len(whole)} documents kept whole, "
            f"{len(partial)} read again from their files"
        )
    else:
        recreate_table(db, tables.chunks, chunks.schema, keys=CHUNK_KEYS, rows=rows)
        found = _documents_from_chunks(rows)
        recreate_table(db, tables.documents, documents_schema(), keys=DOCUMENT_KEYS, rows=found)
        report.refresh.extend(d["path"] for d in found)
        report.fixed.append(
            f"the chunks table was rebuilt from the rows read back and the documents table from them "
            f"({len(found)} documents, each read again); documents whose rows were all in the damaged "
            "part are not known any more: ingest your folders again to bring them back"
        )
    states[tables.chunks] = states[tables.documents] = "ok"


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
    unopened = _rolled_back(db, Path(db_dir), [META], report)
    meta_state = "unopened" if unopened and dry_run else table_state(db, META)
    tables = _collection_tables(db, collection, meta_state)
    unopened = _rolled_back(db, Path(db_dir), [tables.documents, tables.chunks], report)
    states = {META: meta_state, **{name: table_state(db, name) for name in (tables.documents, tables.chunks)}}
    if dry_run:
        states.update(dict.fromkeys(unopened, "unopened"))
    # Rolled back to a version that reads: the other table may hold rows of the commits lost, or lack them; and a
    # copy of a folder being written may pair tables of two moments.
    reconcile = states[tables.documents] == states[tables.chunks] == "ok"
    _fixed_tables(db, Path(db_dir), embedder, report, states, tables)
    if reconcile:
        _reconciled(db, tables, report, rolled_back=bool(unopened) and not dry_run)
    repair_graph(db, Path(db_dir), embedder, tables.suffix, dry_run=dry_run, damage=report.damage,
                 fixed=report.fixed, reimport=report.reimport)
    if dry_run and any(state != "ok" for state in states.values()):
        return report  # the rest needs whole tables, which only a repair makes
    store = Store(db_dir, embedder_name=embedder.name, dim=embedder.dim, collection=collection)
    if states[META] != "ok" and not dry_run:
        _name_recovered(db_dir, store, report)
    if not dry_run:
        removed = store.repair()
        if removed:
            report.fixed.append(f"{removed} chunk rows left by an interrupted write were removed")
    _fixed_indexes(store, report)
    _fixed_rows(store, embedder, report)
    report.reingest = sorted(set(report.reingest))
    report.refresh = sorted(set(report.refresh) - set(report.reingest))
    return report
