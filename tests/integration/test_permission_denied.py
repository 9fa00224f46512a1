"""A LOCALRAG_HOME the user may only read (another account's, or `chmod -R a-w`), or one shared with a group where a
member's umask left the group out: the commands that need not write work there as on a read-only disk, and a write
that is refused names the folder at fault, its owner and mode, and the fix. The CLI runs in a child held to file
modes (tests/disks.py), so that root meets a real EACCES."""

from __future__ import annotations

import grp
import http.client
import json
import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from disks import as_a_user_without_override, run_held_to_modes

from localrag.cli import run

pytestmark = pytest.mark.integration


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _my_group() -> str:
    return grp.getgrgid(os.getegid()).gr_name


def _read_only(folder: Path) -> None:
    subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)


def _writable(folder: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("LOCALRAG_HOME", str(home))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hotels.md").write_text("Hotels are capped at 150 euros per night.\n", encoding="utf-8")
    assert run(["ingest", str(docs)]) == 0
    assert run(["config", "set", "answer_mode", "extract"]) == 0
    assert run(["ask", "--conversation", "new", "hotel cap per night"]) == 0
    yield home
    _writable(home)


def test_a_home_the_user_may_only_read_answers_backs_up_checks_and_serves(home: Path, tmp_path: Path) -> None:
    _read_only(home)
    # No answer at all: ".../conversations/.lock: Permission denied (check that LOCALRAG_HOME ... names places
    # localrag can write ...)", exit 2.
    asked = run_held_to_modes(["ask", "--conversation", "last", "hotel cap per night"])
    assert asked.returncode == 2 and "150 euros" in asked.stdout, asked.stderr
    lock = home / "data" / "conversations" / ".lock"
    assert asked.stderr.splitlines()[-1] == (
        f"localrag: the answer was not saved in the conversation: {lock}: you cannot write this file (owner {_me()}, "
        f"group {_my_group()}, mode -r--r--r--) (give yourself access: chmod -R u+rwX '{home / 'data'}')")

    # Both refused for the writer lock's file, though they only read.
    (tmp_path / "bk").mkdir()
    backed = run_held_to_modes(["backup", str(tmp_path / "bk")])
    assert backed.returncode == 0 and "backed up to" in backed.stdout + backed.stderr, backed.stderr
    copy = next((tmp_path / "bk").iterdir())
    assert (copy / "data" / "lancedb" / "chunks.lance").is_dir()
    # Copied with its modes, the backup was read-only (dr-xr-xr-x, -r--r--r--): `rm -rf` of it failed, and a
    # restore refused every write.
    modes = {oct(p.stat().st_mode & 0o777) for p in copy.rglob("*")}
    assert modes == {"0o700", "0o600"} and (copy / "config" / "config.toml").stat().st_mode & 0o777 == 0o600, modes
    assert subprocess.run(["rm", "-rf", str(copy)], check=False).returncode == 0 and not copy.exists()
    checked = run_held_to_modes(["repair", "--check"])
    assert checked.returncode == 0 and "no damage found" in checked.stdout, checked.stderr

    # serve refused to start: ".../data/running: Permission denied", exit 2.
    with as_a_user_without_override(["serve", "--port", "0"]) as server:
        assert server.stderr is not None
        line = server.stderr.readline()
        try:
            # A refused write was 507 `insufficient_storage`, which the API's codes say is a full or read-only disk.
            port = int(line.rstrip().rpartition(":")[2]) if "serving" in line else 0
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request("POST", "/ingest", json.dumps({"paths": [str(tmp_path / "docs")]}),
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            status, reply = response.status, json.loads(response.read())
        finally:
            server.terminate()
            server.communicate(timeout=60)
    assert "serving" in line, line
    assert (status, reply["error"]["code"]) == (403, "permission_denied"), reply
    assert "you cannot write" in reply["error"]["message"], reply


def test_a_store_folder_another_member_made_group_read_only_is_named_not_called_damaged(
    home: Path, tmp_path: Path
) -> None:
    """A group-shared home: another member (here uid 65534, in this user's group) wrote a table's folder under
    umask 022. The ingest said "the store is damaged, an index cannot be read (lance error: ... Permission denied
    (os error 13) ...) (run `localrag repair` ...)", and `repair` found no damage."""
    if os.geteuid() != 0:
        pytest.skip("giving a folder to another account needs root")
    data = home / "data" / "lancedb" / "chunks.lance" / "data"
    os.chown(data, 65534, os.getegid())
    data.chmod(0o755)
    (tmp_path / "docs" / "trains.md").write_text("Trains are booked in second class.\n", encoding="utf-8")
    other = pwd.getpwuid(65534).pw_name
    said = f"localrag: {data}: you cannot write in this folder (owner {other}, group {_my_group()}, mode drwxr-xr-x) ("
    # A home its user keeps to themselves (0700, as localrag makes it) while the group holds every account (`users`):
    # the hint had the other account open it to the whole group ("chmod -R g+rwX"). It is theirs to give.
    ingested = run_held_to_modes(["ingest", str(tmp_path / "docs")])
    assert ingested.returncode == 2 and "damaged" not in ingested.stderr, ingested.stderr
    assert ingested.stderr.splitlines()[-1].startswith(f"{said}ask {other} to give you access"), ingested.stderr
    # Shared with the group on purpose (setgid, the group may write: `chmod 2770`): the group's access is the fix.
    for shared in (home, home / "data"):
        shared.chmod(0o2770)
    ingested = run_held_to_modes(["ingest", str(tmp_path / "docs")])
    assert ingested.returncode == 2 and "damaged" not in ingested.stderr, ingested.stderr
    owner = ingested.stderr.splitlines()[-1]
    assert owner.startswith(f"{said}{other} can give the group access: chmod -R g+rwX '{home / 'data'}' "
                            "(and set umask 002"), owner


def test_conversation_last_on_a_home_that_cannot_save_one_says_so(home: Path) -> None:
    # "…/conversations: no conversations yet (an ask without --conversation saves none)", to a user whose
    # `--conversation new` had been refused its save a moment before.
    subprocess.run(["rm", "-rf", str(home / "data" / "conversations")], check=True)
    _read_only(home)
    asked = run_held_to_modes(["ask", "--conversation", "new", "hotel cap per night"])
    assert asked.returncode == 2 and "not saved" in asked.stderr, asked.stderr
    asked = run_held_to_modes(["ask", "--conversation", "last", "hotel cap per night"])
    assert "no conversations yet" not in asked.stderr, asked.stderr
    assert asked.stderr.splitlines()[-1] == (
        f"localrag: no conversation could be saved in {home / 'data' / 'conversations'}: {home / 'data'}: you cannot "
        f"write in this folder (owner {_me()}, group {_my_group()}, mode dr-x------) (give yourself access: "
        f"chmod -R u+rwX '{home / 'data'}')"), asked.stderr
