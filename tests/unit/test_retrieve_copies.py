"""Which copy of a text a search shows (`retrieve.without_copies`): one whose file is there, on real files."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from localrag.retrieve import without_copies
from localrag.safe_text import path_text
from localrag.types import Chunk, Hit


def _hit(path: str, score: float) -> Hit:
    return Hit(Chunk(chunk_id=path, doc_id=path, path=path, index=0, text="the same text", start=0, end=13), score)


def test_a_file_named_in_bytes_not_utf8_keeps_its_place(tmp_path: Path) -> None:
    # Its stored name has `\xNN` escapes, which the disk does not know: it was taken for gone, and its copy shown
    # in its place while it was there.
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(raw, "wb") as file:
        file.write(b"the same text")
    stored = path_text(os.fsdecode(raw))
    assert "\\xe9" in stored
    (tmp_path / "copy.txt").write_text("the same text")
    copy = str(tmp_path / "copy.txt")
    shown = without_copies([_hit(stored, 2.0), _hit(copy, 1.0)])
    assert [hit.chunk.path for hit in shown] == [stored] and shown[0].copies == (copy,)


def test_a_name_stored_decomposed_is_there_when_the_disk_has_it_composed(tmp_path: Path) -> None:
    (tmp_path / unicodedata.normalize("NFC", "café.txt")).write_text("the same text")
    stored = str(tmp_path / unicodedata.normalize("NFD", "café.txt"))
    (tmp_path / "copy.txt").write_text("the same text")
    copy = str(tmp_path / "copy.txt")
    assert [hit.chunk.path for hit in without_copies([_hit(stored, 2.0), _hit(copy, 1.0)])] == [stored]


def test_a_part_is_there_while_its_file_is_and_gone_with_it(tmp_path: Path) -> None:
    mail = tmp_path / "mail.eml"
    mail.write_text("From: a@b.c\n\nhi\n")
    (tmp_path / "report.pdf").write_text("the same text")
    part, copy = str(mail / "report.pdf"), str(tmp_path / "report.pdf")
    assert [hit.chunk.path for hit in without_copies([_hit(part, 2.0), _hit(copy, 1.0)])] == [part]
    mail.unlink()
    assert [hit.chunk.path for hit in without_copies([_hit(part, 2.0), _hit(copy, 1.0)])] == [copy]
