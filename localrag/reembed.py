"""Re-embed the whole index with another embedder: resumable, kill-safe, and switched over at once.

A store holds the vectors of one embedder and refuses another (store.py), so the new vectors go
into a second store beside the first, `lancedb.next/`, document by document through
`Store.write_batch` (the same commit markers that make ingest kill-safe: a document is there with
all its chunks or not at all). A re-run finds the documents already copied, with the same content
hash, and carries on after them. When every document is in, a marker file says the copy is
complete; then the other tables of the folder (the knowledge graph) are moved across and two
renames swap the folders: `lancedb` -> `lancedb.previous`, `lancedb.next` -> `lancedb`. A kill between them is
finished by `finish_swap`, which the Engine calls before it opens the store, so the index is never
found missing. Chunk ids are kept, so Q&A sets and conversations that name chunks still resolve.

Every collection is copied, each under its own id, so the graph tables moved across still belong to
theirs. The graph's entity-name vectors are made again with the new embedder before the marker is
written (graph/entity_reembed.py): a question is linked to an entity by comparing its vectors with them.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.atomic import write_text_atomic
from localrag.embedder_probe import check_embedder
from localrag.graph.entity_reembed import reembed_entities
from localrag.ingest.pipeline import embedding_text
from localrag.store import Store
from localrag.store_schema import CHUNKS, DOCUMENTS, META
from localrag.writer_lock import file_lock

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.types import Chunk, Document

COMPLETE = "REEMBED_COMPLETE.json"


@dataclass
class ReembedReport:
    documents: int = 0
    copied: int = 0
    resumed: int = 0
    chunks: int = 0
    entities: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    # The fusion chosen again for the new vectors, when one had been chosen for the old (`Engine.switch_embedder`).
    fusion: str = ""
    # The embedder of a re-embedding stopped part way that this one dropped ("" when there was none).
    dropped: str = ""
    # Stopped while it waited for another writer: nothing was started.
    waited: bool = False
    # The index now holds the new vectors (a resumed copy may have copied nothing more and still swapped).
    swapped: bool = False
    # The index was already built with that embedder (its name), and the setting named it: nothing was done.
    already: str = ""


def swap_stamp(db_dir: Path) -> tuple[int, int] | None:
    """What tells one finished re-embedding from another: the marker a swap brings into `db_dir` (None before
    any). A stat, cheap enough to look at before every search."""
    try:
        found = (db_dir / COMPLETE).stat()
    except OSError:
        return None
    return found.st_mtime_ns, found.st_ino


def swapped_to(db_dir: Path) -> str:
    """The embedder the last re-embedding of `db_dir` wrote with; "" when unknown."""
    try:
        return str(json.loads((db_dir / COMPLETE).read_text(encoding="utf-8")).get("embedder", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def next_dir(db_dir: Path) -> Path:
    return db_dir.with_name(db_dir.name + ".next")


def stopped_copy(db_dir: Path) -> Path | None:
    """The copy a re-embedding of the store in `db_dir` left unfinished (under way, or stopped part way); None
    when there is none or it is complete (then the next opening swaps it in)."""
    upcoming = next_dir(db_dir)
    return upcoming if upcoming.is_dir() and not (upcoming / COMPLETE).is_file() else None


def previous_dir(db_dir: Path) -> Path:
    return db_dir.with_name(db_dir.name + ".previous")


def finish_swap(db_dir: Path) -> None:
    """Complete a swap that a kill interrupted; does nothing when there is none."""
    upcoming, previous = next_dir(db_dir), previous_dir(db_dir)
    if not ((upcoming / COMPLETE).is_file() or previous.exists()):
        return  # the common case takes no lock, so a reader on a read-only disk needs no lock file
    # Every process that opens the store calls this, readers too, and a re-embedding's own swap may be under
    # way: unlocked, a second process renamed the new index away as `previous` and then deleted it.
    with file_lock(db_dir.with_name(db_dir.name + ".swap.lock")):
        if (upcoming / COMPLETE).is_file():
            if db_dir.exists():
                _move_other_tables(db_dir, upcoming)
                if previous.exists():
                    shutil.rmtree(previous)
                db_dir.rename(previous)
            upcoming.rename(db_dir)
        if previous.exists() and db_dir.exists():
            shutil.rmtree(previous)


def _move_other_tables(source: Path, target: Path) -> None:
    """The graph's tables (everything but the ones the new store wrote itself) go with the index."""
    for table in sorted(source.glob("*.lance")):
        if table.stem.partition("__")[0] not in (CHUNKS, DOCUMENTS, META) and not (target / table.name).exists():
            table.rename(target / table.name)


def reembed_index(
    db_dir: Path,
    embedder: Embedder,
    *,
    commit_chunks: int = 256,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ReembedReport:
    """Copy every document of the store in `db_dir` into a store of `embedder`'s vectors, then swap."""
    started = time.monotonic()
    report = ReembedReport()
    finish_swap(db_dir)
    # The old store is opened with whatever embedder built it: only its rows are read.
    registry = Store.open_existing(db_dir).registry()
    first = Store(next_dir(db_dir), embedder_name=embedder.name, dim=embedder.dim)
    pairs = []
    for name, ident in sorted(registry.items()):
        if ident:
            # The old folder's id, so the graph tables moved across still belong to this collection.
            first.create_collection(name, ident)
        old = Store.open_existing(db_dir, name)
        target = Store(next_dir(db_dir), embedder_name=embedder.name, dim=embedder.dim, collection=name)
        target.repair()
        check_embedder(target, embedder)  # records its probe while the copy is empty, as a first ingest does
        pairs.append((old, target))
    report.documents = sum(len(old.documents()) for old, _ in pairs)
    number = 0
    for old, target in pairs:
        number = _copy(old, target, embedder, commit_chunks, report, number, progress, cancel)
        if report.cancelled:
            break
    if not report.cancelled:
        report.entities = reembed_entities(db_dir, next_dir(db_dir), embedder, cancel)
        report.cancelled = cancel is not None and cancel.is_set()
    if not report.cancelled:
        from localrag.fusion import META_KEY

        for old, target in pairs:
            # Each collection's fusion choice goes over with its rows, before the swap: written after it, a kill
            # in between lost them all, the default back in force in silence (`Engine.switch_embedder` measures
            # them again for the new vectors).
            choice = old.get_meta(META_KEY)
            if choice:
                target.set_meta(META_KEY, choice)
            target.refresh_indexes()
        finished = time.strftime("%Y-%m-%dT%H:%M:%S")
        marker = {"embedder": embedder.name, "documents": report.documents, "finished": finished}
        write_text_atomic(next_dir(db_dir) / COMPLETE, json.dumps(marker) + "\n")
        finish_swap(db_dir)
    report.seconds = time.monotonic() - started
    return report


def _copy(
    old: Store,
    target: Store,
    embedder: Embedder,
    commit_chunks: int,
    report: ReembedReport,
    number: int,
    progress: Callable[[int, int], None] | None,
    cancel: threading.Event | None,
) -> int:
    """Copy one collection's documents not yet in `target`; returns the documents counted so far."""
    documents = old.documents()
    # A resumed copy follows the index as it is now: a document forgotten while the copy was stopped goes from
    # the copy too, or the swap would bring it back.
    kept = {doc.path for doc in documents}
    target.delete_documents([doc.doc_id for doc in target.documents() if doc.path not in kept])
    done = target.document_hashes()
    batch_docs: list[Document] = []
    batch_chunks: list[Chunk] = []
    texts: list[str] = []

    def flush() -> None:
        if batch_docs:
            target.write_batch(batch_docs, batch_chunks, embedder.embed(texts))
            report.copied += len(batch_docs)
            report.chunks += len(batch_chunks)
            batch_docs.clear()
            batch_chunks.clear()
            texts.clear()

    for doc in documents:
        number += 1
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        if done.get(doc.path) == doc.content_hash:
            report.resumed += 1
            continue
        chunks = old.doc_chunks(doc.doc_id)
        batch_docs.append(doc)
        batch_chunks.extend(chunks)
        texts.extend(embedding_text(c, doc.title) for c in chunks)
        if len(batch_chunks) >= commit_chunks:
            flush()
        if progress is not None:
            progress(number, report.documents)
    if not report.cancelled:
        flush()
    return number
