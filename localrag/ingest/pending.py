"""Vectors embedded for a file that a stop kept out of the index, kept aside so the next ingest goes on from them.

A file commits whole (`Store.write_batch`), so a stop in the middle of a big one (a 10 MB wiki page is 11,000
chunks, minutes of embedding) left nothing of its work: the next ingest embedded it from its first chunk again.
Each step of its embedding is therefore written here as it ends, one small file per file and step (of a file not
embedded whole in one step: one that is goes in at a stop, and a write each made many small files slow), by the key a
re-read file's vector reuse uses, the text its chunk is embedded as (`pipeline._reusable`): a vector is what the
embedder gives for that text, whatever the file is now or is named now (a file renamed after its stop takes them).
A step is written atomically, each row with a sum over its key and vector (`row_sums`), so a kill (even SIGKILL)
loses at most the step under way and damage is never taken.

The folder is one per store and collection, in the cache (files that can always be made again). A file's steps
go once it commits, or once an ingest of its folder finds it gone (each step names its file for that: a file stopped
and then deleted was never indexed, and its steps stayed for good); `forget --purge` deletes them all, as vectors
of text a purge erases. Steps another embedder wrote (a name or dimension other than this one's) are deleted unread.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from localrag import paths
from localrag.atomic import write_bytes_atomic
from localrag.row_sums import vector_sums


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _file_id(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class PendingVectors:
    """The vectors kept aside for one store's collection, written by `embedder` (its name and dimension)."""

    def __init__(self, folder: Path, embedder: str, dim: int) -> None:
        self.folder = folder
        self.embedder = embedder
        self.dim = dim
        # Each step's keys, read once in a run: a step is written whole and never changed, only deleted.
        self._keys: dict[Path, list[str]] = {}

    @classmethod
    def for_store(cls, store_path: Path, collection: str, embedder: str, dim: int) -> PendingVectors:
        return cls(folder_for(store_path, collection), embedder, dim)

    def keep(self, name: str, texts: Sequence[str], vectors: NDArray[np.float32]) -> None:
        """Write the vectors of `texts`, chunks of the file `name`, as one step that a kill cannot cut in two."""
        if not len(texts):
            return
        keys = [_key(text) for text in texts]
        out = io.BytesIO()
        np.savez(out, keys=np.array(keys), vectors=np.asarray(vectors, dtype=np.float32),
                 sums=np.array(vector_sums(keys, vectors), dtype=np.int64),
                 embedder=np.array([self.embedder, str(self.dim)]), name=np.array(name))
        self.folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.folder / f"{_file_id(name)}.{time.time_ns()}-{os.getpid()}.npz", out.getvalue())

    def taken(self, wanted: set[str]) -> dict[str, NDArray[np.float32]]:
        """The vectors kept aside whose text is among `wanted`, by that text, whichever file they were kept for: a
        vector is what the embedder gives for its text, so a file renamed after its stop takes them too (looked up
        by the file's name, `mv a.txt renamed.txt` embedded all of it again). Only a step's keys are read to know
        whether it holds any (once a run); its vectors only where it does."""
        steps = sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []
        if not steps:
            return {}  # nearly every ingest: no stop kept anything, and hashing each wanted text would be for nothing
        by_key = {_key(text): text for text in wanted}
        found: dict[str, NDArray[np.float32]] = {}
        for step in steps:
            if step not in self._keys:
                try:
                    with np.load(step) as held:
                        self._keys[step] = [str(k) for k in held["keys"]]
                except (OSError, ValueError, KeyError, EOFError):
                    step.unlink(missing_ok=True)  # cut or damaged: embedded again, as it would be without this file
                    continue
            if not any(key in by_key for key in self._keys[step]):
                continue
            try:
                with np.load(step) as held:
                    embedder = [str(v) for v in held["embedder"]]
                    keys = self._keys[step]
                    vectors = np.asarray(held["vectors"], dtype=np.float32)
                    sums = [int(s) for s in held["sums"]]
            except (OSError, ValueError, KeyError, EOFError):
                step.unlink(missing_ok=True)  # cut or damaged: embedded again, as it would be without this file
                continue
            if embedder != [self.embedder, str(self.dim)] or vectors.shape != (len(keys), self.dim):
                step.unlink(missing_ok=True)  # another embedder's: never this one's vector for the text
                continue
            for key, vector, good, held_sum in zip(keys, vectors, vector_sums(keys, vectors), sums, strict=True):
                if key in by_key and good == held_sum:
                    found[by_key[key]] = vector
        return found

    def drop(self, names: Sequence[str]) -> None:
        """Forget the steps of the files `names`: they are in the index now."""
        for step in self._steps(names):
            step.unlink(missing_ok=True)

    def drop_left(self, left: Callable[[str], bool]) -> None:
        """Forget the steps of each file that `left` says is gone from its place: it will never commit."""
        if not self.folder.is_dir():
            return
        steps: dict[str, list[Path]] = {}
        for step in self.folder.glob("*.npz"):
            steps.setdefault(step.name.partition(".")[0], []).append(step)
        for same_file in steps.values():
            try:
                with np.load(same_file[0]) as held:
                    name = str(held["name"])
            except (OSError, ValueError, KeyError, EOFError):
                name = ""  # cut or damaged: of no use, whichever file it was for
            if not name or left(name):
                for step in same_file:
                    step.unlink(missing_ok=True)

    def _steps(self, names: Sequence[str]) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return [step for name in dict.fromkeys(names) for step in sorted(self.folder.glob(f"{_file_id(name)}.*.npz"))]


def folder_for(store_path: Path, collection: str) -> Path:
    """Where the steps kept for a store's collection lie."""
    place = hashlib.sha1(f"{Path(store_path).resolve()}\0{collection}".encode()).hexdigest()[:16]
    return paths.cache_dir() / "ingest-vectors" / place


def drop_all(store_path: Path, collection: str) -> None:
    """Delete every step kept for a store's collection (`forget --purge`): the next ingest embeds those files whole."""
    shutil.rmtree(folder_for(store_path, collection), ignore_errors=True)
