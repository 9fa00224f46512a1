"""What `search` shows of a passage (`excerpts.excerpt`): the line holding the query's words, and its line number."""

from __future__ import annotations

from localrag.excerpts import excerpt
from localrag.types import Chunk

HEARTBEAT = "2026-03-05 03:{:02d}:00 INFO worker heartbeat ok queue=12"
ERROR = "2026-03-05 03:20:00 ERROR could not write WAL segment: No space left on device"


def _log(first: int, last: int) -> Chunk:
    text = "\n".join(ERROR if n == 21 else HEARTBEAT.format(n - 1) for n in range(first, last + 1))
    return Chunk("l:0", "l", "/d/db.log", 0, text, 0, len(text), file_type="txt", line_start=first, line_end=last)


def test_the_line_holding_the_words_is_shown_and_named() -> None:
    # The passage's first 240 characters were shown, heartbeats, at its first line (db.log:15), the error not at all.
    shown = excerpt(_log(15, 30), "No space left on device")
    assert shown.line == 21 and shown.text.startswith("…" + ERROR)
    # A word on every line ("INFO", "on") does not outweigh the rare ones; a left-out word is no word to look for.
    assert excerpt(_log(15, 30), "heartbeat on device -heartbeat").line == 21
    # Nothing matched by word (found by meaning): from the start, as before.
    shown = excerpt(_log(15, 30), "disk full")
    assert (shown.line, shown.start) == (15, 0) and shown.text.startswith(HEARTBEAT.format(14))


def test_a_prefix_a_long_line_and_a_passage_without_lines() -> None:
    text = "Intro line.\n" + "word " * 100 + "the thrashing point."
    chunk = Chunk("p:0", "p", "/d/a.pdf", 0, text, 0, len(text), page=3)
    shown = excerpt(chunk, "thrash*")
    assert shown.line is None and shown.text.startswith("…") and "thrashing point." in shown.text
    assert len(shown.text) <= 241


def test_a_match_is_placed_in_the_line_as_written_not_as_folded() -> None:
    # Folded, "½" is "1⁄2" (three characters): the match's place in the folded line fell 150 characters past it in
    # the line itself, and the excerpt showed "…here".
    for filler in ("½ ", "ﬁ ", "… "):
        text = filler * 150 + "boiler pressure warning here"
        chunk = Chunk("h:0", "h", "/d/h.txt", 0, text, 0, len(text), line_start=1, line_end=1)
        shown = excerpt(chunk, "boiler pressure")
        assert "boiler pressure warning here" in shown.text, (filler, shown.text)
    # A soft hyphen inside a word is still no break in it.
    text = "x " * 150 + "the boi\u00adler pressure"
    shown = excerpt(Chunk("s:0", "s", "/d/s.txt", 0, text, 0, len(text)), "boiler")
    assert "boi\u00adler pressure" in shown.text
