"""The store's two searches through LanceDB's async API: each leg is one trip to an event loop.

Why: LanceDB's sync API runs every step of a query on its own event-loop thread and waits for it, one
step at a time: a leg crossed threads eight times (three schema look-ups, the index listing, the
execution, two result batches, the documents table's version). On two cores each crossing waits for a
core, and the two legs of a hybrid search queue behind each other's crossings. Here all the steps of a
leg run in one coroutine on one loop shared by every store of the process, so a leg is one crossing
and the two legs of a search overlap on that loop (benchmarks/README.md, "Hybrid query at 100k chunks,
one trip per leg").

The connection is LanceDB's public `connect_async` on the store's folder, separate from the sync one
that writes. It checks for a newer table version on every read, so a search sees this process's own
writes at once, as the sync handle did, and another process's too (the sync handle waited up to a
second for those). The timings in that README section include the check.

Only rows whose document commits them are returned, as everywhere else in the store: a killed ingest
leaves uncommitted chunk rows until `repair`, and a search asks again for more while some were dropped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np
    from lancedb.db import AsyncConnection
    from lancedb.table import AsyncTable

T = TypeVar("T")

# The HNSW candidate list is at least this long, and 4x the rows asked for: at 100k chunks recall@10
# against exact search was 0.975 at 64 and 0.989 at 100, at the same speed (`bench_retrieval.py
# --ef-sweep`); graphs built with ef_construction 100 vary from build to build, and 64 left some
# under 0.98.
HNSW_EF_MIN = 100

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _event_loop() -> asyncio.AbstractEventLoop:
    """The process's search loop, started on first use on a daemon thread (as LanceDB's own is)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="localrag-search", daemon=True).start()
            _loop = loop
        return _loop


def commit_ids(table: Any) -> dict[str, str]:
    """doc_id -> commit_id, from an Arrow table of document rows holding both columns."""
    return dict(zip(table["doc_id"].to_pylist(), table["commit_id"].to_pylist(), strict=True))


def committed_rows(rows: list[dict[str, Any]], committed: dict[str, str]) -> list[dict[str, Any]]:
    """The chunk rows whose document commits them (`committed`: doc_id -> commit_id); the others are a killed
    write's leftovers or an older version's, which no read shows (store.py, "Crash consistency")."""
    return [r for r in rows if committed.get(r["doc_id"]) == r["commit_id"]]


class StoreReader:
    """Runs a collection's vector and BM25 searches, each in one coroutine.

    Its state (the connection, the open tables, the committed documents) is only touched on the loop
    thread, so it needs no lock.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._names: tuple[str, str] | None = None
        self._db: AsyncConnection | None = None
        self._tables: tuple[AsyncTable, AsyncTable] | None = None
        self._committed: dict[str, str] = {}
        self._committed_version = -1
        self._committed_read: asyncio.Future[dict[str, str]] | None = None

    def bind(self, chunks: str, documents: str) -> None:
        """Search these tables from now on (a store switching collection)."""
        self._run(self._bind(chunks, documents))

    async def _bind(self, chunks: str, documents: str) -> None:
        self._names, self._tables, self._committed_read = (chunks, documents), None, None

    def submit(self, step: Callable[[], Awaitable[T]]) -> Future[T]:
        """Start `step` on the search loop; the caller waits on the Future when it needs the result."""
        return asyncio.run_coroutine_threadsafe(self._guard(step), _event_loop())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, _event_loop()).result()

    async def _guard(self, step: Callable[[], Awaitable[T]]) -> T:
        try:
            return await step()
        except BaseException:
            # A repair may rebuild what failed; the next search opens the tables afresh.
            self._tables = None
            raise

    async def _open(self) -> tuple[AsyncTable, AsyncTable]:
        if self._tables is None:
            import lancedb

            assert self._names is not None, "the store binds its collection before searching"
            if self._db is None:
                self._db = await lancedb.connect_async(str(self.folder), read_consistency_interval=timedelta(0))
            chunks, documents = self._names
            self._tables = (await self._db.open_table(chunks), await self._db.open_table(documents))
            self._committed_version, self._committed_read = -1, None
        return self._tables

    async def _read_committed(self) -> dict[str, str]:
        documents = (await self._open())[1]
        version = await documents.version()
        if version != self._committed_version:
            table = await documents.query().select(["doc_id", "commit_id"]).to_arrow()
            self._committed = commit_ids(table)
            self._committed_version = version
        return self._committed

    def _committed_ids(self) -> asyncio.Future[dict[str, str]]:
        """doc_id -> commit_id of committed documents; the two legs of a search share one read."""
        if self._committed_read is None or self._committed_read.done():
            self._committed_read = asyncio.ensure_future(self._read_committed())
        return self._committed_read

    async def _ranked(
        self, make_query: Callable[[AsyncTable, int], Any], k: int, rank: Callable[[dict[str, Any]], float]
    ) -> list[dict[str, Any]]:
        """The top `k` committed rows by `rank` (lower first), equal ranks in chunk id order.

        Reads one row past the cut, and asks for more while some were dropped (rare: only after a kill)
        or while rows of the `k`-th row's rank reach the end of what was read: LanceDB returns equal ranks
        in whatever order its threads finish, so which of them made the cut would change from run to run
        (a file copied into two folders, equal BM25 scores). Both stop at 16 x `k` rows.

        The documents are read beside the query, not after it: a chunk row is written before its
        document commits it, so rows the query sees but the read does not yet commit are left out, as
        they would be had the commit come a moment later.
        """
        chunks = (await self._open())[0]
        limit = k + 1
        while True:
            table, committed = await asyncio.gather(make_query(chunks, limit).to_arrow(), self._committed_ids())
            rows = table.to_pylist()
            visible = sorted(committed_rows(rows, committed), key=lambda r: (rank(r), r["chunk_id"]))
            exhausted = len(rows) < limit or limit >= 16 * k
            tie_at_cut = len(visible) > k and rank(visible[k - 1]) == rank(visible[-1])
            if exhausted or (len(visible) >= k and not tie_at_cut):
                return visible[:k]
            limit *= 4

    def vector(self, vector: np.ndarray, k: int, where: str | None, columns: list[str]) -> Future[list[dict[str, Any]]]:
        """Rows nearest `vector` by cosine, best first, each with its `_distance`."""

        def make(table: AsyncTable, limit: int) -> Any:
            # An exact search (no index yet) ignores `ef`, so the index listing, one more await per
            # search, is not read.
            query = table.query().nearest_to(vector).distance_type("cosine").ef(max(4 * limit, HNSW_EF_MIN))
            query = query.select(columns).limit(limit)
            return query.where(where) if where else query

        async def search() -> list[dict[str, Any]]:
            return await self._ranked(make, k, lambda row: row["_distance"]) if k > 0 else []

        return self.submit(search)

    def text(
        self, query: str, k: int, where: str | None, column: str, columns: list[str]
    ) -> Future[list[dict[str, Any]]]:
        """Rows by BM25 over `column`, best first, each with its `_score` (rows the index does not hold yet too)."""

        def make(table: AsyncTable, limit: int) -> Any:
            search = table.query().nearest_to_text(query, columns=column).select(columns).limit(limit)
            return search.where(where) if where else search

        async def search() -> list[dict[str, Any]]:
            return await self._ranked(make, k, lambda row: -row["_score"]) if k > 0 else []

        return self.submit(search)
