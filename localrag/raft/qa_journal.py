"""Each chunk's Q&A reply kept as it comes, so a Q&A stage that was stopped goes on where it stopped.

Writing Q&A is the long part of `raft build` and of `tune`'s first stage (about a second a chunk with the
bundled model, hours with a larger one). The stage's files are written once it ends; until then each reply the
model gave is appended to `qa.partial.jsonl` beside them, under a first line naming the stage's inputs. A
re-run with the same inputs reads the replies back and asks the model only for the chunks without one (a
generation that failed is tried again); the replies are checked again as they were the first time, so the
pairs are those of a run that was never stopped. Other inputs (another model, re-ingested documents) start a
new journal. A line cut by a kill is dropped: its chunk is asked again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

from localrag.atomic import write_text_atomic
from localrag.sizes import count_text

JOURNAL = "qa.partial.jsonl"


class QAJournal:
    """The replies kept for one set of inputs: `known(chunk_id)` reads one back, `add` keeps one on disk."""

    def __init__(self, out_dir: Path, inputs: str) -> None:
        self.path = Path(out_dir) / JOURNAL
        self.inputs = inputs
        self._replies: dict[str, str] = {}
        self._handle: IO[str] | None = None
        self._read()

    def _read(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        except (OSError, UnicodeDecodeError):
            return
        try:
            header = json.loads(lines[0]) if lines else {}
        except ValueError:
            header = {}
        if not isinstance(header, dict) or header.get("inputs") != self.inputs:
            return  # another stage's replies: a new journal replaces it at the first reply
        for line in lines[1:]:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if line.endswith("\n") and isinstance(row, dict) and isinstance(row.get("chunk"), str) and \
                    isinstance(row.get("reply"), str):
                self._replies[row["chunk"]] = row["reply"]

    @property
    def resumed(self) -> int:
        return len(self._replies)
    def known(self, chunk_id: str) -> str | None:
        """The reply kept for the chunk; None when it has not been asked yet."""
        return self._replies.get(chunk_id)

    def add(self, chunk_id: str, reply: str) -> None:
        if self._handle is None:
            # Rewritten whole first: drops a line cut by a kill and another stage's replies.
            kept = [json.dumps({"inputs": self.inputs}) + "\n"] + [
                json.dumps({"chunk": cid, "reply": r}) + "\n" for cid, r in self._replies.items()]
            write_text_atomic(self.path, "".join(kept))
            self._handle = self.path.open("a", encoding="utf-8")
        self._replies[chunk_id] = reply
        self._handle.write(json.dumps({"chunk": chunk_id, "reply": reply}) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def remove(self) -> None:
        """The stage's files are written: its replies are in them."""
        self.close()
        self.path.unlink(missing_ok=True)


def resumed_note(chunks: int) -> str:
    """How `raft build` and `tune` say what a stopped Q&A stage had kept."""
    return f"resumed: {count_text(chunks, 'chunk')} already had Q&A written"
