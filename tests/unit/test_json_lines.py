"""`serve/json_lines.py`: a client's line of JSON with half a UTF-16 pair, mended before the MCP SDK parses it."""

from __future__ import annotations

import io
import json

from localrag.serve.json_lines import MendedLines, mended_line


def test_a_lone_half_is_read_as_the_replacement_character() -> None:
    for line, text in ((r'{"q": "a \ud83d b"}', "a \ufffd b"),
                       (r'{"q": "\ude00\uD83D"}', "\ufffd\ufffd"),  # a low half first, either case
                       (r'{"q": "\\\ud83d"}', "\\\ufffd")):  # an escaped backslash, then a real half
        assert json.loads(mended_line(line))["q"] == text


def test_whole_pairs_and_escaped_backslashes_are_left_as_they_are() -> None:
    for line in (r'{"q": "a \ud83d\ude00 b"}', r'{"q": "\\ud83d"}', '{"q": "plain"}', r'{"q": "\u00e9\n"}'):
        assert mended_line(line) == line


def test_the_stream_mends_each_line() -> None:
    lines = MendedLines(io.BytesIO(b'{"q": "\\ud83d"}\n{"q": "ok"}\n'), encoding="utf-8")
    assert [lines.readline(), lines.readline(), lines.readline()] == ['{"q": "\\ufffd"}\n', '{"q": "ok"}\n', ""]
