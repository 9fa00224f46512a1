"""glibc malloc controls for training on several threads: fewer arenas, free pages handed back.

glibc gives a thread that finds the main arena busy an arena of its own (up to eight per core), and
memory freed into an arena stays in it. torch's and ONNX Runtime's worker threads each grow such a
pool, so a process that trains on two threads holds memory that one thread freed and the other cannot
reuse: embedder tuning on 3,538 COVID-QA chunks peaked at 4,199 MB RSS on two threads against
3,305 MB with this cap, in the same time (benchmarks/README.md, "Embedder tuning with glibc's malloc
arenas capped"). `mallopt(M_ARENA_MAX)` caps the arenas created from then on.

LoRA fine-tuning instead hands the free pages back after each step (`malloc_trim`): its rows train in
two threads at once, so each arena's free pages are its own row's, and capping the arenas made the
rows contend for one (benchmarks/README.md, "Training rows side by side").

Both are glibc's own calls, so elsewhere (macOS, Windows, musl) nothing changes.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

# glibc's malloc.h: mallopt's parameter number for the arena cap.
_M_ARENA_MAX = -8
TRAINING_ARENAS = 2


def _glibc(name: str, *argtypes: type) -> Any:
    """glibc's function `name` with its argument types, returning an int; None off Linux or without it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = list(argtypes)
    function.restype = ctypes.c_int
    return function


def limit_malloc_arenas(arenas: int = TRAINING_ARENAS) -> bool:
    """Cap glibc's malloc arenas at `arenas` for the rest of the process; whether the cap was taken."""
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and mallopt(_M_ARENA_MAX, arenas) == 1


def release_free_memory() -> bool:
    """Hand the pages that glibc's malloc holds free back to the system (`malloc_trim(0)`); whether it did."""
    trim = _glibc("malloc_trim", ctypes.c_size_t)
    return trim is not None and trim(0) == 1
