"""Graph tables and the in-memory index on a small hand-made graph (HashEmbedder, real LanceDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.embed import HashEmbedder
from localrag.graph.paths import GraphIndex
from localrag.graph.store import GraphStore
from localrag.graph.triples import Triple, normalise_entity, normalise_relation

FILMS = """Tom_Hanks\tstarred_in\tBig
Tom_Hanks\tstarred_in\tCast_Away
Big\tdirected_by\tPenny_Marshall
Cast_Away\tdirected_by\tRobert_Zemeckis
Forrest_Gump\tdirected_by\tRobert_Zemeckis
Meg_Ryan\tstarred_in\tSleepless_in_Seattle
"""


@pytest.fixture
def graph(tmp_path: Path) -> GraphStore:
    return GraphStore(tmp_path / "db", HashEmbedder(dim=32))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_normalisation_merges_case_underscores_and_spaces() -> None:
    assert normalise_entity("Tom_Hanks") == normalise_entity("  tom   HANKS ") == "tom hanks"
    assert normalise_relation("Directed By") == "directed_by"
    assert normalise_relation("is-in country!") == "is_in_country"
    # Letters of any script stay: an ASCII rule emptied the Russian, cut "dirigió" and merged leán with león.
    assert normalise_relation("Режиссёр фильма") == "режиссёр_фильма" and normalise_relation("導演") == "導演"
    assert normalise_relation("dirigió") == "dirigió" and normalise_relation("leán") != normalise_relation("león")


def test_a_tsv_line_ends_only_at_a_line_feed(graph: GraphStore, tmp_path: Path) -> None:
    """A name may hold U+2028 or a form feed; the citations are the line numbers an editor shows."""
    text = "Alpha\u2028Beta\tnear\tGamma\r\nDelta\tnear\tZeta\x0cEta\nIota\tnear\tKappa\n"
    report = graph.import_triples(write(tmp_path, "sep.tsv", text))
    assert (report.triples, report.errors) == (3, [])
    sources = {r["head"]: r["source"] for r in graph.triple_rows().to_pylist()}
    assert sources == {"alpha beta": f"{tmp_path}/sep.tsv:1", "delta": f"{tmp_path}/sep.tsv:2",
                       "iota": f"{tmp_path}/sep.tsv:3"}  # names fold spaces


def test_import_tsv_counts_and_relations(graph: GraphStore, tmp_path: Path) -> None:
    report = graph.import_triples(write(tmp_path, "films.tsv", FILMS))
    assert (report.triples, report.errors) == (6, [])
    assert report.entities == 8
    assert graph.relations() == ["directed_by", "starred_in"]
    stats = graph.stats()
    assert (stats.triples, stats.entities, stats.documents) == (6, 8, 1)
    assert stats.relations == {"directed_by": 3, "starred_in": 3}


def test_reimport_does_not_duplicate(graph: GraphStore, tmp_path: Path) -> None:
    path = write(tmp_path, "films.tsv", FILMS)
    graph.import_triples(path)
    again = graph.import_triples(path)
    assert (again.triples, again.entities) == (0, 0)
    assert graph.stats().triples == 6


def test_reimport_of_an_edited_file_replaces_its_triples(graph: GraphStore, tmp_path: Path) -> None:
    def rows() -> list[tuple[str, str, str]]:
        return sorted((r["head"], r["tail"], r["source"]) for r in graph.triple_rows().to_pylist())

    path = write(tmp_path, "stock.tsv", "Kayak\tstored in\tBergen\nAnvil\tstored in\tTromso\n")
    graph.import_triples(path)
    appended = graph.import_triples(write(tmp_path, "stock.tsv", path.read_text() + "Oar\tstored in\tBergen\n"))
    assert (appended.triples, appended.removed) == (1, 0)  # a line added: only it is new
    # Line 1 now says Oslo, line 2 is gone: the graph must not answer from what the file no longer says.
    edited = graph.import_triples(write(tmp_path, "stock.tsv", "Kayak\tstored in\tOslo\nOar\tstored in\tBergen\n"))
    # Said as the file reads: Kayak-Oslo is new, Kayak-Bergen and Anvil-Tromso are gone, Oar only moved to line 2
    # (its citation moves with it); Oslo is the one entity the graph did not have.
    assert (edited.triples, edited.removed, edited.moved, edited.entities) == (1, 2, 1, 1)
    assert rows() == [("kayak", "oslo", f"{tmp_path}/stock.tsv:1"), ("oar", "bergen", f"{tmp_path}/stock.tsv:2")]
    assert "anvil" not in graph.columns().entity_ids  # no triple names it any more
    other = graph.import_triples(write(tmp_path, "other.tsv", "Anvil\tstored in\tTromso\n"))
    assert (other.triples, other.removed) == (1, 0) and len(rows()) == 3  # another file's triples stay apart


def test_filtered_triple_rows_and_entity_names(graph: GraphStore, tmp_path: Path) -> None:
    from localrag.store_schema import sql_in

    graph.import_triples(write(tmp_path, "films.tsv", FILMS + "Conan_O'Brien\tstarred_in\tBig\n"))
    rows = graph.triple_rows(f"({sql_in('head', ['big'])} OR {sql_in('tail', ['big'])})").to_pylist()
    assert sorted((r["head"], r["tail"]) for r in rows) == [
        ("big", "penny marshall"), ("conan o'brien", "big"), ("tom hanks", "big")]
    # A name quoted as SQL; an id the table lacks is its own name.
    names = graph.entity_names(["conan o'brien", "big", "nobody"])
    assert names == {"conan o'brien": "Conan_O'Brien", "big": "Big", "nobody": "nobody"}


def test_bad_lines_are_reported_with_file_and_line_and_skipped(graph: GraphStore, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.tsv", "A\tknows\tB\nonly_two\tfields\n\nC\tknows\t \nD\tknows\tE\n")
    report = graph.import_triples(path)
    assert report.triples == 2
    assert [str(e).split(":")[-2] for e in report.errors] == ["2", "4"]
    assert f"{path}:2" in str(report.errors[0])


def test_csv_with_quoted_commas(graph: GraphStore, tmp_path: Path) -> None:
    report = graph.import_triples(write(tmp_path, "g.csv", '"Paris, France",capital of,France\n'))
    assert report.triples == 1
    index = GraphIndex.load(graph)
    assert index.tails("paris, france", "capital_of") == [("france", f"{tmp_path}/g.csv:1")]


def test_case_variants_merge_into_one_entity(graph: GraphStore) -> None:
    graph.add_triples([Triple("Tom_Hanks", "starred_in", "Big"), Triple("tom hanks", "Starred In", "BIG")])
    assert graph.stats().entities == 2
    assert graph.stats().triples == 1


def test_alias_lands_on_the_entity(graph: GraphStore) -> None:
    graph.add_triples([Triple("Tom_Hanks", "starred_in", "Big")], aliases={"Tom_Hanks": ["Thomas Jeffrey Hanks"]})
    graph.add_triples([Triple("Thomas Jeffrey Hanks", "born_in", "Concord")])
    index = GraphIndex.load(graph)
    assert index.out_relations("tom hanks") == {"starred_in", "born_in"}
    assert [e.how for e in index.link("where was thomas jeffrey hanks born?")] == ["alias"]


def test_alias_merged_into_an_existing_entity_is_stored_on_it(graph: GraphStore) -> None:
    graph.add_triples([Triple("Tom_Hanks", "starred_in", "Big")])
    index = GraphIndex.load(graph)  # columns cached before the alias arrives: they must learn it too
    graph.add_triples([Triple("Tom_Hanks", "starred_in", "Cast_Away")], aliases={"Tom_Hanks": ["Thomas Jeffrey Hanks"]})
    graph.add_triples([Triple("tom hanks", "born_in", "Concord")],
                      aliases={"Tom Hanks": ["T Hanks", "thomas jeffrey hanks"]})
    assert graph.aliases_of("tom hanks") == ["t hanks", "thomas jeffrey hanks"]
    assert graph.entities_named("Thomas Jeffrey Hanks") == {"thomas jeffrey hanks", "tom hanks"}  # graph triples
    assert graph.stats().entities == 4
    index = GraphIndex.load(graph)
    assert [e.how for e in index.link("where was thomas jeffrey hanks born?")] == ["alias"]
    assert GraphIndex.load(GraphStore(graph.path, HashEmbedder(dim=32))).aliases == index.aliases  # saved and read back


def test_delete_for_documents_removes_triples_and_orphan_entities(graph: GraphStore, tmp_path: Path) -> None:
    graph.import_triples(write(tmp_path, "films.tsv", FILMS), doc_id="films")
    graph.add_triples([Triple("Big", "released_in", "1988", source="c1", doc_id="notes")])
    assert graph.delete_for_documents(["films"]) == 6
    stats = graph.stats()
    assert (stats.triples, stats.entities) == (1, 2)
    assert dict(GraphIndex.load(graph).names) == {"big": "Big", "1988": "1988"}


def test_follow_two_hops_with_sources(graph: GraphStore, tmp_path: Path) -> None:
    graph.import_triples(write(tmp_path, "films.tsv", FILMS))
    index = GraphIndex.load(graph)
    paths = index.follow(["tom hanks"], ["starred_in", "directed_by"])
    assert sorted(p.end for p in paths) == ["penny marshall", "robert zemeckis"]
    big = next(p for p in paths if p.end == "penny marshall")
    assert [s.source for s in big.steps] == [f"{tmp_path}/films.tsv:1", f"{tmp_path}/films.tsv:3"]
    assert big.render(index.names) == "Tom_Hanks -> starred_in -> Big -> directed_by -> Penny_Marshall"
    assert index.follow(["tom hanks"], ["directed_by"]) == []
    assert len(index.follow(["tom hanks"], ["starred_in", "directed_by"], max_paths=1)) == 1


def test_link_exact_longest_match_first(graph: GraphStore, tmp_path: Path) -> None:
    graph.import_triples(write(tmp_path, "films.tsv", FILMS))
    index = GraphIndex.load(graph)
    linked = index.link("Who directed the films Tom_Hanks starred in?")
    assert [(e.entity_id, e.how) for e in linked] == [("tom hanks", "exact")]
    assert [e.entity_id for e in index.link("was Sleepless in Seattle good?")] == ["sleepless in seattle"]


def test_link_falls_back_to_embedding(graph: GraphStore, tmp_path: Path) -> None:
    graph.import_triples(write(tmp_path, "films.tsv", FILMS))
    index = GraphIndex.load(graph)
    assert index.link("who is hanks", threshold=0.5) == []
    linked = index.link("who is hanks", graph.embedder, threshold=0.5)
    assert linked and linked[0].entity_id == "tom hanks" and linked[0].how == "embedding"


def test_relation_sequences_skip_going_straight_back(graph: GraphStore) -> None:
    graph.add_triples(
        [
            Triple("Ann", "plays_in_club", "Reds"),
            Triple("Reds", "plays_in_club_inverse", "Ann"),
            Triple("Reds", "is_in_country", "Spain"),
        ]
    )
    index = GraphIndex.load(graph)
    seqs = set(index.relation_sequences(["ann"]))
    assert seqs == {("plays_in_club",), ("plays_in_club", "is_in_country")}


def test_csv_header_row_bom_and_quoted_fields_spanning_lines(graph: GraphStore, tmp_path: Path) -> None:
    text = '\ufeffsubject,predicate,object\n"Tom Hanks",starred_in,"Big"\n"Penny\nMarshall",directed,"Big"\nbad,row\n'
    report = graph.import_triples(write(tmp_path, "films.csv", text))
    assert report.triples == 2  # the header is not a triple; the quoted name with a newline is one field
    assert [str(e) for e in report.errors] == [
        f"{tmp_path / 'films.csv'}:5: expected 3 fields (head, relation, tail), found 2 "
        "(fix or delete the line; the other lines were imported)"
    ]


def test_a_spreadsheet_s_quoted_tsv_fields_lose_their_quotes_and_a_quoted_hash_is_a_name(
    graph: GraphStore, tmp_path: Path
) -> None:
    text = ('# films I like\n"Big, the film"\tdirected_by\t"Penny Marshall"\n'
            '"#1 Fan"\tsung_by\t"The ""Quoted"" Band"\n#1 Fan\tsung_by\tnobody\n"Weird" Al\tsang\tparodies\n')
    report = graph.import_triples(write(tmp_path, "quoted.tsv", text))
    assert (report.triples, report.errors) == (3, [])
    rows = {(r["head"], r["tail"], r["source"]) for r in graph.triple_rows().to_pylist()}
    assert rows == {("big, the film", "penny marshall", f"{tmp_path}/quoted.tsv:2"),
                    ("#1 fan", 'the "quoted" band', f"{tmp_path}/quoted.tsv:3"),
                    ('"weird" al', "parodies", f"{tmp_path}/quoted.tsv:5")}  # not wholly quoted: kept as typed
    report = graph.import_triples(write(tmp_path, "fans.csv", '# fans, mine\n"#1 Fan",likes,Big\n#2 Fan,likes,Big\n'))
    assert (report.triples, report.errors) == (1, [])
    rows = {(r["head"], r["tail"], r["source"]) for r in graph.triple_rows().to_pylist()}
    assert ("#1 fan", "big", f"{tmp_path}/fans.csv:2") in rows


def test_tsv_header_row_is_skipped(graph: GraphStore, tmp_path: Path) -> None:
    report = graph.import_triples(write(tmp_path, "films.tsv", "head\trelation\ttail\n" + FILMS))
    assert report.triples == 6 and report.errors == []


def test_a_large_graph_gets_scalar_indexes_without_rebuilding_its_columns(
    graph: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localrag.graph import store as graph_store
    from localrag.graph.columns import GraphColumns

    graph.import_triples(write(tmp_path, "few.tsv", FILMS))
    assert graph._triples.list_indices() == []  # a small graph: a scan is as fast
    before = graph.triple_rows("head = 'tom hanks' OR tail = 'tom hanks'").to_pylist()

    monkeypatch.setattr(graph_store, "INDEXED_TRIPLES", 3)
    graph.import_triples(write(tmp_path, "more.tsv", "Meg_Ryan\tstarred_in\tYou've_Got_Mail\n"))
    indexed = {c for t in (graph._triples, graph._entities) for i in t.list_indices() for c in i.columns}
    assert indexed == {"head", "tail", "relation", "entity_id"}
    assert graph.triple_rows("head = 'tom hanks' OR tail = 'tom hanks'").to_pylist() == before

    def rebuilt(*_args: object) -> GraphColumns:
        raise AssertionError("the columns were built again from every row")

    monkeypatch.setattr(GraphColumns, "from_tables", rebuilt)
    assert graph.columns().key == graph.index_key()  # re-keyed in memory, and saved with that key
    assert GraphStore(graph.path, HashEmbedder(dim=32)).columns().key == graph.index_key()
    assert graph.entities_named("you've got mail") == {"you've got mail"}


def test_a_name_in_two_unicode_forms_is_one_entity(graph: GraphStore, tmp_path: Path) -> None:
    """é as one character and as e with a combining accent (macOS's form) were two entities printed alike."""
    graph.import_triples(write(tmp_path, "kg.tsv", "Caf\u00e9\tlocated_in\tParis\nCafe\u0301\tlocated_in\tLyon\n"))
    index = GraphIndex.load(graph)
    assert sorted(index.entity_ids) == ["café", "lyon", "paris"]
    assert [e.entity_id for e in index.link("Where is Cafe\u0301?")] == ["café"]


def test_a_name_holding_a_comma_is_linked_whole(graph: GraphStore, tmp_path: Path) -> None:
    """The question's words lost their commas, so "Paris, Texas" linked the shorter "Paris", answered from it."""
    graph.import_triples(write(tmp_path, "p.csv", '"Paris, Texas",located_in,United States\nParis,located_in,France\n'
                                                  '"Smith, John",works_on,Heron\nSmith,works_on,Falcon\n'))
    index = GraphIndex.load(graph)
    linked = index.link("Where is Paris, Texas?")
    assert [(e.entity_id, e.how, e.mention) for e in linked] == [("paris, texas", "exact", "paris texas")]
    assert [e.entity_id for e in index.link("What does Smith, John work on, and Paris?")] == ["smith, john", "paris"]


def test_two_files_of_one_name_are_cited_apart(graph: GraphStore, tmp_path: Path) -> None:
    """Each imported triple cited its file's name alone: `a.tsv:1` for the one in team1/ and in team2/."""
    for team, partner in (("team1", "Beta"), ("team2", "Gamma")):
        (tmp_path / team).mkdir()
        graph.import_triples(write(tmp_path / team, "a.tsv", f"Alpha\tpartner_of\t{partner}\n"))
    assert sorted(r["source"] for r in graph.triple_rows().to_pylist()) == [f"{tmp_path}/team1/a.tsv:1",
                                                                             f"{tmp_path}/team2/a.tsv:1"]


def test_a_triples_or_relations_file_that_does_not_read_says_why_in_words(tmp_path: Path) -> None:
    """Python's words were in the line: "([Errno 2] No such file or directory: 'nosuch.tsv')", a codec's error."""
    from localrag.errors import LocalRagError
    from localrag.graph.triple_file import ImportReport, read_triple_file
    from localrag.graph.vocabulary import load_vocabulary

    with pytest.raises(LocalRagError) as missing:
        read_triple_file(tmp_path / "nosuch.tsv", None, ImportReport())
    assert str(missing.value) == (f"{tmp_path / 'nosuch.tsv'}: cannot read the triples file (no such file) "
                                  "(check the path (a UTF-8 TSV or CSV file of triples))")
    latin = tmp_path / "relations.txt"
    latin.write_bytes(b"\xffborn in\n")
    with pytest.raises(LocalRagError) as encoded:
        load_vocabulary(latin)
    assert encoded.value.message.endswith("cannot read the relation vocabulary (not UTF-8 text)")
