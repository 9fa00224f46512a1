"""A cancel while a batch is embedded (a server's stop, an MCP client's cancel) ends the ingest within one embedding
step, with the files embedded whole committed and the others left for the next ingest."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from localrag.config import load_settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine


class CancellingEmbedder(HashEmbedder):
    """Sets `cancel` once it has embedded `after` texts, as a stop arriving mid-batch does."""

    def __init__(self, cancel: threading.Event, after: int) -> None:
        super().__init__(dim=32)
        self.cancel, self.after, self.embedded = cancel, after, 0

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.embedded += len(texts)
        if self.embedded >= self.after:
            self.cancel.set()
        return super().embed(texts)


def test_a_cancel_mid_batch_commits_the_files_embedded_and_counts_only_them(tmp_path: Path) -> None:
    """The stop was seen only between files, and the files read so far (up to commit_chunks chunks: 30 s and more
    on two cores) were all embedded first: a server's 30 s grace ran out and its client got a plain-text 500."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(150):
        (docs / f"note-{i:03d}.txt").write_text(f"Note {i} is about the harbour crane number {i}.", encoding="utf-8")
    cancel = threading.Event()
    embedder = CancellingEmbedder(cancel, after=64)  # a stop during the batch's first embedding step
    engine = Engine(load_settings(commit_chunks=1000), embedder=embedder)
    report = engine.ingest([docs], cancel=cancel)
    assert report.cancelled and embedder.embedded < 70  # the first step, and the index's one-text probe
    assert report.added == 64 == len(engine.documents()) == report.chunks_written
    assert report.notes[-1] == "stopped: 86 files read but not yet in the index; the next ingest goes on with them"
    again = engine.ingest([docs])
    assert (again.added, again.unchanged, len(engine.documents())) == (86, 64, 150)


def test_a_stop_between_files_counts_the_files_not_reached(tmp_path: Path) -> None:
    """The note counted the files read and not embedded only: 7 of 20 files never reached went unmentioned."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(20):
        (docs / f"note-{i:02d}.txt").write_text(f"Note {i} is about the harbour crane number {i}.", encoding="utf-8")
    cancel = threading.Event()
    embedder = CancellingEmbedder(cancel, after=6)  # a commit every 3 files: the stop comes in the second one
    report = Engine(load_settings(commit_chunks=3), embedder=embedder).ingest([docs], cancel=cancel)
    assert report.cancelled and 0 < report.added < 20, report.notes
    left = sum(int(number) for number in re.findall(r"(\d+) files?", report.notes[-1]))
    assert report.notes[-1].startswith("stopped: ") and "not reached" in report.notes[-1]
    assert report.added + left == 20, report.notes


def test_a_forced_ingest_stopped_names_the_forced_one_that_goes_on(tmp_path: Path) -> None:
    # It said "the next ingest goes on with them": a plain one passed the unchanged files over.
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(150):
        (docs / f"note-{i:03d}.txt").write_text(f"Note {i} is about the harbour crane number {i}.", encoding="utf-8")
    Engine(load_settings(), embedder=CancellingEmbedder(threading.Event(), after=10**6)).ingest([docs])
    cancel = threading.Event()
    engine = Engine(load_settings(commit_chunks=1000), embedder=CancellingEmbedder(cancel, after=64))
    report = engine.ingest([docs], cancel=cancel, force=True)
    assert report.notes[-1] == ("stopped: 86 files read but not yet in the index; the next `ingest --force` goes "
                                "on with them (a plain ingest reads only those that changed)")
