"""`disk_trouble`: a write that failed for want of space, as the one line the CLI prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.disk_errors import disk_trouble


def test_a_full_models_disk_is_named(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An export onto a models folder on a disk of its own (LOCALRAG_MODELS_DIR) named only the data folder's
    disk, with 70 GB free, and a hint naming every setting but the one that moves the models folder."""
    from disks import fill_disk

    monkeypatch.setenv("LOCALRAG_MODELS_DIR", str(small_disk / "models"))
    fill_disk(small_disk, 0)
    trouble = disk_trouble(RuntimeError("failed to write: No space left on device (os error 28)"))
    assert trouble is not None
    assert f"{small_disk / 'models'}: 0.0 MB free" in trouble.message
    assert "LOCALRAG_MODELS_DIR" in trouble.hint


def test_numpys_own_words_for_a_full_disk_are_known() -> None:
    # An export's tensors are written with numpy's `tofile`, whose OSError has no errno: a traceback followed.
    assert disk_trouble(OSError("Not enough free space to write 56623104 bytes after offset 1785664")) is not None
