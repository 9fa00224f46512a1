"""Reading a GGUF base with one parse (`localrag.tune.base._one_parse`): the same model and tokenizer as
transformers' own three parses, and gguf left as it was found."""

from __future__ import annotations

from pathlib import Path

import gguf
import pytest
import torch
from tiny_llama import LETTERS, tiny_state_dict, write_tiny_base

from localrag.errors import ModelError
from localrag.tune import base as tune_base


def test_one_parse_reads_the_same_model_and_tokenizer_as_transformers(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # The merges' results are tokens here: transformers builds its tokenizer only from a consistent vocabulary.
    tokens = [*LETTERS[:-2], "ab", "cd"]
    path = write_tiny_base(tmp_path / "tiny.Q4_1.gguf", tiny_state_dict(), letters=tokens)
    model, tokenizer = tune_base._read_gguf(path)
    plain_tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    plain_model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)

    ours, theirs = model.state_dict(), plain_model.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[name], theirs[name]) for name in ours)
    tokenizer.save_pretrained(tmp_path / "ours")
    plain_tokenizer.save_pretrained(tmp_path / "theirs")
    for file in sorted((tmp_path / "theirs").iterdir()):
        assert (tmp_path / "ours" / file.name).read_bytes() == file.read_bytes(), file.name
    assert tokenizer.chat_template


def test_inside_the_block_the_base_is_parsed_once_and_gguf_is_restored_after(tmp_path: Path) -> None:
    path = write_tiny_base(tmp_path / "tiny.gguf", tiny_state_dict())
    other = write_tiny_base(tmp_path / "other.gguf", tiny_state_dict(seed=1))
    reader_class, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    with tune_base._one_parse(path):
        shared = gguf.GGUFReader(str(path))
        assert gguf.GGUFReader(tmp_path / "." / "tiny.gguf") is shared
        assert gguf.GGUFReader(other) is not shared
        table = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2)
        assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2) is table
    assert gguf.GGUFReader is reader_class and gguf.get_tensor_name_map is name_map


def test_a_base_transformers_cannot_read_is_a_model_error_and_gguf_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    reader_class = gguf.GGUFReader
    with pytest.raises(ModelError, match="broken.gguf: transformers could not read the GGUF"):
        tune_base._read_gguf(path)
    assert gguf.GGUFReader is reader_class


def test_a_gguf_named_without_the_gguf_ending_is_read_and_leaves_nothing(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An Ollama blob is named `sha256-…`: transformers picks its GGUF reader by the `.gguf` ending, read the blob
    as a torch pickle and `tune` failed with "Weights only load failed" on a valid GGUF."""
    import tempfile

    tokens = [*LETTERS[:-2], "ab", "cd"]  # as transformers builds a tokenizer (the first test)
    (tmp_path / "blobs").mkdir()
    blob = write_tiny_base(tmp_path / "blobs" / "sha256-0123abcd", tiny_state_dict(), letters=tokens)
    plain = write_tiny_base(tmp_path / "plain.gguf", tiny_state_dict(), letters=tokens)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    model, tokenizer = tune_base._read_gguf(blob)
    same, _ = tune_base._read_gguf(plain)
    assert all(torch.equal(model.state_dict()[name], tensor) for name, tensor in same.state_dict().items())
    assert tokenizer.chat_template
    assert list(scratch.iterdir()) == [] and list(blob.parent.iterdir()) == [blob]
