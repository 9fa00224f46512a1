"""The malloc arena cap the training loops set: glibc's mallopt on Linux, nothing elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from localrag.tune import arenas


def _in_a_child(code: str) -> str:
    """What `code` prints, run in a child, so this test process keeps its own malloc settings."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena cap is glibc's")
def test_the_cap_is_taken_by_glibc() -> None:
    assert _in_a_child("from localrag.tune.arenas import limit_malloc_arenas; print(limit_malloc_arenas())") == "True"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_free_pages_are_handed_back_after_many_small_blocks_are_freed() -> None:
    # Small blocks live in the heap, not in mappings of their own, so only a trim returns their pages.
    assert _in_a_child("import ctypes; from localrag.tune.arenas import release_free_memory\n"
                       "blocks = [ctypes.create_string_buffer(4000) for _ in range(50_000)]\n"
                       "del blocks\n"
                       "print(release_free_memory())") == "True"


@pytest.mark.parametrize("call", ["limit_malloc_arenas", "release_free_memory"])
def test_nothing_is_called_off_linux(monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    monkeypatch.setattr(arenas.sys, "platform", "darwin")
    monkeypatch.setattr(arenas.ctypes, "CDLL", lambda *_: pytest.fail("no libc call off Linux"))
    assert getattr(arenas, call)() is False
