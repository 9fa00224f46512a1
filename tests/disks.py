"""Filling a small real file system (the `small_disk` fixture in conftest.py) to test what a full disk does."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def fill_disk(disk: Path, leave: int) -> Path:
    """Fill `disk` but for `leave` bytes, with one file: delete it to free the space."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 2**16)
    except OSError:
        pass
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def as_a_user_without_override(argv: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    """`python -m localrag ARGV` in a child held to file modes as any user is: root's own (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH, CAP_FOWNER) are dropped from its bounding set before it starts, so a folder made
    read-only with `chmod a-w` refuses it with a real EACCES. Another user would need to reach the interpreter."""

    def drop() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2, 3):
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return subprocess.Popen([sys.executable, "-m", "localrag", *argv], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=drop if os.geteuid() == 0 else None, **kwargs)


def run_held_to_modes(argv: list[str]) -> subprocess.CompletedProcess[str]:
    with as_a_user_without_override(argv) as child:
        out, err = child.communicate(timeout=300)
    return subprocess.CompletedProcess(argv, child.returncode, out, err)
