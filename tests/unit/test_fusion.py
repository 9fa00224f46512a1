"""Fusion math, merging of overlapping hits and the SQL built from user filters (no models)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from localrag.fusion import Fusion
from localrag.retrieve import (
    SearchFilters,
    filters_to_sql,
    glob_to_like,
    merge_overlapping,
    rank_hits,
    reciprocal_rank_fusion,
)
from localrag.store_schema import sql_in, sql_literal
from localrag.types import Chunk, Copy, Hit


def hit(doc: str, start: int, end: int, text: str, score: float, **ranks: int | float | None) -> Hit:
    chunk = Chunk(f"{doc}:{start}", doc, f"/{doc}.md", start // 10, text, start, end)
    return Hit(chunk, score, **ranks)  # type: ignore[arg-type]


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63)


def test_rrf_orders_best_first_and_agreement_wins() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "a"], ["b"]], k=10)
    assert [item for item, _ in fused][0] == "b"
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)


def test_rrf_ties_keep_first_seen_order() -> None:
    fused = reciprocal_rank_fusion([["x", "y"], ["y", "x"]], k=60)
    assert [item for item, _ in fused] == ["x", "y"]
    assert fused[0][1] == fused[1][1]


def test_rrf_weights_scale_each_list() -> None:
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 3.0]))
    assert fused == {"a": pytest.approx(1.0), "b": pytest.approx(3.0)}
    assert reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 3.0])[0][0] == "b"


def test_rrf_rejects_mismatched_weights_and_handles_empty() -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])
    assert reciprocal_rank_fusion([[], []]) == []


def test_merge_overlapping_joins_text_once_and_keeps_best_ranks() -> None:
    source = "The quick brown fox jumps over the lazy dog"
    first = hit("d", 0, 19, source[0:19], 0.2, vector_rank=3, vector_score=0.5)
    second = hit("d", 10, 30, source[10:30], 0.9, text_rank=1, text_score=7.0)
    merged = merge_overlapping([second, first])
    assert len(merged) == 1
    m = merged[0]
    assert m.chunk.text == source[0:30]
    assert (m.chunk.start, m.chunk.end) == (0, 30)
    assert m.chunk.chunk_id == "d:0"
    assert m.score == 0.9
    assert (m.vector_rank, m.text_rank) == (3, 1)
    assert (m.vector_score, m.text_score) == (0.5, 7.0)


def test_merge_touching_ranges_and_contained_chunk() -> None:
    text = "abcdefghijklmnopqrstuvwxyz"
    a = hit("d", 0, 10, text[0:10], 0.5)
    b = hit("d", 10, 20, text[10:20], 0.4)
    inner = hit("d", 12, 15, text[12:15], 0.3)
    merged = merge_overlapping([a, b, inner])
    assert [(h.chunk.start, h.chunk.end, h.chunk.text) for h in merged] == [(0, 20, text[0:20])]


def test_merge_leaves_gaps_and_other_documents_apart_in_order() -> None:
    a1 = hit("a", 0, 10, "x" * 10, 0.9)
    b1 = hit("b", 0, 10, "y" * 10, 0.8)
    # A chunk not found lies between a1 and a2.
    a2, a3 = (replace(h, chunk=replace(h.chunk, index=h.chunk.index + 2))
              for h in (hit("a", 11, 20, "z" * 9, 0.7), hit("a", 18, 30, "z" * 12, 0.6)))
    merged = merge_overlapping([a1, b1, a2, a3])
    assert [(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in merged] == [
        ("a", 0, 10),
        ("b", 0, 10),
        ("a", 11, 30),
    ]
    assert merged[2].chunk.text == "z" * 9 + "z" * 10


def test_the_next_chunk_past_text_in_no_chunk_is_joined() -> None:
    # A note's front matter (4-89) and its body (94-261), the closing `---` line between, were two hits of one note.
    front = Chunk("n:0", "n", "/n.md", 0, "title: Lisbon", 4, 17)
    body = Chunk("n:1", "n", "/n.md", 1, "# Lisbon trip", 22, 35)
    (merged,) = merge_overlapping([Hit(body, 0.9), Hit(front, 0.8)])
    assert (merged.chunk.start, merged.chunk.end, merged.chunk.text) == (4, 35, "title: Lisbon\n\n# Lisbon trip")
    assert merged.chunk.own_text == merged.chunk.text and merged.score == 0.9
    # Past one character in no chunk, one line break stands for it; a chunk between keeps them apart.
    (merged,) = merge_overlapping([Hit(front, 0.8), Hit(replace(body, start=18), 0.7)])
    assert merged.chunk.text == "title: Lisbon\n# Lisbon trip" and merged.chunk.lead == 0
    assert len(merge_overlapping([Hit(front, 0.8), Hit(replace(body, index=2), 0.7)])) == 2
    # A file holding both parts holds the joined text, at its first part's place; one holding the body alone, a part
    # of it, named as such (before 2026-12-08 not named at all: an essay's own opening joined with a paragraph copied
    # from another essay named no copy, and the other essay, folded into this hit, was shown nowhere).
    held = (Copy(replace(body, path="/a.md", start=40)), Copy(replace(body, path="/b.md")))
    (merged,) = merge_overlapping([Hit(body, 0.9, held_by=held),
                                   Hit(front, 0.8, held_by=(Copy(replace(front, path="/b.md")),))])
    assert [(copy.chunk.path, copy.chunk.start, copy.part) for copy in merged.held_by] == [
        ("/b.md", 4, False), ("/a.md", 40, True)]
    assert merged.copies == ("/b.md", "/a.md")


def test_only_chunks_of_one_place_are_joined() -> None:
    # Joined across a page break or a section change, the hit kept its first part's page and heading: a sentence of
    # page 2 was cited "page 1", an HTML page's "7.3 Thrashing" under "7.2 Page Replacement".
    page1 = Chunk("p:0", "p", "/p.pdf", 0, "Deadlocks arise.", 0, 16, page=1)
    page2 = Chunk("p:1", "p", "/p.pdf", 1, "A safe state is one.", 18, 38, page=2)
    assert [(h.chunk.page, h.chunk.text) for h in merge_overlapping([Hit(page1, 0.9), Hit(page2, 0.8)])] == [
        (1, "Deadlocks arise."), (2, "A safe state is one.")]
    replacement = Chunk("m:2", "m", "/m.html", 2, "7.2 Page Replacement", 0, 20,
                        heading="7 Memory > 7.2 Page Replacement")
    thrashing = Chunk("m:3", "m", "/m.html", 3, "7.3 Thrashing", 22, 35, heading="7 Memory > 7.3 Thrashing")
    assert len(merge_overlapping([Hit(thrashing, 0.9), Hit(replacement, 0.8)])) == 2
    # A heading above the later part's holds it: the chapter's opening and its first section, a note's front matter
    # (no heading: the note's opening) and its body; the joined hit is cited at the first part's place.
    opening = Chunk("m:0", "m", "/m.html", 0, "7 Memory", 0, 8, heading="7 Memory")
    paging = Chunk("m:1", "m", "/m.html", 1, "7.1 Paging", 10, 20, heading="7 Memory > 7.1 Paging")
    (merged,) = merge_overlapping([Hit(paging, 0.9), Hit(opening, 0.8)])
    assert (merged.chunk.heading, merged.chunk.text) == ("7 Memory", "7 Memory\n\n7.1 Paging")
    front = Chunk("n:0", "n", "/n.md", 0, "title: Lisbon", 4, 17)
    body = Chunk("n:1", "n", "/n.md", 1, "# Lisbon trip", 22, 35, heading="Lisbon trip")
    (merged,) = merge_overlapping([Hit(body, 0.9), Hit(front, 0.8)])
    assert (merged.chunk.heading, merged.chunk.text) == ("", "title: Lisbon\n\n# Lisbon trip")
    # A heading's prefix that is no heading above it ("7 Memory" of "7 Memory 2") keeps them apart.
    other = Chunk("m:1", "m", "/m.html", 1, "More", 10, 14, heading="7 Memory 2")
    assert len(merge_overlapping([Hit(opening, 0.9), Hit(other, 0.8)])) == 2


def test_merge_empty() -> None:
    assert merge_overlapping([]) == []


def test_sql_literal_escapes_quotes() -> None:
    assert sql_literal("it's") == "'it''s'"
    assert sql_literal("'; DROP TABLE chunks; --") == "'''; DROP TABLE chunks; --'"
    assert sql_in("doc_id", ["a", "b'c"]) == "doc_id IN ('a', 'b''c')"


def test_glob_to_like_escapes_like_wildcards() -> None:
    assert glob_to_like("*.md") == "%.md"
    assert glob_to_like("/x/**/a?.txt") == "/x/%/a_.txt"
    assert glob_to_like("/50%_off/*") == "/50\\%\\_off/%"


def test_filters_to_sql() -> None:
    assert filters_to_sql(None) is None
    assert filters_to_sql(SearchFilters()) is None
    assert filters_to_sql(SearchFilters(file_types=("md", ".PDF"))) == "file_type IN ('md', 'pdf')"
    assert filters_to_sql(SearchFilters(path_glob="*.md")) == "lower(path) LIKE '%.md'"
    assert filters_to_sql(SearchFilters(path_glob="notes/*.md")) == "lower(path) LIKE '%/notes/%.md'"
    assert filters_to_sql(SearchFilters(path_glob="/home/o'neil/docs/")) == (
        "(lower(path) = '/home/o''neil/docs' OR lower(path) LIKE '/home/o''neil/docs/%')"
    )
    both = filters_to_sql(SearchFilters(path_glob="/a/*", file_types=("txt",)))
    assert both == "lower(path) LIKE '/a/%' AND file_type IN ('txt')"
    assert filters_to_sql(SearchFilters(path_glob="Notes/*.MD")) == "lower(path) LIKE '%/notes/%.md'"


def test_rank_hits_fuses_then_merges_touching_chunks_as_search_does() -> None:
    a0 = Chunk("a:0", "a", "/a.md", 0, "one two", 0, 7)
    a1 = Chunk("a:1", "a", "/a.md", 1, " three", 7, 13)
    a9 = Chunk("a:9", "a", "/a.md", 9, "far away", 90, 98)
    b0 = Chunk("b:0", "b", "/b.md", 0, "other", 0, 5)
    vector = [(a0, 0.9), (a1, 0.8), (a9, 0.7), (b0, 0.6)]
    text = [(b0, 5.0), (a0, 4.0)]
    hits = rank_hits(vector, text, Fusion(), 3)
    assert [h.chunk.chunk_id for h in hits] == ["a:0", "b:0", "a:9"]
    assert hits[0].chunk.text == "one two three" and (hits[0].vector_rank, hits[0].text_rank) == (1, 2)
    assert hits[1].score == pytest.approx(1 / 14 + 1 / 11)
    assert [h.chunk.chunk_id for h in rank_hits(vector, text, Fusion(vector_weight=0.0), 2)] == ["b:0", "a:0"]
    # One leg alone (mode "text") keeps the legs' own order and scores: no fusion.
    assert [h.chunk.chunk_id for h in rank_hits([], text, Fusion(), 2, mode="text")] == ["b:0", "a:0"]


def test_a_relative_path_without_wildcards_is_that_file_or_folder_at_any_depth(tmp_path: Path) -> None:
    """`--path notes` (and `notes/`, `./notes`, `notes/a.txt`, `a.txt`) matched nothing, in every front end."""
    from localrag.config import load_settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    for folder in ("notes", "reports", "notes-old"):
        (tmp_path / "docs" / folder).mkdir(parents=True)
        (tmp_path / "docs" / folder / "a.txt").write_text(f"The harbour crane stands in {folder}.")
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([tmp_path / "docs"])

    def found(path_glob: str) -> list[str]:
        hits = engine.search("harbour crane", filters=SearchFilters(path_glob=path_glob))
        return sorted(str(Path(h.chunk.path).relative_to(tmp_path / "docs")) for h in hits)

    for given in ("notes", "notes/", "./notes", "notes/a.txt", "docs/notes"):
        assert found(given) == ["notes/a.txt"], given
    assert found("a.txt") == ["notes-old/a.txt", "notes/a.txt", "reports/a.txt"]
    assert found("otes") == [] and found("notes/*") == ["notes/a.txt"]
    assert found(str(tmp_path / "docs" / "notes")) == ["notes/a.txt"]


def test_on_the_command_line_a_path_from_here_is_this_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--path ../notes` and `--path .` looked for folders named ".." and "." at any depth, and found nothing."""
    import argparse

    from localrag.cli.common import filters_from_args

    (tmp_path / "notes2").mkdir()
    monkeypatch.chdir(tmp_path / "notes2")

    def given(path: str) -> str | None:
        filters = filters_from_args(argparse.Namespace(path_glob=[path], file_types=[]))  # --path is repeatable
        return filters.path_globs[0] if filters is not None else None

    assert given("../notes") == str(tmp_path / "notes") and given(".") == str(tmp_path / "notes2")
    assert given("./b.txt") == str(tmp_path / "notes2" / "b.txt")
    assert given("notes") == "notes" and given("*/notes/*.md") == "*/notes/*.md"  # at any depth, as written
    assert given("../notes/*.md") == str(tmp_path / "notes" / "*.md")
    assert given("./*.md") == str(tmp_path / "notes2" / "*.md")


def test_a_run_of_touching_chunks_merges_two_at_a_time() -> None:
    # Every chunk of a long function touches the next: an identifier found in all of them made one hit of the whole
    # function, cited at its first line, its snippet far from the match.
    source = "".join(chr(65 + n % 26) for n in range(600))
    parts = [hit("f", 100 * n, 100 * n + 120, source[100 * n:100 * n + 120], 0.9 - n / 10) for n in range(5)]
    merged = merge_overlapping(parts)
    # In rank order, each with its best neighbour; what an earlier hit holds is not given twice (the review: the
    # third chunk came back overlapping the pair before it, the shared lines cited twice).
    assert [(h.chunk.start, h.chunk.end) for h in merged] == [(0, 220), (220, 420), (420, 520)]
    assert all(h.chunk.text == source[h.chunk.start:h.chunk.end] for h in merged)
    # The best chunk is paired with its better-ranked neighbour, not with the one before it in the file.
    ranked = [parts[2], parts[3], parts[1]]
    assert [(h.chunk.start, h.chunk.end) for h in merge_overlapping(ranked)] == [(200, 420), (100, 200)]
