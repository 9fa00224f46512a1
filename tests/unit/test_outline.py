"""Org-mode and AsciiDoc files: their headings are headings, their source blocks code, their lines cited."""

from __future__ import annotations

from pathlib import Path

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.ingest.chunker import chunk_document
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


GUIDE = """= Deploy Guide
:toc:
:author: Alice Chen

== Staging
Deploys go to staging first.

====
= Not a title inside an example
An example block holds prose.
====

////
== commented out draft
secret draft text
////

// a comment line about nothing
____
* not a list heading
Quoted advice stays prose.
____

|===
| Step | Minutes
| Rollback | 4
|===

== Rollback
A rollback takes four minutes on staging.
"""
GARDEN = """#+TITLE: Garden
#+AUTHOR: Bob Stone
#+STARTUP: overview

* TODO [#A] Buy seeds :shopping:
:PROPERTIES:
:CUSTOM_ID: seeds
:COST: 40
:END:
Tomatoes and basil grow best in full sun.

* Watering
:LOGBOOK:
CLOCK: [2026-01-01 Thu 10:00]--[2026-01-01 Thu 11:00] =>  1:00
:END:
Water the lettuce every morning.
# a comment to myself
#+BEGIN_QUOTE
* Not a heading in a quote
Rain is the best water.
#+END_QUOTE
:note: is a word here, with no end.
"""


def _chunks(path: Path) -> list[tuple[str, str]]:
    loaded = load_file(path)
    chunks = chunk_document(loaded, doc_id="d", path=str(path), file_type=path.suffix[1:],
                            token_counts=lambda texts: [len(t.split()) for t in texts], max_tokens=200, overlap=0)
    assert all(loaded.text[c.start:c.end] == c.text for c in chunks)
    return [(c.heading, c.text) for c in chunks]


def test_asciidoc_delimited_blocks_hold_no_headings_and_comments_are_left_out(tmp_path: Path) -> None:
    """Before, `= Not a title inside an example` was a heading and `== Rollback` read as under it, and the comment
    block's `== commented out draft` was a heading of its own, its text indexed."""
    path = tmp_path / "guide.adoc"
    path.write_text(GUIDE)
    sections = _texts(path)
    assert [text for kind, text, _ in sections if kind == "heading"] == ["= Deploy Guide", "== Staging", "== Rollback"]
    assert ("paragraph", "= Not a title inside an example\nAn example block holds prose.",
            ("Deploy Guide", "Staging")) in sections
    assert ("paragraph", "* not a list heading\nQuoted advice stays prose.", ("Deploy Guide", "Staging")) in sections
    assert ("table", "|===\n| Step | Minutes\n| Rollback | 4\n|===", ("Deploy Guide", "Staging")) in sections
    assert ("paragraph", "A rollback takes four minutes on staging.", ("Deploy Guide", "Rollback")) in sections
    text = "\n".join(text for _, text in _chunks(path))
    for left_out in ("commented out draft", "secret draft", "a comment line", ":toc:", ":author:"):
        assert left_out not in text
    # A prose block's delimiters are no cut: the text before the example shares its chunk.
    assert "Deploys go to staging first.\n\n====\n= Not a title" in text
    assert "Quoted advice stays prose." in text and "| Rollback | 4" in text


def test_org_drawers_keywords_and_comments_are_left_out_and_quotes_are_prose(tmp_path: Path) -> None:
    """Before, the drawers and `#+` lines were prose: a quote read "TODO [#A] Buy seeds :shopping: :PROPERTIES:
    :CUSTOM_ID: seeds :COST: 40 :END: Tomatoes ...", `#+TITLE:` and `#+AUTHOR:` were a chunk, and a QUOTE block
    was code."""
    path = tmp_path / "garden.org"
    path.write_text(GARDEN)
    loaded = load_file(path)
    assert loaded.title == "Garden"
    sections = _texts(path)
    assert ("paragraph", "* Not a heading in a quote\nRain is the best water.", ("Watering",)) in sections
    assert ("paragraph", ":note: is a word here, with no end.", ("Watering",)) in sections
    chunks = _chunks(path)
    assert ("Buy seeds", "Tomatoes and basil grow best in full sun.") in chunks
    text = "\n".join(text for _, text in chunks)
    # A property is a fact of its own; the drawer's other lines and a link's `:CUSTOM_ID:` are no text.
    assert ("Buy seeds", ":COST: 40") in chunks
    for left_out in (":PROPERTIES:", ":CUSTOM_ID:", ":END:", "CLOCK", "#+TITLE", "#+AUTHOR", "Bob Stone",
                     "comment to myself"):
        assert left_out not in text
    # A heading with only a drawer between it and its text rides in that text's heading path, in no chunk alone.
    assert "Buy seeds" not in text and "* Watering" not in text
    assert ("Watering", "Water the lettuce every morning.") in chunks


def test_asciidoc_preprocessor_lines_are_in_no_sentence_and_an_include_is_named(tmp_path: Path) -> None:
    # `summarize` quoted "ifdef::internal[] The internal pager number is 5550199. endif::[]": the README says block
    # attribute and delimiter lines are never quoted, and these are no text either.
    from localrag.sentences import is_label, sentence_spans

    text = ("= Support Handbook\n\n== Contacts\n\nThe main desk number is 5550100.\nifdef::internal[]\n"
            "The internal pager number is 5550199.\nendif::[]\nifeval::[{sectnum} > 2]\nSections are numbered.\n"
            "endif::[]\ninclude::escalation.adoc[]\nifdef::draft[Draft only.]\n")
    path = tmp_path / "handbook.adoc"
    path.write_text(text, encoding="utf-8")
    loaded = load_file(path)
    assert [loaded.text[s.start : s.end] for s in loaded.sections if s.kind == "paragraph"] == [
        "The main desk number is 5550100.", "The internal pager number is 5550199.", "Sections are numbered.",
        "ifdef::draft[Draft only.]"]  # a condition holding its text is text
    # The included file is not followed: the ingest's notes say so.
    assert loaded.left_out == ("1 included file not read into it (escalation.adoc): each is read as a document of "
                               "its own when ingested")
    spans = sentence_spans(text, file_type="adoc")
    quotable = [text[s:e] for s, e in spans if not is_label(text, s, e, "Contacts", "adoc")]
    assert quotable == ["The main desk number is 5550100.", "The internal pager number is 5550199.",
                        "Sections are numbered.", "ifdef::draft[Draft only.]"]


def test_an_asciidoc_include_shown_in_a_listing_block_is_not_named_as_an_included_file(tmp_path: Path) -> None:
    # A listing block shows an include as code (how to write one): it includes nothing, and was named in the note.
    path = tmp_path / "guide.adoc"
    path.write_text("= Guide\n\n== Includes\n\nWrite one so:\n\n----\ninclude::chapter.adoc[]\n----\n\n"
                    + "".join(f"include::part{n}.adoc[]\n" for n in range(1, 5)), encoding="utf-8")
    loaded = load_file(path)
    assert "include::chapter.adoc[]" in " ".join(loaded.text[s.start : s.end] for s in loaded.sections)
    assert loaded.left_out == ("4 included files not read into it (part1.adoc, part2.adoc, part3.adoc, ...): each is "
                               "read as a document of its own when ingested")
