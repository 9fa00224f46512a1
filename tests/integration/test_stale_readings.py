"""How each document was read is recorded, and the documents an older localrag or other settings read are
named (`status`), reported (ingest) and read again on request (`ingest --stale`), with the real MiniLM
and a real LanceDB."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from localrag.config import Settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError
from localrag.ingest.discover import sample_corpus_dir
from localrag.ingest.loaders import file_type, load_file
from localrag.ingest.pipeline import embedding_texts
from localrag.ingest.readings import CHUNKS_VERSION, READERS, holding_files, reading, stale_documents, stale_reason
from localrag.store import Store
from localrag.store_schema import READ_WITH
from localrag.types import Chunk, Document

# What the loaders make of the sample corpus, by file: (loader kind, its version in READERS, digest).
LOADED = {
    "SOURCE.md": ("md", 9, "607c9d1c418d1f6e"),
    # 2: the loader's text is the same, but its chunks end at page breaks now (CHUNKED below). 3: running headers
    # and footers are left out (the manual has none). 4: a bold line at the body's size can be a heading (the
    # manual's bold lines are larger: headings already). 7: read the same (no line repeated at its pages' edges, no
    # page of control characters, none damaged). 8: read the same
    # (no record lines, titles over one-line clauses, form or comment). 9: read the same. 10: read the same. 11: read
    # the same (its chunks open on the page of their text: no page holds headings alone). 12: read the same (no
    # page of its header alone, no dot leaders, no CJK sentence at a page's foot). 13: read the same (no image).
    # 14: read the same (no image, no bold part title). 15: read the same (no form, no XFA, no text under a box or
    # white).
    "aurora-espresso-manual.pdf": ("pdf", 15, "64823faa17e5be6b"),
    # 9: read the same. 10: read the same (no clause heading over a paragraph numbered "1."). 12: read the same (no
    # .rst markup). 13: read the same (no chat export).
    "beekeeping-basics.txt": ("txt", 13, "c873841a3dcc3e24"),
    # 8: the page's footer ("volunteer handbook, part 3") is left out, the site's furniture. 9: read the same (its
    # <main> marks its text, so its footer is still the site's). 10: read the same (no MediaWiki chrome in it).
    # 13: read the same (no picture).
    "houseplant-care.html": ("html", 13, "c31cdda2232a76ce"),
    "kestrel-point-lighthouse.md": ("md", 9, "a40bb658ce5be143"),
    # 6: read the same (no picture, no header row marked). 7: read the same (no text box).
    "larkspur-travel-policy.docx": ("docx", 7, "d2ac48c0efb98f32"),
    "quillpad-formatting-codes.md": ("md", 9, "decfe8786b581721"),
}
# The texts each sample file's chunks are embedded as, with the default chunk settings: (CHUNKS_VERSION, the
# version of its loader in READERS, digest). A change that cuts every kind differently bumps CHUNKS_VERSION; one
# that cuts only some kinds differently (a page break ends a chunk: PDFs) bumps those kinds' READERS, so only
# their documents count as stale.
CHUNKED = {
    "SOURCE.md": (2, 9, "3f0550ae2dc99a2b"),
    "aurora-espresso-manual.pdf": (2, 15, "3bb1ec3c39b13ea8"),
    "beekeeping-basics.txt": (2, 13, "0a8d32d71bb54e07"),
    "houseplant-care.html": (2, 13, "be97cf7bc0b7aaf7"),
    "kestrel-point-lighthouse.md": (2, 9, "b6a7852707910638"),
    "larkspur-travel-policy.docx": (2, 7, "1f497ff741642133"),
    "quillpad-formatting-codes.md": (2, 9, "e3893135c4a05054"),
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def test_a_loader_that_reads_differently_has_a_new_version() -> None:
    """A document read by the loader before a change must count as stale after it: the version says so."""
    files = sorted(sample_corpus_dir().iterdir())
    assert [f.name for f in files] == sorted(LOADED)
    for path in files:
        kind, version, digest = LOADED[path.name]
        assert file_type(path) == kind
        # Without its notes (an encoding guessed, hidden sheets left out): said in the ingest's report, not read into
        # the text.
        read = {k: v for k, v in dataclasses.asdict(load_file(path)).items() if k not in ("note", "left_out")}
        loaded = _digest(json.dumps(read, sort_keys=True))
        assert (READERS.get(kind, 1), loaded) == (version, digest), (
            f"the {kind} loader reads {path.name} differently: bump READERS['{kind}'] in "
            "localrag/ingest/readings.py, then set this file's version and digest here")


def test_a_chunker_that_cuts_differently_has_a_new_version(real_embedder: SentenceTransformerEmbedder) -> None:
    files = sorted(sample_corpus_dir().iterdir())
    assert [f.name for f in files] == sorted(CHUNKED)
    for path in files:
        texts = embedding_texts(path, real_embedder, Settings())
        assert texts
        kind = file_type(path)
        assert (CHUNKS_VERSION, READERS.get(kind, 1), _digest("\0".join(texts))) == CHUNKED[path.name], (
            f"{path.name} is chunked or embedded as other texts: bump CHUNKS_VERSION in localrag/ingest/readings.py "
            f"(every kind changed) or READERS['{kind}'] (only this kind), then set them and the digest in CHUNKED here")


def test_stale_documents_are_counted_reported_and_read_again(engine: Engine, corpus_copy: Path) -> None:
    first = engine.ingest([corpus_copy])
    documents = engine.documents()
    limit = engine.embedder.max_tokens
    assert {d.read_with for d in documents} >= {reading(kind, engine.settings, limit) for kind in ("pdf", "md")}
    assert all(d.read_with == reading(d.file_type, engine.settings, limit) for d in documents)
    assert engine.status().stale_documents == 0

    chunks_before = engine.store.chunk_count()
    was = f"{engine.settings.chunk_tokens}/{engine.settings.chunk_overlap}"
    engine.update_settings(engine.settings.replace(chunk_tokens=96, chunk_overlap=16))
    assert engine.status().stale_documents == len(documents)
    assert set(engine.stale_documents().values()) == {f"read with chunk_tokens/chunk_overlap {was}"}
    assert engine.stale_documents(engine.documents()) == engine.stale_documents()  # from rows a caller holds

    # A plain ingest leaves them as they are, and says how many there are.
    plain = engine.ingest([corpus_copy])
    assert (plain.unchanged, plain.stale, plain.updated, plain.chunks_written) == (first.added, first.added, 0, 0)
    assert f"{first.added} unchanged ({first.added} read by an older localrag" in plain.summary()
    assert engine.store.chunk_count() == chunks_before

    # With no paths, `stale` reads every stale document's file again, and only those.
    again = engine.ingest([], stale=True)
    assert (again.updated, again.unchanged, again.stale) == (first.added, 0, 0)
    assert engine.store.chunk_count() == again.chunks_written > chunks_before
    assert engine.status().stale_documents == 0
    assert engine.ingest([corpus_copy], stale=True).chunks_written == 0

    with pytest.raises(LocalRagError, match="nothing to ingest"):
        engine.ingest([])


def test_a_store_written_before_readings_counts_every_document_as_stale(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", embedder_name="e", dim=4)
    docs = [Document(f"d{i}", f"/docs/{i}.md", "md", f"h{i}", 1, 0.0, read_with="md 1; chunks 1 254/32")
            for i in range(2)]
    chunks = [Chunk(f"d{i}:0", f"d{i}", f"/docs/{i}.md", 0, f"text {i}", 0, 6, file_type="md") for i in range(2)]
    store.write_batch(docs, chunks, np.eye(2, 4, dtype=np.float32))
    store.documents_table.drop_columns([READ_WITH])
    store._meta.delete("key = 'migration:0006_document_readings'")

    old = Store(tmp_path / "db", embedder_name="e", dim=4)
    assert READ_WITH in old.documents_table.schema.names
    assert old.document_readings() == {"/docs/0.md": ("md", ""), "/docs/1.md": ("md", "")}
    assert stale_documents(old.document_readings(), Settings(), 256) == dict.fromkeys(
        ("/docs/0.md", "/docs/1.md"), "read before localrag recorded how")
    assert [d.read_with for d in old.documents()] == ["", ""]


def test_why_a_reading_is_stale() -> None:
    assert stale_reason("pdf 1 ocr; chunks 1 254/32", "pdf 1 ocr; chunks 1 254/32", 256) == ""
    assert stale_reason("pdf 1 no-ocr; chunks 1 254/32", "pdf 1 ocr; chunks 1 254/32", 256) == "read with OCR off"
    # OCR turned off: reading a scan again would only lose its text, so what OCR read stays current.
    assert stale_reason("pdf 1 ocr; chunks 1 254/32", "pdf 1 no-ocr; chunks 1 254/32", 256) == ""
    assert stale_reason("pdf 1 ocr; chunks 1 254/32", "pdf 1 no-ocr; chunks 1 128/16", 256) == (
        "read with chunk_tokens/chunk_overlap 254/32")
    assert stale_reason("txt 1; chunks 1 254/32", "txt 2; chunks 2 128/16", 256) == (
        "read with an older loader and an older chunker")
    assert stale_reason("txt 1; chunks 1 254/32", "txt 1; chunks 1 128/16", 256) == (
        "read with chunk_tokens/chunk_overlap 254/32")
    assert reading("code:python", Settings(), 256) == reading("code:rust", Settings(), 256)
    # Minified JSON is cut between its records since code:json 3 (4: past 200,000 characters too): only JSON files
    # are read again, not all code.
    assert stale_reason("code 2; chunks 2 200/32", reading("code:json", Settings(), 256), 256) == (
        "read with an older loader")
    assert reading("code:python", Settings(), 256).startswith("code 2;")
    assert reading("pdf", Settings(ocr=False), 256) != reading("pdf", Settings(), 256)
    assert reading("md", Settings(ocr=False), 256) == reading("md", Settings(), 256)


def test_a_reading_by_a_newer_localrag_is_not_stale_here() -> None:
    # A newer localrag read the document, then this one opened the index: read again here it would be downgraded.
    # Versions compare as numbers ("txt 10" is newer than "txt 9", which a text comparison has the other way).
    now = reading("txt", Settings(), 256)
    newer_loader = now.replace(f"txt {READERS['txt']};", f"txt {READERS['txt'] + 1};")
    newer_chunker = now.replace(f"chunks {CHUNKS_VERSION} ", f"chunks {CHUNKS_VERSION + 1} ")
    for stored in (newer_loader, newer_chunker, newer_loader.replace(f"chunks {CHUNKS_VERSION} ",
                                                                     f"chunks {CHUNKS_VERSION + 1} ")):
        assert stale_reason(stored, now, 256) == ""
    assert stale_reason("txt 9; chunks 2 200/32", "txt 10; chunks 2 200/32", 256) == "read with an older loader"
    assert stale_reason("txt 10; chunks 9 200/32", "txt 10; chunks 10 200/32", 256) == "read with an older chunker"
    # Newer, but with other chunk settings than this localrag's: those are the user's to apply.
    assert stale_reason("txt 99; chunks 9 96/16", "txt 10; chunks 2 200/32", 256) == (
        "read with chunk_tokens/chunk_overlap 96/16")
    # Another kind, or a version that reads as no number (a row edited by hand), is still read again.
    assert stale_reason("code 9; chunks 2 200/32", "code:json 5; chunks 2 200/32", 256) == "read with an older loader"
    assert stale_reason("txt x; chunks 2 200/32", "txt 10; chunks 2 200/32", 256) == "read with an older loader"
    assert stale_documents({"/d/a.txt": ("txt", newer_loader)}, Settings(), 256) == {}


def test_a_reading_holds_the_chunk_size_the_chunker_used() -> None:
    """MiniLM reads 256 tokens, so any chunk_tokens from 216 up cuts the same chunks: no document is stale
    for a change among those, and one read with 216 is stale under an embedder that reads more."""
    assert reading("rtf", Settings(chunk_tokens=300), 256) == "rtf 3; chunks 2 216/32"
    assert reading("rtf", Settings(chunk_tokens=300), 256) == reading("rtf", Settings(chunk_tokens=500), 256)
    assert stale_reason("rtf 3; chunks 2 216/32", reading("rtf", Settings(chunk_tokens=500), 512), 512) == (
        "read with chunk_tokens/chunk_overlap 216/32")
    # Recorded before readings held the size used: "300" was cut to 216 too.
    assert stale_reason("rtf 3; chunks 2 300/32", reading("rtf", Settings(chunk_tokens=400), 256), 256) == ""
    assert stale_reason("rtf 3; chunks 2 300/32", reading("rtf", Settings(chunk_tokens=100), 256), 256) == (
        "read with chunk_tokens/chunk_overlap 300/32")
    assert stale_reason("rtf 3; chunks 2 many/32", reading("rtf", Settings(), 256), 256) == (
        "read with chunk_tokens/chunk_overlap many/32")


def test_a_chunk_size_past_the_embedders_reach_marks_nothing_stale(engine: Engine, corpus_copy: Path) -> None:
    engine.update_settings(engine.settings.replace(chunk_tokens=300))
    engine.ingest([corpus_copy])
    assert engine.status().stale_documents == 0
    engine.update_settings(engine.settings.replace(chunk_tokens=1000))
    assert engine.status().stale_documents == 0
    assert engine.ingest([corpus_copy]).stale == 0
    engine.update_settings(engine.settings.replace(chunk_tokens=150))
    assert engine.status().stale_documents == len(engine.documents())


def test_the_embedders_reach_is_known_without_loading_it(real_embedder: SentenceTransformerEmbedder) -> None:
    fresh = SentenceTransformerEmbedder(real_embedder.folder)
    assert fresh.max_tokens == 256
    assert fresh._model is None  # status and the stale checks ask for it; a model load would cost seconds
    assert fresh.max_tokens == int(fresh._load().max_seq_length) == real_embedder.max_tokens


def test_a_mails_attachment_is_read_again_through_its_mail(tmp_path: Path) -> None:
    mail = tmp_path / "inbox" / "mail.eml"
    mail.parent.mkdir()
    mail.write_text("From: a@example.org\n\nhello\n")
    gone = tmp_path / "gone.md"
    assert holding_files([f"{mail}/report.pdf", str(mail), str(gone)]) == [str(mail)]


def test_a_page_saved_as_one_file_is_stale_when_the_html_reader_changes() -> None:
    # It had a number of its own, 1, to be bumped by hand with "html"'s: html went 7 -> 8 and it stayed at 1.
    settings = Settings()
    assert reading("mhtml", settings, 256).split(";")[0] == f"mhtml {READERS['html']}"
