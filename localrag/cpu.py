"""What this CPU offers a job now: how many threads to take, and whether it multiplies bfloat16 natively.

Threads: how many a training, export, quantizing or embedding job, or an answer, should take now.

Torch and llama.cpp spin-wait between the parts of a matrix product; when other processes hold the
cores, two spinning threads on a loaded 2-core machine ran the same forward passes 17x slower than
one thread (70 s vs 4 s). So a job takes the cores that are free now, and at least one.

"Free now" comes from the kernel's CPU counters over a short sample, less this process's own CPU
time, and not from the load average. The load average trails by about a minute and counts this
process's own earlier work. So a training stage started right after question writing in the same
`tune`, or a benchmark run right after another, saw a busy machine and took one thread of two idle
cores. Measured on an idle 2-core machine: 1.04x the Trainer baseline's tokens/s with the one
thread, 1.43x with two ("On an idle machine: training threads and ONNX encoding" in benchmarks/README.md). Where
there is no /proc/stat (not Linux), the load average is used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

# Long enough to see a neighbour's steady use of a core, short beside any job that asks.
SAMPLE_S = 0.3
_PROC_STAT = Path("/proc/stat")


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (`taskset`, a container's cpuset), not the machine's
    count. llama.cpp given more threads than that shares cores between its own threads."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity call (not Linux)
        return max(1, os.cpu_count() or 1)


def worker_threads(*, sample_s: float | None = None, own: Callable[[], float] = time.process_time) -> int:
    """CPU threads worth using now: the cores other work is not using, at least one.

    `own` is the CPU clock of the work that will take the threads, left out of "other work": this
    process's by default (a job and all its threads), `time.thread_time` for work the calling thread
    hands to its own threads alone (an answer: an ingest in another thread of the chat app is then a
    neighbour like any other process). `sample_s`: the sample's length, SAMPLE_S by default.
    """
    cores = usable_cores()
    # An explicit count (the llama.cpp setting's variable) wins: a job given one core of a shared machine. Past the
    # usable cores, threads only take turns spin-waiting, as `n_threads` is capped in `LlamaGenerator`.
    chosen = os.environ.get("LOCALRAG_N_THREADS", "")
    if chosen.isdigit() and int(chosen) > 0:
        return min(cores, int(chosen))
    busy = busy_cores_of_others(cores, sample_s=sample_s, own=own)
    if busy is None:
        return cores
    return max(1, min(cores, round(cores - busy)))


def busy_cores_of_others(
    cores: int, *, sample_s: float | None = None, own: Callable[[], float] = time.process_time
) -> float | None:
    """Cores' worth of CPU that work other than `own` (a CPU clock) used over a sample of `sample_s`
    seconds (SAMPLE_S by default).

    Falls back to the 1-minute load average without /proc/stat; None when neither can be read.
    """
    first = cpu_counters()
    if first is None:
        try:
            return os.getloadavg()[0]
        except OSError:
            return None
    own_start = own()
    time.sleep(SAMPLE_S if sample_s is None else sample_s)
    second = cpu_counters()
    own_seconds = own() - own_start
    if second is None:
        return None
    busy_ticks = (second[0] - first[0]) - own_seconds * os.sysconf("SC_CLK_TCK")
    total_ticks = second[1] - first[1]
    if total_ticks <= 0:
        return 0.0
    # The counters are the whole machine's: its busy share stands for the share of `cores` (which may be
    # fewer, under an affinity) that others hold.
    return max(0.0, busy_ticks / total_ticks) * cores


def cpu_counters() -> tuple[int, int] | None:
    """(busy, total) clock ticks summed over all CPUs since boot, from /proc/stat; None without it."""
    try:
        line = _PROC_STAT.read_text(encoding="ascii").splitlines()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    fields = line.split()
    if not fields or fields[0] != "cpu" or len(fields) < 5:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    ticks = [int(value) for value in fields[1:9]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    total = sum(ticks)
    return total - idle, total


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (avx512_bf16 or AMX; Linux's /proc/cpuinfo flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
