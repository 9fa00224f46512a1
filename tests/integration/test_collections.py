"""Collections on a real LanceDB with the bundled MiniLM: isolation, migration, rename and delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from localrag import paths
from localrag.collection import CollectionError
from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.generate import LlamaGenerator
from localrag.store import Store

TEXT = "# Harbour\n\nThe Wrenfield ferry leaves the harbour at seven each morning.\n"


def engine_in(collection: str, embedder: SentenceTransformerEmbedder,
              generator: LlamaGenerator | None = None) -> Engine:
    return Engine(load_settings(collection=collection), embedder=embedder, generator=generator)


@pytest.fixture
def two(tmp_path: Path, localrag_home: Path, real_embedder: SentenceTransformerEmbedder,
        real_generator: LlamaGenerator) -> tuple[Engine, Engine, Path, Path]:
    """The same text ingested into `default` (folder a) and `work` (folder b); b has one more file."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "ferry.md").write_text(TEXT)
    (b / "ferry.md").write_text(TEXT)
    (b / "kiln.md").write_text("# Kiln\n\nThe Ostrava kiln fires stoneware at 1280 degrees.\n")
    first = engine_in("default", real_embedder, real_generator)
    second = engine_in("work", real_embedder, real_generator)
    first.ingest([a])
    second.ingest([b])
    return first, second, a, b


def test_a_question_sees_only_its_own_collection(two: tuple[Engine, Engine, Path, Path], tmp_path: Path) -> None:
    first, second, a, b = two
    assert {Path(h.chunk.path).parent for h in first.search("When does the ferry leave?", k=10)} == {a}
    assert {Path(h.chunk.path).parent for h in second.search("When does the ferry leave?", k=10)} == {b}
    assert not [h for h in first.search("Ostrava kiln stoneware", k=10) if "kiln" in h.chunk.path]
    answer = first.ask("What temperature does the Ostrava kiln fire at?")
    assert all(Path(h.chunk.path).parent == a for h in answer.sources)

    # The knowledge graph is per collection too: it is built from the collection's chunks.
    triples = tmp_path / "t.tsv"
    triples.write_text("Wrenfield ferry\tdeparts_from\tharbour\n")
    second.graph_import(triples)
    assert second.graph_stats().triples == 1
    assert first.graph_stats().triples == 0

    # Forgetting in one collection leaves the other.
    first.forget(a / "ferry.md")
    assert first.documents() == []
    assert sorted(Path(d.path).name for d in second.documents()) == ["ferry.md", "kiln.md"]
    with pytest.raises(Exception, match="not in the index"):
        first.forget(b / "kiln.md")


def test_list_rename_and_delete(two: tuple[Engine, Engine, Path, Path], tmp_path: Path) -> None:
    first, second, _, b = two
    listed = {c.name: (c.documents, c.chunks) for c in first.collections()}
    assert listed["default"][0] == 1 and listed["work"][0] == 2 and listed["work"][1] >= 2

    first.rename_collection("work", "job")
    assert [c.name for c in first.collections()] == ["default", "job"]
    moved = engine_in("job", second.embedder)
    assert len(moved.documents()) == 2
    with pytest.raises(CollectionError, match="'work' does not exist"):
        engine_in("work", second.embedder).documents()

    first.delete_collection("job")
    assert [c.name for c in first.collections()] == ["default"]
    tables = Store.open_existing(paths.db_dir()).registry()
    assert tables == {"default": ""}
    import lancedb

    assert not [t for t in lancedb.connect(str(paths.db_dir())).list_tables().tables if "__" in t]
    with pytest.raises(CollectionError, match="cannot be deleted"):
        first.delete_collection("default")
    with pytest.raises(CollectionError, match="cannot be renamed"):
        first.rename_collection("default", "other")
    # A name used before gets fresh, empty tables.
    first.create_collection("job")
    assert engine_in("job", second.embedder).documents() == []


def test_a_collection_deleted_under_a_running_engine_is_said_to_be_gone_not_damaged(
    two: tuple[Engine, Engine, Path, Path],
) -> None:
    """A server or MCP process holds its Engine for hours; another command may delete its collection meanwhile."""
    first, second, _, b = two
    assert second.search("ferry", k=2)
    # Renamed under it, it goes on with the same documents and says the name they have now.
    first.rename_collection("work", "archive")
    assert second.status().collection == "archive" and second.search("ferry", k=2)
    first.delete_collection("archive")
    for call in (lambda: second.search("ferry", k=2), second.documents, second.status):
        with pytest.raises(CollectionError, match="the collection this process opened as 'work' was deleted since "
                                                  r"\(start it again") as info:
            call()
        assert "repair" not in str(info.value)
    # The name it was opened by, made again, is another collection: the message does not call it the same one.
    first.create_collection("work")
    with pytest.raises(CollectionError, match="'work' names another collection now .* to use that one"):
        second.search("ferry", k=2)


def _over_mcp(engine: Engine, *calls: tuple[str, dict[str, Any]]) -> list[str]:
    """Each call's error text through the SDK's own client, in process; a call that succeeds is a failure."""
    from mcp import Client

    from localrag.serve.mcp import build_server

    async def run() -> list[str]:
        said = []
        async with Client(build_server(engine)) as client:
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                assert result.is_error, (name, result.structured_content)
                said.append(result.content[0].text)
        return said

    return anyio.run(run)


def test_a_server_whose_collection_was_deleted_never_serves_the_one_given_its_name_since(
    two: tuple[Engine, Engine, Path, Path], tmp_path: Path
) -> None:
    """MCP checks its collection at start, then each listing opens it anew: it listed and searched a new collection
    given the name, and after a rename then a delete, advised creating the name it had last (it would have served
    that one, empty)."""
    first, second, _, _ = two
    served = engine_in("work", second.embedder)
    served.check_collection()
    assert len(served.documents()) == 2
    first.delete_collection("work")
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "zephyr.md").write_text("# Zephyr\n\nThe zephyr lease runs to June.\n")
    engine_in("work", second.embedder).ingest([archive])
    gone = "the collection this process opened as 'work' was deleted since; 'work' names another collection now"
    said = _over_mcp(served, ("list_documents", {}), ("search", {"query": "lease"}), ("status", {}),
                     ("search", {"query": "lease", "collection": "work"}))
    assert all(gone in text for text in said), said
    with pytest.raises(CollectionError, match=gone):
        served.served_collection()

    # Renamed (the engine follows), then deleted, then its first name given to a new collection.
    renamed = engine_in("work", second.embedder)
    renamed.check_collection()
    first.rename_collection("work", "job2")
    assert renamed.status().collection == "job2"
    first.delete_collection("job2")
    first.create_collection("work")
    said = _over_mcp(renamed, ("list_documents", {}))
    assert gone in said[0] and "job2" not in said[0], said


def test_a_refused_collection_field_names_the_collection_by_its_name_now(
    two: tuple[Engine, Engine, Path, Path]
) -> None:
    """Both servers named the collection by the name it was opened by, after a rename another collection's."""
    from localrag.serve.fields import unknown_field

    first, second, _, _ = two
    assert second.search("ferry", k=2)  # a server that has searched holds the store open
    listing = engine_in("work", second.embedder)
    listing.check_collection()  # one that has only listed opens it anew each time
    first.rename_collection("work", "job")
    first.create_collection("work")
    for engine in (second, listing):
        said = _over_mcp(engine, ("search", {"query": "ferry", "collection": "job"}))
        assert "this server serves collection 'job';" in said[0], said
        assert engine.served_collection() == "job"
        refused = unknown_field(["collection"], ["query"], "POST /search", engine.served_collection, "serve")
        assert refused is not None and "this server serves collection 'job';" in refused[1]


def test_an_ingest_that_makes_its_collection_says_so_naming_another_case_of_it(
    two: tuple[Engine, Engine, Path, Path]
) -> None:
    """`ingest --collection Wrok` (a typo) or `PRIVATE` beside `private` made a collection in silence."""
    first, second, a, _ = two
    typo = engine_in("Wrok", second.embedder).ingest([a])
    assert typo.created_collection and typo.notes[0] == "created collection 'Wrok'"
    again = engine_in("Wrok", second.embedder).ingest([a])
    assert not again.created_collection and not any("created" in note for note in again.notes)
    other_case = engine_in("WORK", second.embedder).ingest([a])
    assert other_case.created_collection
    assert other_case.notes[0] == "created collection 'WORK' beside 'work': names are case-sensitive"
    # Made alone (`collections create`, the chat app's New), it says the same.
    said = first.create_collection("Work")
    assert said == "created collection 'Work' beside 'WORK', 'work': names are case-sensitive"
    assert first.create_collection("recipes") == "created collection 'recipes'"


def test_bad_names_are_one_clear_error(localrag_home: Path, real_embedder: SentenceTransformerEmbedder) -> None:
    with pytest.raises(CollectionError, match="option: setting 'collection': '../x' is not a valid"):
        load_settings(collection="../x")
    engine = engine_in("default", real_embedder)
    with pytest.raises(CollectionError, match="not a valid collection name"):
        engine.create_collection("has space")


def test_reembedding_copies_every_collection_with_its_graph(
    two: tuple[Engine, Engine, Path, Path], tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    from localrag.reembed import reembed_index

    first, second, _, _ = two
    triples = tmp_path / "t.tsv"
    triples.write_text("Wrenfield ferry\tdeparts_from\tharbour\n")
    second.graph_import(triples)
    report = reembed_index(paths.db_dir(), real_embedder)
    assert report.documents == 3 and not report.cancelled
    after = engine_in("work", real_embedder)
    assert sorted(Path(d.path).name for d in after.documents()) == ["ferry.md", "kiln.md"]
    assert after.graph_stats().triples == 1
    assert len(engine_in("default", real_embedder).documents()) == 1


def test_a_store_from_before_collections_becomes_default(
    localrag_home: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import localrag.store as store_module

    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "ferry.md").write_text(TEXT)
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:2])
        Engine(load_settings(), embedder=real_embedder).ingest([folder])
    migrated = Store.open_existing(paths.db_dir())
    assert migrated.registry() == {"default": ""}
    assert migrated.schema_version() == len(store_module.MIGRATIONS)
    assert [Path(d.path).name for d in migrated.documents()] == ["ferry.md"]


def test_cli_collection_option_setting_and_commands(
    localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    import json

    from localrag.cli import run

    # Each command builds its own Engine: they share the session's loaded MiniLM instead of loading it again.
    monkeypatch.setattr("localrag.embed.load_embedder", lambda *_a, **_k: real_embedder)

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ferry.md").write_text(TEXT)
    assert run(["ingest", str(notes), "--collection", "work", "--json"]) == 0
    capsys.readouterr()
    assert run(["collections", "--json"]) == 0
    listed = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert listed["work"]["documents"] == 1 and listed["default"]["documents"] == 0
    assert listed["default"]["current"] and not listed["work"]["current"]
    assert run(["collections"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # A pipe gets one tab-separated line per row: no padding, no wrapping.
    assert lines[0] == "\tcollection\tdocuments\tchunks" and lines[1] == "*\tdefault\t0\t0"

    assert run(["search", "ferry harbour", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"] == []
    monkeypatch.setenv("LOCALRAG_COLLECTION", "work")  # set once for a script
    assert run(["search", "ferry harbour", "--json"]) == 0
    assert [Path(h["chunk"]["path"]).parent for h in json.loads(capsys.readouterr().out)["hits"]] == [notes]
    monkeypatch.delenv("LOCALRAG_COLLECTION")

    assert run(["status", "--collection", "nope"]) == 2
    assert "collection 'nope' does not exist" in capsys.readouterr().err
    assert run(["ingest", str(notes), "--collection", "bad name"]) == 2
    assert "not a valid collection name" in capsys.readouterr().err

    # --json after the action was refused (top-level usage), before it printed nothing a script could read.
    assert run(["collections", "rename", "work", "job", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"renamed": "work", "to": "job"}
    assert run(["collections", "--json", "create", "spare"]) == 0 and run(["collections", "delete", "spare",
                                                                            "--yes", "--json"]) == 0
    assert [json.loads(d) for d in capsys.readouterr().out.replace("}\n{", "}\0{").split("\0")] == [
        {"created": "spare"}, {"deleted": "spare"}]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert run(["collections", "delete", "job"]) == 2  # no terminal to confirm on
    assert "--yes" in capsys.readouterr().err
    assert run(["collections", "delete", "job", "--yes"]) == 0
    capsys.readouterr()
    assert run(["collections", "--json"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)] == ["default"]


def test_yes_is_taken_before_the_delete_as_conversations_take_it(localrag_home: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`collections --yes delete work2` was refused ("unrecognized arguments: --yes") where `conversations --yes delete
    ID` worked (before 2026-12-07)."""
    import json

    from localrag.cli import run

    assert run(["collections", "create", "work2"]) == 0
    assert run(["collections", "--yes", "--json", "delete", "work2"]) == 0
    assert json.loads(capsys.readouterr().out) == {"deleted": "work2"}
