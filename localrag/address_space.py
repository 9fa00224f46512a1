"""Is this process allowed the address space localrag needs? Checked before the index is opened.

Under a cap on virtual memory (`ulimit -v`, `prlimit --as`, a container's RLIMIT_AS) below what localrag's
libraries reserve, what fails first is left to chance, and most of it cannot be caught: on a 2-core machine an
ingest capped at 2.5-2.7 GB segfaulted in OpenVINO, aborted in Rust ("memory allocation of 37 bytes failed",
134), raised "OS can't spawn worker thread" from LanceDB's runtime, or spun forever in that runtime, its write
never answered (the panicked task's future is never completed); at 1 GB `import pyarrow` failed to map
libarrow. An ingest or search reserves about 3.0 GB of address space there (VmPeak; most of it thread stacks and
malloc arenas, never touched), so the cap is checked against 4 GB up front, where it is a plain number to compare
with and a plain line to say. What still runs short past the check (a machine with many cores makes more threads)
is said as one line too: `short_of_memory`.
"""

from __future__ import annotations

import errno
import resource

from localrag.errors import LocalRagError

GB = 1000**3  # as `prlimit --as` and `ulimit -v` are typed: 3000000000 reads as 3.0 GB
# VmPeak of an ingest and of a search on 2 cores was 2.9-3.0 GB; ingests capped at 2.5-2.7 GB failed in the ways
# above, and one capped at 3.0 GB hung (a tester's machine). A gigabyte over what was measured.
NEEDED = 4 * GB

_HINT = "raise the limit (`ulimit -v unlimited`, or a larger `prlimit --as`), or run localrag without it"


class MemoryLimitError(LocalRagError):
    title = "Not enough memory"


def address_space_limit() -> int | None:
    """The process's soft cap on virtual memory in bytes; None when there is none."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def check_address_space(limit: int | None = None) -> None:
    """Refuse, naming the cap, when the process may map less than localrag needs (`limit`: the cap, or the
    process's own)."""
    limit = address_space_limit() if limit is None else limit
    if limit is not None and limit < NEEDED:
        raise MemoryLimitError(_too_little(limit), _HINT)


def short_of_memory(exc: BaseException) -> MemoryLimitError | None:
    """`exc` as one line when it says memory ran short (MemoryError; a library that failed to map its code,
    "failed to map segment from shared object"; ENOMEM; a thread that could not start), naming the process's
    cap where it has one (as too small only below NEEDED); None otherwise."""
    text = str(exc)
    if not (isinstance(exc, MemoryError)
            or (isinstance(exc, (ImportError, OSError)) and ("failed to map segment" in text
                                                             or "cannot allocate memory" in text.lower()))
            or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)
            # A thread's stack is memory too: Python's "can't start new thread", LanceDB's "OS can't spawn worker
            # thread" (a RuntimeError from its runtime's panic), each a traceback under a 2.6 GB cap.
            or (isinstance(exc, RuntimeError) and ("can't start new thread" in text
                                                   or "can't spawn worker thread" in text))):
        return None
    limit = address_space_limit()
    if limit is not None and limit < NEEDED:
        return MemoryLimitError(_too_little(limit), _HINT)
    if limit is not None:
        # A cap above what localrag needs is no cap too small (it said "needs about 4 GB; limited to 16.4 GB"):
        # the machine's memory, or more threads than measured, ran short under it.
        return MemoryLimitError(f"not enough memory: localrag ran out of memory or threads under this process's cap "
                                f"of {limit / GB:.1f} GB (ulimit -v / prlimit --as)",
                                "close other programs, or raise the limit (`ulimit -v unlimited`, or a larger "
                                "`prlimit --as`)")
    return MemoryLimitError("not enough memory: the system had none left to give localrag (or no more threads)",
                            "close other programs and run it again")


def _too_little(limit: int) -> str:
    return (f"not enough memory: localrag needs about {NEEDED // GB} GB of address space; this process is "
            f"limited to {limit / GB:.1f} GB (ulimit -v / prlimit --as)")
