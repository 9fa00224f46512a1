"""A LanceDB table that does not open: set its damaged newest manifests aside, so it opens at an older version.

Each commit to a table writes one manifest file in `_versions/` (named `2**64 - 1 - version`, so the
newest has the smallest name), which lists the data files of that version. Opening a table reads
the newest manifest only: a cut or corrupt one makes every open fail, although the manifests of the
versions before it, and the data files they list, are whole. Setting the newest manifests aside
(moved under the store's quarantine folder, never deleted) until one opens loses only the commits
after it; the caller then makes the other tables agree with the version kept. When no version opens,
the table's whole folder is set aside, and the caller rebuilds the table as if it were missing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.store_damage import is_damage, is_hollow

if TYPE_CHECKING:
    from lancedb.db import DBConnection

_V2_NAMES = 1 << 63  # manifest names above this count down from 2**64 - 1 (lance's V2 naming)


@dataclass(frozen=True)
class Rollback:
    """What `roll_back` did to one table."""

    table: str
    from_version: int  # the version of the newest manifest found (the damaged one)
    to_version: int  # the version it opens at now; 0 when none opened and the folder was set aside
    aside: Path  # where the damaged manifests (or the whole folder) now are

    def summary(self) -> str:
        """One line for a repair report."""
        if self.to_version:
            return (
                f"the {self.table} table was rolled back from version {self.from_version} to {self.to_version}, the "
                f"newest that opens (its damaged manifests were set aside in {self.aside})"
            )
        return f"no version of the {self.table} table opens: its folder was set aside in {self.aside}"


def opens(db: DBConnection, name: str) -> bool:
    """Whether table `name` opens (its newest manifest reads, and holds its columns); raises what is not damage."""
    try:
        table = db.open_table(name)
    except Exception as exc:
        if not is_damage(exc):
            raise
        return False
    return not is_hollow(table)


def manifest_version(path: Path) -> int:
    """The table version a manifest file holds, from its name (either of lance's two namings)."""
    number = int(path.stem)
    return (1 << 64) - 1 - number if number > _V2_NAMES else number


def _manifests(table_dir: Path) -> list[Path]:
    """The table's manifest files, newest first."""
    found = [p for p in (table_dir / "_versions").glob("*.manifest") if p.stem.isdigit()]
    return sorted(found, key=manifest_version, reverse=True)


def roll_back(db: DBConnection, db_dir: Path, name: str) -> Rollback:
    """Set aside the newest manifests of table `name` (which does not open) until it opens.

    The quarantine folder is beside the store's (`<data>/quarantine/<time>-<random>/`), so dropping or
    rebuilding the table cannot touch what was set aside.
    """
    table_dir = Path(db_dir) / f"{name}.lance"
    quarantine = Path(db_dir).parent / "quarantine"
    quarantine.mkdir(exist_ok=True)
    # A folder of its own per repair: a second repair within the same second must not touch the first's.
    aside = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=quarantine)) / f"{name}.lance"
    manifests = _manifests(table_dir)
    newest = manifest_version(manifests[0]) if manifests else 0
    versions = aside / "_versions"
    versions.mkdir(parents=True, exist_ok=True)
    for manifest in manifests[:-1]:
        shutil.move(manifest, versions / manifest.name)
        if opens(db, name):
            return Rollback(name, newest, db.open_table(name).version, aside)
    for manifest in manifests[:-1]:  # put back what was tried: the folder set aside next is kept whole
        shutil.move(versions / manifest.name, manifest)
    shutil.rmtree(aside)
    shutil.move(table_dir, aside)
    return Rollback(name, newest, 0, aside)
