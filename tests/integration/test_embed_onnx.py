"""The ONNX Runtime embedder against the bundled MiniLM on torch: same vectors, same tokens, its own cache.

The export is made once per test session (LOCALRAG_CACHE_DIR is shared by tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from localrag import cpu as threads
from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder, load_embedder
from localrag.embed_onnx import OnnxEmbedder, export_dir
from localrag.engine import Engine
from localrag.errors import ConfigError, ModelError, StoreError
from localrag.models import bundled_embedder_path
from localrag.store import Store
from localrag.types import Chunk, Document, IngestProgress

TEXTS = [
    "How do bees keep the hive warm in winter?",
    "The lighthouse at Kestrel Point was automated in 1987 and its lens moved to the museum. " * 3,
    "x",
    " ".join(["A long chunk is truncated at the model's maximum length."] * 60),
]


@pytest.fixture(scope="module")
def torch_vectors(real_embedder: SentenceTransformerEmbedder) -> np.ndarray:
    return real_embedder.embed(TEXTS)


def test_onnx_reproduces_torch(real_embedder: SentenceTransformerEmbedder, torch_vectors: np.ndarray) -> None:
    onnx = load_embedder(bundled_embedder_path(), "onnx")
    assert isinstance(onnx, OnnxEmbedder)
    vectors = onnx.embed(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == torch_vectors.shape
    assert np.abs(vectors - torch_vectors).max() < 1e-4
    # Same vectors, so the same name: an index built by either runtime is searched by the other.
    assert onnx.name == real_embedder.name
    assert onnx.dim == real_embedder.dim and onnx.max_tokens == real_embedder.max_tokens
    assert onnx.token_counts(TEXTS) == real_embedder.token_counts(TEXTS)
    # Batching by length must not reorder the rows.
    single = np.vstack([onnx.embed([t]) for t in TEXTS])
    assert np.abs(single - vectors).max() < 1e-4
    assert onnx.embed([]).shape == (0, onnx.dim)


def test_int8_is_close_but_named_apart(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder, torch_vectors: np.ndarray
) -> None:
    int8 = load_embedder(bundled_embedder_path(), "onnx-int8")
    cosines = (int8.embed(TEXTS) * torch_vectors).sum(axis=1)
    assert cosines.min() > 0.95
    assert int8.name == f"{real_embedder.name}+int8"
    store = Store(tmp_path / "db", embedder_name=real_embedder.name, dim=real_embedder.dim)
    # An index that holds a row: an empty one takes whichever embedder opens it (store_adopt.py).
    doc = Document("d1", "/notes/a.md", "md", "h1", 10, 1.0, title="a")
    store.write_batch([doc], [Chunk("d1:0", "d1", "/notes/a.md", 0, TEXTS[0], 0, len(TEXTS[0]))], torch_vectors[:1])
    with pytest.raises(StoreError, match=r"\+int8"):
        Store(tmp_path / "db", embedder_name=int8.name, dim=int8.dim)


def test_export_is_cached_and_keyed_by_the_folder(tmp_path: Path) -> None:
    folder = bundled_embedder_path()
    first = OnnxEmbedder(folder)
    first.embed(["warm"])
    cached = export_dir(folder) / "model.onnx"
    stamp = cached.stat().st_mtime_ns
    # A killed first export left its temporary file, the model's size, which no later run removed.
    dead = cached.with_name(".model.onnx.999999999.1401.tmp")
    live = cached.with_name(f".model.onnx.{os.getpid()}.1.tmp")
    for left in (dead, live):
        left.write_bytes(b"half an export")
    OnnxEmbedder(folder).embed(["again"])
    assert cached.stat().st_mtime_ns == stamp, "a second embedder exported again instead of using the cache"
    assert not dead.exists() and live.exists()
    live.unlink()
    # A copy with one changed file is another model: it gets its own export folder.
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "README.md").write_text("a card is not the model\n")
    assert export_dir(copy) == export_dir(folder)
    (copy / "config.json").write_text((copy / "config.json").read_text() + "\n")
    assert export_dir(copy) != export_dir(folder)
    assert not list(tmp_path.glob("**/.*.tmp"))


def test_bad_backend_and_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="embed_backend"):
        load_embedder(bundled_embedder_path(), "tensorrt")
    folder = tmp_path / "no-tokenizer"
    shutil.copytree(bundled_embedder_path(), folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="tokenizer.json"):
        OnnxEmbedder(folder).embed(["x"])


def test_engine_uses_the_configured_backend() -> None:
    assert isinstance(Engine(load_settings()).embedder, OnnxEmbedder)
    torch_engine = Engine(load_settings(embed_backend="torch"))
    assert isinstance(torch_engine.embedder, SentenceTransformerEmbedder)
    assert torch_engine.status().embed_backend == "torch"


def test_thread_count_reaches_the_session_and_keeps_the_vectors() -> None:
    one = load_embedder(bundled_embedder_path(), "onnx", threads=1)
    assert isinstance(one, OnnxEmbedder)
    vectors = one.embed(TEXTS)
    assert one.session_threads == 1
    default = OnnxEmbedder(bundled_embedder_path(), threads=0)
    assert np.abs(vectors - default.embed(TEXTS)).max() < 1e-5


def test_the_engine_s_embedder_takes_the_free_cores_like_training(
    monkeypatch: pytest.MonkeyPatch, no_worker_threads: None
) -> None:
    # Ingest embeds through the Engine's embedder: on a machine whose other processes keep all cores
    # but one busy, it takes that one (ONNX Runtime's own default would take every core).
    asked: list[int] = []

    def others_hold_all_but_one(cores: int, **_sample: object) -> float:
        asked.append(cores)
        return cores - 1.0

    monkeypatch.setattr(threads, "busy_cores_of_others", others_hold_all_but_one)
    embedder = Engine(load_settings()).embedder
    assert isinstance(embedder, OnnxEmbedder)
    embedder.embed(["the rule is asked when the session is made"])
    embedder.embed(["and not again"])
    assert embedder.session_threads == 1 and len(asked) == 1
    # A job given a thread count (LOCALRAG_N_THREADS, as training takes it) gets that many.
    monkeypatch.setenv("LOCALRAG_N_THREADS", "2")
    embedder = Engine(load_settings()).embedder
    assert isinstance(embedder, OnnxEmbedder) and embedder.session_threads == 2


def test_an_ingest_says_when_it_exports_the_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_cache: Path
) -> None:
    """On a new cache the first progress line names the export (seconds of "0 files" otherwise), and the
    report's seconds count the wait; with the export cached it only says the embedder is loading."""
    folder = bundled_embedder_path()
    OnnxEmbedder(folder).embed(["warm"])  # the session's export exists from here on
    made = export_dir(folder)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("Bees keep the hive warm in winter by shivering their flight muscles.\n")
    empty = tmp_path / "new-cache"
    monkeypatch.setenv("LOCALRAG_CACHE_DIR", str(empty))
    assert OnnxEmbedder(folder).needs_export()
    seen: list[str] = []

    def progress(p: IngestProgress) -> None:
        seen.append(p.activity)
        if p.activity.startswith("Exporting"):
            # Stands in for the export (made once per session already): the engine then loads it.
            shutil.copytree(made, export_dir(folder))
            time.sleep(0.3)

    report = Engine(load_settings()).ingest([docs], progress=progress)
    assert seen[0] == "Exporting the embedder to ONNX (once)" and report.added == 1
    assert report.seconds >= 0.3
    monkeypatch.setenv("LOCALRAG_HOME", str(tmp_path / "second-home"))
    seen.clear()
    Engine(load_settings()).ingest([docs], progress=progress)
    assert seen[0] == "Loading the embedder"


def test_a_runtime_that_answers_with_no_rows_is_an_error_naming_the_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a tight `ulimit -v` ONNX Runtime answered an empty array, and `ask` failed on a shape mismatch deep in
    the embedder. What it answers cannot be made here without that limit: a runtime giving no rows stands for it."""
    embedder = OnnxEmbedder(bundled_embedder_path())
    embedder.embed(["warm"])
    runtime = embedder._load()[0]
    monkeypatch.setattr(runtime, "run", lambda feed: np.zeros((0, 384), dtype=np.float32))
    with pytest.raises(ModelError, match=r"the embedder gave 0 vectors for 1 texts \(too little memory\?"):
        embedder.embed(["hotel cap"])


def test_the_temp_folder_s_export_is_used_only_from_a_folder_of_the_user_s_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the cache cannot take the export it goes under the temp folder, whose name another account could take
    first (with an export of its own making): such a folder, or one others may write in, is passed over."""
    import tempfile

    from localrag.embed_onnx import _own_temp_cache

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    assert _own_temp_cache(create=False) is None and not list(temp.iterdir())  # a look makes nothing
    made = _own_temp_cache(create=True)
    assert made == temp / f"localrag-{os.getuid()}-cache" and made.stat().st_mode & 0o777 == 0o700
    made.chmod(0o777)
    assert _own_temp_cache(create=True) is None
    made.rmdir()
    made.symlink_to(tmp_path)
    assert _own_temp_cache(create=True) is None


def test_a_writable_cache_does_not_count_the_temp_folders_export_as_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A search of a read-only backup left an export under the temp folder; a later ingest with a writable, empty cache
    # was told nothing needed exporting ("Loading the embedder") while the export into the cache ran.
    import tempfile

    from localrag.embed_onnx import _own_temp_cache

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    folder = bundled_embedder_path()
    monkeypatch.setenv("LOCALRAG_CACHE_DIR", str(tmp_path / "writable-cache"))
    left = _own_temp_cache(create=True)
    assert left is not None
    (left / "onnx" / export_dir(folder).name).mkdir(parents=True)
    (left / "onnx" / export_dir(folder).name / "model.onnx").write_bytes(b"an export made for a read-only cache")
    assert OnnxEmbedder(folder).needs_export()


def test_where_no_temp_cache_is_usable_the_export_s_folder_is_the_process_s_own_and_removed_at_its_end(
        small_disk: Path, tmp_path: Path) -> None:
    """A read-only cache and this user's temp cache's name taken by a file: each command made a folder of its own
    with a new export in it, never removed, and was told the export was made "once while that folder lasts"."""
    import subprocess
    import sys

    temp = tmp_path / "temp"
    temp.mkdir()
    (temp / f"localrag-{os.getuid()}-cache").write_text("not a folder")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    child = ("import sys\nfrom localrag.embed_onnx import _export_place\nfrom localrag.models import "
             "bundled_embedder_path\nplace = _export_place(bundled_embedder_path(), 'onnx')\n"
             "assert _export_place(bundled_embedder_path(), 'onnx-int8') == place\n"
             "(place / 'model.onnx').write_bytes(b'an export')\nprint(place)\n")
    env = {**os.environ, "LOCALRAG_CACHE_DIR": str(small_disk / "cache"), "TMPDIR": str(temp),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        done = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert done.returncode == 0, done.stderr
    place = Path(done.stdout.strip())
    assert place.parent.parent.parent == temp and place.parent.parent.name.startswith("localrag-cache-")
    assert f"it is made in {place} instead, for this command only, and removed when it ends;" in done.stderr
    assert not place.parent.parent.exists()  # removed as the process ended
    assert [p.name for p in temp.iterdir()] == [f"localrag-{os.getuid()}-cache"]
