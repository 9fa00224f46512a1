"""Per-row checksums of a chunk's text and vector, kept beside them to catch silent damage.

LanceDB's data files carry no checksum of their own: a flipped block inside a vector reads back as
other floats, and every search then ranks with them without any error. Each chunk row therefore
stores two 64-bit BLAKE2b sums written with it: one over its id and text, one over its id and the
vector's float32 bytes. Two sums rather than one tell `localrag repair` what can be rebuilt: a bad
vector beside a good text is embedded again from the text; a bad text cannot be, and its file must
be read again. The id is inside both sums, so a row whose text or vector moved to another row fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def _sum(chunk_id: str, payload: bytes) -> int:
    digest = hashlib.blake2b(chunk_id.encode("utf-8", "surrogatepass") + b"\0" + payload, digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def text_sum(chunk_id: str, text: bytes) -> int:
    """The sum of a chunk's text, as its UTF-8 bytes (read back as binary, so damage cannot fail decoding)."""
    return _sum(chunk_id, text)


def vector_sums(chunk_ids: Sequence[str], vectors: np.ndarray) -> list[int]:
    """The sums of these rows' vectors, as the float32 bytes the store holds."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    return [_sum(chunk_id, row.tobytes()) for chunk_id, row in zip(chunk_ids, matrix, strict=True)]


def text_sums(chunk_ids: Sequence[str], texts: Sequence[str]) -> list[int]:
    return [text_sum(i, t.encode("utf-8", "surrogatepass")) for i, t in zip(chunk_ids, texts, strict=True)]
