"""Ingest: find files, extract their text and structure, cut it into chunks, store them.

`discover` picks the files, `load_file` extracts text plus sections, `chunk_document` packs sections
into embedder-sized chunks, and `pipeline.run_ingest` drives the whole run (hashing, batching,
commits). The pieces are separate so each can be tested without a model or a store.
"""

from localrag.ingest.chunker import chunk_document
from localrag.ingest.discover import SKIP_DIRS, discover, sample_corpus_dir
from localrag.ingest.loaders import SUPPORTED_EXTENSIONS, file_type, load_file

__all__ = [
    "SKIP_DIRS",
    "SUPPORTED_EXTENSIONS",
    "chunk_document",
    "discover",
    "file_type",
    "load_file",
    "sample_corpus_dir",
]
