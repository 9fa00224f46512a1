"""A run trained on another machine (a GPU machine, say) records that machine's path to its base: export
finds the base here when told where (`base=`, `localrag export --base`, the tune chain's plan), and only
when it is the very file the run was trained on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from localrag.cli import run
from localrag.tune.export import _run_base, export_model
from localrag.tune.gguf_writer import ExportError

WEIGHTS = b"GGUF base weights, as trained on"


def trained_elsewhere(tmp_path: Path) -> Path:
    """A finished run whose base was at a path that does not exist on this machine."""
    folder = tmp_path / "run"
    (folder / "adapter").mkdir(parents=True)
    (folder / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
    record = {"version": 1, "status": "done",
              "base": {"path": "/on/the/gpu/machine/base.gguf", "sha256": hashlib.sha256(WEIGHTS).hexdigest()}}
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def test_the_same_file_here_stands_in_for_the_recorded_path(tmp_path: Path) -> None:
    folder = trained_elsewhere(tmp_path)
    here = tmp_path / "base.gguf"
    here.write_bytes(WEIGHTS)
    info = json.loads((folder / "run.json").read_text())["base"]
    assert _run_base(folder, info, here) == (here, info["sha256"])


def test_another_file_is_refused_and_a_missing_base_says_how_to_name_it(tmp_path: Path) -> None:
    folder = trained_elsewhere(tmp_path)
    other = tmp_path / "other.gguf"
    other.write_bytes(b"another model")
    with pytest.raises(ExportError, match="not the base the run was trained on"):
        export_model(folder, "mine", models_dir=tmp_path / "models", base=other)
    with pytest.raises(ExportError, match="is gone") as missing:
        export_model(folder, "mine", models_dir=tmp_path / "models")
    assert "--base" in missing.value.hint
    with pytest.raises(ExportError, match="nowhere.gguf: no such file"):
        export_model(folder, "mine", models_dir=tmp_path / "models", base=tmp_path / "nowhere.gguf")
    assert not (tmp_path / "models" / "mine.gguf").exists()


def test_export_base_flag_reaches_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.gguf"
    other.write_bytes(b"another model")
    assert run(["export", "--run", str(trained_elsewhere(tmp_path)), "--name", "mine", "--base", str(other)]) == 2
    assert "not the base the run was trained on" in capsys.readouterr().err
