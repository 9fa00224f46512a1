"""Documents' text and queries are written one way (`safe_text.plain_text`): a soft hyphen, a zero-width character, a
ligature or a decomposed accent in a file no longer hides its words from search and answers, with the bundled MiniLM
and a real LanceDB."""

from __future__ import annotations

from pathlib import Path

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine


def _engine(real_embedder: SentenceTransformerEmbedder, **overrides: object) -> Engine:
    return Engine(load_settings(**overrides), embedder=real_embedder)


def _ingested(folder: Path, files: dict[str, str], real_embedder: SentenceTransformerEmbedder,
              **overrides: object) -> Engine:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine = _engine(real_embedder, **overrides)
    engine.ingest([folder])
    return engine


def test_words_split_by_invisible_characters_are_found_and_answered(
    localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    files = {
        "port.txt": "The har\u00adbour\u00admas\u00adter is Ingrid Solberg. She keeps the tide tables.\n",
        **{f"mark{n}.txt": f"The light{mark}keeper{n} polishes the lens.\n"
           for n, mark in enumerate(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])},
    }
    engine = _ingested(tmp_path / "docs", files, real_embedder, answer_mode="extract")
    [hit, *_] = engine.search("harbourmaster")
    assert hit.text_rank == 1 and hit.chunk.text.startswith("The harbourmaster is Ingrid Solberg.")
    [soft, *_] = engine.search("har\u00adbourmaster")  # a soft hyphen pasted into the query
    assert soft.text_rank == 1
    for n in range(5):
        found = [h for h in engine.search(f"lightkeeper{n}") if h.text_rank == 1]
        assert found and found[0].chunk.path.endswith(f"mark{n}.txt"), n
    answer = engine.ask("Who is the harbourmaster?")
    assert not answer.refused, answer.refusal
    assert "Ingrid Solberg" in answer.text


def test_ligatures_reach_the_embedder_as_their_letters(
    localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    text = "The \ufb01nancial o\ufb03ce re\ufb02ects on the pro\ufb01t \ufb01gures.\n"
    # The same file name in two folders: one as a PDF's text holds it, one typed without ligatures.
    files = {"ligatures/office.txt": text, "letters/office.txt": text.translate(
        {0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi"})}
    (tmp_path / "docs" / "ligatures").mkdir(parents=True)
    (tmp_path / "docs" / "letters").mkdir()
    for name, written in files.items():
        (tmp_path / "docs" / name).write_text(written, encoding="utf-8")
    engine = _engine(real_embedder)
    engine.ingest([tmp_path / "docs"])
    hits = engine.search("What reflects on the figures?")
    # One passage, the other file its copy: the same text, embedded alike (before: 0.124 with ligatures, 0.252 without).
    [hit] = hits
    assert hit.chunk.text == "The financial office reflects on the profit figures." and len(hit.copies) == 1
    assert hit.vector_score is not None and hit.vector_score > 0.2


def test_a_decomposed_accent_meets_its_composed_twin(
    localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    files = {"up.txt": "The cafe\u0301 upstairs serves croissants.\n",
             "down.txt": "The caf\u00e9 downstairs serves espresso.\n"}
    engine = _ingested(tmp_path / "docs", files, real_embedder, answer_mode="extract")
    answer = engine.ask("What does the caf\u00e9 upstairs serve?")
    assert "croissants" in answer.text, answer.text
    assert "The caf\u00e9 upstairs serves croissants." in [s.chunk.text for s in answer.sources]  # stored composed
