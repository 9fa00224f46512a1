"""Quantize an F16 GGUF with llama.cpp's own quantizer, the one bound in llama-cpp-python.

Using `llama_model_quantize` from the installed wheel means no llama.cpp checkout, compiler or
download at export time, and the result is exactly what llama.cpp's `llama-quantize` tool would
write (including its per-tensor choices, e.g. K-quant fallbacks for rows not divisible by 256).
The output goes to a temporary name in the destination folder and is renamed into place only after
llama.cpp reports success, so a failed or killed quantization never leaves a file under the final
name. The temporary name starts with "." and does not end in ".gguf", so model listings skip it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from localrag.cpu import worker_threads
from localrag.tune.gguf_writer import ExportError

QUANT_TYPES = ("Q8_0", "Q4_K_M", "Q5_K_M", "F16")
_FTYPE_NAMES = {
    "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
    "Q4_K_M": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "Q5_K_M": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "F16": "LLAMA_FTYPE_MOSTLY_F16",
}


class QuantizeError(ExportError):
    title = "Quantization error"


def check_quant(quant: str) -> str:
    """The canonical spelling of a quantization type, or a QuantizeError listing the valid ones."""
    canonical = quant.strip().upper()
    if canonical not in QUANT_TYPES:
        raise QuantizeError(f"unknown quantization type '{quant}'", f"choose one of {', '.join(QUANT_TYPES)}")
    return canonical


def temp_path_for(dst: Path) -> Path:
    """A hidden, non-.gguf sibling of `dst` that names the writing process."""
    return dst.with_name(f".{dst.name}.{os.getpid()}.partial")


@contextmanager
def _native_stderr_to_file() -> Iterator[IO[bytes]]:
    """Send fd 2 to a temp file: llama.cpp logs a line per tensor, wanted only when something fails."""
    with tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            yield log
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _last_error_line(log: IO[bytes]) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    failures = [line for line in lines if "fail" in line.lower() or "error" in line.lower()]
    return (failures or lines or ["no log"])[-1][:200]


def quantize(src: Path, dst: Path, quant: str = "Q8_0", *, threads: int | None = None) -> Path:
    """Quantize `src` (an F16/F32 GGUF) to `dst` with llama.cpp; returns `dst`."""
    import ctypes

    import llama_cpp

    quant = check_quant(quant)
    if not src.is_file():
        raise QuantizeError(f"{src}: no such GGUF to quantize", "write the F16 export first")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, _FTYPE_NAMES[quant])
    params.nthread = threads or worker_threads()
    tmp = temp_path_for(dst)
    try:
        with _native_stderr_to_file() as log:
            code = llama_cpp.llama_model_quantize(
                str(src).encode("utf-8"), str(tmp).encode("utf-8"), ctypes.byref(params)
            )
            reason = _last_error_line(log) if code != 0 or not tmp.is_file() else ""
        if reason:
            raise QuantizeError(
                f"{src}: llama.cpp could not quantize to {quant} ({reason})",
                "check that the F16 file loads in llama.cpp, or pick another quantization type",
            )
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst
