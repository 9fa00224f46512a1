"""The one JSON Lines reader/writer: file:line errors, a BOM, blank lines, a torn last line, both writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.errors import ConfigError
from localrag.jsonl import JsonlError, append_jsonl, parse_object, read_jsonl, write_jsonl


def test_round_trip_keeps_text_readable_and_line_separators_inside_strings(tmp_path: Path) -> None:
    records = [{"q": "café", "n": 1}, {"q": "one\u2028line"}]
    write_jsonl(tmp_path / "a.jsonl", records)
    assert "café" in (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert [r for _, r in read_jsonl(tmp_path / "a.jsonl")] == records


def test_bom_and_blank_lines_are_skipped_and_numbers_count_every_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n  \n{"a": 2}\r\n')
    assert list(read_jsonl(path)) == [(1, {"a": 1}), (4, {"a": 2})]


@pytest.mark.parametrize(("line", "words"), [("{not json", "not valid JSON"), ("[1, 2]", "a JSON list, not an object")])
def test_a_bad_line_names_file_and_line_in_the_callers_error(tmp_path: Path, line: str, words: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        list(read_jsonl(path, error=ConfigError, hint="fix it"))
    assert f"{path}:2: not a JSON object" in str(caught.value) and words in str(caught.value)
    assert caught.value.hint == "fix it"
    with pytest.raises(ValueError, match=words):
        parse_object(line)


def test_unreadable_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(JsonlError, match="cannot read"):
        list(read_jsonl(tmp_path / "missing.jsonl"))
    (tmp_path / "latin.jsonl").write_bytes(b'{"a": "\xe9"}\n')
    with pytest.raises(JsonlError, match="not UTF-8"):
        list(read_jsonl(tmp_path / "latin.jsonl"))


def test_complete_only_drops_the_line_a_killed_writer_left(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    append_jsonl(path, {"a": 1})
    append_jsonl(path, {"a": 2})
    with path.open("a", encoding="utf-8") as f:
        f.write('{"a": 3, "b": "ha')
    assert [r["a"] for _, r in read_jsonl(path, complete_only=True)] == [1, 2]
    with pytest.raises(JsonlError, match=":3:"):
        list(read_jsonl(path))
