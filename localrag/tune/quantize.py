"""Quantize an F16 GGUF with llama.cpp's own quantizer, the one bound in llama-cpp-python.

Using `llama_model_quantize` from the installed wheel means no llama.cpp checkout, compiler or
download at export time, and the result is exactly what llama.cpp's `llama-quantize` tool would
write (including its per-tensor choices, e.g. K-quant fallbacks for rows not divisible by 256).
The output goes to a temporary name in the destination folder and is renamed into place only after
llama.cpp reports success, so a failed or killed quantization never leaves a file under the final
name. The temporary name starts with "." and does not end in ".gguf", so model listings skip it.

The call runs in a child process (`_CHILD`, `_quantize_here`). In this process Ctrl-C was lost: llama.cpp
calls back into Python to log each tensor, the KeyboardInterrupt was raised inside that ctypes callback, which
swallows it, and the export went on to replace the model and exit 0. The child is killed instead, and its log
(a line per tensor) goes to a file, not the user's terminal.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

from localrag.cpu import worker_threads
from localrag.processes import sigterm_as_ctrl_c
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


# Quantizers running, with their temporary outputs: killed, and their files removed, when this process exits while
# one runs in a thread it no longer waits for (`tune`'s worker, left by a second Ctrl-C), so none quantizes on for
# minutes with no one to wait for it.
_RUNNING: dict[subprocess.Popen[bytes], Path] = {}


@atexit.register
def _end_running() -> None:
    for child, tmp in list(_RUNNING.items()):
        child.kill()
        child.wait()
        tmp.unlink(missing_ok=True)


def _last_error_line(log: IO[bytes]) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    failures = [line for line in lines if "fail" in line.lower() or "error" in line.lower()]
    return (failures or lines or ["no log"])[-1][:200]


def quantize(src: Path, dst: Path, quant: str = "Q8_0", *, threads: int | None = None) -> Path:
    """Quantize `src` (an F16/F32 GGUF) to `dst` with llama.cpp; returns `dst`. Ctrl-C (or SIGTERM, in the main
    thread) stops it at once and installs nothing."""
    quant = check_quant(quant)
    if not src.is_file():
        raise QuantizeError(f"{src}: no such GGUF to quantize", "write the F16 export first")
    tmp = temp_path_for(dst)
    # The child ignores Ctrl-C from its first line on: the terminal's reached it too, which died of it, and `tune`'s
    # "stopping after the current step" failed the export as llama.cpp's ("could not quantize (KeyboardInterrupt)",
    # exit 2). This process says when it stops, and kills it then. It stays in the terminal's job (Ctrl-Z stops it).
    command = [sys.executable, "-c", _CHILD, str(src), str(tmp), _FTYPE_NAMES[quant], str(threads or worker_threads())]
    # SIGTERM as Ctrl-C while the child runs: by default it ended this process alone, and the child went on
    # quantizing for minutes with no one to wait for it.
    with sigterm_as_ctrl_c():
        try:
            with tempfile.TemporaryFile() as log:
                child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
                _RUNNING[child] = tmp
                try:
                    code = child.wait()
                except BaseException:
                    child.kill()
                    child.wait()
                    raise
                finally:
                    _RUNNING.pop(child, None)
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


_CHILD = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); from localrag.tune.quantize import "
          "_quantize_here; sys.exit(_quantize_here(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))")


def _quantize_here(src: str, tmp: str, ftype: str, threads: int) -> int:
    """The child's work: llama.cpp's quantizer, its return code (0: done)."""
    import ctypes

    if sys.platform.startswith("linux"):
        # Ended with its parent, however that ends (kill -9 too): Linux's parent-death signal.
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent was gone before the line above
            return 1
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, ftype)
    params.nthread = threads
    return int(llama_cpp.llama_model_quantize(src.encode("utf-8"), tmp.encode("utf-8"), ctypes.byref(params)))
