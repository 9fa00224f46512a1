"""Atomic writes from several threads of one process at once."""

from __future__ import annotations

import threading
from pathlib import Path

from localrag.atomic import write_text_atomic


def test_threads_writing_one_file_at_once_neither_fail_nor_mix(tmp_path: Path) -> None:
    # A watcher purging a conversation's sources while the chat saves it writes one file from two threads.
    target = tmp_path / "conversation.json"
    texts = [str(n) * 5000 for n in range(6)]
    errors: list[BaseException] = []

    def write(text: str) -> None:
        try:
            for _ in range(150):
                write_text_atomic(target, text)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_text() in texts
    assert not list(tmp_path.glob(".*.tmp"))


def test_replace_synced_renames_what_another_library_wrote(tmp_path: Path) -> None:
    from localrag.atomic import replace_synced

    tmp, target = tmp_path / ".model.onnx.1.2.tmp", tmp_path / "model.onnx"
    target.write_bytes(b"old")
    tmp.write_bytes(b"new export")
    replace_synced(tmp, target)
    assert target.read_bytes() == b"new export" and not tmp.exists()


def test_a_file_replaced_keeps_its_permissions_and_a_link_is_written_through(tmp_path: Path) -> None:
    # A settings file holding the API token, made 0600 by its user, came back 0644 at the next `config set`; a
    # config.toml linked from the user's dotfiles became a plain file, the dotfiles' copy left as it was.
    import os

    kept = tmp_path / "config.toml"
    kept.write_text("top_k = 3\n")
    kept.chmod(0o600)
    write_text_atomic(kept, "top_k = 4\n")
    assert (kept.stat().st_mode & 0o777, kept.read_text()) == (0o600, "top_k = 4\n")
    (tmp_path / "dotfiles").mkdir()
    target = tmp_path / "dotfiles" / "config.toml"
    target.write_text("top_k = 3\n")
    link = tmp_path / "linked.toml"
    link.symlink_to(target)
    write_text_atomic(link, "top_k = 5\n")
    assert link.is_symlink() and target.read_text() == "top_k = 5\n"
    assert sorted(os.listdir(tmp_path / "dotfiles")) == ["config.toml"]  # no temporary file left beside it
    # A link into a folder that is gone, or a loop, is replaced by the file, as before (a traceback otherwise).
    for dangling in (tmp_path / "gone" / "config.toml", tmp_path / "loop.toml"):
        link = tmp_path / f"{dangling.parent.name}-{dangling.name}"
        link.symlink_to(dangling)
        if dangling.name == "loop.toml":
            dangling.symlink_to(link)
        write_text_atomic(link, "top_k = 6\n")
        assert not link.is_symlink() and link.read_text() == "top_k = 6\n"
