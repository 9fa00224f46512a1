"""Graph mode through the Engine with the bundled models: build from sample documents, import, ask, forget."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fakes import FILMS

from localrag.cli import run
from localrag.config import Settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.graph.extract import GraphBuildProgress
from localrag.graph.vocabulary import DEFAULT_RELATIONS, FALLBACK_RELATION
from localrag.ingest.discover import sample_corpus_dir

# The lighthouse page names people, places and dates; SOURCE.md is one short chunk. Extraction costs
# seconds per chunk with the bundled model, so two documents of 8 chunks in all, not more.
DOCS = ("kestrel-point-lighthouse.md", "SOURCE.md")


@pytest.mark.integration
def test_build_import_ask_forget(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(sample_corpus_dir() / name, folder / name)
    engine.ingest([folder])
    chunks = {c.chunk_id: c for d in engine.documents() for c in engine.store.doc_chunks(d.doc_id)}

    seen: list[GraphBuildProgress] = []
    report = engine.graph_build(progress=seen.append)
    assert report.chunks_total == len(chunks)
    assert report.chunks_extracted + report.failed + report.invalid_replies == len(chunks)
    assert report.triples_added > 0, report
    assert seen[-1].chunks_done == len(chunks)
    rows = engine.graph.triple_rows().to_pylist()
    assert {r["source"] for r in rows} <= set(chunks)
    assert all(r["doc_id"] == chunks[r["source"]].doc_id for r in rows)
    assert {r["relation"] for r in rows} <= {FALLBACK_RELATION, *DEFAULT_RELATIONS}
    assert engine.graph_build().chunks_skipped == len(chunks)  # nothing left to do: resumable, incremental

    films = tmp_path / "films.tsv"
    films.write_text(FILMS, encoding="utf-8")
    assert engine.graph_import(films).triples == 6
    answer = engine.ask_graph("Who directed the film that Tom Hanks starred in?")
    assert answer.answer == "Penny_Marshall"
    names = engine.graph_index().names
    assert answer.supporting[0].render(names) == "Tom_Hanks -> starred_in -> Big -> directed_by -> Penny_Marshall"
    assert answer.planned[0].planner == "embedding"
    assert engine.path_chunks(answer) == {}  # imported steps have a file line, not a chunk

    code = run(["graph", "stats", "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert code == 0 and stats["triples"] == len(rows) + 6 and stats["relations"]["directed_by"] == 2
    # `graph triples`: by name, each with where it came from; in a pipe its first three columns import again.
    code = run(["graph", "triples", "tom hanks"])
    assert code == 0 and capsys.readouterr().out.splitlines() == [
        "head\trelation\ttail\tfrom", f"Tom_Hanks\tborn_in\tConcord\t{films}:2",
        f"Tom_Hanks\tstarred_in\tBig\t{films}:1"]
    code = run(["graph", "triples", "--json"])
    shown = json.loads(capsys.readouterr().out)
    listed = shown["triples"]
    assert code == 0 and shown["total"] == len(listed) == len(rows) + 6
    assert all(t["where"] == chunks[t["source"]].path for t in listed if t["source"] in chunks)
    # An Engine holding the graph in memory (this one: it answered above) names a filtered listing from it, and
    # looks up only built triples' chunks: the same listings as a fresh Engine's, built triples' pages included.
    assert engine._loaded_graph_index() is not None
    built_name = names[rows[0]["head"]]
    for entity in ("tom hanks", built_name):
        held = engine.graph_triples(entity)
        assert held == Engine(engine.settings).graph_triples(entity) and held
    assert any(t.where == chunks[t.source].path for t in engine.graph_triples(built_name) if t.source in chunks)
    looked_up: list[str] = []
    store_chunks = engine.store.chunks
    with monkeypatch.context() as patch:
        patch.setattr(engine.store, "chunks", lambda ids: looked_up.extend(ids) or store_chunks(ids))
        assert engine.graph_triples("tom hanks") and not looked_up  # all imported: their sources are file lines
    assert run(["graph", "triples", "--relation", "directed_by", "--json"]) == 0
    assert {t["tail"] for t in json.loads(capsys.readouterr().out)["triples"]} == {"Penny_Marshall", "Nora_Ephron"}
    assert run(["graph", "triples"]) == 0
    again = tmp_path / "again.tsv"
    again.write_text("".join("\t".join(line.split("\t")[:3]) + "\n" for line in capsys.readouterr().out.splitlines()))
    assert run(["collections", "create", "copy"]) == 0
    capsys.readouterr()
    assert run(["graph", "import", str(again), "--collection", "copy", "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["triples"] == len(listed) and not imported["errors"]
    code = run(["ask", "--graph", "--json", "Who directed the film that Tom Hanks starred in?"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["answer"] == "Penny_Marshall"
    assert printed["paths"][0]["planner"] == "embedding" and printed["paths"][0]["supports_answer"]
    assert printed["paths"][0]["steps"][0]["where"] == f"{films}:1"

    lighthouse = folder / DOCS[0]
    engine.forget(lighthouse)
    left = engine.graph.triple_rows().to_pylist()
    gone = {c.doc_id for c in chunks.values() if c.path == str(lighthouse)}
    assert not any(r["doc_id"] in gone for r in left)
    kept = [r for r in rows if r["doc_id"] not in gone]
    assert len(left) == len(kept) + 6  # the other document's triples and the imported ones stay
    assert sum(1 for r in left if r["doc_id"].startswith("file:")) == 6

    # `graph clear`: the imported triples, then the built ones, whose chunks the next build reads again.
    assert run(["graph", "clear", "--imported"]) == 2  # no terminal to ask on, and no --yes
    assert "not cleared without confirmation" in capsys.readouterr().err
    assert run(["graph", "clear", "--imported", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": 6, "left": len(kept)}
    assert run(["graph", "clear", "--built", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": len(kept), "left": 0}
    fresh = Engine(engine.settings)  # the command's own engine wrote; this one's tables are read as of its start
    assert fresh.graph.built_chunks() == {} and fresh.documents()
    assert fresh.graph_build().chunks_skipped == 0


def test_a_listing_by_a_name_written_without_its_accents_lists_what_related_finds(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # `related "creme brulee"` and `ask --graph` linked the name; `graph triples "creme brulee"` said none.
    kg = tmp_path / "kg.tsv"
    kg.write_text("Crème brûlée\torigin\tFrance\nTomás Núñez\tborn_in\tSevilla\n", encoding="utf-8")
    engine = Engine(Settings(), embedder=real_embedder)
    engine.graph_import(kg)
    assert [(t.head, t.tail) for t in engine.graph_triples("creme brulee")] == [("Crème brûlée", "France")]
    assert engine.related(["creme brulee"]).seeds[0].name == "Crème brûlée"
    assert [t.head for t in engine.graph_triples("Tomas Nunez")] == ["Tomás Núñez"]
    assert engine.graph_triples("zzz qqq") == []
