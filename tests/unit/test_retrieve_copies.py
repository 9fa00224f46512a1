"""Which copy of a text a search shows (`retrieve.copies_shown`): one whose file is there, on real files."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from localrag.copy_names import copy_marks, original_first
from localrag.retrieve import copies_shown
from localrag.safe_text import path_text
from localrag.types import Chunk, Copy, Hit


def without_copies(hits: list[Hit]) -> list[Hit]:
    """`hits` as a search shows them: each text once, as the chunk `copies_shown` shows, naming the other paths."""
    shown = copies_shown([hit.chunk for hit in hits])
    return [Hit(chunk, hits[0].score, held_by=tuple(map(Copy, copies))) for chunk, copies in shown.values()]


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


def test_the_plain_name_is_shown_whichever_copy_ranks_first_and_every_copy_is_named(tmp_path: Path) -> None:
    # Windows names a copy `X - Copy.txt` or `X (1).txt`, macOS `X copy.txt`: which one was cited was down to ties.
    names = ["notes - Copy.txt", "notes (1).txt", "notes.txt", "notes copy.txt"]
    for name in names:
        (tmp_path / name).write_text("the same text")
    paths = [str(tmp_path / name) for name in names]
    for order in (paths, paths[::-1]):
        shown = without_copies([_hit(path, 4.0 - i) for i, path in enumerate(order)])
        assert [hit.chunk.path for hit in shown] == [str(tmp_path / "notes.txt")]
        # Named in the order they would be shown in, whichever ranked first.
        assert shown[0].copies == tuple(str(tmp_path / name) for name in ("notes (1).txt", "notes - Copy.txt",
                                                                          "notes copy.txt"))


def test_a_copy_the_query_marks_is_shown_last(tmp_path: Path) -> None:
    # `-draft`: the approved policy's copy of a section the draft holds word for word is shown, not the draft's.
    draft, final = str(tmp_path / "policy_DRAFT.md"), str(tmp_path / "policy_FINAL.md")
    for path in (draft, final):
        Path(path).write_text("the same text")
    assert [(h.chunk.path, h.copies) for h in without_copies([_hit(draft, 2.0), _hit(final, 1.0)])] == [
        (draft, (final,))]
    shown = copies_shown([_hit(draft, 2.0).chunk, _hit(final, 1.0).chunk], avoid={draft})
    assert [(chunk.path, tuple(copy.path for copy in copies)) for chunk, copies in shown.values()] == [
        (final, (draft,))]


def test_copy_marks_of_file_managers_browsers_and_office_suites() -> None:
    marked = ["X - Copy.txt", "X - Copy (2).txt", "X (1).txt", "X copy.txt", "X copy 2.txt", "Copy of X.txt",
              "Copy (2) of X.txt", "X (copy).txt", "X (another copy).txt", "v1.2 copy"]
    assert [copy_marks(name) for name in marked] == [1] * len(marked)
    assert [copy_marks(name) for name in ("X.txt", "/a/b (1)/X.txt", "copy.txt", "(1).txt", "v1.2")] == [0] * 5
    assert copy_marks("X (1) - Copy.txt") == 2
    assert sorted(["/d/X - Copy.txt", "/d/X (1).txt", "/d/X.txt"], key=original_first)[0] == "/d/X.txt"


def test_copies_are_named_at_their_place_as_a_hit_is() -> None:
    # A scanned page held as a photo and as page 4 of a report named "report.pdf" alone, and a copy of one part of a
    # joined hit not at all.
    from localrag.cli.search import copies_note

    page = Chunk("r:3", "r", "/d/report.pdf", 3, "the same text", 0, 13, page=4)
    lines = Chunk("n:0", "n", "/d/notes.md", 0, "the same text", 0, 13, line_start=12, line_end=12)
    assert copies_note((Copy(page),)) == "the same text in /d/report.pdf, page 4"
    assert copies_note((Copy(lines), Copy(page, part=True))) == (
        "the same text in /d/notes.md:12; part of it in /d/report.pdf, page 4")
