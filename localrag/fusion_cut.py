"""Pseudo-queries measured with their sentence cut out of its chunk, in a scratch copy of the index.

Why: a sentence taken from a chunk finds that chunk through its own words, which is what BM25
rewards, so choosing the fusion on such queries chose BM25 alone on every corpus, wrongly on MuSiQue
(benchmarks/README.md, "Fusion chosen per corpus"). With the sentence cut out (the inverse cloze task
of `localrag/tune/ict.py`) the chunk must be found by what surrounds the sentence, as a question must
find the passage that answers it without sharing its words.

The cut is made in a copy, never in the index: every row of up to `MAX_CHUNKS` chunks (whole documents)
is written to a scratch store beside the real one, the sampled chunks with the sentence removed from
their text and re-embedded, and the BM25 index built anew over the copy. Chunks that still hold the
whole sentence (overlapping neighbours) are left out of both legs' lists rather than counted as hits.
A scratch folder left by a killed process is removed the next time, once its process is gone.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from localrag.processes import process_alive

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.fusion import Case, PseudoQuery
    from localrag.store import Store
    from localrag.types import Chunk, Document

PREFIX = ".fusion-scratch-"
# The copy is exact-searched (no ANN index): past this many chunks, whole documents are sampled to it.
MAX_CHUNKS = 20_000
# Each leg is fetched this much deeper so that leaving out overlapping neighbours still leaves `fetch`.
SPARE = 10
_WRITE_DOCS = 200


def cut_out(text: str, sentence: str) -> str:
    """`text` without its first occurrence of `sentence`, the gap closed by one space."""
    start = text.find(sentence)
    if start < 0:
        return text
    return (text[:start].rstrip() + " " + text[start + len(sentence):].lstrip()).strip()


def clean_stale(folder: Path) -> list[Path]:
    """Remove scratch copies in `folder` whose process is gone; returns them."""
    removed = []
    for path in folder.glob(PREFIX + "*") if folder.is_dir() else []:
        pid = path.name.removeprefix(PREFIX)
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def sampled_chunks(store: Store, seed: int, limit: int = MAX_CHUNKS) -> list[Chunk]:
    """Every chunk, or those of whole documents drawn with `seed` until `limit` is reached."""
    chunks = store.chunks(store.chunk_ids())
    if len(chunks) <= limit:
        return chunks
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    docs = sorted(by_doc)
    random.Random(seed).shuffle(docs)
    kept: list[Chunk] = []
    for doc in docs:
        if len(kept) >= limit:
            break
        kept += by_doc[doc]
    return kept


@contextmanager
def scratch_copy(
    store: Store, embedder: Embedder, chunks: Sequence[Chunk], queries: Sequence[PseudoQuery]
) -> Iterator[Store]:
    """A store beside `store` holding `chunks` (whole documents), each query's sentence cut out of its chunk."""
    from localrag.ingest.pipeline import embedding_text
    from localrag.store import Store

    parent = store.path.parent
    clean_stale(parent)
    folder = parent / f"{PREFIX}{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        by_id = {c.chunk_id: c for c in chunks}
        all_ids, all_vectors = store.vectors()
        row = {chunk_id: i for i, chunk_id in enumerate(all_ids) if chunk_id in by_id}
        order = [chunk_id for chunk_id in by_id if chunk_id in row]
        vectors = np.array(all_vectors[[row[i] for i in order]], copy=True)
        position = {chunk_id: i for i, chunk_id in enumerate(order)}
        docs: dict[str, Document] = {d.doc_id: d for d in store.documents()}
        cut = {q.chunk_id: dataclasses.replace(by_id[q.chunk_id], text=cut_out(by_id[q.chunk_id].text, q.sentence))
               for q in queries}
        if cut:
            new = embedder.embed([embedding_text(c, docs[c.doc_id].title) for c in cut.values()])
            for chunk_id, vector in zip(cut, new, strict=True):
                vectors[position[chunk_id]] = vector
        copy = Store(folder, embedder_name=store.embedder_name, dim=store.dim,
                     vector_index_min_rows=MAX_CHUNKS + 1, create=True)
        by_doc: dict[str, list[str]] = {}
        for chunk_id in order:
            by_doc.setdefault(by_id[chunk_id].doc_id, []).append(chunk_id)
        doc_ids = list(by_doc)
        for start in range(0, len(doc_ids), _WRITE_DOCS):
            part = doc_ids[start:start + _WRITE_DOCS]
            rows = [i for d in part for i in by_doc[d]]
            copy.write_batch([docs[d] for d in part], [cut.get(i, by_id[i]) for i in rows],
                             vectors[[position[i] for i in rows]])
        copy.refresh_indexes()
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def cut_cases(
    copy: Store, embedder: Embedder, queries: Sequence[PseudoQuery], original: dict[str, str], fetch: int
) -> list[Case]:
    """Each leg's top `fetch` on the copy, less the other chunks whose `original` text holds the whole sentence."""
    vectors = embedder.embed_queries([q.text for q in queries])
    cases: list[Case] = []
    for query, vector in zip(queries, vectors, strict=True):
        legs = [copy.vector_search(vector, fetch + SPARE), copy.text_search(query.text, fetch + SPARE)]
        lists = [
            [c.chunk_id for c, _ in hits
             if c.chunk_id == query.chunk_id or query.sentence not in original.get(c.chunk_id, c.text)][:fetch]
            for hits in legs
        ]
        cases.append((lists[0], lists[1], {query.chunk_id}))
    return cases
