"""SIGKILL graph import, re-embedding and export at seeded random writes, resume, compare with a clean run.

Each operation runs once whole in a child process, which counts its writes (kill_points.py); kill
points are drawn from those with random.Random(seed). For each point a fresh copy of the starting
state is made, the worker process kills itself at that point, the state left is checked (readable,
the live index whole), the operation is run again, and everything it produced is compared with the
clean run's: a lost or duplicated row fails. The default suite kills the re-embedding at one point;
LOCALRAG_SLOW_TESTS=1 runs LOCALRAG_KILLS points (default 12) of each operation (the export's on a tiny
random llama, seconds per export; tests/integration/test_export.py kills the real model's), and
LOCALRAG_KILL_SUMMARY=FILE writes the figures as JSON (see benchmarks/README.md).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.graph.store import GraphStore
from localrag.reembed import finish_swap, next_dir, previous_dir
from localrag.store import Store, recorded_embedder
from localrag.tune.card import file_sha256
from tests.robustness.kill_points import draw_points, reembed, run_killed, tiny_tuned_run

# Read at import: the autouse fixture clears LOCALRAG_* variables before each test runs.
SLOW = os.environ.get("LOCALRAG_SLOW_TESTS") == "1"
KILLS = int(os.environ.get("LOCALRAG_KILLS", "12"))
SUMMARY = os.environ.get("LOCALRAG_KILL_SUMMARY")
_figures: dict[str, dict[str, Any]] = {}

_WORDS = "harbour lantern granite orchard copper meadow falcon quarry spindle ember walnut tundra".split()


def _record(name: str, points: list[tuple[int, str]], total: int, survived: int, lost: int) -> None:
    _figures[name] = {"writes_in_a_run": total, "kill_points": [f"{n}:{p}" for n, p in points],
                      "kills": len(points), "survived": survived, "rows_lost_or_duplicated": lost}
    if SUMMARY:  # merged with what is there: the export's kill test writes to the same file
        before = json.loads(Path(SUMMARY).read_text()) if Path(SUMMARY).is_file() else {}
        Path(SUMMARY).write_text(json.dumps({**before, **_figures}, indent=2) + "\n")


def _db(home: Path) -> Path:
    return home / "data" / "lancedb"


# --- re-embedding ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose index holds 24 small notes, embedded with a 32-dim hashing embedder."""
    home, notes = tmp_path_factory.mktemp("ingested"), tmp_path_factory.mktemp("notes")
    rng = random.Random(3)
    for i in range(24):
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60)))
        (notes / f"note_{i:03d}.md").write_text(f"# Note {i}\n\n{text.capitalize()}.\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALRAG_HOME", str(home))
        Engine(Settings(commit_chunks=4), embedder=HashEmbedder(dim=32)).ingest([notes])
    return home


def _index_state(home: Path) -> dict[str, Any]:
    db = _db(home)
    store = Store.open_existing(db)
    docs = [(d.path, d.content_hash, d.n_chunks) for d in store.documents()]
    chunks = sorted((c.chunk_id, c.text) for d in store.documents() for c in store.doc_chunks(d.doc_id))
    ids, vectors = store.vectors()
    order = np.argsort(ids)
    return {"embedder": recorded_embedder(db), "documents": docs, "chunks": chunks,
            "vectors": vectors[order], "leftovers": [p.name for p in (next_dir(db), previous_dir(db)) if p.exists()]}


def _same_index(state: dict[str, Any], clean: dict[str, Any]) -> int:
    """Rows lost or duplicated against the clean run (0 when equal); vectors must be equal too."""
    lost = len(set(clean["chunks"]) ^ set(state["chunks"])) + abs(len(clean["chunks"]) - len(state["chunks"]))
    lost += len(set(clean["documents"]) ^ set(state["documents"]))
    if not lost:
        assert np.array_equal(state["vectors"], clean["vectors"])
    assert state["embedder"] == clean["embedder"] and state["leftovers"] == []
    return lost


def _kill_reembed(ingested: Path, tmp_path: Path, points: list[tuple[int, str]], before: dict[str, Any],
                  clean: dict[str, Any]) -> tuple[int, int]:
    survived = lost_rows = 0
    for n, phase in points:
        home = tmp_path / f"reembed-{n}-{phase}"
        shutil.copytree(ingested, home)
        code, _ = run_killed("tests.robustness.kill_points:reembed", ["16"], home, n, phase)
        assert code == -9, f"the re-embedding ended before write {n}"
        # Killed anywhere, the live index is whole: the old one, or the new one once the swap began.
        finish_swap(_db(home))
        now = _index_state(home)
        assert now["chunks"] == before["chunks"] and now["embedder"] in (before["embedder"], clean["embedder"])
        reembed("16", str(_db(home)))  # resumed here: the kill was the child's
        lost = _same_index(_index_state(home), clean)
        lost_rows += lost
        survived += not lost
        shutil.rmtree(home)
    return survived, lost_rows


@pytest.fixture(scope="module")
def reembed_clean(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    home = tmp_path_factory.mktemp("reembed-clean") / "home"
    shutil.copytree(ingested, home)
    code, total = run_killed("tests.robustness.kill_points:reembed", ["16"], home)
    assert code == 0 and total > 10
    return total, _index_state(home)


def test_reembedding_killed_at_a_random_write_resumes_to_the_clean_result(
    ingested: Path, reembed_clean: tuple[int, dict[str, Any]], tmp_path: Path
) -> None:
    total, clean = reembed_clean
    points = draw_points(total, 1, seed=5)
    survived, lost = _kill_reembed(ingested, tmp_path, points, _index_state(ingested), clean)
    assert (survived, lost) == (1, 0)


@pytest.mark.skipif(not SLOW, reason="LOCALRAG_SLOW_TESTS=1 kills the re-embedding at many points")
def test_reembedding_killed_at_many_random_writes(
    ingested: Path, reembed_clean: tuple[int, dict[str, Any]], tmp_path: Path
) -> None:
    total, clean = reembed_clean
    points = draw_points(total, KILLS, seed=15)
    survived, lost = _kill_reembed(ingested, tmp_path, points, _index_state(ingested), clean)
    _record("reembed", points, total, survived, lost)
    assert (survived, lost) == (len(points), 0)


# --- ingest ----------------------------------------------------------------------------------

@pytest.mark.skipif(not SLOW, reason="LOCALRAG_SLOW_TESTS=1 kills the ingest at many points")
def test_ingest_killed_at_many_random_writes(tmp_path: Path) -> None:
    """Killed anywhere, an ingest leaves a readable index; the ingest run again ends equal to a clean one."""
    notes = tmp_path / "notes"
    notes.mkdir()
    rng = random.Random(3)
    for i in range(24):
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60)))
        (notes / f"note_{i:03d}.md").write_text(f"# Note {i}\n\n{text.capitalize()}.\n")
    work = "tests.robustness.kill_points:ingest"
    code, total = run_killed(work, [str(notes)], tmp_path / "clean")
    assert code == 0 and total > 10
    clean = _index_state(tmp_path / "clean")
    points = draw_points(total, KILLS, seed=18)
    survived = lost_rows = 0
    for n, phase in points:
        home = tmp_path / f"ingest-{n}-{phase}"
        code, _ = run_killed(work, [str(notes)], home, n, phase)
        assert code == -9, f"the ingest ended before write {n}"
        if (_db(home) / "chunks.lance").exists():
            _index_state(home)  # what the kill left reads
        run_killed(work, [str(notes)], home)
        lost = _same_index(_index_state(home), clean)
        lost_rows += lost
        survived += not lost
    _record("ingest", points, total, survived, lost_rows)
    assert (survived, lost_rows) == (len(points), 0)


@pytest.mark.skipif(not SLOW, reason="LOCALRAG_SLOW_TESTS=1 kills the update at many points")
def test_update_killed_at_many_random_writes(tmp_path: Path) -> None:
    """Files read again take their unchanged chunks' stored vectors back: killed anywhere, that ingest leaves a
    readable index, and run again it ends equal to a clean one, vectors and all."""
    notes = tmp_path / "notes"
    notes.mkdir()
    rng = random.Random(5)
    for i in range(24):
        parts = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60))).capitalize() for _ in range(3)]
        (notes / f"note_{i:03d}.md").write_text(
            f"# Note {i}\n\n" + "\n\n".join(f"## Part {j}\n\n{text}." for j, text in enumerate(parts)) + "\n")
    work = "tests.robustness.kill_points:ingest"
    start = tmp_path / "start"
    assert run_killed(work, [str(notes)], start)[0] == 0
    for i in range(0, 24, 2):  # half the notes: one part changed, one added, the others as they were
        path = notes / f"note_{i:03d}.md"
        path.write_text(path.read_text().replace("## Part 1\n\n", "## Part 1\n\nMended. ") + "\n## Part 3\n\nNew.\n")
    shutil.copytree(start, tmp_path / "clean")
    code, total = run_killed(work, [str(notes)], tmp_path / "clean")
    assert code == 0 and total > 4
    clean = _index_state(tmp_path / "clean")
    points = draw_points(total, KILLS, seed=19)
    survived = lost_rows = 0
    for n, phase in points:
        home = tmp_path / f"update-{n}-{phase}"
        shutil.copytree(start, home)
        code, _ = run_killed(work, [str(notes)], home, n, phase)
        assert code == -9, f"the ingest ended before write {n}"
        _index_state(home)  # what the kill left reads
        run_killed(work, [str(notes)], home)
        lost = _same_index(_index_state(home), clean)
        lost_rows += lost
        survived += not lost
        shutil.rmtree(home)
    _record("update", points, total, survived, lost_rows)
    assert (survived, lost_rows) == (len(points), 0)


# --- graph import ----------------------------------------------------------------------------

def _triple_files(folder: Path) -> list[str]:
    rng = random.Random(9)
    files = []
    for f in range(3):
        lines = ["head\trelation\ttail"]
        for _ in range(60):
            head, tail = (f"{word}_{rng.randint(0, 20)}" for word in rng.sample(_WORDS, 2))
            lines.append(f"{head}\t{rng.choice(['near', 'feeds', 'holds'])}\t{tail}")
        path = folder / f"triples{f}.tsv"
        path.write_text("\n".join(lines) + "\n")
        files.append(str(path))
    return files


def _graph_state(home: Path) -> dict[str, Any]:
    graph = GraphStore(_db(home), HashEmbedder(dim=32))
    triples = graph.triple_rows().to_pylist()
    entities = graph.entity_rows().select(["entity_id", "name"]).to_pylist()
    return {
        "triples": sorted((t["head"], t["relation"], t["tail"], t["source"], t["doc_id"]) for t in triples),
        "entities": sorted((e["entity_id"], e["name"]) for e in entities),
        # The saved in-memory graph (columns) must agree with the tables it was built from.
        "columns": (len(graph.columns().head), sorted(graph.columns().entity_ids)),
    }


@pytest.mark.skipif(not SLOW, reason="LOCALRAG_SLOW_TESTS=1 kills the graph import at many points")
def test_graph_import_killed_at_many_random_writes(tmp_path: Path) -> None:
    files = _triple_files(tmp_path)
    clean_home = tmp_path / "clean"
    code, total = run_killed("tests.robustness.kill_points:graph_import", files, clean_home)
    assert code == 0 and total > 5
    clean = _graph_state(clean_home)
    assert len(clean["triples"]) > 100
    points = draw_points(total, KILLS, seed=16)
    survived = lost_rows = 0
    for n, phase in points:
        home = tmp_path / f"graph-{n}-{phase}"
        code, _ = run_killed("tests.robustness.kill_points:graph_import", files, home, n, phase)
        assert code == -9, f"the import ended before write {n}"
        _graph_state(home)  # what the kill left reads
        run_killed("tests.robustness.kill_points:graph_import", files, home)
        state = _graph_state(home)
        lost = sum(len(set(clean[k]) ^ set(state[k])) + abs(len(clean[k]) - len(state[k]))
                   for k in ("triples", "entities"))
        assert state["columns"] == clean["columns"]
        lost_rows += lost
        survived += not lost
    _record("graph_import", points, total, survived, lost_rows)
    assert (survived, lost_rows) == (len(points), 0)


# --- export ----------------------------------------------------------------------------------

def _models_state(models: Path) -> dict[str, Any]:
    """What an export left in models/: the files under final names (with the model's sha256 and the
    card's record of it) and the hidden temporaries a killed export leaves for the next to remove."""
    names = sorted(p.name for p in models.iterdir()) if models.is_dir() else []
    final = [n for n in names if not n.startswith(".")]
    state: dict[str, Any] = {"final": final, "temporary": [n for n in names if n.startswith(".")]}
    if "tuned.gguf" in final:
        state["sha256"] = file_sha256(models / "tuned.gguf")
    if "tuned.json" in final:  # written atomically: a card that is there parses
        state["card_files"] = json.loads((models / "tuned.json").read_text())["files"]
    return state


@pytest.mark.skipif(not SLOW, reason="LOCALRAG_SLOW_TESTS=1 kills the export at many points")
def test_export_killed_at_many_random_writes(tmp_path: Path) -> None:
    """A tiny llama's export, killed anywhere: models/ never holds a partial or different model under a
    final name, a card never names a file that differs, and the export run again installs the clean run's
    files (same sha256) and removes what the killed one left."""
    run, home = tiny_tuned_run(tmp_path), tmp_path / "home"
    work = "tests.robustness.kill_points:export"
    # The first export in a home also writes caches: the second, warm one is the run to count.
    run_killed(work, [str(run), str(tmp_path / "warm-up")], home)
    code, total = run_killed(work, [str(run), str(tmp_path / "clean")], home)
    assert code == 0 and total > 5
    clean = _models_state(tmp_path / "clean")
    assert clean["final"] == ["tuned.gguf", "tuned.json", "tuned.md"] and clean["temporary"] == []
    assert clean["card_files"] == {"tuned.gguf": clean["sha256"]}
    points = draw_points(total, KILLS, seed=17)
    survived = 0
    for n, phase in points:
        models = tmp_path / f"models-{n}-{phase}"
        code, _ = run_killed(work, [str(run), str(models)], home, n, phase)
        assert code == -9, f"the export ended before write {n}"
        left = _models_state(models)
        assert set(left["final"]) <= set(clean["final"])
        assert left.get("sha256", clean["sha256"]) == clean["sha256"]  # installed whole, or not at all
        assert left.get("card_files", clean["card_files"]) == clean["card_files"]
        run_killed(work, [str(run), str(models)], home)
        survived += _models_state(models) == clean
    _record("export_tiny_llama", points, total, survived, len(points) - survived)
    assert survived == len(points)
