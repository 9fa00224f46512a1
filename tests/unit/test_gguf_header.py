"""GGUF header checks: a bad file is refused with a one-line error that names it."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from localrag.errors import ModelError
from localrag.models import bundled_generator_path, read_gguf_header, resolve_generator


def _gguf(tmp_path: Path, *, version: int = 3, tensors: list[tuple[str, list[int], int, int]] | None = None,
          extra: bytes = b"") -> Path:
    def s(text: str) -> bytes:
        return struct.pack("<Q", len(text)) + text.encode()

    tensors = tensors if tensors is not None else [("w", [32], 0, 0)]
    body = b"GGUF" + struct.pack("<IQQ", version, len(tensors), 1)
    body += s("general.architecture") + struct.pack("<I", 8) + s("llama")
    for name, dims, ggml_type, offset in tensors:
        body += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        body += struct.pack("<IQ", ggml_type, offset)
    body += b"\0" * (-len(body) % 32)
    path = tmp_path / "m.gguf"
    path.write_bytes(body + extra)
    return path


def test_bundled_model_header_is_read() -> None:
    header = read_gguf_header(bundled_generator_path())
    assert header.architecture == "llama"
    assert header.tensor_count > 100
    assert "<|im_start|>" in header.chat_template


def test_small_valid_file(tmp_path: Path) -> None:
    header = read_gguf_header(_gguf(tmp_path, extra=b"\0" * 128))
    assert header.architecture == "llama"
    assert header.tensor_count == 1


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(ModelError, match=r"model\.gguf: not a GGUF file"):
        read_gguf_header(path)


def test_unsupported_version(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="version 99"):
        read_gguf_header(_gguf(tmp_path, version=99))


def test_tensor_data_missing(tmp_path: Path) -> None:
    # 32 f32 elements need 128 bytes of data; only 64 follow the header.
    with pytest.raises(ModelError, match="truncated"):
        read_gguf_header(_gguf(tmp_path, extra=b"\0" * 64))


def test_truncated_real_model(tmp_path: Path) -> None:
    source = bundled_generator_path()
    cut = tmp_path / "cut.gguf"
    with source.open("rb") as src, cut.open("wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)
        dst.truncate(source.stat().st_size // 2)
    with pytest.raises(ModelError, match=r"cut\.gguf: GGUF file is truncated \("):
        read_gguf_header(cut)
    tiny = tmp_path / "tiny.gguf"
    tiny.write_bytes(source.read_bytes()[:5000])
    with pytest.raises(ModelError, match="truncated inside its header"):
        read_gguf_header(tiny)


def test_error_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with pytest.raises(ModelError) as info:
        read_gguf_header(path)
    assert "\n" not in str(info.value)
    assert "empty.gguf" in str(info.value)


def test_resolve_by_name_in_models_dir(tmp_path: Path) -> None:
    (tmp_path / "mine.gguf").write_bytes(b"GGUF")
    assert resolve_generator("mine", tmp_path) == (tmp_path / "mine.gguf").resolve()
    assert resolve_generator("", tmp_path) == bundled_generator_path()
    with pytest.raises(ModelError, match="model 'nothere' not found"):
        resolve_generator("nothere", tmp_path)


def _crafted(tmp_path: Path, kv: bytes) -> Path:
    path = tmp_path / "crafted.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + kv + b"\0" * 64)
    return path


def test_crafted_headers_are_one_line_errors_not_memory_or_recursion_errors(tmp_path: Path) -> None:
    huge_key = struct.pack("<Q", 2**62)
    with pytest.raises(ModelError, match="crafted.gguf: GGUF header is corrupt"):
        read_gguf_header(_crafted(tmp_path, huge_key))
    key = struct.pack("<Q", 1) + b"k"
    nested = key + struct.pack("<I", 9) + b"".join(struct.pack("<IQ", 9, 1) for _ in range(5000))
    with pytest.raises(ModelError, match="nested more than"):
        read_gguf_header(_crafted(tmp_path, nested))
    many = key + struct.pack("<I", 9) + struct.pack("<IQ", 8, 2**40)
    with pytest.raises(ModelError, match="crafted.gguf"):
        read_gguf_header(_crafted(tmp_path, many))


def test_one_bad_file_in_models_does_not_break_the_list(tmp_path: Path) -> None:
    from localrag.models import list_models

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(_crafted(tmp_path, struct.pack("<Q", 2**62)), models / "bomb.gguf")
    shutil.copy(_gguf(tmp_path, extra=b"\0" * 128), models / "fine.gguf")
    (models / "fine.json").write_text("[1, 2]")  # a card that is not an object
    rows = {m.name: m for m in list_models(models)}
    assert "corrupt" in rows["bomb"].error
    assert rows["fine"].error == "" and rows["fine"].architecture == "llama"
    assert "must be a JSON object" in rows["fine"].card["error"]


def test_a_name_in_models_is_that_file_wherever_a_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file called `mine` in the folder a command ran from was taken for the `model` setting "mine", and a
    models/bundled.gguf for `--model bundled`, labelled as the bundled model."""
    from localrag.tune.runs import TuneError, check_model_name

    models, work = tmp_path / "models", tmp_path / "work"
    models.mkdir()
    work.mkdir()
    (models / "mine.gguf").write_bytes(b"GGUF")
    (models / "bundled.gguf").write_bytes(b"GGUF")
    (work / "mine").write_text("my shopping list")
    monkeypatch.chdir(work)
    assert resolve_generator("mine", models) == (models / "mine.gguf").resolve()
    assert resolve_generator("./mine", models) == (work / "mine").resolve()  # a path is a path
    assert resolve_generator("bundled", models) == bundled_generator_path()
    assert resolve_generator("models:bundled", models) == (models / "bundled.gguf").resolve()
    with pytest.raises(TuneError, match="'bundled' cannot be a model name: it names the bundled model"):
        check_model_name("bundled")
