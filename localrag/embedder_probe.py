"""Telling two embedders of one name apart: a probe vector kept with each new index.

An index records its embedder by name, and a folder's name is all a sentence-transformers folder has (two
checkpoints saved as `run1/final` and `run2/final` are both `final`): switching the `embedder` setting from one
to the other passed the name check, so searches matched the new model's questions against the old model's
vectors and an ingest wrote both models' vectors into one index. A new index keeps the vector its embedder
gives one fixed text, and the folder it came from; an embedder whose vector for that text differs is refused
with the folder that built the index. The runtimes of one model (torch, ONNX, OpenVINO) agree far closer than
the floor; quantized ones carry a name of their own (`+int8`, `+bf16`). An index made before this has no probe
and is not checked: recording one for it now could record the wrong embedder's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from localrag.errors import EmbedderMismatchError

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.store import Store

PROBE_KEY = "embedder_probe"
PROBE_TEXT = "The harbour master logs every ship that enters the port, with its cargo and its crew."
# Cosine of the two vectors of PROBE_TEXT: one model on two runtimes stays above it.
MIN_COSINE = 0.999


def check_embedder(store: Store, embedder: Embedder) -> None:
    """Refuse `embedder` for `store` when the index was built by another model of the same name; record the probe
    of an index that holds nothing yet (again for another model: an empty index is bound to no model)."""
    recorded = store.get_meta(PROBE_KEY)
    if not recorded and store.chunk_count():
        return
    vector = embedder.embed([PROBE_TEXT])[0]
    if recorded:
        probe = json.loads(recorded)
        kept = np.asarray(probe.get("vector") or [], dtype=np.float32)
        if kept.shape == vector.shape and float(kept @ vector) >= MIN_COSINE:
            return
        if store.chunk_count():
            raise _refusal(store, embedder, probe.get("folder") or "")
    folder = getattr(embedder, "folder", None)
    store.set_meta(PROBE_KEY, json.dumps({"folder": str(folder) if folder else "",
                                          "vector": [round(float(v), 6) for v in vector]}))


def _refusal(store: Store, embedder: Embedder, built: str) -> EmbedderMismatchError:
    if built and built == str(getattr(embedder, "folder", "")):
        return EmbedderMismatchError(
            f"{store.path}: the model in {built} is not the one that built this index (its files changed since)",
            "put that model back, or re-ingest into a fresh store",
        )
    return EmbedderMismatchError(
        f"{store.path}: built by another model that is also named '{embedder.name}' (its vectors differ from this "
        "one's, and searching or adding with it would mix the two)",
        f"set embedder = \"{built}\", the folder that built it, or re-ingest into a fresh store" if built else
        "set `embedder` to the folder that built it, or re-ingest into a fresh store",
    )
