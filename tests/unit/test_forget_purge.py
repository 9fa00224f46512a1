"""`forget --purge`: a forgotten document's text out of every file of the store (real LanceDB, its chunks,
text index and graph tables) and out of saved conversations, which keep their place and their other sources."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest
from test_graph_extract import ScriptedGenerator, reply

from localrag.answer.evidence import EXTRACT_MODEL
from localrag.cli.forget import report_lines
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
    engine.settings = engine.settings.replace(vector_index_min_rows=256)
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
        sources=[SavedSource(1, "c1", "d1", str(path), SECRET, heading="Quillfeather Vault", cited=True,
                             line_start=1, line_end=1),
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
    assert f"vault\\.txt\\:1-1) — cited, quote verified ({PURGED_LABEL})" in export_markdown(kept)


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


def test_an_empty_path_from_a_client_is_refused_not_taken_for_the_current_folder(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MCP client's `""` was Path("."): the server's current folder forgotten, or read."""
    docs = _docs(tmp_path)
    engine.ingest([docs])
    monkeypatch.chdir(docs)
    for call in (lambda: engine.forget(""), lambda: engine.forget(" ", purge=True), lambda: engine.ingest([""])):
        with pytest.raises(LocalRagError, match=r"an empty path \(an unset shell variable\?\)"):
            call()
    assert len(engine.documents()) == 2


def test_a_purge_takes_a_graph_answer_through_the_forgotten_triples_out_of_saved_conversations(
    tmp_path: Path
) -> None:
    from localrag.forget import ERASED_GRAPH_ANSWER
    from localrag.graph.turns import turn_from_graph, turn_from_related

    generator = ScriptedGenerator({
        "Quillfeather": reply(("Quillfeather Vault", "located in", "Tamford")),
        "Canteen is": reply(("Canteen", "located in", "Tamford")),
    })
    engine = Engine(Settings(), embedder=HashEmbedder(dim=64), generator=generator)  # type: ignore[arg-type]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vault.txt").write_text(SECRET, encoding="utf-8")
    (docs / "canteen.txt").write_text("The Canteen is in Tamford, on the second floor.", encoding="utf-8")
    engine.ingest([docs])
    assert engine.graph_build(config=ExtractConfig(method="single")).triples_added == 2
    store = ConversationStore(tmp_path / "conversations")
    conversation = store.new()
    for question in ("Where is the Quillfeather Vault located?", "Where is the Canteen located?"):
        answer = engine.ask_graph(question)
        assert answer.answer == "Tamford"
        conversation.add_question(question)
        conversation.turns.append(
            turn_from_graph(answer, engine.graph_index().names, engine.path_chunks(answer), question))
    related = engine.related(["Canteen"])
    assert [r.name for r in related.related] == ["Quillfeather Vault"]
    conversation.add_question("What else is like the Canteen?")
    conversation.turns.append(turn_from_related(related, engine.related_view(related), "like the Canteen"))
    store.save(conversation)

    def answers_hold(word: str) -> bool:  # the questions are the user's words: only the answers are erased
        turns = [replace(t, query="") for t in store.load(conversation.id).turns if t.role == "assistant"]
        return word in json.dumps([asdict(t) for t in turns]).lower()

    assert answers_hold("quillfeather")
    erased = engine.forget(docs / "vault.txt", purge=True, conversations=store)
    assert [(k.passages, k.answers) for k in erased.conversations] == [(2, 2)]
    assert not answers_hold("quillfeather")
    vault, canteen, like = (store.load(conversation.id).turns[i] for i in (1, 3, 5))
    # Every path of the first answer ran through the vault's triple: the answer goes, its passage's place stays.
    assert vault.text == ERASED_GRAPH_ANSWER and vault.graph_paths == [] and vault.sources[0].purged
    # The second answer's path did not: it is as it was.
    assert "Canteen -> located_in -> Tamford" in canteen.text.replace("\\", "") and canteen.graph_paths
    assert like.text == ERASED_GRAPH_ANSWER


def test_a_graph_answer_with_a_path_left_is_written_again_from_it(tmp_path: Path) -> None:
    from localrag.conversations import SavedPath, SavedStep
    from localrag.forget import erase_from

    def path(source: str, via: str) -> SavedPath:
        return SavedPath([SavedStep("ada", "works_at", via, source, "Ada", via.title()),
                          SavedStep(via, "located_in", "tamford", source, via.title(), "Tamford")], "embedding", True)

    turn = Turn("assistant", "**Tamford** via Quillfeather and Mill", model="graph · paths", query="Ada?",
                sources=[SavedSource(1, "c1", "d1", str(tmp_path / "vault.txt"), SECRET),
                         SavedSource(2, "c2", "d2", str(tmp_path / "mill.txt"), "Ada works at the Mill in Tamford.")],
                graph_paths=[path("c1", "quillfeather"), path("c2", "mill")])
    conversation = Conversation("20261201-000000-cccccc", "Ada", turns=[Turn("user", "Where does Ada work?"), turn])
    assert erase_from(conversation, [tmp_path / "vault.txt"])
    assert [p.steps[0].tail for p in turn.graph_paths] == ["mill"]
    assert turn.text.startswith("**Tamford**") and "Mill" in turn.text and "Quillfeather" not in turn.text


def test_a_purge_spares_conversations_the_text_of_a_document_another_collection_still_indexes(
    engine: Engine, tmp_path: Path
) -> None:
    # Conversations are not per collection: purging a file from a scratch collection erased the answers asked of
    # another collection that still indexes it, and the note said the document was forgotten.
    docs = _docs(tmp_path)
    vault, canteen = (docs / "vault.txt").resolve(), (docs / "canteen.txt").resolve()
    engine.ingest([docs])
    engine.create_collection("scratch")
    scratch = Engine(Settings(collection="scratch"), embedder=HashEmbedder(dim=64))
    scratch.ingest([docs])
    store = ConversationStore(tmp_path / "conversations")
    asked = Conversation("20261201-000000-aaaaaa", "Where is the ledger?", updated=100.0)
    asked.turns = [Turn("user", "Where is the ledger?"), _answer(vault, canteen, extracted=True)]
    store.save(asked, touch=False)
    kept = (store.folder / "20261201-000000-aaaaaa.json").read_bytes()

    done = scratch.forget(docs, purge=True, conversations=store)
    assert (done.documents, done.conversations, done.spared) == (2, [], [str(canteen), str(vault)])
    assert (store.folder / "20261201-000000-aaaaaa.json").read_bytes() == kept
    # The collection is named, with the command that erases it there ("another collection" left the user to guess).
    assert done.spared_in == {"default": [str(canteen), str(vault)]}
    assert (f"saved conversations keep the text of 2 documents collection 'default' still indexes: {canteen}, {vault} "
            f"(`localrag forget {canteen} {vault} --purge` erases it there too)") in report_lines(done)
    # Asked of a collection that does not hold it, the error names the one that does, and the command there.
    with pytest.raises(LocalRagError, match=f"{vault}: not in the index \\(collection 'default' indexes it: "
                                            f"`localrag forget {vault}`\\)"):
        scratch.forget(vault)
    with pytest.raises(LocalRagError, match="collection 'default' indexes it: `localrag summarize "):
        scratch.summarize(vault)
    # Forgotten from the last collection that holds it, it is erased.
    done = engine.forget(vault, purge=True, conversations=store)
    assert [k.conversation_id for k in done.conversations] == ["20261201-000000-aaaaaa"] and done.spared == []
    assert _files_holding(store.folder, "Quillfeather") == []


def _asked_about_the_ledger(engine: Engine, tmp_path: Path) -> tuple[Path, Path, Path, ConversationStore, Conversation]:
    """The two documents ingested, and a conversation (not saved yet) whose extracted answer cites the vault."""
    docs = _docs(tmp_path)
    vault, canteen = (docs / "vault.txt").resolve(), (docs / "canteen.txt").resolve()
    engine.ingest([docs])
    asked = Conversation("20261201-000000-aaaaaa", "Where is the ledger?", updated=100.0)
    asked.turns = [Turn("user", "Where is the ledger?"), _answer(vault, canteen, extracted=True)]
    return docs, vault, canteen, ConversationStore(tmp_path / "conversations"), asked


def test_an_answer_saved_after_a_purge_does_not_bring_the_erased_text_back(engine: Engine, tmp_path: Path) -> None:
    # `ask --conversation` read the conversation at its start and wrote all of it back at its end: a purge
    # meanwhile printed "erased from 1 saved conversation", and the text was back a second later.
    docs, vault, canteen, store, asked = _asked_about_the_ledger(engine, tmp_path)
    store.save(asked)
    running = store.load(asked.id)
    running.add_question("Which floor is the canteen on?")
    running = store.append(running, running.turns[-1:])
    assert [k.conversation_id for k in engine.forget(vault, purge=True, conversations=store).conversations] == [
        asked.id]
    store.append(running, [Turn("assistant", "The second floor.")])
    assert _files_holding(store.folder, "Quillfeather") == []
    assert [t.text for t in store.load(asked.id).turns][-2:] == ["Which floor is the canteen on?", "The second floor."]


def test_a_purge_in_another_process_is_not_taken_for_damage_by_a_reader_beside_it(
    engine: Engine, tmp_path: Path
) -> None:
    """A server or the chat app reads a version up to a second old, whose files a purge beside it deleted."""
    kept = [tmp_path / f"canteen{number}.txt" for number in range(5)]
    for path in kept:
        path.write_text(f"{path.stem}: {OTHER}", encoding="utf-8")
    engine.ingest(kept)
    reader = Engine(Settings(), embedder=HashEmbedder(dim=64))  # another process's connection
    for number in range(5):
        assert len(reader.documents()) == 5 and reader.status().documents == 5
        secret = tmp_path / f"vault{number}.txt"
        secret.write_text(SECRET, encoding="utf-8")
        engine.ingest([secret])
        engine.forget(secret, purge=True)
        # Read at once, each of these failed at times as "the store is damaged ... run `localrag repair`".
        assert len(reader.documents()) == 5 and reader.status().documents == 5
        assert reader.search("canteen lunch")


def test_a_purge_erases_the_scratch_copy_a_killed_tune_fusion_left(engine: Engine, tmp_path: Path) -> None:
    """`retrieval tune-fusion` copies every chunk to a scratch store; killed, only its next run removed the copy,
    and a purge said the forgotten text lay in no file while that copy held it."""
    import subprocess
    import sys

    from localrag.fusion_cut import PREFIX

    docs = _docs(tmp_path)
    engine.ingest([docs])
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    scratch = engine.store.path.parent / f"{PREFIX}{int(gone.stdout)}"
    (scratch / "chunks.lance").mkdir(parents=True)
    (scratch / "chunks.lance" / "data").write_text(SECRET)
    engine.forget(docs / "vault.txt", purge=True)
    assert not scratch.exists()


def test_a_purge_of_a_renamed_file_erases_what_conversations_saved_under_its_old_name(
    engine: Engine, tmp_path: Path
) -> None:
    """Conversations were searched by path alone: a file renamed (its passages saved under the old name, as they
    should be) then deleted under `watch --purge`, or forgotten with --purge, kept its text in them for good."""
    docs, vault, canteen, store, asked = _asked_about_the_ledger(engine, tmp_path)
    asked.turns[1].sources[0].text = SECRET  # as the chunk holds it
    store.save(asked, touch=False)
    copy = tmp_path / "elsewhere" / "vault-copy.txt"  # the same words in a file still there: its passage stays
    copy.parent.mkdir()
    copy.write_text(SECRET, encoding="utf-8")
    # The same words in a document still indexed where no file is now (a drive not mounted, a mail's
    # attachment): its passage stays too.
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "vault-backup.txt").write_text(SECRET, encoding="utf-8")
    engine.ingest([usb / "vault-backup.txt"])
    usb.rename(tmp_path / "usb-unmounted")
    kept_copy = Conversation("20261201-000000-bbbbbb", "Ledger?", updated=50.0)
    kept_copy.turns = [Turn("user", "Ledger?"), Turn("assistant", "In the vault.", sources=[
        SavedSource(1, "c9", "d9", str(copy), SECRET),
        SavedSource(2, "c8", "d8", str(usb / "vault-backup.txt"), SECRET)])]
    store.save(kept_copy, touch=False)
    vault.rename(docs / "vault-2026.txt")
    engine.ingest([docs])  # the old name leaves the index, the new one comes in
    erased = engine.forget(docs / "vault-2026.txt", purge=True, conversations=store)
    assert [k.conversation_id for k in erased.conversations] == ["20261201-000000-aaaaaa"]
    source = store.load("20261201-000000-aaaaaa").turns[1].sources[0]
    assert source.purged and source.text == "" and source.path == str(vault)
    assert [s.text for s in store.load("20261201-000000-bbbbbb").turns[1].sources] == [SECRET, SECRET]


def test_forgetting_a_file_still_in_a_watched_folder_says_the_watch_reads_it_again(
    engine: Engine, tmp_path: Path
) -> None:
    """It said "forgot" and nothing more, and the next `watch` indexed it again, searchable, in silence."""
    from localrag.shapes import forgotten_json

    docs = _docs(tmp_path)
    engine.ingest([docs])
    engine.remember_watched([docs.resolve()])
    done = engine.forget(docs / "vault.txt", purge=True)
    assert done.watched == [str(docs.resolve())] and forgotten_json(done)["watched"] == [str(docs.resolve())]
    assert report_lines(done)[1].startswith(f"note: {(docs / 'vault.txt').resolve()} is still on disk in a folder "
                                            "`localrag watch` follows for this collection")
    (docs / "canteen.txt").unlink()  # gone from the disk: nothing to read again
    assert engine.forget(docs / "canteen.txt").watched == []
    # A remembered-folders file that does not read failed the forget after it was done (a 400 over the API).
    engine.ingest([docs])
    from localrag.ingest.watch import watched_file

    watched_file().write_text("{oops")
    assert engine.forget(docs / "vault.txt").documents == 1


def test_the_commands_a_report_names_carry_the_collection(tmp_path: Path) -> None:
    """Followed, `localrag forget PATH --purge` from a forget in collection `research` acted on the default one:
    "nothing ... is in the index" and "the index keeps no old version", while research's files held the text."""
    from localrag.config import load_settings

    docs = _docs(tmp_path)
    Engine(load_settings(), embedder=HashEmbedder(dim=64)).create_collection("research")
    research = Engine(load_settings(collection="research"), embedder=HashEmbedder(dim=64))
    research.ingest([docs])
    done = research.forget(docs / "vault.txt")
    vault = (docs / "vault.txt").resolve()
    assert report_lines(done)[-1] == f"`localrag forget {vault} --collection research --purge` erases it now"
    with pytest.raises(LocalRagError) as missing:
        research.forget(docs / "nosuch.txt")
    assert missing.value.hint == "`localrag documents --collection research` lists what is indexed"


def test_a_file_named_decomposed_is_forgotten_by_its_name_typed_composed(engine: Engine, tmp_path: Path) -> None:
    # Unpacked from a Mac's zip, `Μυστικό.txt` is named in NFD: the name as typed (NFC) found nothing, and a purge
    # said "the text of what it forgot lies in no file of it" while search still found it.
    import unicodedata

    folder = tmp_path / "w"
    folder.mkdir()
    (folder / unicodedata.normalize("NFD", "Μυστικό.txt")).write_text("Ο κωδικός είναι Ψωμοκλέφτρυγος.\n")
    engine.ingest([folder])
    done = engine.forget(folder / unicodedata.normalize("NFC", "Μυστικό.txt"), purge=True)
    assert done.documents == 1 and engine.documents() == []
    assert not _files_holding(engine.store.path, "Ψωμοκλέφτρυγος")
    # Still on disk under its decomposed name: the note says so (it looked for the name as typed, and said nothing).
    assert done.still_on_disk == [str(folder.resolve() / unicodedata.normalize("NFD", "Μυστικό.txt"))]


def test_forgetting_a_file_still_on_disk_says_an_ingest_reads_it_again(engine: Engine, tmp_path: Path) -> None:
    """A file forgotten in a folder, or a mail in its mailbox, came back with the folder's next ingest (the mailbox's
    next mail) without a word."""
    import mailbox
    from email.message import EmailMessage

    from localrag.shapes import forgotten_json

    docs = _docs(tmp_path)
    box = mailbox.mbox(str(docs / "inbox.mbox"))
    message = EmailMessage()
    message["Subject"], message["From"], message["Message-ID"] = "Vault", "a@b.example", "<m1@b.example>"
    message.set_content("The vault code changed on Monday.")
    box.add(message)
    box.close()
    engine.ingest([docs])
    done = engine.forget(docs / "vault.txt")
    vault = str((docs / "vault.txt").resolve())
    assert done.still_on_disk == [vault] and forgotten_json(done)["still_on_disk"] == [vault]
    assert report_lines(done)[-2].startswith(f"note: still on disk: {vault}; an ingest of its folder")
    mail = next(d.path for d in engine.documents() if d.path.startswith(str((docs / "inbox.mbox").resolve()) + "/"))
    assert engine.forget(mail).still_on_disk == [f"{mail} in {(docs / 'inbox.mbox').resolve()}"]
    (docs / "canteen.txt").unlink()
    assert engine.forget(docs / "canteen.txt").still_on_disk == []
    engine.ingest([docs])
    assert len(engine.documents()) == 2  # both read again: the note says so


def test_a_file_is_forgotten_by_the_name_localrag_shows_for_it(tmp_path: Path) -> None:
    # `documents` listed `tab␉here.md`, and `forget` of that name said "not in the index".
    docs = tmp_path / "docs"
    (docs / "bell\x07dir").mkdir(parents=True)
    names = ["tab\there.md", "\x1b[31mred\x1b[0m.md", "evil\nname.md", "bell\x07dir/inner.md", "budget.md",
             "budget\u200b.md", "budget\u2060.md"]
    for i, name in enumerate(names):
        (docs / name).write_text(f"Note {i} of the harbour files.\n", encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=64))
    engine.ingest([docs])

    def indexed() -> set[str]:
        return {Path(d.path).relative_to(docs).as_posix() for d in engine.documents()}

    assert indexed() == set(names)
    for shown in ("tab␉here.md", "␛[31mred␛[0m.md", "evil␊name.md", "bell␇dir"):
        engine.forget(docs / shown)
    assert indexed() == {"budget.md", "budget\u200b.md", "budget\u2060.md"}
    # Two names that show alike stand for neither; the one named as it is goes alone.
    with pytest.raises(LocalRagError, match="2 indexed names show as this one"):
        engine.forget(docs / "budget\ufffd.md")
    engine.forget(docs / "budget.md")
    assert indexed() == {"budget\u200b.md", "budget\u2060.md"}


def test_another_collection_holding_the_file_is_no_saved_conversation_and_its_command_names_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no conversation saved, the report said the text stayed "in 1 saved conversation:" and listed the file's
    path as that conversation (a purge: "erased from 1 saved conversation:"). And with LOCALRAG_COLLECTION naming
    another collection, `localrag forget FILE` for the default one ran in that one again: "not in the index"."""
    from localrag.config import load_settings
    from localrag.forget import text_stays

    docs = _docs(tmp_path)
    vault, canteen = (docs / "vault.txt").resolve(), (docs / "canteen.txt").resolve()
    Engine(load_settings(), embedder=HashEmbedder(dim=64)).ingest([docs])
    Engine(load_settings(), embedder=HashEmbedder(dim=64)).create_collection("Wrok")
    monkeypatch.setenv("LOCALRAG_COLLECTION", "Wrok")
    wrok = Engine(load_settings(), embedder=HashEmbedder(dim=64))
    wrok.ingest([docs])
    store = ConversationStore(tmp_path / "conversations")

    lines = report_lines(wrok.forget(vault, conversations=store))
    assert lines[:3] == [
        f"forgot {vault}: 1 document, 1 chunk removed",
        f"saved conversations keep the text of 1 document collection 'default' still indexes: {vault} "
        f"(`localrag forget {vault} --collection default --purge` erases it there too)",
        text_stays(0)]
    assert lines[3].startswith("note: still on disk: ") and len(lines) == 5
    lines = report_lines(wrok.forget(canteen, purge=True, conversations=store))
    assert not any("saved conversation:" in line or line == str(canteen) for line in lines), lines
    assert lines[2] == "the index keeps no old version: the text of what it forgot lies in no file of it"

    with pytest.raises(LocalRagError) as missing:
        wrok.forget(vault)
    assert missing.value.hint == f"collection 'default' indexes it: `localrag forget {vault} --collection default`"
    with pytest.raises(LocalRagError) as missing:
        wrok.summarize(vault)
    assert missing.value.hint == f"collection 'default' indexes it: `localrag summarize {vault} --collection default`"
    # A folder is no document to summarize: `localrag summarize FOLDER` there is refused too.
    with pytest.raises(LocalRagError) as missing:
        wrok.summarize(docs)
    assert missing.value.hint == "`localrag documents --collection Wrok` lists what is indexed"
