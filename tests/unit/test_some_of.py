"""A few of a long list for a note, one rule for every note that cuts one short."""

from __future__ import annotations

from localrag.cli.search import copies_note
from localrag.sizes import some_of
from localrag.types import Chunk, Copy


def test_a_list_cut_short_ends_with_dots_or_with_how_many_more() -> None:
    files = [f"/n/{n}.md" for n in range(49)]
    assert some_of(files[:3]) == "/n/0.md, /n/1.md, /n/2.md"
    assert some_of(files) == "/n/0.md, /n/1.md, /n/2.md, ..."
    assert some_of(files, counted="file") == "/n/0.md, /n/1.md, /n/2.md and 46 more files"
    assert some_of(files[:4], counted="file") == "/n/0.md, /n/1.md, /n/2.md and 1 more file"
    # `search` and `ask` name a hit's copies by it.
    copies = [Copy(Chunk(path, path, path, 0, "text", 0, 4)) for path in files[1:]]
    assert copies_note(copies) == "the same text in /n/1.md, /n/2.md, /n/3.md and 45 more files"
    assert copies_note([Copy(Chunk("n", "n", "/n/new\nline.md", 0, "text", 0, 4))]) == "the same text in /n/new␊line.md"
