"""A retrieved chunk of plain text, Markdown or code names the lines of its file it spans, read from the file as it
is now: none where the file no longer holds the chunk at its offsets, for other kinds, or for a very large file."""

from __future__ import annotations

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
        monkeypatch.setattr(lines, "MAX_BYTES", 10)
    else:
        source.write_bytes(b"First line.\x00\n")
    (hit,) = with_lines([_hit(source, "Second line.", 12, file_type)])
    assert hit.chunk.line_start is None and hit.chunk.line_end is None
    assert chunk_place(hit.chunk) == str(source)


def test_a_file_name_the_locale_cannot_spell_has_no_lines_and_no_traceback() -> None:
    # Under Latin-1, the stored name 東京.md could not be encoded for stat(): UnicodeEncodeError under every search.
    from localrag.ingest.lines import _file_text

    assert _file_text(Path("/tmp/\ud800.md")) is None
