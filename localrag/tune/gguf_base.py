"""A GGUF base's key/values and tensor table, read whole, for writing a tuned model in the same form.

Export copies every key of the base (the vocabulary and merges included) into the tuned model's GGUF,
and takes the base-only tensors (rope frequencies) from it. gguf's own `GGUFReader` builds a numpy view
for every item of every array, which for the bundled model's 49k tokens and 48k merges takes about 4 s;
this walks the same bytes with `struct` over a memory map in about 0.1 s and gives the same values
(tested against `GGUFReader` on the bundled model; timed by benchmarks/bench_gguf_base.py).

Strings stay raw bytes, as `GGUFWriter.add_key_value` takes them, so a token that is not valid UTF-8
is copied as it was. A file this cannot read (cut short, an unknown value type) is one ExportError
naming it.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from localrag.models import GGUF_ARRAY, GGUF_SCALAR_FORMATS, GGUF_STRING
from localrag.tune.gguf_writer import ExportError

# ggml tensor types whose data export copies as they are.
_FLOAT_TENSORS = {0: np.float32, 1: np.float16}


@dataclass(frozen=True)
class BaseTensor:
    name: str
    dims: tuple[int, ...]  # GGUF order: the fastest-varying dimension first
    ggml_type: int
    offset: int  # from the start of the data section

    @property
    def shape(self) -> tuple[int, ...]:
        """numpy (row-major) order."""
        return tuple(reversed(self.dims))


@dataclass
class BaseGGUF:
    path: Path
    # key -> (value, GGUF value type, item type of an array or None), as GGUFWriter.add_key_value takes them
    metadata: dict[str, tuple[Any, int, int | None]]
    tensors: list[BaseTensor]
    data_start: int

    def value(self, key: str, default: Any = None) -> Any:
        entry = self.metadata.get(key)
        return default if entry is None else entry[0]

    def text(self, key: str) -> str:
        value = self.value(key, b"")
        return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)

    def float_tensor(self, tensor: BaseTensor) -> np.ndarray:
        """An F32 or F16 tensor's values in numpy order (a copy: the file is closed after)."""
        dtype = _FLOAT_TENSORS[tensor.ggml_type]
        count = int(np.prod(tensor.dims, dtype=np.int64))
        data = np.fromfile(self.path, dtype=dtype, count=count, offset=self.data_start + tensor.offset)
        if data.size != count:
            raise ExportError(f"{self.path}: tensor {tensor.name} is cut short", "re-download the base model")
        return data.reshape(tensor.shape)


class _Cursor:
    def __init__(self, view: mmap.mmap) -> None:
        self.view, self.pos = view, 0

    def take(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.view, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def raw_string(self) -> bytes:
        length = self.take("<Q")
        end = self.pos + length
        if end > len(self.view):
            raise struct.error("a string runs past the end of the file")
        data = bytes(self.view[self.pos:end])
        self.pos = end
        return data

    def array(self, key: str) -> tuple[list[Any], int]:
        item_type, count = self.take("<I"), self.take("<Q")
        if item_type == GGUF_STRING:
            return [self.raw_string() for _ in range(count)], item_type
        if item_type not in GGUF_SCALAR_FORMATS:
            raise ExportError(f"metadata key {key} is a nested array, which export cannot copy")
        fmt = GGUF_SCALAR_FORMATS[item_type]
        width = struct.calcsize(fmt)
        if self.pos + width * count > len(self.view):
            raise struct.error("an array runs past the end of the file")
        items = np.frombuffer(self.view, dtype=np.dtype(fmt), count=count, offset=self.pos).tolist()
        self.pos += width * count
        return items, item_type


def read_base_gguf(path: Path) -> BaseGGUF:
    """Every key/value and the tensor table of a GGUF; raises ExportError naming the file if it cannot."""
    path = Path(path)
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            cursor = _Cursor(view)
            if bytes(view[:4]) != b"GGUF":
                raise struct.error("wrong magic bytes")
            cursor.pos = 4
            cursor.take("<I")
            tensor_count, kv_count = cursor.take("<Q"), cursor.take("<Q")
            metadata: dict[str, tuple[Any, int, int | None]] = {}
            for _ in range(kv_count):
                key = cursor.raw_string().decode("utf-8")
                vtype = cursor.take("<I")
                if vtype == GGUF_STRING:
                    metadata[key] = (cursor.raw_string(), vtype, None)
                elif vtype == GGUF_ARRAY:
                    items, item_type = cursor.array(key)
                    metadata[key] = (items, vtype, item_type)
                elif vtype in GGUF_SCALAR_FORMATS:
                    metadata[key] = (cursor.take(GGUF_SCALAR_FORMATS[vtype]), vtype, None)
                else:
                    raise struct.error(f"unknown value type {vtype} for {key}")
            tensors = []
            for _ in range(tensor_count):
                name = cursor.raw_string().decode("utf-8")
                dims = tuple(cursor.take("<Q") for _ in range(cursor.take("<I")))
                tensors.append(BaseTensor(name, dims, cursor.take("<I"), cursor.take("<Q")))
            alignment = int(metadata.get("general.alignment", (32,))[0] or 32)
            data_start = -(-cursor.pos // alignment) * alignment
    except (OSError, ValueError, struct.error) as exc:
        raise ExportError(f"{path}: cannot read the base GGUF ({exc})", "re-download the base model") from exc
    return BaseGGUF(path, metadata, tensors, data_start)
