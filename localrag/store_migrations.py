"""The store's migrations: ordered, named, each recorded in `meta` once applied (as in simonw/llm).

`Store` runs the names it has not recorded, in order, when it opens a folder. Append only: a step that
changes the chunk or document tables applies itself to every registered collection
(`_in_every_collection`), and a fill killed half-way is finished by the next opening.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from localrag.collection import DEFAULT_COLLECTION, REGISTRY_KEY, dump_registry, suffix, table_id
from localrag.fts_terms import indexed_text
from localrag.row_sums import text_sum, vector_sums
from localrag.store_damage import make_key_index
from localrag.store_schema import (
    CHUNK_KEYS,
    CHUNKS,
    DOCUMENT_KEYS,
    DOCUMENTS,
    FTS_COLUMN,
    LEFT_OUT,
    PACKED_COLUMN,
    PACKED_FIELDS,
    READ_WITH,
    SUM_BATCH,
    chunks_schema,
    documents_schema,
    packed_column,
    sum_inputs,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from localrag.store import Store

# The name a collection found without a registry entry comes back under (with its table id): `repair` names them.
RECOVERED = "recovered-"


def new_tables(db: Any, table_suffix: str, dim: int) -> None:
    db.create_table(CHUNKS + table_suffix, schema=chunks_schema(dim), exist_ok=True)
    db.create_table(DOCUMENTS + table_suffix, schema=documents_schema(), exist_ok=True)


def index_keys(db: Any, table_suffix: str) -> None:
    """BTREE indexes on the keys every delete and lookup filters by, so they do not scan the table."""
    chunks, documents = db.open_table(CHUNKS + table_suffix), db.open_table(DOCUMENTS + table_suffix)
    for table, keys in ((chunks, CHUNK_KEYS), (documents, DOCUMENT_KEYS)):
        for key in keys:
            make_key_index(table, key)


def _create_tables(store: Store) -> None:
    new_tables(store._db, "", store.dim)


def _key_indexes(store: Store) -> None:
    index_keys(store._db, "")


def _register_collections(store: Store) -> None:
    """The tables every store had so far become the `default` collection, in place (nothing copied).

    A store whose meta table was made again (`localrag repair`) lost its registry: collections whose
    tables are still there come back as `recovered-ID`, so nothing drops them as a delete's leftovers.
    """
    if store._folder_meta(REGISTRY_KEY) is None:
        tables = set(store._db.list_tables().tables)
        found = {table_id(t) for t in tables if table_id(t) and CHUNKS + suffix(table_id(t)) in tables}
        registry = {DEFAULT_COLLECTION: "", **{RECOVERED + ident: ident for ident in found}}
        store._set_folder_meta(REGISTRY_KEY, dump_registry(registry))


def _in_every_collection(fill: Callable[[Store], None]) -> Callable[[Store], None]:
    """A migration that runs `fill` on each collection's tables in turn."""

    def migrate(store: Store) -> None:
        for ident in store.registry().values():
            store._bind(ident)
            fill(store)

    return migrate


def _fill_columns(
    store: Store, fields: list[pa.Field], unfilled: str, read: list[str], values: Callable[[Any], dict[str, Any]]
) -> None:
    """Add the `fields` the chunks table lacks, then set them on the rows `unfilled` selects from `values`
    of a batch of those rows' `read` columns, a batch at a time: a fill killed half-way is finished by
    the next opening, and rows already filled are left as they are."""
    import pyarrow as pa

    table = store.chunks_table
    missing = [f for f in fields if f.name not in table.schema.names]
    if missing:
        table.add_columns(missing)
    store.repair()  # leftovers of a killed write share chunk ids with committed rows: the merge needs one each
    for batch in table.search().where(unfilled).select(["chunk_id", *read]).limit(None).to_batches(SUM_BATCH):
        if batch.num_rows:
            update = pa.table({"chunk_id": batch.column("chunk_id"), **values(batch)})
            table.merge_insert("chunk_id").when_matched_update_all().execute(update)


def _fill_row_sums(store: Store) -> None:
    """Checksum columns for stores written before them, filled from the rows as they are now.

    Only rows without sums: a store whose meta table was rebuilt runs this again, and must not bless
    rows whose sums no longer match.
    """
    import pyarrow as pa

    def sums(batch: Any) -> dict[str, Any]:
        ids, texts, vectors = sum_inputs(batch, store.dim)
        return {
            "text_sum": pa.array([text_sum(i, t) for i, t in zip(ids, texts, strict=True)], pa.int64()),
            "vector_sum": pa.array(vector_sums(ids, vectors), pa.int64()),
        }

    fields = [pa.field("text_sum", pa.int64()), pa.field("vector_sum", pa.int64())]
    _fill_columns(store, fields, "text_sum IS NULL OR vector_sum IS NULL", ["text", "vector"], sums)


def _fill_packed(store: Store) -> None:
    """The packed column for stores written before it, filled from each row's own metadata columns."""
    import pyarrow as pa

    def packed(batch: Any) -> dict[str, Any]:
        return {PACKED_COLUMN: pa.array(packed_column(batch.to_pydict()), pa.string())}

    fields = [pa.field(PACKED_COLUMN, pa.string())]
    _fill_columns(store, fields, f"{PACKED_COLUMN} IS NULL", list(PACKED_FIELDS), packed)


def _add_document_column(name: str) -> Callable[[Store], None]:
    """A migration adding the documents' column `name`, empty in the rows already there (`read_with`: how they were
    read is unknown; `left_out`: what their loaders left out is unknown, read as nothing)."""

    def add(store: Store) -> None:
        import pyarrow as pa

        table = store.documents_table
        if name not in table.schema.names:
            table.add_columns([pa.field(name, pa.string())])

    return add


def _fill_fts_terms(store: Store) -> None:
    """`fts_text` as `fts_terms` writes it, for rows written before it (only rows whose text changes are
    written: text that is not ASCII, and from 0008 text holding an identifier or a number joined), and the
    full-text index built again with the longer words it keeps. A fill killed half-way is done
    again whole by the next opening: the text is made from each row's heading and text, not from itself."""
    import pyarrow as pa

    table = store.chunks_table
    store.repair()  # leftovers of a killed write share chunk ids with committed rows: the merge needs one each
    columns = ["chunk_id", "heading", "text", FTS_COLUMN]
    for batch in table.search().select(columns).limit(None).to_batches(SUM_BATCH):
        rows = batch.to_pydict()
        made = [indexed_text(f"{h}\n{t}" if h else t) for h, t in zip(rows["heading"], rows["text"], strict=True)]
        changed = [i for i, (new, old) in enumerate(zip(made, rows[FTS_COLUMN], strict=True)) if new != old]
        if changed:
            update = {"chunk_id": [rows["chunk_id"][i] for i in changed], FTS_COLUMN: [made[i] for i in changed]}
            table.merge_insert("chunk_id").when_matched_update_all().execute(pa.table(update))
    if store._fts_index() is not None:
        store.rebuild_fts_index()


# Append only: a store records each applied name in `meta` and runs the rest in this order.
MIGRATIONS: list[tuple[str, Callable[[Store], None]]] = [
    ("0001_create_tables", _create_tables),
    ("0002_key_indexes", _key_indexes),
    ("0003_collections", _register_collections),
    ("0004_row_sums", _in_every_collection(_fill_row_sums)),
    ("0005_packed_hits", _in_every_collection(_fill_packed)),
    ("0006_document_readings", _in_every_collection(_add_document_column(READ_WITH))),
    ("0007_fts_terms", _in_every_collection(_fill_fts_terms)),
    # The same fill again: identifiers joined by underscores and numbers joined by dots gained a joined form.
    ("0008_fts_identifiers", _in_every_collection(_fill_fts_terms)),
    # And again: a word with an umlaut gained its spelled-out form ("Kündigung" is found by "Kuendigung").
    ("0009_fts_umlauts", _in_every_collection(_fill_fts_terms)),
    # And again: Russian ё is indexed as е ("отчет" finds "Отчёт").
    ("0010_fts_yo", _in_every_collection(_fill_fts_terms)),
    ("0011_document_left_out", _in_every_collection(_add_document_column(LEFT_OUT))),
]
SCHEMA_VERSION = len(MIGRATIONS)
