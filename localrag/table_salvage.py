"""A damaged LanceDB table: whether it reads, the rows that still can be read, and making it again.

A LanceDB table is a list of fragments (one or more data files each, written by one add or one
compaction), and a row's `_rowid` is its fragment's id times 2**32 plus its offset in it. A cut or
corrupt data file makes every scan of the table fail (even one filtered to other fragments' row ids,
tried on LanceDB 0.x), but a take by row ids reads only the fragments those ids are in, skips ids
no row has, and fails only for a damaged fragment. So each fragment id is taken in blocks of row
offsets until a block comes back empty, up to the table's count of fragments (its manifest's
statistics read without its data). Inside a fragment nothing can be saved: a cut file loses the
footer its columns' pages are found by.

What this saves depends on how the table was written: an ingest adds one fragment per commit and
the end-of-ingest compaction merges them, so a store compacted into one fragment has nothing to save
when that fragment is damaged, while damage to one recent commit's fragment costs only that commit.
A fragment whose first block of offsets is all deleted rows is taken for an id no fragment has (a
compaction rewrites fragments without their deleted rows, so that is rare).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localrag.store_damage import is_damage, make_key_index

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.db import DBConnection
    from lancedb.table import Table

_FRAGMENT_BITS = 32
_BLOCK = 1 << 14
_READ_BATCH = 4096


@dataclass
class Salvage:
    """The readable rows of a table (its own schema, without `_rowid`) and the fragments that are not."""

    rows: pa.Table
    lost_fragments: int
    whole: bool = True  # False: the table's damage is not in its fragments' data, and no row was read

    def summary(self, name: str) -> str:
        """One line for a report: how much of table `name` reads."""
        if not self.whole:
            return f"no row of {name} can be read back (the damage is not in one data fragment)"
        return f"{self.rows.num_rows} rows of {name} can be read back, {self.lost_fragments} data fragments cannot"


def _fragment_rows(table: Table, fragment: int) -> list[pa.Table]:
    """The rows of one fragment, in blocks; [] when no fragment has this id. Raises on damage."""
    blocks: list[pa.Table] = []
    start = fragment << _FRAGMENT_BITS
    while True:
        block = table.take_row_ids(list(range(start, start + _BLOCK))).to_arrow()
        if not block.num_rows:
            return blocks
        blocks.append(block)
        start += _BLOCK


def readable_rows(table: Table) -> Salvage:
    """Every row of `table` in a fragment that reads; raises what is not damage (see store_damage.is_damage)."""
    import pyarrow as pa

    schema = table.schema
    try:
        stats: Any = table.stats()  # a dict from the native layer, whatever the stubs say
        fragments = int(stats["fragment_stats"]["num_fragments"])
    except Exception as exc:
        if not is_damage(exc):
            raise
        return Salvage(schema.empty_table(), 0, whole=False)
    # Fragment ids only grow (a compaction's new fragments take new ids): a bound for the search.
    most_ids = fragments + table.version * 16 + 1024
    parts: list[pa.Table] = []
    found = lost = 0
    fragment = 0
    while found < fragments and fragment < most_ids:
        try:
            blocks = _fragment_rows(table, fragment)
        except Exception as exc:
            if not is_damage(exc):
                raise
            found, lost = found + 1, lost + 1
        else:
            found += bool(blocks)
            parts += [b for b in blocks if b.num_rows]
        fragment += 1
    read = [p.select(schema.names).cast(schema) for p in parts]
    return Salvage(pa.concat_tables(read) if read else schema.empty_table(), lost)


def table_state(db: DBConnection, name: str) -> str:
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


def recreate_table(
    db: DBConnection,
    name: str,
    schema: Any,
    *,
    keys: Sequence[str] = (),
    rows: pa.Table | list[dict[str, Any]] | None = None,
) -> None:
    """Drop `name` if there and write it anew with `rows` and a BTREE index on each of `keys`.

    A kill between the drop and the write leaves the table missing, which the next repair sees.
    """
    import pyarrow as pa

    if name in db.list_tables().tables:
        db.drop_table(name)
    table = db.create_table(name, schema=schema)
    data = pa.Table.from_pylist(rows, schema=schema) if isinstance(rows, list) else rows
    if data is not None and data.num_rows:
        table.add(data)
    for key in keys:
        make_key_index(table, key)
