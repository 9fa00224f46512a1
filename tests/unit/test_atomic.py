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
