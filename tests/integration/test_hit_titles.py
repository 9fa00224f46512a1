"""A passage before its document's first heading is placed by the document's title: a MkDocs site's pages are all
index.html, and such a hit showed only `.../p003/index.html` while `documents` listed its title "Caching part 1 -
Quorbit Docs"."""

from __future__ import annotations

import time
from pathlib import Path

from localrag.config import load_settings
from localrag.conversations import sources_from_hits
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.shapes import chunk_place, hit_json

CACHING = """<html><head><title>Caching part 1 - Quorbit Docs</title></head><body>
<p>The Quorbit cache keeps hot entries in memory for ninety seconds before they are evicted to disk.</p>
</body></html>"""
LOGGING = """<html><head><title>Logging - Quorbit Docs</title></head><body>
<h1>Logging</h1><p>Quorbit writes its logs to the journal and keeps them for fourteen days.</p>
</body></html>"""


def test_a_hit_before_the_first_heading_is_placed_by_its_documents_title(
        localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder) -> None:
    site = tmp_path / "site"
    for name, page in (("p003", CACHING), ("p004", LOGGING)):
        (site / name).mkdir(parents=True)
        (site / name / "index.html").write_text(page, encoding="utf-8")
    (site / "quorbit-notes.txt").write_text("Quorbit keeps hot cache entries warm for ninety seconds.\n")
    (site / "cache-faq.md").write_text("Quorbit cache entries can be pinned with the pin command.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([site])

    hits = {Path(hit.chunk.path).relative_to(site).as_posix(): hit for hit in engine.search("Quorbit cache", k=4)}
    caching, logging, notes = hits["p003/index.html"], hits["p004/index.html"], hits["quorbit-notes.txt"]
    assert not caching.chunk.heading and caching.title == "Caching part 1 - Quorbit Docs"
    assert chunk_place(caching.chunk, heading=True, title=caching.title).endswith(
        "p003/index.html — Caching part 1 - Quorbit Docs")
    # A heading stays the place; a plain-text file's first line, its title whatever it is, is none where it ends as
    # a sentence does, nor is a title that only repeats the file's name (`documents` shows both).
    assert chunk_place(logging.chunk, heading=True, title=logging.title).endswith("p004/index.html — Logging")
    assert notes.title == ""
    assert chunk_place(notes.chunk, heading=True, title=notes.title).endswith("quorbit-notes.txt:1")
    assert hits["cache-faq.md"].title == "" and hits["cache-faq.md"].chunk.heading == ""
    # The chat app's sources (and the Markdown export) and the API's and MCP's JSON carry it too.
    assert sources_from_hits([caching])[0].location == "index.html · Caching part 1 - Quorbit Docs"
    assert hit_json(caching)["title"] == "Caching part 1 - Quorbit Docs"
    answer = engine.ask("How long does the Quorbit cache keep hot entries in memory?", k=3)
    assert {hit.title for hit in answer.sources} >= {"Caching part 1 - Quorbit Docs"}


def test_the_titles_are_one_lookup_per_search(localrag_home: Path, tmp_path: Path,
                                             real_embedder: SentenceTransformerEmbedder) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(40):
        (folder / f"note{i}.html").write_text(f"<html><head><title>Note {i}</title></head><body><p>Quorbit fact "
                                              f"number {i} is about caching entries.</p></body></html>")
    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([folder])
    store = engine.retriever.store
    calls = []
    documents = store.documents
    store.documents = lambda where=None: calls.append(where) or documents(where)  # type: ignore[method-assign]
    started = time.perf_counter()
    hits = engine.search("Quorbit caching entries", k=20)
    assert len(hits) == 20 and all(hit.title.startswith("Note ") for hit in hits)
    assert len(calls) == 1, calls
    print(f"search of 20 hits with their titles: {time.perf_counter() - started:.3f} s")
