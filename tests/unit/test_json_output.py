"""`--json` output keeps names readable but writes as escapes what a terminal would act on or reorder text by."""

from __future__ import annotations

import json

import pytest

from localrag.cli.common import print_json
from localrag.safe_text import _JSON_ESCAPED, json_text


def test_c1_controls_and_bidi_overrides_are_escaped_and_parse_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    # "invoice\u202efdp.md" showed as "invoicedm.pdf", and U+009B starts an escape sequence on some terminals.
    data = {"path": "invoice\u202efdp.md", "text": "a \u009b2J b \u2066x\u2069", "name": "café 😀 Ελλάδα"}
    print_json(data)
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\u009b" not in out and "\u2066" not in out
    assert "\\u202e" in out and "\\u009b" in out and "café 😀 Ελλάδα" in out
    assert json.loads(out) == data



def test_invisible_characters_are_escaped_so_names_that_look_alike_read_apart(
        capsys: pytest.CaptureFixture[str]) -> None:
    # `budget\u200b.md` and a name spelled in tag characters printed as `budget.md`, the name of the real file.
    names = ["budget.md", "budget\u200b.md", "budget\U000e0041\U000e0042.md", "a\u00adb\ufeff\u2060\u180e.md"]
    print_json(names)
    out = capsys.readouterr().out
    assert "\\u200b" in out and "\\udb40\\udc41\\udb40\\udc42" in out and "a\\u00adb\\ufeff\\u2060\\u180e" in out
    assert not any(char in out for char in "\u200b\U000e0041\u00ad\ufeff\u2060\u180e")
    assert json.loads(out) == names


def test_joiners_that_shape_a_name_are_written_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    # Every ZWNJ of a Persian name was written `\u200c`, every ZWJ of an emoji family `\u200d`.
    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    names = ["می\u200cخواهم.pdf", "👨\u200d👩\u200d👧 trip.md", f"{england} squad.md",
             "budget\u200d.md", "bud\u200cget"]
    print_json(names)
    out = capsys.readouterr().out
    assert "می\u200cخواهم.pdf" in out and "👨\u200d👩\u200d👧 trip.md" in out and f"{england} squad.md" in out
    assert "budget\\u200d.md" in out and "bud\\u200cget" in out  # joining nothing, they show
    assert json.loads(out) == names


def test_no_ascii_character_needs_an_escape() -> None:
    # `json_text` writes an ASCII dump (an embeddings reply, most API replies) without running `_JSON_ESCAPED` over
    # it; that holds only while every character the pattern escapes is beyond ASCII (DEL included: json writes it raw).
    assert not any(_JSON_ESCAPED.search(f"a{chr(code)}b") for code in range(0x80))
    text = "".join(chr(code) for code in range(0x80))
    assert json_text({"text": text}) == json.dumps({"text": text}, ensure_ascii=False)
