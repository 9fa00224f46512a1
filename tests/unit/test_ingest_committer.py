"""A batch embedded and written on a worker thread while the next is read: overlap, order, errors, Ctrl-C.

Real LanceDB in a temp dir and the hashing embedder; the bundled MiniLM for the counting tokenizer.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder, SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.errors import StoreError
from localrag.ingest import parts
from localrag.ingest.committer import BackgroundCommitter
from localrag.store import Store
from localrag.types import LoadedText


def _folder(tmp_path: Path, names: Sequence[str]) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(f"Notes about {name}.\n")
    return folder


class _WaitingEmbedder(HashEmbedder):
    """Embeds a.txt only once b.txt's tokens are counted: without the overlap it waits for nothing."""

    def __init__(self) -> None:
        super().__init__(dim=32)
        self.counted = threading.Event()
        self.embeds = 0
        self.overlapped = False

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        if any("b.txt" in t for t in texts):
            self.counted.set()
        return super().token_counts(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embeds += 1
        if self.embeds == 1:
            self.overlapped = self.counted.wait(timeout=10)
        return super().embed(texts)


def test_the_next_file_is_chunked_while_a_batch_is_embedded(localrag_home: Path, tmp_path: Path) -> None:
    embedder = _WaitingEmbedder()
    engine = Engine(Settings(commit_chunks=1), embedder=embedder)
    report = engine.ingest([_folder(tmp_path, ["a.txt", "b.txt", "c.txt"])])
    assert embedder.overlapped
    assert report.added == 3 and report.chunks_written == 3
    assert [Path(d.path).name for d in engine.documents()] == ["a.txt", "b.txt", "c.txt"]


def test_a_ctrl_c_commits_the_batch_in_flight_and_the_one_being_read(
    localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = parts.load_file

    def interrupted(path: Path, **kwargs: object) -> LoadedText:
        if path.name == "d.txt":
            raise KeyboardInterrupt
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parts, "load_file", interrupted)
    engine = Engine(Settings(commit_chunks=2), embedder=HashEmbedder(dim=32))
    with pytest.raises(KeyboardInterrupt):
        engine.ingest([_folder(tmp_path, ["a.txt", "b.txt", "c.txt", "d.txt"])])
    # a and b were a full batch (on the worker thread); c was read, waiting for more.
    assert [Path(d.path).name for d in engine.documents()] == ["a.txt", "b.txt", "c.txt"]
    assert engine.repair(dry_run=True).damage == []


def test_a_failed_write_stops_the_ingest_and_nothing_after_it_is_written(
    localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Store.write_batch
    calls: list[int] = []

    def failing(self: Store, docs: list, chunks: list, vectors: np.ndarray) -> None:  # type: ignore[type-arg]
        calls.append(len(docs))
        if len(calls) == 2:
            raise StoreError("the store broke", "fix it")
        real(self, docs, chunks, vectors)

    monkeypatch.setattr(Store, "write_batch", failing)
    engine = Engine(Settings(commit_chunks=1), embedder=HashEmbedder(dim=32))
    with pytest.raises(StoreError, match="the store broke"):
        engine.ingest([_folder(tmp_path, ["a.txt", "b.txt", "c.txt", "d.txt"])])
    assert len(calls) == 2  # no batch was written after the failed one, not even the one being read
    assert [Path(d.path).name for d in engine.documents()] == ["a.txt"]


def test_the_committer_runs_jobs_in_order_and_raises_a_jobs_error_at_the_next_call() -> None:
    results: list[int] = []
    committer: BackgroundCommitter[int] = BackgroundCommitter(results.append)
    for i in range(3):
        committer.submit(functools.partial(int, i), chunks=1)
    committer.drain()
    assert results == [0, 1, 2] and committer.in_flight_chunks == 0

    def broken() -> int:
        raise OSError("no space")

    committer.submit(broken, chunks=5)
    with pytest.raises(OSError, match="no space"):
        committer.submit(lambda: 3, chunks=1)
    assert committer.failed
    committer.settle()  # nothing in flight, nothing raised
    committer.close()
    assert results == [0, 1, 2]


def test_counting_tokenizer_counts_as_the_models_own(real_embedder: SentenceTransformerEmbedder) -> None:
    texts = ["short", "A sentence with punctuation, numbers (1962) and ümlauts.", "word " * 400, ""]
    wrapper = real_embedder._load().tokenizer
    expected = [len(ids) for ids in wrapper(texts, add_special_tokens=True, truncation=False)["input_ids"]]
    wrapper(texts, truncation=True, max_length=real_embedder.max_tokens)  # as `encode` does, on another thread
    assert wrapper.backend_tokenizer.truncation is not None
    assert real_embedder.token_counts(texts) == expected
    assert expected[2] > real_embedder.max_tokens
