"""Graph mode through the Engine with the HashEmbedder and a scripted generator (real LanceDB, no models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_graph_extract import ScriptedGenerator, reply

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError
from localrag.graph.extract import ExtractConfig, extract_chunk
from localrag.graph.plan import OFFER, path_choice_grammar
from localrag.graph.triple_checks import EntityMerger
from localrag.types import Chunk

NOTES = "Ruth Okafor designed the Harwick Bridge. The Harwick Bridge is in Tamford. Tamford lies in Sellshire."
FILMS = "Tom_Hanks\tstarred_in\tBig\nBig\tdirected_by\tPenny_Marshall\n"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    generator = ScriptedGenerator(
        {
            "Ruth Okafor": reply(
                ("Harwick Bridge", "designed by", "Ruth Okafor"),
                ("Harwick Bridge", "is in", "Tamford"),
                ("Tamford", "lies in", "Sellshire"),
            )
        }
    )
    return Engine(Settings(), embedder=HashEmbedder(dim=64), generator=generator)  # type: ignore[arg-type]


def test_build_ask_and_forget_through_the_engine(engine: Engine, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text(NOTES, encoding="utf-8")
    engine.ingest([docs])
    report = engine.graph_build(config=ExtractConfig(method="single"))
    assert report.triples_added == 3 and engine.graph_stats().relations == {"created_by": 1, "located_in": 2}

    answer = engine.ask_graph("Where is Harwick Bridge located?")
    assert answer.answer == "Tamford"
    assert all(p.planner == "embedding" for p in answer.planned)
    rendered = [p.render(engine.graph_index().names) for p in answer.paths]
    assert "Harwick Bridge -> located_in -> Tamford -> located_in -> Sellshire" in rendered
    chunks = engine.path_chunks(answer)
    assert [c.path for c in chunks.values()] == [str((docs / "notes.txt").resolve())]

    (tmp_path / "films.tsv").write_text(FILMS, encoding="utf-8")
    assert engine.graph_import(tmp_path / "films.tsv").triples == 2
    assert engine.ask_graph("Who directed the film Tom Hanks starred in?").answer == "Penny_Marshall"

    engine.forget(docs / "notes.txt")
    stats = engine.graph_stats()
    assert stats.triples == 2 and stats.documents == 1  # the imported file's triples stay
    assert engine.graph.built_chunks() == {}


def test_the_grammar_planner_chooses_among_the_embedding_planners_best_paths(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "films.tsv").write_text(FILMS, encoding="utf-8")
    engine.graph_import(tmp_path / "films.tsv")
    generator = engine.generator
    generator.replies = {"Relation path:": "starred_in -> directed_by"}  # type: ignore[attr-defined]
    question = "Who directed the film Tom Hanks starred in?"
    answer = engine.ask_graph(question, planner="grammar", k=1)
    assert answer.answer == "Penny_Marshall" and answer.planned[0].planner == "grammar"
    ranked = engine.ask_graph(question, planner="embedding", k=OFFER).planned
    assert generator.grammars[-1] == path_choice_grammar([p.relations for p in ranked])  # type: ignore[attr-defined]


def test_ask_graph_refuses_an_empty_graph_and_an_unknown_planner(engine: Engine) -> None:
    with pytest.raises(LocalRagError, match="knowledge graph is empty"):
        engine.ask_graph("anything?")
    with pytest.raises(LocalRagError, match="unknown graph planner"):
        engine.ask_graph("anything?", planner="oracle")
    assert "`localrag graph build`" in engine.empty_graph().hint
    # Followed without the collection, the fix built the default collection's graph and the refusal came back.
    engine.settings = engine.settings.replace(collection="work")
    with pytest.raises(LocalRagError) as refused:
        engine.related(["anything"])
    assert "`localrag graph build --collection work`" in refused.value.hint


def test_names_merged_into_one_entity_make_no_self_loop() -> None:
    text = "Kestrel Point Lighthouse, also called Lighthouse Kestrel Point, is tall."
    chunk = Chunk("d:00000", "d", "/d.md", 0, text, 0, len(text))
    generator = ScriptedGenerator({"Kestrel": reply(("Kestrel Point Lighthouse", "is", "Lighthouse Kestrel Point"))})
    merger = EntityMerger(HashEmbedder(dim=64), threshold=0.9)
    result = extract_chunk(chunk, generator, merger, ExtractConfig(method="single"))  # type: ignore[arg-type]
    assert result is not None and result.triples == [] and result.dropped == {"subject is the object": 1}



def test_a_build_leaves_the_graph_s_tables_compacted(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each commit appends a fragment to each table; left so, every later read and commit slows down.
    monkeypatch.setattr("localrag.graph.extract.COMPACT_EVERY", 4)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"notes-{i}.txt").write_text(f"{NOTES} Note {i}.", encoding="utf-8")
    engine.ingest([docs])
    compactions: list[int] = []
    compact = engine.graph.compact
    monkeypatch.setattr(engine.graph, "compact", lambda: compactions.append(1) or compact())
    report = engine.graph_build(config=ExtractConfig(method="single", commit_every=1))
    assert report.triples_added and len(compactions) == 12 // 4 + 1  # every fourth commit, and at the end
    for table in (engine.graph._entities, engine.graph._triples, engine.graph._built):
        assert table.stats()["fragment_stats"]["num_fragments"] == 1
    assert engine.ask_graph("Where is Harwick Bridge located?").answer == "Tamford"  # the same answers
