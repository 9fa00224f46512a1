"""The thread count a tuning job takes: free cores from a CPU sample, not the trailing load average."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from localrag import cpu as threads


def _counters(*samples: tuple[int, int]) -> Callable[[], tuple[int, int]]:
    it = iter(samples)
    return lambda: next(it)


def test_cores_others_keep_busy_are_left_to_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALRAG_N_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    monkeypatch.setattr(threads, "SAMPLE_S", 0.0)
    # 8 cores, 800 ticks over the sample: 500 of them busy is 5 cores' worth, so 3 are left.
    monkeypatch.setattr(threads, "cpu_counters", _counters((0, 0), (500, 800)))
    assert threads.worker_threads() == 3
    monkeypatch.setattr(threads, "cpu_counters", _counters((0, 0), (0, 800)))
    assert threads.worker_threads() == 8
    monkeypatch.setattr(threads, "cpu_counters", _counters((0, 0), (800, 800)))
    assert threads.worker_threads() == 1


def test_a_stale_load_average_does_not_cost_an_idle_machine_its_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the idle benchmark hit: the previous run still counted in the load average.
    monkeypatch.delenv("LOCALRAG_N_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.9, 1.0, 0.5))
    monkeypatch.setattr(threads, "SAMPLE_S", 0.0)
    monkeypatch.setattr(threads, "cpu_counters", _counters((1000, 5000), (1000, 5200)))
    assert threads.worker_threads() == 2


def _busy_beside_a_spinning_thread(
    monkeypatch: pytest.MonkeyPatch, own: Callable[[], float]
) -> tuple[float | None, float]:
    """What `busy_cores_of_others` says, with clock `own`, while another thread of this process spins,
    and the share of a core the spinning thread got.

    The machine's counters are made this process's own CPU time: a machine whose only work is this
    process. Counters of a real shared machine would move with the neighbours (a parallel test worker
    among them) and could not tell a right answer from a wrong one.
    """
    tick = os.sysconf("SC_CLK_TCK")
    cores = 2

    def only_this_process() -> tuple[int, int]:
        return round(time.process_time() * tick), round(time.monotonic() * tick * cores)

    monkeypatch.setattr(threads, "cpu_counters", only_this_process)
    start = time.monotonic()
    stop = start + threads.SAMPLE_S + 1.0
    spun: list[float] = []

    def spin() -> None:
        cpu_start = time.thread_time()
        while time.monotonic() < stop:
            pass
        spun.append(time.thread_time() - cpu_start)

    worker = threading.Thread(target=spin)
    worker.start()
    try:
        busy = threads.busy_cores_of_others(cores, own=own)
    finally:
        worker.join()
    # On a loaded machine the spinning thread gets less than a core; what it got is the right answer.
    return busy, spun[0] / (time.monotonic() - start)


def test_this_process_s_own_cpu_is_not_counted_as_a_neighbour_s(monkeypatch: pytest.MonkeyPatch) -> None:
    # A job's own threads are the job: counted, the spinning one would be a whole core of a neighbour.
    busy, _spun = _busy_beside_a_spinning_thread(monkeypatch, time.process_time)
    assert busy is not None and busy < 0.3


def test_for_an_answer_another_thread_of_this_process_is_a_neighbour(monkeypatch: pytest.MonkeyPatch) -> None:
    # The chat app answers while its ingest embeds in another thread: for the answer's threads that
    # ingest holds a core like any other process would.
    busy, spun = _busy_beside_a_spinning_thread(monkeypatch, time.thread_time)
    assert busy is not None and busy > spun / 2


def test_without_proc_stat_the_load_average_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALRAG_N_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    monkeypatch.setattr(threads, "cpu_counters", lambda: None)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (5.0, 0.0, 0.0))
    assert threads.worker_threads() == 3
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (17.0, 0.0, 0.0))
    assert threads.worker_threads() == 1


def test_an_explicit_thread_count_wins_over_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    monkeypatch.setattr(threads, "SAMPLE_S", 0.0)
    monkeypatch.setattr(threads, "cpu_counters", lambda: (0, 0))
    monkeypatch.setenv("LOCALRAG_N_THREADS", "1")  # a job given one core of a shared machine
    assert threads.worker_threads() == 1
    monkeypatch.setenv("LOCALRAG_N_THREADS", "0")  # the setting's "the cores free": the machine decides again
    assert threads.worker_threads() == 8


def test_the_cores_are_those_this_process_may_run_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # `taskset -c 0`, or a container's cpuset, on a 2-core machine: one core, whatever os.cpu_count says.
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _pid: {0})
    assert threads.usable_cores() == 1
    monkeypatch.delenv("LOCALRAG_N_THREADS", raising=False)
    monkeypatch.setattr(threads, "SAMPLE_S", 0.0)
    monkeypatch.setattr(threads, "cpu_counters", _counters((0, 0), (0, 800)))
    assert threads.worker_threads() == 1
    monkeypatch.delattr(threads.os, "sched_getaffinity")  # not Linux
    assert threads.usable_cores() == 2


def test_an_explicit_thread_count_is_at_most_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    # LOCALRAG_N_THREADS=1024 gave embedding and training 1,024 threads on two cores, spin-waiting in turns.
    from localrag.cpu import usable_cores, worker_threads

    monkeypatch.setenv("LOCALRAG_N_THREADS", "1024")
    assert worker_threads(sample_s=0.0) == usable_cores()
    monkeypatch.setenv("LOCALRAG_N_THREADS", "1")
    assert worker_threads(sample_s=0.0) == 1
