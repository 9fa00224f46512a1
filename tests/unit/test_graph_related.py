"""`related`: entities sharing specific neighbours, scored by inverse degree, each with its joining paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localrag.config import Settings
from localrag.embed import Embedder, HashEmbedder
from localrag.engine import Engine
from localrag.graph.paths import GraphIndex
from localrag.graph.related import (
    RelatedError,
    find_related,
    question_related,
    recommendation_seeds,
    related_entities,
)
from localrag.graph.triples import Triple

TRIPLES = [
    ("big", "directed_by", "penny marshall", "f:1"),
    ("a league", "directed_by", "penny marshall", "f:2"),
    ("big", "starring", "tom hanks", "f:3"),
    ("a league", "starring", "tom hanks", "f:4"),
    ("cast away", "starring", "tom hanks", "f:5"),
    ("cast away", "directed_by", "zemeckis", "f:6"),
    ("forrest gump", "directed_by", "zemeckis", "f:7"),
    ("forrest gump", "starring", "tom hanks", "f:8"),
    ("tom hanks", "starring_inverse", "big", "f:3i"),
    ("penny marshall", "directed_by_inverse", "big", "f:1i"),
]
FILMS_TSV = "".join(f"{h}\t{r}\t{t}\n" for h, r, t, _ in TRIPLES)


@pytest.fixture
def index() -> GraphIndex:
    names = {e: e.title() for t in TRIPLES for e in (t[0], t[2])}
    return GraphIndex.from_triples(names, {}, HashEmbedder(dim=16).embed(list(names)), TRIPLES)


@pytest.fixture
def films_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """An engine with the films graph imported, the one the CLI commands of these tests reach."""
    import localrag.cli.common

    engine = Engine(Settings(), embedder=HashEmbedder(dim=16))
    monkeypatch.setattr(localrag.cli.common, "engine_from_args", lambda *a, **k: engine)
    (tmp_path / "films.tsv").write_text(FILMS_TSV, encoding="utf-8")
    engine.graph_import(tmp_path / "films.tsv")
    return engine


def test_specific_neighbours_outweigh_hubs_and_paths_are_concrete(index: GraphIndex) -> None:
    ranked = related_entities(index, ["big"])
    assert [r.entity_id for r in ranked] == ["a league", "cast away", "forrest gump"]
    top = ranked[0]
    # a director of two films (1 / log2 3) counts more than a star of four (1 / log2 5); each fact once
    assert top.score == pytest.approx(1 / 1.5849625 + 1 / 2.3219281, rel=1e-5)
    assert [link.render(index.names) for link in top.links] == [
        "Big -> directed_by -> Penny Marshall <- directed_by <- A League",
        "Big -> starring -> Tom Hanks <- starring <- A League",
    ]
    assert (top.links[0].seed_step.source, top.links[0].other_step.source) == ("f:1", "f:2")


def test_a_fact_from_two_sources_counts_one_entity_sharing_it() -> None:
    # Degree counted triples: the same fact built from a note and imported from a file made the shared neighbour
    # look twice as common, and the link backed by more sources scored lower (0.63 -> 0.43).
    twice = [*TRIPLES, ("a league", "directed_by", "penny marshall", "g:1")]
    names = {e: e.title() for t in twice for e in (t[0], t[2])}
    index = GraphIndex.from_triples(names, {}, HashEmbedder(dim=16).embed(list(names)), twice)
    top = related_entities(index, ["big"])[0]
    assert top.entity_id == "a league" and top.score == pytest.approx(1 / 1.5849625 + 1 / 2.3219281, rel=1e-5)


def test_relation_filter_several_seeds_and_hub_cap(index: GraphIndex) -> None:
    only_director = related_entities(index, ["big"], relations=["directed_by"])
    assert [r.entity_id for r in only_director] == ["a league"]
    both = related_entities(index, ["big", "cast away"])
    assert [r.entity_id for r in both][:2] == ["a league", "forrest gump"]
    assert "big" not in {r.entity_id for r in both}
    assert related_entities(index, ["big"], max_degree=3)[0].links[0].via == "penny marshall"
    assert [r.entity_id for r in related_entities(index, ["big"], max_degree=3)] == ["a league"]


def test_names_and_relations_are_checked(index: GraphIndex) -> None:
    assert find_related(index, ["Big"], relations=["Directed By"]).related[0].name == "A League"
    with pytest.raises(RelatedError, match="'Jaws' is not an entity"):
        find_related(index, ["Jaws"])
    with pytest.raises(RelatedError, match="relation 'produced_by' is not in the graph"):
        find_related(index, ["big"], relations=["produced by"])
    with pytest.raises(RelatedError, match="score 'walk' is not known .use one of: shared, pagerank"):
        find_related(index, ["big"], scoring="walk")  # the one check behind the CLI's, MCP's and HTTP's choices


def test_related_command(films_cli: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    from localrag.cli import run


    assert run(["related", "Big", "--json", "-k", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in data["related"]] == ["a league"]
    assert data["related"][0]["paths"][0]["steps"][0]["where"].endswith("/films.tsv:1")

    assert run(["related", "big"]) == 0
    text = capsys.readouterr().out
    assert "1. a league" in text and "big -> directed_by -> penny marshall <- directed_by <- a league" in text

    assert run(["related", "Jaws"]) == 2
    assert "'Jaws' is not an entity of the graph" in capsys.readouterr().err
    # No count of entities is "nothing shares a neighbour": the Engine's rule, as the API's and MCP's.
    assert run(["related", "Big", "-k", "0"]) == 2
    assert "0 entities: related lists from 1 to 100" in capsys.readouterr().err


def test_recommendation_questions_name_their_seeds(index: GraphIndex) -> None:
    assert [s.entity_id for s in recommendation_seeds("What else is like Big?", index)] == ["big"]
    assert [s.entity_id for s in recommendation_seeds("films like Big and Cast Away", index)] == ["big", "cast away"]
    assert [s.entity_id for s in recommendation_seeds("films like the Big and a League", index)] == ["big", "a league"]
    seeds = recommendation_seeds("Because I liked Forrest Gump, A League or Big, what next?", index)
    assert [s.entity_id for s in seeds] == ["forrest gump", "a league", "big"]
    for other in ("What is Big like?", "I would like to know who directed Big", "who directed big?", "like jaws"):
        assert recommendation_seeds(other, index) == []
    result = question_related(index, "anything similar to Big?", k=1)
    assert result is not None and [r.entity_id for r in result.related] == ["a league"]
    assert question_related(index, "who starred in big?") is None


def test_ask_graph_routes_recommendations_to_related(films_cli: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    from localrag.cli import run


    assert run(["ask", "--graph", "--json", "what else is like Big?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["question"], data["intent"]) == ("what else is like Big?", "related")
    assert [s["entity_id"] for s in data["seeds"]] == ["big"]
    assert data["related"][0]["name"] == "a league"
    assert data["related"][0]["paths"][0]["steps"][1]["where"].endswith("/films.tsv:2")

    assert run(["ask", "--graph", "films like Big and Cast Away"]) == 0
    text = capsys.readouterr().out
    assert "Related to big, cast away" in text and "1. a league" in text and "films.tsv:" in text

    assert run(["ask", "--graph", "--json", "who is big starring?"]) == 0
    answer = json.loads(capsys.readouterr().out)  # not a recommendation: a graph answer with its paths
    assert "intent" not in answer and answer["linked"][0]["entity_id"] == "big" and answer["paths"]


def test_ask_graph_refuses_what_only_passages_take(films_cli: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # `--path public` was passed over, and a private folder's triples answered; HTTP and MCP refuse it by name.
    from localrag.cli import run

    assert run(["ask", "--graph", "--path", "public", "--extract", "who starred in big?"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--path and --extract do not apply to a graph answer" in captured.err
    assert "a collection of their own keeps documents apart" in captured.err
    assert run(["ask", "--planner", "grammar", "who starred in big?"]) == 2
    assert "add --graph" in capsys.readouterr().err


def test_related_command_shows_the_aliases_merged_into_the_entity(
    films_cli: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.cli import run

    films_cli.graph.add_triples([Triple("Big", "released_in", "1988")], aliases={"Big": ["Big (1988 film)"]})

    assert run(["related", "big (1988 film)", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seeds"][0]["aliases"] == ["big (1988 film)"]
    assert run(["related", "Big"]) == 0
    assert "Related to big (also: big (1988 film))" in capsys.readouterr().out


def test_pagerank_scoring_ranks_the_same_explained_entities_by_the_walk_from_the_seed(
    films_cli: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # a shares one specific neighbour with s; b only a hub, but b reaches s's other neighbours by another relation
    rows = [("s", "r", "x"), ("a", "r", "x"), *((e, "r", "h") for e in ("s", "b", "c1", "c2", "c3", "c4")),
            *(("s", "likes", f"y{i}") for i in range(3)), *(("b", "owns", f"y{i}") for i in range(3))]
    triples = [(h, r, t, f"g:{i}") for i, (h, r, t) in enumerate(rows)]
    names = {e: e for t in triples for e in (t[0], t[2])}
    graph = GraphIndex.from_triples(names, {}, HashEmbedder(dim=16).embed(list(names)), triples)
    shared = related_entities(graph, ["s"])
    walked = related_entities(graph, ["s"], scoring="pagerank")
    assert [r.entity_id for r in shared][:2] == ["a", "b"]
    assert [r.entity_id for r in walked][:2] == ["b", "a"]
    assert {r.entity_id for r in walked} == {r.entity_id for r in shared}  # the same entities, each with its paths
    assert all(r.links for r in walked) and 0 < sum(r.score for r in walked) < 1

    from localrag.cli import run

    assert run(["related", "Big", "--score", "pagerank", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scoring"] == "pagerank" and data["related"][0]["name"] == "a league"
    assert run(["related", "Big", "--score", "pagerank"]) == 0
    assert "personalized PageRank" in capsys.readouterr().out


PHONES = [
    ("galaxy s24", "created_by", "samsung", "p:1"),
    ("galaxy tab s9", "created_by", "samsung", "p:2"),
    ("pixel 8", "created_by", "google", "p:3"),
    ("pixel buds", "created_by", "google", "p:4"),
]


def test_a_partial_name_is_refused_or_taken_with_the_names_holding_its_words(real_embedder: Embedder) -> None:
    # Before: "'Galaxy' is not an entity of the graph (check the spelling ...)" beside Galaxy S24 and Galaxy Tab S9,
    # and "Pixel" took Pixel 8 without a word of Pixel Buds.
    names = {e: e.title() for t in PHONES for e in (t[0], t[2])}
    index = GraphIndex.from_triples(names, {}, real_embedder.embed(list(names)), PHONES)
    with pytest.raises(RelatedError, match="entities whose names hold 'Galaxy': Galaxy S24, Galaxy Tab S9"):
        find_related(index, ["Galaxy"])
    result = find_related(index, ["Pixel"], embedder=real_embedder)
    taken = result.seeds[0].name
    assert taken in {"Pixel 8", "Pixel Buds"} and result.notes == [
        f"'Pixel' is not an entity of the graph: took {taken}; also holding its words: "
        f"{({'Pixel 8', 'Pixel Buds'} - {taken}).pop()}"
    ]
    assert find_related(index, ["Pixel 8"]).notes == []


def test_an_unanswered_question_names_the_facts_that_point_at_its_entity() -> None:
    # Before: only "No reasoning path in the knowledge graph answers this." though 2 facts are created_by Samsung.
    from localrag.graph.plan import EmbeddingPlanner
    from localrag.graph.reason import answer_question
    from localrag.graph.turns import graph_turn_text

    embedder = HashEmbedder(dim=16)
    names = {e: e.title() for t in PHONES for e in (t[0], t[2])}
    index = GraphIndex.from_triples(names, {}, embedder.embed(list(names)), PHONES)
    answer = answer_question("Which products does Samsung make?", index, EmbeddingPlanner(embedder, 3),
                             embedder=embedder)
    assert not answer.candidates and answer.note == (
        "Samsung is in the graph as the object of created_by from 2 entities, which paths do not follow back (they "
        "go from an entity to what its facts name): localrag graph triples Samsung lists them")
    assert graph_turn_text(answer, index.names).endswith("localrag graph triples Samsung lists them")
    answered = answer_question("What is Pixel 8 made of?", index, EmbeddingPlanner(embedder, 3), embedder=embedder)
    assert answered.note == ""  # Pixel 8 is no fact's object


def test_the_unanswered_note_is_in_every_front_ends_json_in_its_words(tmp_path: Path) -> None:
    """The note on facts that point at the question's entity was text alone: `ask --graph --json`, MCP's
    `ask_graph` and `POST /graph/ask` gave a bare "no path". The servers' name the tool or endpoint that lists them,
    not a command their clients do not have; `related`'s notes on the names taken are in its JSON too."""
    import anyio
    from starlette.testclient import TestClient

    from localrag.serve.http import create_app
    from localrag.serve.mcp import build_server
    from localrag.serve.wording import for_client
    from localrag.shapes import graph_reply_json, related_json

    engine = Engine(Settings(), embedder=HashEmbedder(dim=16))
    phones = "".join(f"{h.title()}\t{r}\t{t.title()}\n" for h, r, t, _ in PHONES)
    (tmp_path / "phones.tsv").write_text(phones, encoding="utf-8")
    engine.graph_import(tmp_path / "phones.tsv")
    question = "Which products does Samsung make?"
    said = ("Samsung is in the graph as the object of created_by from 2 entities, which paths do not follow back (they "
            "go from an entity to what its facts name): ")
    assert graph_reply_json(engine, question)["note"] == f"{said}localrag graph triples Samsung lists them"
    assert graph_reply_json(engine, "Which phones does Galaxy S24 belong to?")["note"] == ""

    async def asked() -> Any:
        return await build_server(engine).call_tool("ask_graph", {"question": question})

    replied = json.dumps(anyio.run(asked), default=str)
    assert json.dumps(f"{said}the graph_triples tool with entity \"Samsung\" lists them")[1:-1] in replied
    with TestClient(create_app(engine), base_url="http://127.0.0.1") as client:
        answered = client.post("/graph/ask", json={"question": question}).json()
    assert answered["note"] == f"{said}POST /triples with {{\"entity\": \"Samsung\"}} lists them"
    # A name quoted for a shell is the name itself to a client.
    assert for_client("localrag graph triples 'Galaxy S24' lists them", "mcp") == (
        "the graph_triples tool with entity \"Galaxy S24\" lists them")
    result = engine.related(["Galaxy Tab"])
    assert related_json(result, engine.related_view(result))["notes"] == result.notes != []
