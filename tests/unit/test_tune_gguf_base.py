"""`read_base_gguf` reads what gguf's own GGUFReader reads: every key/value as the writer takes it, the tensor
table, and the float tensors' values; a file it cannot read is one ExportError naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
from tiny_llama import tiny_state_dict, write_tiny_base

from localrag.models import bundled_generator_path
from localrag.tune.gguf_base import read_base_gguf
from localrag.tune.gguf_writer import ExportError


def _reference(path: Path) -> tuple[dict[str, tuple[Any, int, int | None]], gguf.GGUFReader]:
    """The key/values as GGUFReader gives them, strings as raw bytes."""
    reader = gguf.GGUFReader(path)
    out: dict[str, tuple[Any, int, int | None]] = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        main = field.types[0]
        if main == gguf.GGUFValueType.STRING:
            out[name] = (bytes(field.parts[field.data[0]]), main, None)
        elif main == gguf.GGUFValueType.ARRAY and field.types[-1] == gguf.GGUFValueType.STRING:
            out[name] = ([bytes(field.parts[i]) for i in field.data], main, field.types[-1])
        elif main == gguf.GGUFValueType.ARRAY:
            out[name] = (field.contents(), main, field.types[-1])
        else:
            out[name] = (field.contents(), main, None)
    return out, reader


@pytest.mark.parametrize("which", ["tiny", "bundled"])
def test_the_same_keys_values_and_tensors_as_ggufs_own_reader(tmp_path: Path, which: str) -> None:
    path = write_tiny_base(tmp_path / "tiny.gguf", tiny_state_dict()) if which == "tiny" else bundled_generator_path()
    expected, reader = _reference(path)
    base = read_base_gguf(path)

    assert list(base.metadata) == list(expected)
    for key, (value, vtype, sub) in expected.items():
        assert base.metadata[key] == (value, vtype, sub), key
    assert [(t.name, t.dims, t.ggml_type) for t in base.tensors] == [
        (t.name, tuple(int(d) for d in t.shape), int(t.tensor_type)) for t in reader.tensors
    ]
    assert base.data_start == reader.data_offset
    for ours, theirs in zip(base.tensors, reader.tensors, strict=True):
        assert ours.offset + base.data_start == theirs.data_offset
        if ours.ggml_type in (0, 1):
            np.testing.assert_array_equal(base.float_tensor(ours), np.asarray(theirs.data).reshape(ours.shape))


def test_a_cut_file_is_one_export_error_naming_it(tmp_path: Path) -> None:
    whole = write_tiny_base(tmp_path / "tiny.gguf", tiny_state_dict()).read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[:300])
    with pytest.raises(ExportError, match="cut.gguf: cannot read the base GGUF"):
        read_base_gguf(cut)
