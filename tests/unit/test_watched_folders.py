"""Watched folders are remembered per collection; the bare list an earlier version wrote is `default`'s."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from localrag.errors import LocalRagError
from localrag.ingest.watch import (
    _changed_since,
    patterns_file,
    remember_folders,
    remembered_folders,
    remembered_patterns,
    rename_watched,
    watched_file,
)


def test_per_collection_and_the_old_list_format(localrag_home: Path, tmp_path: Path) -> None:
    watched_file().parent.mkdir(parents=True, exist_ok=True)
    watched_file().write_text(json.dumps([str(tmp_path / "old")]))
    assert remembered_folders() == [tmp_path / "old"]
    assert remembered_folders("work") == []

    remember_folders([tmp_path / "w"], "work")
    assert remembered_folders("work") == [tmp_path / "w"]
    assert remembered_folders() == [tmp_path / "old"]

    rename_watched("work", "job")
    assert remembered_folders("work") == [] and remembered_folders("job") == [tmp_path / "w"]
    rename_watched("job", None)
    assert json.loads(watched_file().read_text()) == {"default": [str(tmp_path / "old")]}


def test_a_broken_file_is_one_clear_error(localrag_home: Path) -> None:
    watched_file().parent.mkdir(parents=True, exist_ok=True)
    watched_file().write_text("{not json")
    with pytest.raises(LocalRagError, match="watched.json: not a JSON object"):
        remembered_folders()


def test_edits_at_once_each_keep_the_others(localrag_home: Path, tmp_path: Path) -> None:
    """Two `watch` commands on two collections, or a watch beside a rename, each lost the other's change."""

    def add(collection: str) -> None:
        for number in range(10):
            remember_folders([tmp_path / f"{collection}{number}"], collection, add=True)

    workers = [threading.Thread(target=add, args=(name,)) for name in ("a", "b", "c", "d")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for name in ("a", "b", "c", "d"):
        assert remembered_folders(name) == sorted(tmp_path / f"{name}{number}" for number in range(10))


def test_patterns_are_remembered_with_the_folders_and_follow_the_collection(localrag_home: Path,
                                                                              tmp_path: Path) -> None:
    remember_folders([tmp_path / "w"], "work", include=["*.md"], exclude=["drafts"])
    remember_folders([tmp_path / "v"], "work", add=True)  # none given: those remembered stay
    assert remembered_patterns("work") == (["*.md"], ["drafts"]) and remembered_patterns() == ([], [])
    # In a file of its own: an earlier version still reads the folders.
    assert json.loads(watched_file().read_text()) == {"work": [str(tmp_path / "v"), str(tmp_path / "w")]}
    remember_folders([], "work", add=True, exclude=["bak"])  # given: they replace those remembered
    assert remembered_patterns("work") == ([], ["bak"])
    rename_watched("work", "job")
    assert remembered_patterns("work") == ([], []) and remembered_patterns("job") == ([], ["bak"])
    remember_folders([], "job")  # `watch --forget-folders`
    assert remembered_patterns("job") == ([], []) and json.loads(patterns_file().read_text()) == {}


def test_forget_folders_names_what_it_forgot(localrag_home: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # "no folders remembered for collection default" was printed whether a folder had just been forgotten or not.
    from localrag.cli import run

    remember_folders([tmp_path / "notes"], include=["*.md"], exclude=[])
    assert run(["watch", "--forget-folders"]) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert said == f"forgot 1 folder and 1 pattern of collection default: {tmp_path / 'notes'}"
    assert remembered_folders() == [] and remembered_patterns() == ([], [])
    assert run(["watch", "--forget-folders"]) == 0
    assert capsys.readouterr().err.strip() == "no folders were remembered for collection default: nothing to forget"

    remember_folders([tmp_path / "a", tmp_path / "b"], "work")
    assert run(["watch", "--forget-folders", "--json", "--collection", "work"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "collection": "work", "forgotten_folders": [str(tmp_path / "a"), str(tmp_path / "b")],
        "forgotten_include": [], "forgotten_exclude": [], "remembered_folders": []}


def test_forget_folders_forgets_only_the_folders_named(localrag_home: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`watch --forget-folders w1` forgot w1 and w2 alike, the folder named passed over (before 2026-12-07)."""
    from localrag.cli import run

    w1, w2 = tmp_path / "w1", tmp_path / "w2"
    remember_folders([w1, w2], include=["*.md"], exclude=[])
    assert run(["watch", "--forget-folders", str(w1)]) == 0  # moved away or not: w1 is no folder here
    said = " ".join(capsys.readouterr().err.split())
    assert said == f"forgot 1 folder of collection default: {w1}; still remembered: {w2}"
    assert remembered_folders() == [w2] and remembered_patterns() == (["*.md"], [])

    assert run(["watch", "--forget-folders", str(w1)]) == 2  # not remembered: said, with those that are
    said = " ".join(capsys.readouterr().err.split())
    assert said == (f"localrag: not remembered for collection default: {w1} (the remembered folders: {w2}; "
                    "`localrag watch --forget-folders` alone forgets them all)")
    assert remembered_folders() == [w2]

    assert run(["watch", "--forget-folders", "--json", str(w2)]) == 0  # the last one: its patterns go with it
    assert json.loads(capsys.readouterr().out) == {
        "collection": "default", "forgotten_folders": [str(w2)], "forgotten_include": ["*.md"],
        "forgotten_exclude": [], "remembered_folders": []}
    assert remembered_folders() == [] and remembered_patterns() == ([], [])


def test_a_remembered_folder_moved_away_is_named_and_the_others_watched(localrag_home: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A plain `watch` after a watched folder moved was refused for good ("not a folder", advice for a file typed by
    mistake), even once the new place was watched beside it; now the folders that are there are watched and the
    others named, with the way to forget them."""
    from localrag.cli import run
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    old, new = tmp_path / "docs", tmp_path / "mnt" / "docs"
    old.mkdir()
    new.mkdir(parents=True)
    engine = Engine(Settings(), embedder=HashEmbedder())
    engine.remember_watched([old])
    engine.remember_watched([new], add=True)
    old.rmdir()
    assert engine.folders_to_watch([]) == [new]
    assert engine.missing_watched_note() == (
        f"not watched: 1 remembered folder is not found (moved? drive not mounted?): {old}; `localrag watch "
        "--forget-folders` forgets the remembered folders, then `localrag watch FOLDER...` names those to watch")
    with pytest.raises(LocalRagError, match=f"{new}: not a folder"):  # a folder typed is still one to be there
        new.rmdir()
        engine.folders_to_watch([new])
    assert run(["watch"]) == 2  # none of them is there
    err = capsys.readouterr().err
    assert err.startswith(f"localrag: 2 remembered folders are not found (moved? drive not mounted?): {old}, {new} "
                          "(`localrag watch --forget-folders` forgets"), err


def test_the_changes_a_dead_watcher_dropped_name_a_subfolder_deleted_or_moved_away(tmp_path: Path) -> None:
    """After the watcher died on a name not UTF-8, a document counted as deleted only when it was directly in a
    changed folder: `sub/` deleted or `moved/` moved out of the watched folder left their documents searchable."""
    from watchfiles import Change

    root = tmp_path / "w"
    for name in ("sub/a.md", "sub/b.md", "moved/c.md", "kept.md", "gone.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("text\n")
    stored = [str(root / name) for name in ("sub/a.md", "sub/b.md", "moved/c.md", "kept.md", "gone.md")]
    since = time.time_ns()
    time.sleep(0.05)
    shutil.rmtree(root / "sub")
    (root / "moved").rename(tmp_path / "moved")
    (root / "gone.md").unlink()
    found = _changed_since([root], since, frozenset(), lambda: stored)
    assert found == {(Change.deleted, str(root / "sub")), (Change.deleted, str(root / "moved")),
                     (Change.deleted, str(root / "gone.md"))}
