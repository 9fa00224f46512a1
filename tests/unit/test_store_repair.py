"""`localrag repair`: damage each kind of store file (cut or silently flipped), then check the report and recovery."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from localrag.cli import run
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import StoreError
from localrag.ingest.pipeline import embedding_text
from localrag.store import Store
from localrag.store_schema import CHUNKS, META

DIM = 32


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for i in range(3):
        (folder / f"note{i}.md").write_text(f"# Note {i}\n\nThe lighthouse keeper logged storm number {i}{i}{i}.\n")
    return folder


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """A small ingested store, made once and copied for each damage."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALRAG_HOME", str(home))
        Engine(Settings(), embedder=HashEmbedder(dim=DIM)).ingest([corpus])
    return home


def _fresh(clean: Path, home: Path) -> Engine:
    shutil.rmtree(home)
    shutil.copytree(clean, home)
    return Engine(Settings(), embedder=HashEmbedder(dim=DIM))


def _db(home: Path) -> Path:
    return home / "data" / "lancedb"


def _cut(home: Path, pattern: str) -> None:
    files = sorted(_db(home).glob(pattern))
    assert files, pattern
    for f in files:
        with f.open("r+b") as handle:
            handle.truncate(f.stat().st_size // 2)


def _flip(home: Path, needle: bytes) -> None:
    """Change one byte inside every copy of `needle` in the chunks data: damage a read cannot notice."""
    [data] = _db(home).glob("chunks.lance/data/*.lance")
    raw = bytearray(data.read_bytes())
    at = raw.find(needle)
    assert at >= 0
    while at >= 0:
        raw[at + len(needle) // 2] ^= 0x10
        at = raw.find(needle, at + 1)
    data.write_bytes(bytes(raw))


def _searchable(engine: Engine) -> None:
    assert engine.status().documents == 3
    hits = engine.store.text_search("lighthouse keeper storm", 5)
    assert {h.path for h, _ in hits} == {d.path for d in engine.documents()}
    assert engine.repair(dry_run=True).damage == []


def test_clean_store_has_no_damage(clean_store: Path, localrag_home: Path) -> None:
    report = _fresh(clean_store, localrag_home).repair(dry_run=True)
    assert report.rows_checked == 3 and report.damage == [] and report.whole


def test_flipped_vector_is_found_and_embedded_again(clean_store: Path, localrag_home: Path) -> None:
    engine = _fresh(clean_store, localrag_home)
    chunk = engine.store.doc_chunks(engine.documents()[1].doc_id)[0]
    _, vectors = engine.store.vectors()
    _flip(localrag_home, np.asarray(vectors[1], dtype=np.float32).tobytes())
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    check = engine.repair(dry_run=True)
    assert check.damage == ["1 chunk vectors do not match their checksums"] and not check.whole

    report = engine.repair()
    assert report.fixed == ["1 vectors were embedded again from their chunks' text"] and report.whole
    ids, repaired = engine.store.vectors()
    expected = HashEmbedder(dim=DIM).embed([embedding_text(chunk, engine.documents()[1].title)])[0]
    assert np.allclose(repaired[ids.index(chunk.chunk_id)], expected)
    _searchable(engine)


def test_flipped_text_removes_the_document_and_reads_the_file_again(clean_store: Path, localrag_home: Path) -> None:
    engine = _fresh(clean_store, localrag_home)
    _flip(localrag_home, b"number 111")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    assert engine.repair(dry_run=True).damage == ["the text of 1 documents does not match its checksums"]
    report = engine.repair()
    assert [Path(p).name for p in report.reingest] == ["note1.md"] and report.lost == [] and report.whole
    assert "number 111" in engine.store.doc_chunks(engine.documents()[1].doc_id)[0].text
    _searchable(engine)


def test_flipped_text_of_a_deleted_file_is_named_as_lost(clean_store: Path, localrag_home: Path,
                                                          corpus: Path, tmp_path: Path) -> None:
    _fresh(clean_store, localrag_home)
    _flip(localrag_home, b"number 222")
    moved = tmp_path / "note2.md"
    shutil.move(corpus / "note2.md", moved)
    try:
        report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    finally:
        shutil.move(moved, corpus / "note2.md")
    assert [Path(p).name for p in report.lost] == ["note2.md"] and not report.whole


@pytest.mark.parametrize(("pattern", "table"), [
    ("documents.lance/data/*.lance", "documents"),
    ("chunks.lance/data/*.lance", "chunks"),
    ("meta.lance/data/*.lance", "meta"),
])
@pytest.mark.parametrize("zeros", [False, True], ids=["cut", "zeros"])
def test_cut_table_is_rebuilt(clean_store: Path, localrag_home: Path, pattern: str, table: str, zeros: bool) -> None:
    engine = _fresh(clean_store, localrag_home)
    if zeros:  # the file's bytes overwritten, its size kept: its magic bytes are gone
        _zero_files(sorted(_db(localrag_home).glob(pattern)))
        with pytest.raises(StoreError, match=f"the {table} table cannot be read.*localrag repair"):
            engine.search("storm")
    else:
        _cut(localrag_home, pattern)
    check = engine.repair(dry_run=True)
    # A cut chunks table also says how many of its rows read (here, compacted into one fragment: none).
    salvage = ["0 rows of chunks can be read back, 1 data fragments cannot"] if table == "chunks" else []
    assert check.damage == [f"the {table} table is unreadable", *salvage]
    report = engine.repair()
    assert report.whole, report
    _searchable(engine)
    if table != "meta":  # the documents read again have their titles back
        assert {d.title for d in engine.documents()} == {"Note 0", "Note 1", "Note 2"}


def test_missing_table_after_a_killed_rebuild(clean_store: Path, localrag_home: Path) -> None:
    """A repair killed between dropping a table and writing it again leaves it missing: both the store
    and the next repair say so, and the repair finishes the job."""
    engine = _fresh(clean_store, localrag_home)
    shutil.rmtree(_db(localrag_home) / f"{CHUNKS}.lance")
    with pytest.raises(StoreError, match="the chunks table is missing.*localrag repair"):
        engine.status()
    assert engine.repair(dry_run=True).damage == ["the chunks table is missing"]
    assert engine.repair().whole
    _searchable(engine)


@pytest.mark.parametrize("pattern", [
    "chunks.lance/_indices/*/part_0_invert.lance",
    "chunks.lance/_indices/*/page_data.lance",
    "documents.lance/_indices/*/page_data.lance",
])
def test_cut_index_is_built_again(clean_store: Path, localrag_home: Path, pattern: str) -> None:
    engine = _fresh(clean_store, localrag_home)
    _cut(localrag_home, pattern)
    check = engine.repair(dry_run=True)
    assert check.damage and all(line.endswith("index on " + line.split(" on ")[1]) for line in check.damage)
    report = engine.repair()
    assert len(report.fixed) == len(check.damage) and report.whole
    _searchable(engine)


def test_store_written_before_checksums_gets_them(clean_store: Path, localrag_home: Path) -> None:
    engine = _fresh(clean_store, localrag_home)
    engine.store.chunks_table.drop_columns(["text_sum", "vector_sum"])
    engine.store._meta.delete("key = 'migration:0004_row_sums'")
    store = Store(_db(localrag_home), embedder_name=HashEmbedder.name, dim=DIM)
    assert store.damaged_rows() == (3, [])
    assert META in store._db.list_tables().tables


def test_repair_command_check_then_repair(clean_store: Path, localrag_home: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _fresh(clean_store, localrag_home)
    _cut(localrag_home, "chunks.lance/_indices/*/part_0_invert.lance")
    with pytest.MonkeyPatch.context() as patch:  # the CLI builds its own Engine: it must get the test embedder
        patch.setattr("localrag.engine.Engine.embedder", property(lambda self: HashEmbedder(dim=DIM)))
        assert run(["repair", "--check", "--json"]) == 1
        checked = json.loads(capsys.readouterr().out)
        assert checked["damage"] == ["the FTS index on chunks.fts_text is unreadable"] and not checked["whole"]
        assert run(["repair"]) == 0
        out = capsys.readouterr().out
        assert "fixed: the FTS index on chunks.fts_text was built again from the table" in out
        assert run(["repair", "--check"]) == 0
        assert "no damage found" in capsys.readouterr().out


def test_cut_vector_index_is_built_again(tmp_path: Path) -> None:
    from localrag.store_repair import repair_store
    from localrag.types import Chunk, Document

    embedder = HashEmbedder(dim=DIM)
    store = Store(tmp_path / "db", embedder_name=embedder.name, dim=DIM)
    docs = [Document(doc_id=f"d{i}", path=f"/notes/{i}.md", file_type="markdown", content_hash=str(i), size=1,
                     mtime=0.0, title="", n_chunks=1) for i in range(300)]
    chunks = [Chunk(chunk_id=f"d{i}:00000", doc_id=f"d{i}", path=f"/notes/{i}.md", index=0, text=f"storm {i} word{i}",
                    start=0, end=10) for i in range(300)]
    store.write_batch(docs, chunks, embedder.embed([c.text for c in chunks]))
    store.refresh_indexes(vector_index_min_rows=0)
    index = store._vector_index()
    assert index is not None
    for f in (tmp_path / "db" / "chunks.lance" / "_indices" / str(index.index_uuid)).iterdir():
        with f.open("r+b") as handle:
            handle.truncate(f.stat().st_size // 2)
    check = repair_store(tmp_path / "db", embedder, dry_run=True)
    assert check.damage == ["the IVFHNSWSQ index on chunks.vector is unreadable"], check.damage
    # A search that trips on it builds it again (store_damage.guarded): the repair then finds nothing.
    reopened = Store(tmp_path / "db", embedder_name=embedder.name, dim=DIM)
    # Top 5, not top 1: the index quantizes, and hash vectors of near-identical texts nearly tie.
    assert "d7:00000" in [c.chunk_id for c, _ in reopened.vector_search(embedder.embed(["storm 7 word7"])[0], 5)]
    assert repair_store(tmp_path / "db", embedder, dry_run=True).damage == []


@pytest.mark.parametrize("pattern", [
    "chunks.lance/_indices/*/page_data.lance",
    "documents.lance/_indices/*/page_data.lance",
])
def test_a_damaged_key_index_is_rebuilt_on_use(clean_store: Path, localrag_home: Path, pattern: str) -> None:
    """Tables whole, an index cut: the command that trips on it rebuilds it and goes on, no repair needed."""
    engine = _fresh(clean_store, localrag_home)
    _cut(localrag_home, pattern)
    doc = engine.documents()[0]
    assert engine.store.doc_chunks(doc.doc_id) and engine.forget(doc.path).chunks == 1
    assert engine.repair(dry_run=True).damage == []


def test_rebuilt_documents_keep_a_file_gone_from_disk(clean_store: Path, localrag_home: Path, corpus: Path,
                                                       tmp_path: Path) -> None:
    """Its chunks were never damaged: it stays searchable, with only its title gone, and is not called lost."""
    engine = _fresh(clean_store, localrag_home)
    _cut(localrag_home, "documents.lance/data/*.lance")
    moved = tmp_path / "note2.md"
    shutil.move(corpus / "note2.md", moved)
    try:
        report = engine.repair()
    finally:
        shutil.move(moved, corpus / "note2.md")
    assert report.whole and report.lost == [] and len(report.refresh) == 2
    assert report.not_on_disk == [str(corpus / "note2.md")]
    assert f"`localrag forget {corpus / 'note2.md'}` takes it out, and an ingest of its new place" \
           in report.not_on_disk_note
    assert {d.title for d in engine.documents()} == {"Note 0", "Note 1", ""}
    _searchable(engine)


def test_a_restore_whose_documents_moved_names_them_not_on_disk(clean_store: Path, localrag_home: Path, corpus: Path,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A half copy restored where the documents moved: `repair` said "details read again" of each file it could not
    find, and `ingest --stale` then read nothing and said nothing, all still stale. Now both name them and the forget
    that takes their old folder out."""
    _fresh(clean_store, localrag_home)
    _cut(localrag_home, "documents.lance/data/*.lance")
    moved = tmp_path / "mnt" / "docs"
    moved.parent.mkdir()
    shutil.move(corpus, moved)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("localrag.engine.Engine.embedder", property(lambda self: HashEmbedder(dim=DIM)))
            assert run(["repair"]) == 0
        out = capsys.readouterr().out
        assert "details read again" not in out
        assert out.count("kept, not on disk: ") == 3
        assert (f"3 documents kept from their chunks are not on disk (moved, or on a drive not mounted): "
                f"{corpus / 'note0.md'}, ") in out and f"`localrag forget {corpus}` takes them out" in out
        stale = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).ingest([], stale=True)
    finally:
        shutil.move(moved, corpus)
    assert stale.added == stale.updated == 0
    assert [note for note in stale.notes if "not on disk" in note] == [
        f"3 stale documents are not on disk (moved, or on a drive not mounted): {corpus / 'note0.md'}, "
        f"{corpus / 'note1.md'}, {corpus / 'note2.md'}; `localrag forget {corpus}` takes them out, and an ingest of "
        "their new place reads them there"
    ]


def test_collections_come_back_after_the_meta_table_is_made_again(tmp_path: Path) -> None:
    """The registry lives in `meta`: rebuilt, it names the surviving collections recovered-ID, never drops them."""
    from localrag.store_repair import repair_store

    embedder = HashEmbedder(dim=DIM)
    store = Store(tmp_path / "db", embedder_name=embedder.name, dim=DIM)
    ident = store.create_collection("work")
    store._db.drop_table(META)
    report = repair_store(tmp_path / "db", embedder)
    assert report.recovered == [f"recovered-{ident}"]
    assert f"a collection came back as 'recovered-{ident}' (0 documents): name it again with `localrag collections " \
           f"rename recovered-{ident} NAME`" in report.fixed
    reopened = Store(tmp_path / "db", embedder_name=embedder.name, dim=DIM)
    assert reopened.registry() == {"default": "", f"recovered-{ident}": ident}
    reopened.create_collection("more")  # a create drops unregistered tables: the recovered ones must stay
    assert Store(tmp_path / "db", embedder_name=embedder.name, dim=DIM, collection=f"recovered-{ident}")


def _manifests(home: Path, table: str) -> list[Path]:
    """The table's manifest files, newest first."""
    from localrag.table_rollback import manifest_version

    return sorted(_db(home).glob(f"{table}.lance/_versions/*.manifest"), key=manifest_version, reverse=True)


def _cut_files(files: list[Path]) -> None:
    for f in files:
        with f.open("r+b") as handle:
            handle.truncate(f.stat().st_size // 2)


def _zero_files(files: list[Path]) -> None:
    for f in files:
        f.write_bytes(bytes(f.stat().st_size))


@pytest.mark.parametrize("table", ["meta", "documents", "chunks"])
@pytest.mark.parametrize("zeros", [False, True], ids=["cut", "zeros"])
def test_damaged_newest_manifest_is_set_aside(clean_store: Path, localrag_home: Path, table: str, zeros: bool,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The table does not open, or (a manifest of zeros) opens without a column; its previous version opens:
    every command says so in one line, and the repair rolls the table back one version, keeping the damaged
    manifest in the quarantine folder."""
    engine = _fresh(clean_store, localrag_home)
    newest = _manifests(localrag_home, table)[0]
    (_zero_files if zeros else _cut_files)([newest])
    with pytest.raises(StoreError, match=f"the {table} table cannot be read.*localrag repair"):
        engine.status()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("localrag.engine.Engine.embedder", property(lambda self: HashEmbedder(dim=DIM)))
        assert run(["status"]) == 2
        err = capsys.readouterr().err
        assert "localrag repair" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    check = engine.repair(dry_run=True)
    assert check.damage == [f"the {table} table does not open: the manifest of its newest version is damaged"]
    report = engine.repair()
    assert report.fixed[0].startswith(f"the {table} table was rolled back from version"), report.fixed
    assert report.whole and report.reingest == []
    assert [p.name for p in (localrag_home / "data" / "quarantine").glob(f"*/{table}.lance/_versions/*")] == [
        newest.name
    ]
    _searchable(engine)


@pytest.mark.parametrize("table", ["documents", "chunks"])
def test_rollback_makes_documents_and_chunks_agree(clean_store: Path, localrag_home: Path, tmp_path: Path,
                                                   table: str) -> None:
    """Every manifest since a fourth note was ingested is damaged: the rolled-back table lacks its rows,
    which the other table holds; the repair reads the note again and all four are searchable."""
    engine = _fresh(clean_store, localrag_home)
    before = getattr(engine.store, f"{table}_table").version
    more = tmp_path / "more"  # not tmp_path itself: the store's home may be inside it
    more.mkdir()
    (more / "note3.md").write_text("# Note 3\n\nThe ferry captain logged fog number 333.\n")
    engine.ingest([more])
    _cut_files(_manifests(localrag_home, table)[: getattr(engine.store, f"{table}_table").version - before])
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    report = engine.repair()
    assert report.whole, report
    # The chunks rolled back: note3's document row is dropped and its file read again. The documents
    # rolled back: its row is made from its chunks, and the file read again for its title.
    assert [Path(p).name for p in (report.reingest if table == "chunks" else report.refresh)] == ["note3.md"]
    assert {d.title for d in engine.documents()} == {"Note 0", "Note 1", "Note 2", "Note 3"}
    [(hit, _score)] = engine.store.text_search("ferry captain fog", 1)
    assert Path(hit.path).name == "note3.md"
    assert engine.repair(dry_run=True).damage == []


@pytest.mark.parametrize("table", ["meta", "documents", "chunks"])
def test_no_version_opens_sets_the_table_aside(clean_store: Path, localrag_home: Path, table: str) -> None:
    """Every manifest is damaged: the whole table folder goes to quarantine and the table is rebuilt."""
    engine = _fresh(clean_store, localrag_home)
    _cut_files(_manifests(localrag_home, table))
    report = engine.repair()
    assert report.fixed[0].startswith(f"no version of the {table} table opens"), report.fixed
    assert report.whole, report
    assert list((localrag_home / "data" / "quarantine").glob(f"*/{table}.lance/data"))
    _searchable(engine)


@pytest.mark.parametrize("table", ["documents", "chunks"])
def test_every_manifest_lost_is_damage_in_one_line_and_repaired(clean_store: Path, localrag_home: Path,
                                                                   table: str) -> None:
    """The manifests deleted, not cut: LanceDB's "Table ... was not found" for a table whose folder is there was a
    traceback in every command, `repair` included."""
    _fresh(clean_store, localrag_home)
    for manifest in _manifests(localrag_home, table):
        manifest.unlink()
    with pytest.raises(StoreError, match="the store is damaged"):
        Engine(Settings(), embedder=HashEmbedder(dim=DIM)).store.documents()
    report = Engine(Settings(), embedder=HashEmbedder(dim=DIM)).repair()
    assert report.fixed[0].startswith(f"no version of the {table} table opens"), report.fixed
    _searchable(Engine(Settings(), embedder=HashEmbedder(dim=DIM)))


@pytest.mark.parametrize("lost", ["manifests", "folder"])
def test_a_lost_meta_table_is_damage_until_repair_makes_it_again(clean_store: Path, localrag_home: Path, corpus: Path,
                                                                 lost: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An rsync cut off inside meta.lance: `collections` ended in a traceback; `status` made an empty meta table again
    in silence, after which `work` was listed as recovered-ID, `search --collection work` offered to create it
    beside its data, and `repair --check` found no damage. Now every command says so in one line, nothing is made
    until `repair`, which names the collection that came back and the command that names it again."""
    engine = _fresh(clean_store, localrag_home)
    work = Engine(Settings(collection="work"), embedder=HashEmbedder(dim=DIM))
    work.create_collection("work")
    work.ingest([corpus / "note1.md"])
    meta = _db(localrag_home) / f"{META}.lance"
    shutil.rmtree(meta / "_versions" if lost == "manifests" else meta)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("localrag.engine.Engine.embedder", property(lambda self: HashEmbedder(dim=DIM)))
        for command in (["collections"], ["status"], ["search", "--collection", "work", "storm"]):
            assert run(command) == 2, command
            err = capsys.readouterr().err
            assert "the meta table" in err and "localrag repair" in err and "Traceback" not in err, err
            assert len(err.strip().splitlines()) == 1, err
    assert not (meta / "_versions").exists()  # no read made it again
    assert engine.repair(dry_run=True).damage
    report = engine.repair()
    assert report.whole, report
    [name] = report.recovered
    assert f"a collection came back as '{name}' (1 document, e.g. {corpus / 'note1.md'}): name it again with " \
           f"`localrag collections rename {name} NAME`" in report.fixed
    engine.rename_collection(name, "work")
    assert [(c.name, c.documents) for c in engine.collections()] == [("default", 3), ("work", 1)]
    _searchable(engine)


@pytest.mark.parametrize("table", ["documents", "chunks"])
def test_cut_deletion_file(clean_store: Path, localrag_home: Path, table: str) -> None:
    """A `forget` writes a deletion file; cut, the table does not read: one line, and the repair keeps
    the file forgotten and reads the others again."""
    engine = _fresh(clean_store, localrag_home)
    forgotten = engine.documents()[1].path
    assert engine.forget(forgotten).chunks == 1
    _cut(localrag_home, f"{table}.lance/_deletions/*")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    with pytest.raises(StoreError, match=f"the {table} table cannot be read.*localrag repair"):
        engine.store.text_search("lighthouse keeper storm", 5)
    assert f"the {table} table is unreadable" in engine.repair(dry_run=True).damage
    assert engine.repair().whole
    assert forgotten not in {d.path for d in engine.documents()} and engine.status().documents == 2
    hits = engine.store.text_search("lighthouse keeper storm", 5)
    assert {h.path for h, _ in hits} == {d.path for d in engine.documents()}
    assert engine.repair(dry_run=True).damage == []


def test_a_copy_taken_while_an_ingest_wrote_lacks_chunks_and_is_mended(clean_store: Path, localrag_home: Path,
                                                                        tmp_path: Path) -> None:
    """A backup that copied the chunks folder before the ingest's commit and the documents folder after it: the
    note's row said 1 chunk, the table held none, `repair` found nothing and every ingest called it unchanged."""
    engine = _fresh(clean_store, localrag_home)
    early = tmp_path / "early-chunks"
    shutil.copytree(_db(localrag_home) / f"{CHUNKS}.lance", early)
    more = tmp_path / "more"
    more.mkdir()
    (more / "note3.md").write_text("# Note 3\n\nThe ferry captain logged fog number 333.\n")
    engine.ingest([more])
    shutil.rmtree(_db(localrag_home) / f"{CHUNKS}.lance")
    shutil.copytree(early, _db(localrag_home) / f"{CHUNKS}.lance")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    assert engine.ingest([more]).unchanged == 1  # its hash is stored: nothing but a repair reads it again
    check = engine.repair(dry_run=True)
    assert check.damage == ["1 documents lack some or all of their chunks (a rollback, or a copy of the index taken "
                            "while it was written)"] and not check.whole
    report = engine.repair()
    assert [Path(p).name for p in report.reingest] == ["note3.md"] and report.whole
    [(hit, _score)] = engine.store.text_search("ferry captain fog", 1)
    assert Path(hit.path).name == "note3.md"
    assert engine.repair(dry_run=True).damage == []


def test_mails_kept_from_their_chunks_are_read_again_through_their_mailbox(localrag_home: Path,
                                                                           tmp_path: Path) -> None:
    """A mail's document is `inbox.mbox/ID`, an attachment's `mail.eml/report.pdf`: no file of that name is on disk
    while the mailbox is. repair said "kept, not on disk" of every mail with the mailbox there, and named a forget
    that took them out."""
    import mailbox
    from email.message import EmailMessage

    docs = tmp_path / "docs"
    docs.mkdir()
    box = mailbox.mbox(str(docs / "inbox.mbox"))
    for n in range(2):
        message = EmailMessage()
        message["Subject"], message["From"], message["Message-ID"] = f"Vault {n}", "a@b.example", f"<m{n}@b.example>"
        message.set_content(f"The vault code changed on day {n}.")
        box.add(message)
    box.close()
    sent = EmailMessage()
    sent["Subject"], sent["From"], sent["Message-ID"] = "Report", "a@b.example", "<r@b.example>"
    sent.set_content("The report is attached.")
    sent.add_attachment(b"# Report\n\nThe lighthouse budget grew by a third.\n", maintype="text",
                        subtype="markdown", filename="report.md")
    (docs / "mail.eml").write_bytes(bytes(sent))
    engine = Engine(Settings(), embedder=HashEmbedder(dim=DIM))
    engine.ingest([docs])
    held = sorted(d.path for d in engine.documents())
    assert len(held) == 4 and f"{docs / 'mail.eml'}/report.md" in held, held
    _cut(localrag_home, "documents.lance/data/*.lance")
    report = engine.repair()
    assert report.whole and report.lost == [] and report.not_on_disk == [] and report.not_on_disk_note == ""
    assert sorted(report.refresh) == held
    assert all(d.title for d in engine.documents()), engine.documents()  # read again: their details are back
