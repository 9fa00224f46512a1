"""`forget --purge`: a forgotten document's text out of every file of the store (real LanceDB, its chunks,
text index and graph tables) and out of saved conversations, which keep their place and their other sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_graph_extract import ScriptedGenerator, reply

from localrag.answer.evidence import EXTRACT_MODEL
from localrag.config import Settings
from localrag.conversations import (
    Conversation,
    ConversationStore,
    SavedQuote,
    SavedSource,
    Turn,
    export_markdown,
)
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError
from localrag.forget import ERASED_ANSWER, PURGED_LABEL
from localrag.graph.extract import ExtractConfig

# A word no other text here holds, in the document and in the names of the triples drawn from it.
SECRET = "Quillfeather Vault holds the payroll ledger. The Quillfeather Vault is in Tamford."
OTHER = "The canteen is on the second floor. Lunch is served from noon."


@pytest.fixture
def engine() -> Engine:
    generator = ScriptedGenerator({"Quillfeather": reply(("Quillfeather Vault", "located in", "Tamford"))})
    return Engine(Settings(), embedder=HashEmbedder(dim=64), generator=generator)  # type: ignore[arg-type]


def _files_holding(folder: Path, word: str) -> list[Path]:
    needle = word.lower().encode("utf-8")
    return [path for path in folder.rglob("*") if path.is_file() and needle in path.read_bytes().lower()]


def _docs(tmp_path: Path, others: int = 0) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vault.txt").write_text(SECRET, encoding="utf-8")
    (docs / "canteen.txt").write_text(OTHER, encoding="utf-8")
    for i in range(others):
        (docs / f"minutes-{i}.txt").write_text(f"Minutes of meeting {i}. Item {i} was agreed.", encoding="utf-8")
    return docs


def test_a_purge_leaves_the_forgotten_text_in_no_file_of_the_store(engine: Engine, tmp_path: Path) -> None:
    # One row of 300 in a fragment: compaction alone would keep it in its data file (localrag/table_versions.py).
    # 300 rows also get the vector index, made again by the purge.
    docs = _docs(tmp_path, others=298)
    engine.settings.vector_index_min_rows = 256
    engine.ingest([docs])
    assert engine.store._vector_index() is not None
    assert engine.graph_build(config=ExtractConfig(method="single")).triples_added == 1
    store = engine.store.path
    assert _files_holding(store, "Quillfeather")  # the check sees the text where it is

    forgotten = engine.forget(docs / "vault.txt")
    assert (forgotten.documents, forgotten.chunks, forgotten.purged) == (1, 1, False)
    assert not engine.search("Quillfeather Vault payroll ledger")[0].chunk.path.endswith("vault.txt")
    assert _files_holding(store, "Quillfeather")  # a plain forget: old versions still hold it

    purged = engine.forget(docs / "vault.txt", purge=True)  # after a plain forget: nothing indexed, no error
    assert (purged.documents, purged.chunks, purged.purged) == (0, 0, True)
    assert _files_holding(store, "Quillfeather") == []
    # What was not forgotten still answers, by either leg, and the graph keeps working.
    hits = engine.search("canteen second floor lunch")
    assert hits and hits[0].chunk.path.endswith("canteen.txt") and hits[0].text_rank == 1
    assert engine.graph_stats().triples == 0
    assert engine.store._vector_index() is not None and engine.store._fts_index() is not None
    with pytest.raises(LocalRagError, match="not in the index"):
        engine.forget(docs / "vault.txt")


def test_a_purge_of_the_last_document_leaves_no_index_holding_it(engine: Engine, tmp_path: Path) -> None:
    docs = _docs(tmp_path)
    engine.ingest([docs / "vault.txt"])
    engine.forget(docs / "vault.txt", purge=True)
    assert _files_holding(engine.store.path, "Quillfeather") == []
    engine.ingest([docs / "canteen.txt"])  # the text index comes back with the next document
    assert engine.search("canteen lunch")[0].text_rank == 1


def _answer(path: Path, other: Path, *, extracted: bool) -> Turn:
    sentence = "Quillfeather Vault holds the payroll ledger."
    return Turn(
        role="assistant",
        text=f'"{sentence}" [1]' if extracted else "The ledger is in the vault [1].",
        model=EXTRACT_MODEL if extracted else "SmolLM2",
        sources=[SavedSource(1, "c1", "d1", str(path), SECRET, cited=True, line_start=1, line_end=1),
                 SavedSource(2, "c2", "d2", str(other), OTHER)],
        # A model's quote stays with its answer, which holds the same words: here none of the marked ones.
        quotes=[SavedQuote(sentence, 1, "verified", 0, len(sentence))] if extracted else [
            SavedQuote("the payroll ledger", 1, "verified")],
        evidence_text=sentence, evidence_source=1, evidence_start=0, evidence_end=len(sentence),
    )


def test_a_purge_erases_the_text_from_saved_conversations_and_keeps_their_place(
    engine: Engine, tmp_path: Path
) -> None:
    docs = _docs(tmp_path)
    vault, canteen = (docs / "vault.txt").resolve(), (docs / "canteen.txt").resolve()
    engine.ingest([docs])
    store = ConversationStore(tmp_path / "conversations")
    asked = [Conversation("20261201-000000-aaaaaa", "Where is the ledger?", updated=100.0),
             Conversation("20261201-000000-bbbbbb", "Which floor?", updated=200.0)]
    asked[0].turns = [Turn("user", "Where is the ledger?"), _answer(vault, canteen, extracted=True),
                      Turn("user", "And the ledger?"), _answer(vault, canteen, extracted=False)]
    asked[1].turns = [Turn("user", "Which floor?"), Turn("assistant", "The second.", sources=[
        SavedSource(1, "c2", "d2", str(canteen), OTHER)])]
    for conversation in asked:
        store.save(conversation, touch=False)
    untouched = (store.folder / "20261201-000000-bbbbbb.json").read_bytes()

    told = engine.forget(docs / "vault.txt", conversations=store)
    assert [(k.conversation_id, k.passages, k.answers) for k in told.conversations] == [
        ("20261201-000000-aaaaaa", 2, 1)]
    assert _files_holding(store.folder, "Quillfeather")  # named, not changed

    erased = engine.forget(docs / "vault.txt", purge=True, conversations=store)
    assert [k.conversation_id for k in erased.conversations] == ["20261201-000000-aaaaaa"]
    assert _files_holding(store.folder, "Quillfeather") == []
    assert (store.folder / "20261201-000000-bbbbbb.json").read_bytes() == untouched
    kept = store.load("20261201-000000-aaaaaa")
    assert kept.updated == 100.0 and [c.id for c in store.list()] == ["20261201-000000-bbbbbb",
                                                                     "20261201-000000-aaaaaa"]
    extract, generated = kept.turns[1], kept.turns[3]
    assert extract.text == ERASED_ANSWER and extract.quotes == [] and extract.evidence_text == ""
    # The model's own answer stays, with its quotes; the places of the sources stay, their text does not.
    assert generated.text == "The ledger is in the vault [1]." and generated.quotes
    for turn in (extract, generated):
        first, second = turn.sources
        assert first.purged and first.text == "" and first.location == "vault.txt:1-1"
        assert not second.purged and second.text == OTHER
    assert f"vault.txt:1-1) — cited, quote verified ({PURGED_LABEL})" in export_markdown(kept)


def test_a_purge_cut_short_leaves_a_working_index_and_the_next_one_makes_its_indexes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _docs(tmp_path, others=20)
    engine.ingest([docs])
    kinds = sorted(str(i.index_type) for i in engine.store.chunks_table.list_indices())

    def overwrite_then_killed(db: Any, table: Any, remake: Any = None) -> Any:
        # The kill: the overwrite has committed (one commit, so the table is whole), its indexes are not made.
        db.create_table(table.name, table.search().limit(None).to_batches(64), schema=table.schema, mode="overwrite")
        raise KeyboardInterrupt

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr("localrag.store_indexes.rewrite_table", overwrite_then_killed)
        engine.forget(docs / "vault.txt", purge=True)
    reopened = Engine(Settings(), embedder=HashEmbedder(dim=64))
    assert "FTS" not in {str(i.index_type) for i in reopened.store.chunks_table.list_indices()}
    hits = reopened.search("canteen second floor lunch")  # still answers, without its indexes
    assert hits[0].chunk.path.endswith("canteen.txt") and reopened.repair(dry_run=True).damage == []
    assert reopened.forget(docs / "vault.txt", purge=True).purged  # run again, as the note says
    assert sorted(str(i.index_type) for i in reopened.store.chunks_table.list_indices()) == kinds
    assert _files_holding(reopened.store.path, "Quillfeather") == []


def test_several_paths_are_checked_first_then_forgotten_and_purged_at_once(engine: Engine, tmp_path: Path) -> None:
    docs = _docs(tmp_path, others=3)
    engine.ingest([docs])
    with pytest.raises(LocalRagError, match="not in the index"):
        engine.forget(docs / "vault.txt", docs / "no-such.txt")
    assert len(engine.documents()) == 5  # a path naming nothing: nothing removed
    done = engine.forget(docs / "vault.txt", docs / "minutes-0.txt", docs / "vault.txt", purge=True)
    assert (done.documents, done.chunks) == (2, 2) and len(done.paths) == 3
    assert sorted(Path(d.path).name for d in engine.documents()) == ["canteen.txt", "minutes-1.txt", "minutes-2.txt"]
    assert _files_holding(engine.store.path, "Quillfeather") == []
    with pytest.raises(LocalRagError, match="nothing to forget"):
        engine.forget()
