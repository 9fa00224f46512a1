"""A file or folder the user may not read, met by an ingest: each failure names its fix, as a FIFO's does ("cannot
read (Permission denied)" said no more). The CLI runs in a child held to file modes (tests/disks.py), so that root
meets a real EACCES."""

from __future__ import annotations

from pathlib import Path

import pytest
from disks import run_held_to_modes

pytestmark = pytest.mark.integration


def test_an_unreadable_file_and_an_unlistable_folder_name_their_fix(localrag_home: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "ok.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    (docs / "locked.md").write_text("# Vault\n\nThe vault opens at nine.\n")
    (docs / "sub" / "in.md").write_text("# Well\n\nThe well is forty metres deep.\n")
    (docs / "locked.md").chmod(0)
    (docs / "sub").chmod(0)
    try:
        done = run_held_to_modes(["ingest", str(docs)])
    finally:
        (docs / "sub").chmod(0o755)
    assert done.returncode == 1, done.stderr
    fix = "(make it readable to this user, or exclude it)"
    failed = sorted(line for line in (done.stdout + done.stderr).splitlines() if line.startswith("failed: "))
    assert failed == [f"failed: {docs / 'locked.md'}: cannot read (Permission denied) {fix}",
                      f"failed: {docs / 'sub'}: cannot list the folder (Permission denied) {fix}"]
