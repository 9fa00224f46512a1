"""The key-sentence rule of `localrag summarize` on hand-made vectors and texts; no model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from localrag.answer.summary import (
    MAX_SENTENCES,
    NOTHING_TO_QUOTE,
    choose,
    document_sentences,
    nothing_to_quote,
    summarise,
)
from localrag.embed import HashEmbedder
from localrag.sentences import one_line
from localrag.types import Chunk


def _unit(*rows: list[float]) -> np.ndarray:
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_centre_first_and_a_repeat_not_twice() -> None:
    # Rows 0 and 1 say the same central thing; 2 is on the topic from another side; 3 is off it.
    vectors = _unit([1, 0.2, 0], [1, 0.2, 0], [0.7, -0.6, 0.1], [0, 0, 1])
    taken, scores = choose(vectors, 2, redundancy=0.5)
    assert taken[0] in (0, 1) and taken[1] == 2 and scores[0] > scores[1]
    # Without the term the repeat came second: a sentence near the same as one taken is never taken (a contract's
    # boilerplate under each clause, another number in front, was five of a summary's five).
    assert choose(vectors, 2, redundancy=0.0)[0] == [0, 2]
    assert choose(_unit([1, 0.2, 0], [1, 0.21, 0], [0, 0, 1]), 3)[0] == [0, 2]
    assert len(choose(vectors, 10)[0]) == 3
    assert choose(np.zeros((0, 3), dtype=np.float32), 3) == ([], [])


def test_sentences_in_reading_order_quoted_as_written() -> None:
    text = ("# A heading of six words or more here\n\nThe keeper lit the lamp on 14 March 1871. Too short.\n"
            "A storm broke two panes of the lantern glass in 1903.")
    chunk = Chunk("d:0", "d", "/d.md", 0, text, 0, len(text), heading="History")
    spans = document_sentences([chunk])
    assert [text[s:e] for _, s, e in spans] == ["The keeper lit the lamp on 14 March 1871.",
                                                "A storm broke two panes of the lantern glass in 1903."]
    summary = summarise([chunk], HashEmbedder(), 5)
    assert [s.text for s in summary.sentences] == [text[s:e] for _, s, e in spans]
    # Each labelled with the heading it stands under, the "#" line inside the chunk, not the chunk's own.
    assert all(text[s.start:s.end] == s.text and s.heading == "A heading of six words or more here"
               for s in summary.sentences)
    assert (summary.read, summary.total) == (2, 2)


def test_a_heading_as_the_word_loader_writes_it_and_a_tables_first_row_are_not_key_sentences() -> None:
    text = ("Travel and Expenses Policy of Larkspur\n\nEvery business trip needs approval from your line manager.\n\n"
            "City | Hotel cap per night | Daily meal allowance\nLondon | 210 euros | 60 euros")
    chunk = Chunk("d:0", "d", "/d.docx", 0, text, 0, len(text), heading="Travel and Expenses Policy of Larkspur")
    assert [text[s:e] for _, s, e in document_sentences([chunk])] == [
        "Every business trip needs approval from your line manager.", "London | 210 euros | 60 euros"]


def test_a_long_document_is_read_at_evenly_spaced_sentences() -> None:
    topics = ("harbours", "lanterns", "granite", "orchards", "copper", "meadows", "falcons")  # repeats but for numbers
    text = " ".join(f"Sentence number {i} says something about {topics[i % 7]} here."
                    for i in range(MAX_SENTENCES + 500))
    chunk = Chunk("d:0", "d", "/d.md", 0, text, 0, len(text))
    summary = summarise([chunk], HashEmbedder(), 3)
    assert summary.total == MAX_SENTENCES + 500 and summary.read <= MAX_SENTENCES and len(summary.sentences) == 3


def test_a_sentence_in_two_chunks_overlap_counts_once() -> None:
    text = ("The keeper lit the lamp on 14 March 1871. A storm broke two panes of the glass in 1903. "
            "The lamp was electrified by the harbour board in 1931.")
    second, first_end = text.index("A storm"), text.index("The lamp was") - 1
    # The second chunk starts with the first one's last sentence, as the chunker's overlap carries it.
    chunks = [Chunk("d:0", "d", "/d.txt", 0, text[:first_end], 0, first_end),
              Chunk("d:1", "d", "/d.txt", 1, text[second:], second, len(text))]
    assert [c.text[s:e] for c, s, e in document_sentences(chunks)] == [
        "The keeper lit the lamp on 14 March 1871.", "A storm broke two panes of the glass in 1903.",
        "The lamp was electrified by the harbour board in 1931."]
    assert summarise(chunks, HashEmbedder(), 3).total == 3


def test_a_sentence_repeated_under_another_clause_number_is_taken_once() -> None:
    # MiniLM scored such repeats 0.94, under NEAR_SAME: four of a summary's five sentences were the one boilerplate.
    from localrag.answer.summary import choose

    vectors = _unit([1, 0.2, 0], [1, 0.3, 0], [0.7, -0.6, 0.1], [0, 0, 1])
    alike = ["the obligations apply", "the obligations apply", "fees are due", "notice is given"]
    assert 1 not in choose(vectors, 4, redundancy=0.0, alike=alike)[0]


def test_org_and_asciidoc_headings_are_not_key_sentences(tmp_path: Path) -> None:
    """Only Markdown's "#" was a heading line: `summarize` quoted "== Watering Water the lettuce every morning ..."
    of an AsciiDoc file and "TODO [#A] Call the bank about the mortgage renewal offer :money:" of an org file."""
    from localrag.answer.evidence import candidate_sentences
    from localrag.ingest.chunker import chunk_document
    from localrag.ingest.loaders import load_file
    from localrag.types import Hit

    garden = "Water the lettuce every morning before eight o clock. Pick the ripe beans on Fridays after lunch."
    files = {"g.adoc": "= Garden\n\n== Watering\nWater the lettuce every morning before eight o clock.\n\n"
                       "=== Beans\nPick the ripe beans on Fridays after lunch.\n",
             "g.org": "#+TITLE: Garden\n* Watering\nWater the lettuce every morning before eight o clock.\n"
                      "** TODO [#A] Call the bank about the mortgage renewal offer :money:\n"
                      "Pick the ripe beans on Fridays after lunch.\n"}
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        kind = name.split(".")[1]
        chunks = chunk_document(load_file(path), doc_id="d", path=str(path), file_type=kind,
                                token_counts=HashEmbedder().token_counts, max_tokens=512, overlap=0)
        quoted = [one_line(c.text[s:e]) for c, s, e in document_sentences(chunks)]
        assert quoted == garden.replace(". ", ".\n").split("\n"), name
        # The best sentence's candidates leave the heading lines out too (three words or more).
        hits = [Hit(c, 1.0) for c in chunks]
        assert [one_line(hits[n - 1].chunk.text[s:e]) for n, s, e in candidate_sentences(hits)] == quoted, name


def _md_chunks(path: Path, text: str) -> list[Chunk]:
    from localrag.ingest.chunker import chunk_document
    from localrag.ingest.loaders import load_file

    path.write_text(text)
    return chunk_document(load_file(path), doc_id="d", path=str(path), file_type="md",
                          token_counts=HashEmbedder().token_counts, max_tokens=512, overlap=0)


def test_prose_under_a_references_heading_is_read_and_a_list_of_references_is_not(tmp_path: Path) -> None:
    """A manual headed "# Reference" had no sentence to quote, and a hiring guide's "## References" section of prose
    was left out: any heading "Reference(s)" dropped its section."""
    manual = _md_chunks(tmp_path / "manual.md", "# Reference\n\nThe sync command copies every changed file to the "
                        "server.\n\nThe purge command removes the files that were deleted locally.\n")
    assert len(document_sentences(manual)) == 2
    guide = _md_chunks(tmp_path / "guide.md", "# Hiring guide\n\n## Interviews\n\nEach candidate meets three people "
                       "from the team.\n\n## References\n\nEvery candidate must provide two references from previous "
                       "employers. We call both of them before an offer is made.\n")
    assert [one_line(c.text[s:e]) for c, s, e in document_sentences(guide)] == [
        "Each candidate meets three people from the team.",
        "Every candidate must provide two references from previous employers.",
        "We call both of them before an offer is made."]
    # A section of entries is left out whole, the titles between them too; a summary of nothing but entries
    # says so rather than that there is no sentence of six words.
    entries = "".join(f"[{i}] Guu, K., Chen, W. Retrieval-augmented language model pre-training for open "
                      f"questions, part {i}. In Proceedings of ACL, pages 108-118, 2020.\n\n" for i in range(1, 4))
    paper = _md_chunks(tmp_path / "paper.md", "# DenseLink\n\nWe train the retriever for nine hours on one "
                       f"accelerator.\n\n## References\n\n{entries}")
    assert [one_line(c.text[s:e]) for c, s, e in document_sentences(paper)] == [
        "We train the retriever for nine hours on one accelerator."]
    only = summarise(_md_chunks(tmp_path / "refs.md", f"# Works\n\n## References\n\n{entries}"), HashEmbedder())
    assert only.sentences == [] and nothing_to_quote(only) == (
        "no sentence to quote: its 6 sentences of 6 words or more are a list of references")
    assert nothing_to_quote(summarise(manual[:0], HashEmbedder())) == NOTHING_TO_QUOTE
