"""Chunker behaviour with the HashEmbedder's word counter (and a deliberately non-additive one)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from localrag.embed import HashEmbedder
from localrag.ingest import chunker
from localrag.ingest.chunker import chunk_document
from localrag.ingest.discover import discover, sample_corpus_dir
from localrag.ingest.loaders import file_type, load_file
from localrag.types import Chunk, LoadedText, Section

COUNT = HashEmbedder().token_counts


def chunk(
    loaded: LoadedText,
    max_tokens: int = 64,
    overlap: int = 0,
    counter: Callable[[Sequence[str]], list[int]] = COUNT,
) -> list[Chunk]:
    return chunk_document(
        loaded, doc_id="doc", path="/x", file_type="md", token_counts=counter, max_tokens=max_tokens, overlap=overlap
    )


def md(tmp_path: Path, text: str) -> LoadedText:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return load_file(path)


def sentences(prefix: str, n: int) -> str:
    return " ".join(f"{prefix} sentence number {i} has a few words." for i in range(n))


def check_invariants(loaded: LoadedText, chunks: list[Chunk], max_tokens: int) -> None:
    counts = COUNT([c.text for c in chunks])
    for index, (c, count) in enumerate(zip(chunks, counts, strict=True)):
        assert c.chunk_id == f"doc:{index:05d}" and c.index == index
        # Its span's text, after the header row of a table it starts in among the later rows, which stands above.
        assert loaded.text[c.start : c.end] == c.own_text
        assert c.lead == 0 or loaded.text.rfind(c.text[: c.lead], 0, c.start) >= 0
        assert c.text == c.text.strip() and c.text
        assert c.n_tokens == count <= max_tokens
    # Nothing is lost: every non-space character of every section is in some chunk.
    covered: set[int] = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for section in loaded.sections:
        for i in range(section.start, section.end):
            assert i in covered or loaded.text[i].isspace()


@pytest.mark.parametrize("name", sorted(p.name for p in discover([sample_corpus_dir()])))
@pytest.mark.parametrize(("max_tokens", "overlap"), [(48, 10), (200, 32)])
def test_offsets_and_limits_on_every_format(name: str, max_tokens: int, overlap: int) -> None:
    path = sample_corpus_dir() / name
    loaded = load_file(path)
    chunks = chunk_document(
        loaded,
        doc_id="doc",
        path=str(path),
        file_type=file_type(path),
        token_counts=COUNT,
        max_tokens=max_tokens,
        overlap=overlap,
    )
    assert chunks
    check_invariants(loaded, chunks, max_tokens)
    assert all(c.file_type == file_type(path) and c.path == str(path) for c in chunks)


def test_heading_change_starts_a_chunk_and_headings_stay_with_text(tmp_path: Path) -> None:
    loaded = md(tmp_path, "# Guide\n\nIntro.\n\n## Alpha\n\nAlpha text.\n\n## Beta\n\nBeta text.\n")
    chunks = chunk(loaded, max_tokens=200)
    assert [c.text for c in chunks] == [
        "# Guide\n\nIntro.",
        "## Alpha\n\nAlpha text.",
        "## Beta\n\nBeta text.",
    ]
    assert [c.heading for c in chunks] == ["Guide", "Guide > Alpha", "Guide > Beta"]


def test_a_notes_properties_are_a_chunk_of_their_own(tmp_path: Path) -> None:
    # An Obsidian note without a heading: in one chunk with the body, the closing fence was inside it, and an
    # extract quoted "garden --- The gate code is 4711 ...", cited at the tags line.
    body = "The gate code is 4711 and the shed key hangs on the left hook."
    loaded = md(tmp_path, f"---\ntags:\n  - garden\n---\n{body}\n")
    chunks = chunk(loaded, max_tokens=200, overlap=32)
    assert [c.text for c in chunks] == ["tags:\n  - garden", body]
    assert not any("---" in c.text for c in chunks)
    check_invariants(loaded, chunks, 200)


def test_heading_alone_is_not_a_chunk(tmp_path: Path) -> None:
    loaded = md(tmp_path, "# Guide\n\n## Alpha\n\nAlpha text.\n\n## Beta\n\nBeta text.\n")
    chunks = chunk(loaded, max_tokens=200)
    assert chunks[0].text == "# Guide\n\n## Alpha\n\nAlpha text."
    assert chunks[0].heading == "Guide > Alpha"


def test_small_subsections_are_packed_together(tmp_path: Path) -> None:
    loaded = md(tmp_path, "# A\n\n## B\n\nb text.\n\n### C\n\nc text.\n\n### D\n\nd text.\n\n## E\n\ne text.\n")
    chunks = chunk(loaded, max_tokens=200)
    # Split depth is the second level (all under "A"): C and D stay with B, E is separate.
    assert len(chunks) == 2
    assert "### D" in chunks[0].text and chunks[1].text == "## E\n\ne text."


def test_trailing_heading_moves_to_next_chunk(tmp_path: Path) -> None:
    text = f"# T\n\n## A\n\n{sentences('first', 4)}\n\n### Sub\n\n{sentences('second', 4)}\n"
    loaded = md(tmp_path, text)
    chunks = chunk(loaded, max_tokens=60)
    assert any(c.text.startswith("### Sub") for c in chunks)
    assert not any(c.text.endswith("### Sub") for c in chunks)
    check_invariants(loaded, chunks, 60)


def test_code_block_is_not_split_when_it_fits(tmp_path: Path) -> None:
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})" for i in range(8)) + "\n```"
    loaded = md(tmp_path, f"# Doc\n\n{sentences('intro', 4)}\n\n{code}\n\nAfter.\n")
    chunks = chunk(loaded, max_tokens=80)
    assert COUNT([code])[0] <= 80
    assert any(code in c.text for c in chunks)
    check_invariants(loaded, chunks, 80)


def test_oversized_code_block_is_split_at_lines(tmp_path: Path) -> None:
    code = "```python\n" + "\n".join(f"value_{i} = compute({i}, {i + 1})" for i in range(40)) + "\n```"
    loaded = md(tmp_path, f"# Doc\n\n{code}\n")
    chunks = chunk(loaded, max_tokens=50)
    assert len(chunks) > 2
    for c in chunks:
        for line in c.text.split("\n"):
            assert line.startswith(("# Doc", "```", "value_")) or not line
        assert c.text.endswith((")", "```"))
    check_invariants(loaded, chunks, 50)


def test_oversized_paragraph_splits_at_sentences(tmp_path: Path) -> None:
    loaded = md(tmp_path, sentences("Long", 30) + "\n")
    chunks = chunk(loaded, max_tokens=40)
    assert len(chunks) > 5
    assert all(c.text.endswith("words.") and c.text.startswith("Long sentence") for c in chunks)
    check_invariants(loaded, chunks, 40)


def test_sentence_without_punctuation_splits_at_words(tmp_path: Path) -> None:
    loaded = md(tmp_path, " ".join(f"word{i}" for i in range(300)) + "\n")
    chunks = chunk(loaded, max_tokens=30)
    check_invariants(loaded, chunks, 30)
    assert " ".join(c.text for c in chunks).split() == loaded.text.split()


def test_giant_token_is_cut_anyway(tmp_path: Path) -> None:
    loaded = md(tmp_path, "a-" * 400 + "\n")
    chunks = chunk(loaded, max_tokens=40)
    check_invariants(loaded, chunks, 40)


def test_overlap_carries_trailing_sentences(tmp_path: Path) -> None:
    loaded = md(tmp_path, "# Doc\n\n" + sentences("S", 30) + "\n")
    chunks = chunk(loaded, max_tokens=60, overlap=12)
    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start < before.end  # shared text
        shared = loaded.text[after.start : before.end]
        assert shared.endswith("words.") and shared.startswith("S sentence")
        assert COUNT([shared])[0] - 2 <= 12
    check_invariants(loaded, chunks, 60)


def test_no_overlap_across_heading_change_or_when_disabled(tmp_path: Path) -> None:
    text = f"# Doc\n\n## A\n\n{sentences('Alpha', 12)}\n\n## B\n\n{sentences('Beta', 12)}\n"
    loaded = md(tmp_path, text)
    with_overlap = chunk(loaded, max_tokens=60, overlap=12)
    b_first = next(c for c in with_overlap if c.text.startswith("## B"))
    previous = with_overlap[b_first.index - 1]
    assert previous.end <= b_first.start
    assert not any("Alpha" in c.text and c.heading.endswith("B") for c in with_overlap)
    assert any(a.end > b.start for a, b in zip(with_overlap, with_overlap[1:], strict=False))
    without = chunk(loaded, max_tokens=60, overlap=0)
    assert all(a.end <= b.start for a, b in zip(without, without[1:], strict=False))


def test_pages_and_heading_from_sections() -> None:
    text = "Manual\n\nFirst page text.\n\nSecond page text."
    loaded = LoadedText(
        text,
        (
            Section(0, 6, "heading", ("Manual",), 1),
            Section(8, 24, "paragraph", ("Manual",), 1),
            Section(26, 43, "paragraph", ("Manual",), 2),
        ),
    )
    assert loaded.text[26:43] == "Second page text."
    chunks = chunk(loaded, max_tokens=8)
    assert [(c.text, c.page, c.heading) for c in chunks] == [
        ("Manual\n\nFirst page text.", 1, "Manual"),
        ("Second page text.", 2, "Manual"),
    ]
    # Room for both pages in one chunk: a page break still ends it, or a citation of the second page's sentence
    # would name page 1.
    assert [(c.text, c.page) for c in chunk(loaded, max_tokens=200)] == [
        ("Manual\n\nFirst page text.", 1), ("Second page text.", 2)]


def test_token_counting_is_batched(tmp_path: Path) -> None:
    calls: list[int] = []

    def counter(texts: Sequence[str]) -> list[int]:
        calls.append(len(texts))
        return COUNT(texts)

    loaded = load_file(sample_corpus_dir() / "kestrel-point-lighthouse.md")
    chunks = chunk(loaded, max_tokens=64, overlap=16, counter=counter)
    assert len(chunks) > 5
    assert len(calls) <= 3
    assert max(calls) > 20


def test_limit_holds_with_a_non_additive_tokenizer(tmp_path: Path) -> None:
    """Counts of joined pieces exceed the sum of their parts; the final recount must catch it."""

    def greedy(texts: Sequence[str]) -> list[int]:
        return [n + n * n // 40 for n in COUNT(texts)]

    loaded = md(tmp_path, "# Doc\n\n" + sentences("x", 40) + "\n")
    chunks = chunk(loaded, max_tokens=60, overlap=8, counter=greedy)
    assert all(c.n_tokens == greedy([c.text])[0] <= 60 for c in chunks)
    assert all(loaded.text[c.start : c.end] == c.text for c in chunks)


def test_a_word_the_tokenizer_reads_as_one_token_is_cut_by_characters() -> None:
    # WordPiece reads a word of over 100 characters as one unknown token: a file of one 1 MB word made chunks of
    # 200,000 characters, and a search printed megabytes for one hit.
    def wordpiece(texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    word = "abcdefghij" * 10_000
    chunks = chunk(LoadedText(word, (Section(0, len(word), "paragraph"),)), max_tokens=64, counter=wordpiece)
    assert all(len(c.text) <= 64 * 12 for c in chunks) and "".join(c.text for c in chunks) == word


def test_nothing_to_chunk() -> None:
    assert chunk(LoadedText("   ", (Section(0, 3, "paragraph"),))) == []


def test_code_lines_are_not_carried_into_prose(tmp_path: Path) -> None:
    code = "```\n" + "\n".join(f"step {i}" for i in range(6)) + "\n```"
    loaded = md(tmp_path, f"# Doc\n\n{sentences('Intro', 3)}\n\n{code}\n\n{sentences('After', 6)}\n")
    chunks = chunk(loaded, max_tokens=50, overlap=20)
    after = next(c for c in chunks if "After sentence number 0" in c.text)
    assert after.text.startswith("After sentence number 0")


def test_oversized_code_block_pieces_overlap_each_other(tmp_path: Path) -> None:
    code = "```\n" + "\n".join(f"call(step_{i})" for i in range(60)) + "\n```"
    loaded = md(tmp_path, f"# Doc\n\n{code}\n")
    chunks = chunk(loaded, max_tokens=60, overlap=10)
    assert len(chunks) > 2
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))
    check_invariants(loaded, chunks, 60)


def characters(texts: Sequence[str]) -> list[int]:
    """A tokenizer's count for Chinese: a token a character (MiniLM's reads 53 for a 57-character sentence)."""
    return [len("".join(text.split())) + 2 for text in texts]


def test_chinese_is_cut_at_its_sentence_ends_with_overlap(tmp_path: Path) -> None:
    # Knowing only ". ! ?" before a space, the chunker read a Chinese paragraph as one sentence and one word and cut
    # it at its middle: "…编号为1" | "022的项目…", a quote that verified against the wrong record, and no overlap.
    records = [f"第{i}号记录：编号为{1000 + i}的项目金额为{100 + i}万元。" for i in range(40)]
    text = "".join(records)
    path = tmp_path / "长文.txt"
    path.write_text(text, encoding="utf-8")
    loaded = load_file(path)
    chunks = chunk(loaded, max_tokens=100, overlap=30, counter=characters)
    assert len(chunks) > 5
    assert all(c.text.endswith("。") for c in chunks)
    assert all(any(record in c.text for c in chunks) for record in records)
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))


def test_a_chinese_sentence_too_long_for_a_chunk_is_cut_at_its_commas_not_in_a_number() -> None:
    sentence = "，".join(f"员工{1000 + i}号负责编号为{20000 + i}的项目" for i in range(30)) + "。"
    chunks = chunk(LoadedText(sentence, (Section(0, len(sentence), "paragraph"),)), max_tokens=60,
                   counter=characters)
    assert len(chunks) > 3 and "".join(c.text for c in chunks) == sentence
    assert all(c.text.endswith(("，", "。")) for c in chunks)
    # With no comma either, a cut falls beside a Han character, never inside "12345".
    clause = "".join(f"编号{10000 + i}" for i in range(40))
    chunks = chunk(LoadedText(clause, (Section(0, len(clause), "paragraph"),)), max_tokens=30, counter=characters)
    assert "".join(c.text for c in chunks) == clause
    assert len(chunks) > 3 and all(len(n) == 5 for c in chunks for n in re.findall(r"\d+", c.text))


def _log(n: int, error_at: int) -> str:
    lines = [f"2026-03-04T23:{i % 60:02d}:46Z INFO sshd[{1000 + i}]: request {2000 + i} processed ok latency={i % 97}ms"
             for i in range(n)]
    lines[error_at] = "2026-03-05T09:13:00Z ERROR payments: CRITICAL checksum mismatch ZXQ-7781 in ledger shard 42"
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("name", "text"), [
    ("app.log", _log(600, 300)),
    # A .txt file of a log's lines, and a .log file whose lines carry no time stamp (a build's output).
    ("app.txt", _log(600, 300)),
    ("build.log", "\n".join(f"compiling module {i} of 300 with flags -O2 and -g. Done" for i in range(300)) + "\n"),
], ids=["log", "txt", "untimed-log"])
def test_a_log_is_cut_between_its_lines(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    chunks = chunk_document(load_file(path), doc_id="doc", path=str(path), file_type="txt", token_counts=COUNT,
                            max_tokens=64, overlap=16)
    assert len(chunks) > 20
    for c in chunks:  # before: 38 of the top 50 search hits of a 600-line log started inside a line
        assert c.start == 0 or text[c.start - 1] == "\n", text[c.start - 30 : c.start + 30]
        assert text[c.end] == "\n", text[c.end - 30 : c.end + 30]
        assert c.n_tokens <= 64


def test_a_chat_export_is_cut_between_its_messages(tmp_path: Path) -> None:
    """A WhatsApp export whose messages run over lines (the lines after a message's first open with no time): before,
    19 of an 80-message export's 20 chunks started inside a message, with no sender."""
    messages = []
    for i in range(80):
        said = f"message {i} about the trip"
        if i % 3 == 0:
            said += f"\nand a second line for {i}\nand a third one"
        messages.append(f"14/03/2024, 09:{i % 60:02d} - {('Jonas Weber', 'Maria Lopez')[i % 2]}: {said}")
    text = "\n".join(messages) + "\n"
    path = tmp_path / "WhatsApp Chat with Jonas.txt"
    path.write_text(text, encoding="utf-8")
    chunks = chunk_document(load_file(path), doc_id="doc", path=str(path), file_type="txt", token_counts=COUNT,
                            max_tokens=64, overlap=16)
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("14/03/2024, 09:"), c.text[:60]
        assert text[c.end] == "\n"


def test_an_over_long_piece_is_cut_at_a_line_break_before_a_space() -> None:
    # One paragraph of short lines and no sentence end: its lines are the units, not its words.
    text = "\n".join(f"item {i} alpha beta gamma delta" for i in range(40))
    loaded = LoadedText(text, (Section(0, len(text), "paragraph"),), "t")
    chunks = chunk(loaded, max_tokens=30)
    assert len(chunks) > 3
    assert all(c.text.startswith("item ") and c.text.endswith("delta") for c in chunks)


def _json_chunks(tmp_path: Path, text: str, max_tokens: int = 64) -> list[Chunk]:
    path = tmp_path / "data.json"
    path.write_text(text, encoding="utf-8")
    return chunk_document(load_file(path), doc_id="doc", path=str(path), file_type="code:json", token_counts=COUNT,
                          max_tokens=max_tokens, overlap=8)


def test_minified_json_is_cut_between_its_records(tmp_path: Path) -> None:
    records = [{"id": i, "sku": f"SKU{i:06d}", "price": i % 999, "tags": ["a", "b"],
                "note": f"record {i} shipped to warehouse {i % 7}, with care"} for i in range(300)]
    text = json.dumps(records, separators=(",", ":"))
    chunks = _json_chunks(tmp_path, text)
    # Before: cut between words, so inside a "note" value, its record's id in the chunk before.
    for c in chunks:
        assert c.text.startswith(('[{"id":', '{"id":')), c.text[:40]
        assert c.text.endswith(("},", "}]")), c.text[-40:]
    whole = [json.loads(c.text.removeprefix("[").removesuffix("]").rstrip(",").join("[]")) for c in chunks]
    assert {r["id"] for part in whole for r in part} == set(range(300))
    assert sorted(c.n_tokens for c in chunks)[len(chunks) // 2] > 40  # near the budget of 64, not halves of it


def test_a_record_too_long_for_a_chunk_is_cut_between_its_members(tmp_path: Path) -> None:
    record = {"id": 7, "items": [{"n": i, "name": f"part {i} of the big order"} for i in range(60)], "total": 1}
    chunks = _json_chunks(tmp_path, json.dumps([record], separators=(",", ":")))
    assert len(chunks) > 3
    assert all(c.text.endswith(("},", "}]}]", "],")) or c.text.endswith(',"total":1}]') for c in chunks), [
        c.text[-20:] for c in chunks]


@pytest.mark.parametrize("text", ["[" * 5000 + "1,2" + "]" * 5000, '{"a":1,"b":' * 5000 + "0" + "}" * 5000],
                         ids=["lists", "objects"])
def test_json_nested_5000_deep_is_chunked(tmp_path: Path, text: str) -> None:
    chunks = _json_chunks(tmp_path, text)
    assert "".join(c.text for c in chunks).replace(" ", "") != ""
    assert all(c.n_tokens <= 64 for c in chunks)


def test_minified_json_longer_than_a_segment_is_cut_between_its_records(tmp_path: Path) -> None:
    # A 260 kB export: the chunker reads it in segments of SEGMENT_CHARS, and before, the line was cut for them at a
    # space ("handle with | care") or at the limit, so 298 of 1,200 chunks after char 200,000 started inside a
    # record ('902","city":"Lyon"…', 'with care"},{"orderId"…'), their quotes paired wrongly.
    items = [{"orderId": f"ORD-{i:05d}", "customer": {"name": f"Customer {i}", "city": "Lyon", "tier": i % 3},
              "lines": [{"sku": f"S{i}-{k}", "qty": k + 1, "price": 9.5 * k} for k in range(3)],
              "note": "handle with care" if i % 2 else ""} for i in range(1200)]
    text = json.dumps({"meta": {"exported": "2026-12-06", "count": 1200}, "items": items}, separators=(",", ":"))
    assert len(text) > 1.2 * chunker.SEGMENT_CHARS
    chunks = _json_chunks(tmp_path, text, max_tokens=216)
    assert [c for c in chunks if not c.text.startswith(('{"orderId":', '{"meta":'))] == []
    assert {n for c in chunks for n in re.findall(r'"ORD-(\d+)"', c.text)} == {f"{i:05d}" for i in range(1200)}


def test_minified_json_list_of_many_segments_is_cut_between_its_records(tmp_path: Path) -> None:
    records = [{"id": i, "sku": f"SKU{i:06d}", "price": i % 999, "tags": ["a", "b"]} for i in range(9000)]
    text = json.dumps(records, separators=(",", ":"))
    assert len(text) > 2 * chunker.SEGMENT_CHARS
    chunks = _json_chunks(tmp_path, text, max_tokens=216)
    # Before: 506 of 1,875 chunks, all after char 200,000, started inside a record (':3416,"sku":…').
    assert [c.text[:30] for c in chunks if not c.text.startswith(('[{"id":', '{"id":'))] == []
    assert all(c.text.endswith(("},", "}]")) for c in chunks)
