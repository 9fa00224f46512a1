"""A Markdown or HTML table longer than a chunk, with the real MiniLM tokenizer: every chunk that starts among its
later rows opens with its header row, as a spreadsheet's does (test_sheet_chunks.py), and its offsets and lines
stay those of its own rows."""

from __future__ import annotations

from pathlib import Path

from localrag.answer.evidence import best_sentence, extracted_answer
from localrag.answer.summary import document_sentences
from localrag.embed import SentenceTransformerEmbedder
from localrag.ingest.chunker import chunk_document
from localrag.ingest.lines import with_lines
from localrag.ingest.loaders import load_file
from localrag.retrieve import merge_overlapping
from localrag.types import Chunk, Hit

HEADER = "| Trip | Departs Central | Arrives Airport | Fare |"
RULE = "|------|-----------------|----------------|------|"


def _schedule(tmp_path: Path) -> Path:
    def clock(minutes: int) -> str:
        return f"{6 + minutes // 60:02d}:{minutes % 60:02d}"

    rows = [f"| T{n:03d} | {clock(n * 4)} | {clock(n * 4 + 37)} | ${2 + n % 7}.{n % 100:02d} |" for n in range(1, 201)]
    path = tmp_path / "schedule.md"
    path.write_text("# Airport bus\n\nBuses run from Central to the airport.\n\n" + "\n".join([HEADER, RULE, *rows])
                    + "\n\nFares are paid on board.\n")
    return path


def _chunks(path: Path, file_type: str, embedder: SentenceTransformerEmbedder) -> tuple[str, list[Chunk]]:
    loaded = load_file(path)
    chunks = chunk_document(loaded, doc_id="d", path=str(path), file_type=file_type,
                            token_counts=embedder.token_counts, max_tokens=200, overlap=32)
    return loaded.text, chunks


def test_every_chunk_of_a_long_markdown_table_opens_with_its_header(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    path = _schedule(tmp_path)
    text, chunks = _chunks(path, "md", real_embedder)
    later = [c for c in chunks if c.own_text.startswith("| T")]
    assert len(later) > 5
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.own_text  # the span is the file's own text, as before
        assert chunk.n_tokens == real_embedder.token_counts([chunk.text])[0] <= 200  # the header counts
    for chunk in later:
        # The header row, not the rule line under it (50 MiniLM tokens of dashes, a quarter of a chunk).
        assert chunk.text == HEADER + "\n" + chunk.own_text and chunk.lead == len(HEADER) + 1
    assert sum(RULE in c.text for c in chunks) == 1
    assert {f"| T{n:03d} |" for n in range(1, 201)} <= {line[:8] for c in chunks for line in c.text.split("\n")}
    assert chunks[-1].own_text.endswith("Fares are paid on board.")
    # A summary reads each row once: neither the repeated header nor the rows a chunk shares with the one before.
    read = [c.text[s:e] for c, s, e in document_sentences(chunks) if c.text[s:e].startswith("| T")]
    assert len(read) == len(set(read)) == 200

    # Its lines are its own rows': the header repeated above them is not one of them.
    chunk = later[3]
    (hit,) = with_lines([Hit(chunk, 1.0)])
    lines = path.read_text().split("\n")
    first_row, last_row = chunk.own_text.split("\n")[0], chunk.own_text.split("\n")[-1]
    assert (hit.chunk.line_start, hit.chunk.line_end) == (lines.index(first_row) + 1, lines.index(last_row) + 1)

    # A row of a later chunk is read under the table's header, not under the row above it.
    row = next(line for line in chunk.own_text.split("\n")[2:] if line.startswith("| T"))
    trip = row.split(" | ")[0].removeprefix("| ")
    question = f"When does trip {trip} arrive at the airport?"
    evidence = best_sentence(question, [hit], real_embedder)
    assert evidence is not None and (evidence.text, evidence.header) == (row, HEADER)
    # The chunk's first row of its own is a row, not its header: it can answer.
    own_first = best_sentence(f"When does trip {first_row[2:6]} arrive at the airport?", [hit], real_embedder)
    assert own_first is not None and (own_first.text, own_first.header) == (first_row, HEADER)
    answer = extracted_answer(question, evidence, [hit])
    assert answer.text == f'"{row}" [1] (a row under \u201c{HEADER}\u201d)'


def test_every_chunk_of_a_long_html_table_opens_with_its_header(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    rows = "".join(f"<tr><td>P{n:03d}</td><td>{100 + n * 7} g</td><td>Steel</td></tr>\n" for n in range(1, 61))
    path = tmp_path / "parts.html"
    path.write_text("<html><head><title>Parts</title></head><body><h1>Parts</h1><p>Weights of our parts.</p>"
                    f"<table><tr><th>Part</th><th>Weight</th><th>Material</th></tr>\n{rows}</table></body></html>")
    text, chunks = _chunks(path, "html", real_embedder)
    later = [c for c in chunks if c.own_text.startswith("P0")]
    assert len(later) >= 2
    for chunk in later:
        assert chunk.text.startswith("Part | Weight | Material\nP0") and text[chunk.start:chunk.end] == chunk.own_text
        assert chunk.n_tokens <= 200


def test_merged_neighbours_of_a_table_hold_its_header_once(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    text, chunks = _chunks(_schedule(tmp_path), "md", real_embedder)
    later = [c for c in chunks if c.own_text.startswith("| T")]
    a, b = later[2], later[3]
    assert a.end > b.start  # they overlap by a row or two
    (merged,) = merge_overlapping([Hit(b, 2.0), Hit(a, 1.0)])
    assert merged.chunk.text == HEADER + "\n" + text[a.start:b.end]
    assert (merged.chunk.start, merged.chunk.end, merged.chunk.own_text) == (a.start, b.end, text[a.start:b.end])
