"""`localrag repair` on a damaged chunks table whose other fragments read, and on each graph file kind.

Real LanceDB stores in a temp folder. Each ingest commit (and each graph import) adds a data fragment
until compaction merges them, so the stores here are written without compaction and one fragment is
cut to half its size: the file holding a known text.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import StoreError
from localrag.graph.store import GraphStore

DIM = 32


def _db(home: Path) -> Path:
    return home / "data" / "lancedb"


def _cut_file_holding(folder: Path, needle: bytes) -> None:
    """Cut to half its size the one data file of `folder` (a table's data/) that holds `needle`."""
    [data] = [f for f in folder.glob("*.lance") if needle in f.read_bytes()]
    with data.open("r+b") as handle:
        handle.truncate(data.stat().st_size // 2)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(3):
        (folder / f"note{i}.md").write_text(f"# Note {i}\n\nThe lighthouse keeper logged storm number {i}{i}{i}.\n")
    return folder


def _engine_with_fragments(notes: Path) -> Engine:
    """Three documents, each in its own commit and fragment (no compaction)."""
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    for note in sorted(notes.iterdir()):
        engine.ingest([note], refresh=False)
    return engine


def _searchable(engine: Engine, count: int = 3) -> None:
    assert engine.status().documents == count
    hits = engine.store.text_search("lighthouse keeper storm", 5)
    assert {h.path for h, _ in hits} == {d.path for d in engine.documents()}
    assert engine.repair(dry_run=True).damage == []


def test_a_cut_chunks_fragment_loses_only_its_documents(notes: Path, localrag_home: Path) -> None:
    engine = _engine_with_fragments(notes)
    _cut_file_holding(_db(localrag_home) / "chunks.lance" / "data", b"number 111")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    check = engine.repair(dry_run=True)
    assert check.damage == [
        "the chunks table is unreadable", "2 rows of chunks can be read back, 1 data fragments cannot"
    ]
    report = engine.repair()
    assert [Path(p).name for p in report.reingest] == ["note1.md"] and report.whole, report
    assert "2 documents kept whole, 1 read again" in report.fixed[0]
    _searchable(engine)


def test_cut_chunks_and_documents_rebuilds_both_from_what_reads(notes: Path, localrag_home: Path) -> None:
    engine = _engine_with_fragments(notes)
    _cut_file_holding(_db(localrag_home) / "chunks.lance" / "data", b"number 222")
    for data in (_db(localrag_home) / "documents.lance" / "data").glob("*.lance"):
        with data.open("r+b") as handle:
            handle.truncate(data.stat().st_size // 2)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    report = engine.repair()
    assert report.whole and sorted(Path(p).name for p in report.refresh) == ["note0.md", "note1.md"]
    assert "ingest your folders again" in report.fixed[0]
    _searchable(engine, count=2)  # note2's rows were all in the cut fragment: nothing names it any more
    engine.ingest([notes])
    _searchable(engine)


def test_a_lost_document_whose_file_is_gone_is_named(notes: Path, localrag_home: Path, tmp_path: Path) -> None:
    _engine_with_fragments(notes)
    _cut_file_holding(_db(localrag_home) / "chunks.lance" / "data", b"number 000")
    shutil.move(notes / "note0.md", tmp_path / "moved.md")
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    assert [Path(p).name for p in report.lost] == ["note0.md"] and not report.whole


# --- the graph ------------------------------------------------------------------------------------

def _graph(home: Path) -> GraphStore:
    return GraphStore(_db(home), HashEmbedder(dim=DIM))


def _triples(home: Path) -> list[tuple[str, str, str, str]]:
    rows = _graph(home).triple_rows().to_pylist()
    return sorted((r["head"], r["relation"], r["tail"], r["doc_id"]) for r in rows)


@pytest.fixture
def graph_home(
    notes: Path, localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Engine, Path, Path]:
    """An index, and a graph imported from two files in three writes (fragments): a.tsv twice, b.tsv once.

    Not compacted, as a build killed between its compactions leaves its tables."""
    monkeypatch.setattr(GraphStore, "compact", lambda _self: None)
    engine = _engine_with_fragments(notes)
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    a.write_text("Harbour Town\tnear\tGranite Hill\n")
    engine.graph_import(a)
    a.write_text("Harbour Town\tnear\tGranite Hill\nCopper Mine\tfeeds\tEmber Works\n")
    engine.graph_import(a)
    b.write_text("Falcon Ridge\tholds\tWalnut Grove\n")
    engine.graph_import(b)
    return engine, a, b


def test_a_cut_triples_fragment_is_imported_again_from_its_file(
    graph_home: tuple[Engine, Path, Path], localrag_home: Path
) -> None:
    engine, a, b = graph_home
    clean = _triples(localrag_home)
    _cut_file_holding(_db(localrag_home) / "triples.lance" / "data", b"copper mine")
    with pytest.raises(StoreError, match="the knowledge graph is damaged.*localrag repair"):
        Engine(Settings(), embedder=HashEmbedder(dim=DIM)).graph_stats()  # one line, not a traceback
    with pytest.raises(StoreError, match="the knowledge graph is damaged.*localrag repair"):
        Engine(Settings(), embedder=HashEmbedder(dim=DIM)).graph_import(a)  # an import reads the triples too
    check = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair(dry_run=True)
    assert check.damage == [
        "the triples table is unreadable: 2 rows of triples can be read back, 1 data fragments cannot"
    ]
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    assert sorted(report.reimport) == sorted([str(a.resolve()), str(b.resolve())]) and report.whole
    assert _triples(localrag_home) == clean
    assert any("graph index file graph_index.npz was built again" in line for line in report.fixed)
    assert Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair(dry_run=True).damage == []


def test_cut_entities_are_made_again_from_the_triples(
    graph_home: tuple[Engine, Path, Path], localrag_home: Path
) -> None:
    before = sorted(_graph(localrag_home).entity_rows()["entity_id"].to_pylist())
    for data in (_db(localrag_home) / "entities.lance" / "data").glob("*.lance"):
        with data.open("r+b") as handle:
            handle.truncate(data.stat().st_size // 2)
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    assert report.damage[0].startswith("the entities table is unreadable: ") and report.whole
    assert sorted(_graph(localrag_home).entity_rows()["entity_id"].to_pylist()) == before
    assert Engine(Settings(), embedder=HashEmbedder(dim=DIM)).graph_stats().entities == len(before)


def test_a_cut_build_record_fragment_is_rebuilt_from_what_reads(notes: Path, localrag_home: Path) -> None:
    Engine(Settings(), embedder=HashEmbedder(dim=DIM)).ingest([notes])
    graph = _graph(localrag_home)
    graph.mark_built([("c1", "d1", "h1", 0)])
    graph.mark_built([("c2", "d2", "h2", 0)])
    _cut_file_holding(_db(localrag_home) / "graph_built.lance" / "data", b"c2")
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    assert report.damage == ["the graph_built table is unreadable: 1 rows of graph_built can be read back, "
                             "1 data fragments cannot"]
    assert any("graph build" in line for line in report.fixed)
    assert list(_graph(localrag_home).built_chunks()) == ["c1"]


def test_a_cut_graph_index_file_is_built_again(graph_home: tuple[Engine, Path, Path], localrag_home: Path) -> None:
    index = _db(localrag_home) / "graph_index.npz"
    saved = index.read_bytes()
    index.write_bytes(saved[: len(saved) // 2])
    check = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair(dry_run=True)
    assert check.damage == ["the graph index file graph_index.npz is unreadable"] and not check.whole
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    assert report.fixed == ["the graph index file graph_index.npz was built again from the tables"] and report.whole
    assert index.read_bytes() == saved


@pytest.mark.parametrize("kind", ["triples", "entities", "graph_built"])
@pytest.mark.parametrize("every", [False, True], ids=["newest", "every"])
def test_a_damaged_graph_manifest_is_set_aside(graph_home: tuple[Engine, Path, Path], localrag_home: Path,
                                               kind: str, every: bool) -> None:
    """A graph table whose newest manifest (or every one) is cut: one line from the graph commands; the
    repair rolls it back (or sets its folder aside) and the graph reads again."""
    from localrag.table_rollback import manifest_version

    engine, _a, b = graph_home
    engine.graph_stats()  # makes graph_built if no command made it yet
    manifests = sorted(_db(localrag_home).glob(f"{kind}.lance/_versions/*.manifest"), key=manifest_version)
    for f in manifests if every else manifests[-1:]:
        with f.open("r+b") as handle:
            handle.truncate(f.stat().st_size // 2)
    with pytest.raises(StoreError, match="localrag repair"):
        Engine(Settings(), embedder=HashEmbedder(dim=DIM)).graph_stats()
    check = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair(dry_run=True)
    assert check.damage == [f"the {kind} table does not open: the manifest of its newest version is damaged"]
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    # graph_built, never written here, has one version: none older to go back to.
    rolled = "no version of" if every or len(manifests) == 1 else "was rolled back"
    assert any(rolled in line for line in report.fixed), report.fixed
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    engine.graph_import(b)  # the graph takes writes again
    assert engine.graph_stats().triples >= 1
    assert Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair(dry_run=True).damage == []
