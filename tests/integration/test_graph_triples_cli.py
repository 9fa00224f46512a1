"""`localrag graph triples`: the listing's filters on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrag.cli import run

pytestmark = pytest.mark.integration


def test_relation_is_repeatable_and_lists_the_triples_of_any_of_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`graph triples --relation first_lit --relation keeper_of` listed keeper_of's alone, the first one dropped in
    silence, where `related --relation` is repeatable (before 2026-12-07)."""
    (tmp_path / "light.tsv").write_text(
        "Kestrel Point\tfirst_lit\t1871\nAda Quill\tkeeper_of\tKestrel Point\nAda Quill\tborn_in\tDover\n",
        encoding="utf-8")
    assert run(["graph", "import", str(tmp_path / "light.tsv")]) == 0
    capsys.readouterr()
    assert run(["graph", "triples", "--relation", "first_lit", "--relation", "keeper_of", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["head"], t["relation"]) for t in listed["triples"]] == [("Ada Quill", "keeper_of"),
                                                                        ("Kestrel Point", "first_lit")]
    assert listed["total"] == 2
    assert run(["graph", "triples", "--relation", "founded_by", "--relation", "sold_to"]) == 0
    assert "no triples of relation 'founded_by' or 'sold_to' in the graph" in capsys.readouterr().err
