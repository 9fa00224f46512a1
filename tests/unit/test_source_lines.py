"""A retrieved chunk of plain text, Markdown or code names the lines of its file it spans, read from the file as it
is now: none where the file no longer holds the chunk at its offsets, for other kinds, or for a file over 64 MB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localrag.conversations import sources_from_hits
from localrag.ingest import lines
from localrag.ingest.lines import with_lines
from localrag.shapes import chunk_place
from localrag.types import Chunk, Hit

CODE = "import os\n\n\ndef save(path):\n    tmp = path + '.tmp'\n    os.replace(tmp, path)\n"


def _hit(path: Path, text: str, start: int, file_type: str) -> Hit:
    return Hit(Chunk("d:00000", "d", str(path), 0, text, start, start + len(text), file_type=file_type), 1.0)


def test_lines_are_counted_in_the_file_as_it_is_now(tmp_path: Path) -> None:
    source = tmp_path / "save.py"
    source.write_bytes(CODE.replace("\n", "\r\n").encode())  # Windows line endings: read as "\n", as indexed
    body = "def save(path):\n    tmp = path + '.tmp'\n    os.replace(tmp, path)"
    (hit,) = with_lines([_hit(source, body, CODE.index("def"), "code:python")])
    assert (hit.chunk.line_start, hit.chunk.line_end) == (4, 6)
    assert chunk_place(hit.chunk) == f"{source}:4" and chunk_place(hit.chunk, short=True) == "save.py:4-6"
    (saved,) = sources_from_hits([hit])
    assert saved.location == "save.py:4-6"

    # Edited since it was indexed: the chunk no longer stands at its offsets, so no line rather than a wrong one.
    source.write_text("# a new first line\n" + CODE)
    assert with_lines([_hit(source, body, CODE.index("def"), "code:python")])[0].chunk.line_start is None


@pytest.mark.parametrize("case", ["pdf", "missing", "too large", "binary"])
def test_no_lines_where_the_file_cannot_say_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("First line.\nSecond line.\n")
    file_type = "txt"
    if case == "pdf":
        file_type = "pdf"  # a PDF's text is not the file's: its pages are its places
    elif case == "missing":
        source.unlink()
    elif case == "too large":
        monkeypatch.setattr(lines, "MAX_READ_BYTES", 10)
    else:
        source.write_bytes(b"First line.\x00\n")
    (hit,) = with_lines([_hit(source, "Second line.", 12, file_type)])
    assert hit.chunk.line_start is None and hit.chunk.line_end is None
    assert chunk_place(hit.chunk) == str(source)


def test_a_log_over_4_mb_names_its_lines_and_reads_the_file_once_for_them(tmp_path: Path) -> None:
    # A 4.2 MB log's ERROR line 42041 was cited as `big.log`, no line: files over 4 MB were not read at all.
    log = tmp_path / "big.log"
    rows = [f"2026-12-07 INFO request {i} handled in {i % 900} ms" for i in range(90_000)]
    rows[42040] = "2026-12-07 ERROR database connection refused"
    log.write_text("\n".join(rows) + "\n")
    assert log.stat().st_size > lines.MAX_BYTES
    text = log.read_text()
    (hit,) = with_lines([_hit(log, rows[42040], text.index("ERROR") - 11, "txt")])
    assert (hit.chunk.line_start, hit.chunk.line_end) == (42041, 42041)
    # Its text is not kept, only the line found for that version of the file (its size and time).
    assert str(log) not in {key[0] for key in lines._READ}
    stamp = log.stat().st_mtime_ns
    log.write_text(text.replace("ERROR", "FAULT"))
    os.utime(log, ns=(stamp, stamp))
    assert with_lines([_hit(log, rows[42040], text.index("ERROR") - 11, "txt")])[0].chunk.line_start == 42041
    log.write_text(text.replace("ERROR", "FAULT") + "one more\n")  # another version: read again, and not there
    assert with_lines([_hit(log, rows[42040], text.index("ERROR") - 11, "txt")])[0].chunk.line_start is None


def test_a_file_name_the_locale_cannot_spell_has_no_lines_and_no_traceback() -> None:
    # Under Latin-1, the stored name 東京.md could not be encoded for stat(): UnicodeEncodeError under every search.
    chunk = Chunk("d:00000", "d", "/tmp/\ud800.md", 0, "Tokyo", 0, 5, file_type="md")
    assert with_lines([Hit(chunk, 1.0)])[0].chunk.line_start is None


@pytest.mark.parametrize("size", ["small", "over MAX_BYTES"])
def test_lines_are_found_in_a_file_whose_text_the_ingest_made_plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    size: str) -> None:
    # Indexed text is `plain_text` (no soft hyphens, "é" composed): compared with the raw file, every chunk from the
    # changed line on stood off its offsets and was cited without lines.
    from localrag.ingest.parts import load_parts

    source = tmp_path / "soft.txt"
    paragraphs = [f"Paragraph {n} holds quarterly figure number {n}." for n in range(1, 40)]
    paragraphs[2] = "The har\u00adbour\u00admas\u00adter opened the cafe\u0301 at dawn."
    source.write_text("\n\n".join(paragraphs) + "\n")
    if size != "small":
        monkeypatch.setattr(lines, "MAX_BYTES", 10)
    (part,) = load_parts(source)
    assert part.loaded is not None
    text = part.loaded.text
    assert "harbourmaster opened the café" in text
    wanted = "Paragraph 35 holds quarterly figure number 35."
    (hit,) = with_lines([_hit(source, wanted, text.index(wanted), "txt")])
    assert (hit.chunk.line_start, hit.chunk.line_end) == (69, 69)
    assert source.read_text().splitlines()[68] == wanted
