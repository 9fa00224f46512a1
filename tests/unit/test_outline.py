"""Org-mode and AsciiDoc files: their headings are headings, their source blocks code, their lines cited."""

from __future__ import annotations

from pathlib import Path

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.ingest.loaders import FILE_TYPES, load_file, types_named

ORG = """#+TITLE: Orion launch plan
#+AUTHOR: Alice Chen

* Decisions
We postpone the Orion launch to March.
** TODO [#A] Call the bank about the loan :money:urgent:
The bank needs the signed budget first.

#+BEGIN_SRC python
* not a heading
print("budget")
#+END_SRC
* Risks
- supplier delays
- hiring
"""
ADOC = """= Orion Handbook
Alice Chen

== Setup
Install the tools.

----
== not a heading
make build
----

=== Checks ===
Run the tests before each release.
"""


def _texts(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    loaded = load_file(path)
    return [(s.kind, loaded.text[s.start:s.end], s.headings) for s in loaded.sections]


def test_org_headings_are_headings_without_their_todo_keywords_priorities_and_tags(tmp_path: Path) -> None:
    """Before, .org was passed over; renamed .txt, `* Decisions` over its text was no heading."""
    path = tmp_path / "plan.org"
    path.write_text(ORG)
    loaded = load_file(path)
    assert loaded.title == "Orion launch plan" and loaded.text == ORG
    sections = _texts(path)
    assert ("heading", "* Decisions", ("Decisions",)) in sections
    assert ("paragraph", "We postpone the Orion launch to March.", ("Decisions",)) in sections
    call = ("Decisions", "Call the bank about the loan")
    assert ("paragraph", "The bank needs the signed budget first.", call) in sections
    assert ("code", '#+BEGIN_SRC python\n* not a heading\nprint("budget")\n#+END_SRC', call) in sections
    assert ("list", "- supplier delays\n- hiring", ("Risks",)) in sections


def test_asciidoc_titles_and_sections_are_headings(tmp_path: Path) -> None:
    path = tmp_path / "handbook.adoc"
    path.write_text(ADOC)
    assert load_file(path).title == "Orion Handbook"
    sections = _texts(path)
    assert ("heading", "== Setup", ("Orion Handbook", "Setup")) in sections
    assert ("code", "----\n== not a heading\nmake build\n----", ("Orion Handbook", "Setup")) in sections
    assert ("paragraph", "Run the tests before each release.", ("Orion Handbook", "Setup", "Checks")) in sections


def test_org_and_adoc_are_types_and_their_chunks_cite_lines(localrag_home: Path, tmp_path: Path) -> None:
    assert {"org", "adoc"} <= FILE_TYPES and types_named("asciidoc") == ("adoc",)
    (tmp_path / "plan.org").write_text(ORG)
    (tmp_path / "handbook.asciidoc").write_text(ADOC)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=64))
    report = engine.ingest([tmp_path])
    assert (report.added, report.errors, report.notes) == (2, [], [])
    hits = engine.search("signed budget bank", k=2)
    assert hits[0].chunk.path.endswith("plan.org") and hits[0].chunk.line_start is not None
