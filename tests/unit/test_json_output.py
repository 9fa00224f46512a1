"""`--json` output keeps names readable but writes as escapes what a terminal would act on or reorder text by."""

from __future__ import annotations

import json

import pytest

from localrag.cli.common import print_json


def test_c1_controls_and_bidi_overrides_are_escaped_and_parse_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    # "invoice\u202efdp.md" showed as "invoicedm.pdf", and U+009B starts an escape sequence on some terminals.
    data = {"path": "invoice\u202efdp.md", "text": "a \u009b2J b \u2066x\u2069", "name": "café 😀 Ελλάδα"}
    print_json(data)
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\u009b" not in out and "\u2066" not in out
    assert "\\u202e" in out and "\\u009b" in out and "café 😀 Ελλάδα" in out
    assert json.loads(out) == data

