"""Under a cap on virtual memory (`ulimit -v`, `prlimit --as`) too small for localrag, one line says so and the
command ends with 2: an ingest capped at 2.5-3 GB hung for good or crashed, a search at 1 GB aborted (134) or
ended in a MemoryError traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrag.address_space import NEEDED, MemoryLimitError, check_address_space, short_of_memory


def test_a_cap_below_what_localrag_needs_is_refused_naming_it() -> None:
    with pytest.raises(MemoryLimitError, match=r"needs about 4 GB .* limited to 2\.5 GB \(ulimit -v / prlimit --as\)"):
        check_address_space(2_500_000_000)
    check_address_space(NEEDED)


@pytest.fixture
def capped() -> Iterator[None]:
    """A finite cap far above what the tests use, put back after."""
    before = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (10**12, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, before)


@pytest.mark.parametrize("exc", [
    MemoryError(),
    ImportError("libarrow.so.2600: failed to map segment from shared object"),
    OSError(12, "Cannot allocate memory"),
    RuntimeError("can't start new thread"),
    RuntimeError('Runtime error: Insert task panicked: task 452 panicked with message "OS can\'t spawn worker '
                 'thread: Resource temporarily unavailable (os error 11)"'),
])
def test_memory_run_short_is_said_with_the_cap(capped: None, exc: BaseException) -> None:
    said = short_of_memory(exc)
    assert said is not None and "not enough memory" in str(said) and "cap of 1000.0 GB" in str(said)


def test_memory_run_short_under_a_cap_above_what_is_needed_is_not_called_too_small(capped: None) -> None:
    # Under a 1000 GB cap it said "needs about 4 GB ...; limited to 1000.0 GB": a cap above the need, called too small.
    said = short_of_memory(RuntimeError("can't start new thread"))
    assert said is not None and said.message == (
        "not enough memory: localrag ran out of memory or threads under this process's cap of 1000.0 GB "
        "(ulimit -v / prlimit --as)")


def test_memory_run_short_under_a_cap_below_what_is_needed_names_the_need() -> None:
    # In a child: a 3 GB cap on the test process itself could fail its other threads' allocations meanwhile.
    code = ("import resource; from localrag.address_space import short_of_memory; "
            "resource.setrlimit(resource.RLIMIT_AS, (3 * 10**9, resource.getrlimit(resource.RLIMIT_AS)[1])); "
            "print(short_of_memory(MemoryError()).message)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert said == ("not enough memory: localrag needs about 4 GB of address space; this process is limited to "
                    "3.0 GB (ulimit -v / prlimit --as)\n")


def test_other_errors_are_not_taken_for_memory() -> None:
    assert short_of_memory(ImportError("No module named 'lancedb'")) is None
    assert short_of_memory(OSError(28, "No space left on device")) is None
    assert short_of_memory(ValueError("bad")) is None
    assert short_of_memory(RuntimeError("Runtime error: the table is corrupt")) is None


def _cap(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def test_an_ingest_under_too_small_a_cap_says_so_in_one_line_and_exits_2(localrag_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nThe OCELOT project is about cats.\n")
    env = {**os.environ, "LOCALRAG_HOME": str(localrag_home),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-m", "localrag", "ingest", str(folder)], capture_output=True,
                            text=True, env=env, timeout=120, preexec_fn=lambda: _cap(2_500_000_000))
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "localrag: not enough memory: localrag needs about 4 GB of address space; this process is limited to "
        "2.5 GB (ulimit -v / prlimit --as) (raise the limit (`ulimit -v unlimited`, or a larger `prlimit --as`), "
        "or run localrag without it)"]
