"""OpenVINO's CPU runtime for the embedder's ONNX export: the `openvino` and `openvino-bf16` backends.

OpenVINO compiles the same cached ONNX file that ONNX Runtime runs (embed_onnx), with attention fused
into single kernels. On this project's 2-core AVX-512 machine it encoded an ingest's chunks faster than
ONNX Runtime in float32, and in bfloat16 faster than torch's bf16 weights, whose attention gains nothing
from bf16 on a CPU without AMX (benchmarks/README.md, "OpenVINO"); on a 2-core AVX2-only one its float
ingest was 1.25x ONNX Runtime's ("OpenVINO on an AVX2-only CPU"). The bf16 variant only pays on a CPU
that multiplies bf16 natively; `embed_onnx.check_backend` refuses it elsewhere. On one short text on one thread
(a question) OpenVINO was the slower, so the float backend's questions run on ONNX Runtime
(`OnnxEmbedder.embed_queries`).

The precision is always set: OpenVINO's own default on such a CPU is bf16, which would change the float
backend's vectors without a word.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class OpenVinoRuntime:
    """A compiled ONNX export; `run` may be called from several threads (one infer request per call)."""

    def __init__(self, onnx_file: Path, *, bf16: bool, threads: int) -> None:
        import openvino as ov

        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
            # One batch at a time, as the embedder calls it: no streams competing for the two cores.
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        self._compiled = ov.Core().compile_model(str(onnx_file), "CPU", config)
        self.inputs = frozenset(port.get_any_name() for port in self._compiled.inputs)
        self._output = self._compiled.output(0)

    @property
    def threads(self) -> int:
        return int(self._compiled.get_property("INFERENCE_NUM_THREADS"))

    @property
    def width(self) -> int | None:
        shape = self._output.get_partial_shape()
        last = shape[shape.rank.get_length() - 1]
        return last.get_length() if last.is_static else None

    def run(self, feed: dict[str, NDArray[np.int64]]) -> NDArray[np.float32]:
        request = self._compiled.create_infer_request()
        result = request.infer({name: value for name, value in feed.items() if name in self.inputs})
        # The request owns the output buffer: copy before the request is dropped.
        return np.array(result[self._output], dtype=np.float32, copy=True)
