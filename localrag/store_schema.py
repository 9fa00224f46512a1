"""The store's tables as data: names, columns and Arrow schemas, a row as a Chunk or a Document, SQL literals.

What `Store` (store.py), its migrations (store_migrations.py), repair and the readers share about the
layout that store.py's docstring describes, with no LanceDB in it: importing this module opens nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from localrag.types import Chunk, Document

if TYPE_CHECKING:
    import pyarrow as pa

CHUNKS, DOCUMENTS, META = "chunks", "documents", "meta"
# The columns every delete and lookup filters by, each with a BTREE index so they do not scan the table.
CHUNK_KEYS = ("doc_id", "chunk_id")
DOCUMENT_KEYS = ("doc_id",)
FTS_COLUMN = "fts_text"
# How a document was read (localrag/ingest/readings.py); migration 0006 adds it to older stores, empty.
READ_WITH = "read_with"
# What its loader left out of a document (`Document.left_out`), kept beside how it was read: the ingest's note was
# printed once, and a `touch` and ingest, `documents` and `status` never said it again. Migration 0011 adds it to
# older stores, empty: nothing is known to be left out until a document is read again.
LEFT_OUT = "left_out"
# SQL `IN (...)` lists are split so a predicate stays a reasonable size.
_IN_BATCH = 500
# Rows read at a time when checksums are computed or verified: a bounded slice of a big table.
SUM_BATCH = 4096
# A hit's metadata, also packed in one JSON column that the searches read: LanceDB fetches each selected
# column of the top hits on its own, and eight small columns cost a hybrid search's two legs ~2.3 ms at 100k
# chunks (benchmarks/README.md, "A hit's metadata in one packed column"). The separate columns stay for the
# filters and every other read.
PACKED_COLUMN = "packed"
PACKED_FIELDS = ("path", "file_type", "idx", "char_start", "char_end", "page", "heading", "n_tokens")
HIT_COLUMNS = ["chunk_id", "doc_id", "commit_id", "text", PACKED_COLUMN]
CHUNK_COLUMNS = [
    "chunk_id",
    "doc_id",
    "commit_id",
    "path",
    "file_type",
    "idx",
    "text",
    "char_start",
    "char_end",
    "page",
    "heading",
    "n_tokens",
]


def sql_literal(value: str) -> str:
    """A SQL string literal: single quotes doubled, so user input cannot end the string."""
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(sql_literal(v) for v in values)})"


def batches(values: Sequence[str], size: int = _IN_BATCH) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def chunks_schema(dim: int) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("chunk_id", pa.string(), nullable=False),
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("commit_id", pa.string(), nullable=False),
            pa.field("content_hash", pa.string()),
            pa.field("path", pa.string()),
            pa.field("file_type", pa.string()),
            pa.field("idx", pa.int32()),
            pa.field("text", pa.string()),
            pa.field(FTS_COLUMN, pa.string()),
            pa.field("char_start", pa.int64()),
            pa.field("char_end", pa.int64()),
            pa.field("page", pa.int32()),
            pa.field("heading", pa.string()),
            pa.field("n_tokens", pa.int32()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
            pa.field("text_sum", pa.int64()),
            pa.field("vector_sum", pa.int64()),
            pa.field(PACKED_COLUMN, pa.string()),
        ]
    )


def documents_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("path", pa.string()),
            pa.field("file_type", pa.string()),
            pa.field("content_hash", pa.string()),
            pa.field("size", pa.int64()),
            pa.field("mtime", pa.float64()),
            pa.field("title", pa.string()),
            pa.field("n_chunks", pa.int32()),
            pa.field("commit_id", pa.string()),
            pa.field(READ_WITH, pa.string()),
            pa.field(LEFT_OUT, pa.string()),
        ]
    )


def meta_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string())])


def row_to_chunk(row: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=row["chunk_id"],
        doc_id=row["doc_id"],
        path=row["path"],
        index=int(row["idx"]),
        text=row["text"],
        start=int(row["char_start"]),
        end=int(row["char_end"]),
        page=row["page"],
        heading=row["heading"] or "",
        file_type=row["file_type"] or "",
        n_tokens=int(row["n_tokens"] or 0),
    )


def packed_column(columns: dict[str, list[Any]]) -> list[str]:
    """The packed column for chunk rows given column-wise: each row's metadata columns as one JSON list."""
    rows = zip(*(columns[name] for name in PACKED_FIELDS), strict=True)
    return [json.dumps(values, ensure_ascii=False) for values in rows]


def unpacked(row: dict[str, Any]) -> dict[str, Any]:
    """A search row read with the packed column, as a row of the separate columns."""
    return {**row, **dict(zip(PACKED_FIELDS, json.loads(row[PACKED_COLUMN]), strict=True))}


def row_to_document(row: dict[str, Any]) -> Document:
    return Document(
        doc_id=row["doc_id"],
        path=row["path"],
        file_type=row["file_type"] or "",
        content_hash=row["content_hash"] or "",
        size=int(row["size"] or 0),
        mtime=float(row["mtime"] or 0.0),
        title=row["title"] or "",
        n_chunks=int(row["n_chunks"] or 0),
        read_with=row.get(READ_WITH) or "",
        left_out=row.get(LEFT_OUT) or "",
    )


def sum_inputs(batch: Any, dim: int) -> tuple[list[str], list[bytes], np.ndarray]:
    """Chunk ids, texts as raw bytes (damage cannot fail a UTF-8 decode) and vectors of a record batch."""
    import pyarrow.compute as pc

    ids = batch.column("chunk_id").to_pylist()
    texts = pc.cast(batch.column("text"), "binary").to_pylist()
    flat = batch.column("vector").flatten().to_numpy(zero_copy_only=False)
    return ids, [t or b"" for t in texts], np.asarray(flat, dtype=np.float32).reshape(-1, dim)
