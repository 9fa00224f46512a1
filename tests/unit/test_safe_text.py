"""Text from documents and file names: printable in every front end, storable whatever its bytes."""

from __future__ import annotations

import os

from localrag.safe_text import path_text, printable

CSI = "\x1b[41mred\x1b[0m"
OSC = "\x1b]0;pwned\x07"


def test_escape_sequences_become_visible_characters() -> None:
    shown = printable(f"Heading {CSI} {OSC} \x9b31m \u202eevil")
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown and "\u202e" not in shown
    assert "\u241b[41mred" in shown  # ESC shows as its control picture, the rest as plain text
    assert "]0;pwned\u2407" in shown


def test_one_character_for_one_so_offsets_hold() -> None:
    text = f"a{CSI}b\r\n\tc\x00\x7f\udcff"
    assert len(printable(text)) == len(text)
    assert len(printable(text, multiline=False)) == len(text)


def test_newlines_and_tabs_stay_in_running_text_not_in_names() -> None:
    assert printable("one\n\ttwo") == "one\n\ttwo"
    assert printable("one\n\ttwo", multiline=False) == "one\u240a\u2409two"
    assert printable("plain ünïcödé → ok [bold]x[/]") == "plain ünïcödé → ok [bold]x[/]"


def test_undecodable_file_names_get_a_stable_valid_text() -> None:
    raw = b"/tmp/caf\xe9-\xff.txt"
    name = os.fsdecode(raw)  # what os.walk hands over: lone surrogates
    stored = path_text(name)
    assert stored == "/tmp/caf\\xe9-\\xff.txt"
    stored.encode("utf-8")  # valid for Arrow, JSON and the terminal
    assert path_text("/tmp/ordinary é.txt") == "/tmp/ordinary é.txt"
    assert printable(name, multiline=False) == "/tmp/caf\ufffd-\ufffd.txt"  # shown: replacement characters
    assert printable("/tmp/two\nlines.txt", multiline=False) == "/tmp/two\u240alines.txt"
