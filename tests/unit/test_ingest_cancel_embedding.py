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
from localrag.ingest.pending import PendingVectors, folder_for
from localrag.ingest.pipeline import EMBED_STEP, embedding_text


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
    # It said "the next ingest goes on with them": a plain one passed the unchanged files over. Their text being
    # unchanged, a forced ingest embeds nothing (the stored vectors are taken again): the stop comes between files.
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(150):
        (docs / f"note-{i:03d}.txt").write_text(f"Note {i} is about the harbour crane number {i}.", encoding="utf-8")
    Engine(load_settings(), embedder=CancellingEmbedder(threading.Event(), after=10**6)).ingest([docs])
    cancel = threading.Event()
    embedder = CancellingEmbedder(threading.Event(), after=10**6)
    engine = Engine(load_settings(commit_chunks=1000), embedder=embedder)
    report = engine.ingest([docs], cancel=cancel, force=True,
                           progress=lambda p: cancel.set() if p.current.endswith("note-063.txt") else None)
    assert (report.updated, report.chunks_reused, embedder.embedded) == (64, 64, 1)  # 1: the index's probe
    assert report.notes[-1] == ("stopped: 86 files not reached; the next `ingest --force` goes on with them (a plain "
                                "ingest reads only those that changed)")


def test_an_update_stopped_mid_batch_gives_each_chunk_its_own_vector(tmp_path: Path) -> None:
    """Of files read again, the chunks whose text is unchanged take their stored vectors and only the others are
    embedded: a stop in that embedding commits the files whose new chunks were all embedded, each chunk with its own
    vector, and the next ingest goes on with the rest."""
    docs = tmp_path / "docs"
    docs.mkdir()
    paragraphs = [f"Paragraph {j} of the harbour log, about crane number {j}." for j in range(6)]
    for i in range(100):
        (docs / f"log-{i:02d}.md").write_text("\n\n".join(f"## Day {j}\n\n{p}" for j, p in enumerate(paragraphs)))
    Engine(load_settings(), embedder=CancellingEmbedder(threading.Event(), after=10**6)).ingest([docs])
    for i in range(100):  # one section of each file changed, a different one each time
        path = docs / f"log-{i:02d}.md"
        path.write_text(path.read_text().replace(f"crane number {i % 6}.", f"crane number {i % 6}, now mended."))
    cancel = threading.Event()
    embedder = CancellingEmbedder(cancel, after=EMBED_STEP)
    engine = Engine(load_settings(commit_chunks=10_000), embedder=embedder)
    report = engine.ingest([docs], cancel=cancel)
    assert report.cancelled and 0 < report.updated < 100 and report.chunks_reused == 5 * report.updated
    assert embedder.embedded == EMBED_STEP + 1  # the first step, and the index's one-text probe
    again = engine.ingest([docs])
    assert (again.updated, again.unchanged, again.chunks_reused) == (100 - report.updated, report.updated,
                                                                     5 * again.updated)
    ids, vectors = engine.store.vectors()
    chunks = {c.chunk_id: c for c in engine.store.chunks(ids)}
    titles = {d.doc_id: d.title for d in engine.documents()}
    expected = HashEmbedder(dim=32).embed([embedding_text(chunks[i], titles[chunks[i].doc_id]) for i in ids])
    assert np.array_equal(vectors, expected)


def _long_file(folder: Path) -> Path:
    folder.mkdir()
    words = "harbour crane ledger tide anchor beacon cargo dredge ferry gantry hull jetty keel lock mooring".split()
    paragraphs = [" ".join(f"{words[(i * 7 + j) % len(words)]}{i}" for j in range(180)) + "." for i in range(300)]
    path = folder / "long.md"
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


def _kept(engine: Engine) -> list[Path]:
    """The steps kept aside for the engine's collection: the tests share one cache folder (conftest), so other
    tests' steps lie beside them."""
    return list(folder_for(engine.store.path, engine.store.collection).rglob("*.npz"))


def test_a_stop_inside_one_big_file_keeps_its_embedded_chunks_for_the_next_ingest(tmp_path: Path) -> None:
    """A file commits whole, so a stop half-way through a 10 MB page threw its minutes of embedding away while saying
    the next ingest goes on: that one embedded it from its first chunk again."""
    _long_file(tmp_path / "docs")
    cancel = threading.Event()
    embedder = CancellingEmbedder(cancel, after=EMBED_STEP * 2)
    engine = Engine(load_settings(commit_chunks=10_000), embedder=embedder)
    report = engine.ingest([tmp_path / "docs"], cancel=cancel)
    assert report.cancelled and report.chunks_written == 0
    assert report.notes[-1] == (f"stopped: 1 file read but not yet in the index (its {EMBED_STEP * 2} chunks embedded "
                                "so far kept for it); the next ingest goes on with them"), report.notes
    again_embedder = CancellingEmbedder(threading.Event(), after=10**6)
    again = Engine(load_settings(commit_chunks=10_000), embedder=again_embedder).ingest([tmp_path / "docs"])
    assert again.added == 1 and again.chunks_written > EMBED_STEP * 2
    assert again_embedder.embedded <= again.chunks_written - EMBED_STEP * 2 + 1  # +1: the index's probe
    assert f"went on from a stop: {EMBED_STEP * 2} chunks embedded before it were taken, not embedded again" \
        in again.notes
    # Taken once: the file committed, and the vectors kept for it go.
    assert not _kept(engine)


def test_vectors_kept_aside_by_another_embedder_are_not_taken(tmp_path: Path) -> None:
    _long_file(tmp_path / "docs")
    cancel = threading.Event()
    engine = Engine(load_settings(commit_chunks=10_000), embedder=CancellingEmbedder(cancel, after=EMBED_STEP))
    engine.ingest([tmp_path / "docs"], cancel=cancel)
    assert _kept(engine)

    class Other(CancellingEmbedder):
        name = "another-embedder"

    other = Other(threading.Event(), after=10**6)
    # The store, empty after the stop, takes the new embedder; the vectors the first one kept are not its own.
    report = Engine(load_settings(commit_chunks=10_000), embedder=other).ingest([tmp_path / "docs"])
    assert not any(note.startswith("went on from a stop") for note in report.notes)
    assert other.embedded == report.chunks_written + 1


def _stopped_with_vectors_kept(tmp_path: Path, folder: str) -> Path:
    """A long file whose ingest was stopped after two embedding steps: its vectors kept aside, never indexed."""
    path = _long_file(tmp_path / folder)
    cancel = threading.Event()
    Engine(load_settings(commit_chunks=10_000), embedder=CancellingEmbedder(cancel, after=EMBED_STEP * 2)).ingest(
        [tmp_path / folder], cancel=cancel)
    return path


def _kept(engine: Engine) -> list[Path]:
    """The steps kept aside for the store of `engine` (the cache is the test session's)."""
    return list(PendingVectors.for_store(engine.store.path, engine.store.collection, "", 0).folder.glob("*.npz"))


def test_the_vectors_kept_for_a_file_deleted_go_with_the_ingest_of_its_folder(tmp_path: Path) -> None:
    # A file stopped and then deleted was never indexed, and what was kept for it stayed for good.
    secret = _stopped_with_vectors_kept(tmp_path, "docs")
    other = _stopped_with_vectors_kept(tmp_path, "elsewhere")
    engine = Engine(load_settings(commit_chunks=10_000), embedder=HashEmbedder(dim=32))
    assert len(_kept(engine)) == 4
    secret.unlink()
    engine.ingest([tmp_path / "docs"])
    assert len(_kept(engine)) == 2  # the other folder's file, not ingested now, keeps its own
    other.unlink()
    engine.ingest([tmp_path / "elsewhere"])
    assert _kept(engine) == []


def test_forget_purge_erases_the_vectors_kept_aside(tmp_path: Path) -> None:
    secret = _stopped_with_vectors_kept(tmp_path, "docs")
    engine = Engine(load_settings(commit_chunks=10_000), embedder=HashEmbedder(dim=32))
    assert len(_kept(engine)) == 2
    engine.forget(secret, purge=True)
    assert _kept(engine) == []


class FolderWatchingEmbedder(HashEmbedder):
    """Counts, as each embedding step starts, the steps kept aside in `folder` so far."""

    def __init__(self) -> None:
        super().__init__(dim=32)
        self.folder: Path | None = None
        self.seen: list[int] = []

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self.folder is not None:
            self.seen.append(len(list(self.folder.glob("*.npz"))))
        return super().embed(texts)


def test_small_files_embedded_whole_in_one_step_are_not_kept_aside(tmp_path: Path) -> None:
    # Each file of each step was written aside (an fsynced file): 1,500 one-chunk files took 2.3 s, not 1.2 s, for
    # vectors that a stop commits anyway (their files embedded whole). A file longer than a step is still kept.
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3 * EMBED_STEP):
        (docs / f"note-{i:03d}.txt").write_text(f"Note {i} is about the harbour crane number {i}.", encoding="utf-8")
    embedder = FolderWatchingEmbedder()
    engine = Engine(load_settings(commit_chunks=10_000), embedder=embedder)
    embedder.folder = PendingVectors.for_store(engine.store.path, engine.store.collection, "", 0).folder
    report = engine.ingest([docs])
    assert report.added == 3 * EMBED_STEP and len(embedder.seen) >= 3  # three steps (and the index's probe)
    assert set(embedder.seen) == {0}
    _long_file(tmp_path / "long")
    embedder.seen.clear()
    engine.ingest([tmp_path / "long"])
    steps = embedder.seen[-1] + 1  # one kept for each step embedded before the last (after the index's probe)
    assert steps > 2 and embedder.seen[-steps:] == list(range(steps))


def test_a_file_renamed_after_a_stop_takes_the_vectors_kept_for_it(tmp_path: Path) -> None:
    # Kept aside by the file's name, a stop's vectors were lost to a rename: `mv big5/a.txt big5/renamed.txt` and the
    # ingest embedded all its chunks again, without "went on from a stop".
    # Titled by its first heading, not its name: the renamed file's chunks are embedded as the same texts.
    path = _long_file(tmp_path / "docs")
    path.write_text("# Harbour ledger\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    cancel = threading.Event()
    Engine(load_settings(commit_chunks=10_000), embedder=CancellingEmbedder(cancel, after=EMBED_STEP * 2)).ingest(
        [tmp_path / "docs"], cancel=cancel)
    path.rename(path.with_name("renamed.md"))
    embedder = CancellingEmbedder(threading.Event(), after=10**6)
    engine = Engine(load_settings(commit_chunks=10_000), embedder=embedder)
    report = engine.ingest([tmp_path / "docs"])
    assert report.added == 1
    assert f"went on from a stop: {EMBED_STEP * 2} chunks embedded before it were taken, not embedded again" \
        in report.notes, report.notes
    assert embedder.embedded <= report.chunks_written - EMBED_STEP * 2 + 1  # +1: the index's probe
    assert _kept(engine) == []  # the old name is gone from the folder: what was kept for it goes
