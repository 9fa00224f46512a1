"""The malloc arena cap the training loops set: glibc's mallopt on Linux, nothing elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from localrag.tune import arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena cap is glibc's")
def test_the_cap_is_taken_by_glibc() -> None:
    # In a child, so this test process keeps its own malloc settings.
    code = "from localrag.tune.arenas import limit_malloc_arenas; print(limit_malloc_arenas())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


def test_nothing_is_called_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arenas.sys, "platform", "darwin")
    monkeypatch.setattr(arenas.ctypes, "CDLL", lambda *_: pytest.fail("no libc call off Linux"))
    assert arenas.limit_malloc_arenas() is False
