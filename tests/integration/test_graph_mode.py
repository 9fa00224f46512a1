"""Graph mode end to end with the bundled MiniLM and SmolLM2 on a small imported graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FILMS

from localrag.embed import SentenceTransformerEmbedder
from localrag.generate import LlamaGenerator
from localrag.graph.paths import GraphIndex
from localrag.graph.plan import EmbeddingPlanner, GrammarPlanner
from localrag.graph.reason import ModelReasoner, answer_question
from localrag.graph.store import GraphStore


@pytest.mark.integration
def test_two_hop_question_with_real_models(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder, real_generator: LlamaGenerator
) -> None:
    triples = tmp_path / "films.tsv"
    triples.write_text(FILMS, encoding="utf-8")
    store = GraphStore(tmp_path / "db", real_embedder)
    assert store.import_triples(triples).triples == 6
    index = GraphIndex.load(store)
    question = "Who directed the film that Tom Hanks starred in?"

    by_embedding = answer_question(question, index, EmbeddingPlanner(real_embedder), embedder=real_embedder)
    assert [e.entity_id for e in by_embedding.linked] == ["tom hanks"]
    assert by_embedding.planned[0].relations == ("starred_in", "directed_by")
    assert by_embedding.answer == "Penny_Marshall"
    assert (
        by_embedding.supporting[0].render(index.names)
        == "Tom_Hanks -> starred_in -> Big -> directed_by -> Penny_Marshall"
    )

    by_model = answer_question(
        question,
        index,
        GrammarPlanner(real_generator),
        embedder=real_embedder,
        reasoner=ModelReasoner(real_generator),
        k=2,
    )
    reachable = set(index.relation_sequences(["tom hanks"]))
    assert by_model.planned and all(p.relations in reachable and p.planner == "grammar" for p in by_model.planned)
    assert by_model.reasoner == "model"
    assert by_model.supporting and by_model.supporting[0].end == by_model.candidates[0].entity_id
