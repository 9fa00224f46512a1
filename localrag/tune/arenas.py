"""Fewer glibc malloc arenas for embedder tuning, which trains on several threads.

glibc gives a thread that finds the main arena busy an arena of its own (up to eight per core), and
memory freed into an arena stays in it. torch's and ONNX Runtime's worker threads each grow such a
pool, so a process that trains on two threads holds memory that one thread freed and the other cannot
reuse: embedder tuning on 3,538 COVID-QA chunks peaked at 4,199 MB RSS on two threads against
3,305 MB with this cap, in the same time (benchmarks/README.md, "Embedder tuning with glibc's malloc
arenas capped"). `mallopt(M_ARENA_MAX)` caps the arenas created from then on; it is glibc's own call,
so elsewhere (macOS, Windows, musl) nothing changes.
"""

from __future__ import annotations

import ctypes
import sys

# glibc's malloc.h: mallopt's parameter number for the arena cap.
_M_ARENA_MAX = -8
TRAINING_ARENAS = 2


def limit_malloc_arenas(arenas: int = TRAINING_ARENAS) -> bool:
    """Cap glibc's malloc arenas at `arenas` for the rest of the process; whether the cap was taken."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(_M_ARENA_MAX, arenas) == 1
