"""Fixtures every test gets: a private LOCALRAG_HOME and no network.

Connections to anything but a local (AF_UNIX) socket or the loopback interface raise, so a code
path that tries a hub download or telemetry fails the test that reached it. Servers a test starts on
127.0.0.0/8 or ::1 (the API server, a fake download server) stay reachable; asyncio's self-pipe (a
Unix socketpair) and Textual keep working.
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.generate import LlamaGenerator


class NetworkAccessError(AssertionError):
    pass


def _is_loopback(address: object) -> bool:
    # Only literal addresses count: a host name would need a resolver, which is itself the network.
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return False
    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: object) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkAccessError(f"test tried to open a network connection to {address!r}")


def _refuse(self: socket.socket, address: object, *args: object) -> None:
    _check(self, address)
    return _real_connect(self, address)


def _refuse_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex

# scripts/test runs the suite in two pytest-xdist workers. Torch and llama.cpp spin-wait between the
# parts of a matrix product (localrag/cpu.py), so two workers taking two threads each on 2 cores slow
# each other's model tests down several times over; one thread each keeps both cores busy without that.
# Set before any test imports torch, whose thread pool reads it once.
WORKER_THREADS = "1" if os.environ.get("PYTEST_XDIST_WORKER") else ""
if WORKER_THREADS:
    os.environ.setdefault("OMP_NUM_THREADS", WORKER_THREADS)

# Each test gets its own LOCALRAG_HOME (`localrag_home`), but a module- or session-scoped fixture runs before it: one
# that opened an Engine there wrote into the user's own data folder (~/.local/share/localrag), so the session has a
# home of its own too, and the developer's own LOCALRAG_HOME is never the tests'.
_SESSION_HOME = tempfile.mkdtemp(prefix="localrag-test-session-home-")
os.environ["LOCALRAG_HOME"] = _SESSION_HOME
atexit.register(shutil.rmtree, _SESSION_HOME, True)


def _users_data_folder() -> Path:
    """Where localrag keeps its data with no LOCALRAG_HOME (localrag/paths.py): the folder no test may make."""
    share = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(share) / "localrag"


_USERS_FOLDER_BEFORE = _users_data_folder().exists()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _USERS_FOLDER_BEFORE and _users_data_folder().exists():
        # A failure, not a warning: the offline promise includes writing nothing of a test's into the user's home.
        print(f"\nA test made the user's own data folder {_users_data_folder()}: a fixture ran without a "
              "LOCALRAG_HOME")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse_ex)


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: the ONNX export of the bundled embedder is made once, not per test."""
    return tmp_path_factory.mktemp("localrag-cache")


@pytest.fixture(autouse=True)
def localrag_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_cache: Path) -> Iterator[Path]:
    home = tmp_path / "localrag-home"
    home.mkdir()
    monkeypatch.setenv("LOCALRAG_HOME", str(home))
    # A developer's own LOCALRAG_* settings must not change what the tests see.
    for name in list(os.environ):
        if name.startswith("LOCALRAG_") and name != "LOCALRAG_HOME":
            monkeypatch.delenv(name, raising=False)
    if WORKER_THREADS:
        monkeypatch.setenv("LOCALRAG_N_THREADS", WORKER_THREADS)
    monkeypatch.setenv("LOCALRAG_CACHE_DIR", str(session_cache))
    yield home


@pytest.fixture
def no_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the worker's one-thread count: for tests of the settings' defaults and of the thread rules."""
    monkeypatch.delenv("LOCALRAG_N_THREADS", raising=False)


@pytest.fixture(autouse=True)
def no_other_tools_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own Ollama, LM Studio, GPT4All and HF-cache models stay out of every test.

    Discovery looks there on each `localrag models` and each --model name; a test that wants a store
    builds one (tests/unit/test_discover_models.py) and points these back at it.
    """
    nowhere = tmp_path / "no-model-stores"
    monkeypatch.setattr("localrag.discover_models.ollama_root", lambda: nowhere)
    monkeypatch.setattr("localrag.discover_models.lmstudio_roots", lambda: [nowhere])
    monkeypatch.setattr("localrag.discover_models.gpt4all_roots", lambda: [nowhere])
    monkeypatch.setattr("localrag.discover_models.hf_cache_root", lambda: nowhere)


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The bundled MiniLM, loaded once for every test that needs it (it is read-only)."""
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.models import bundled_embedder_path

    return SentenceTransformerEmbedder(bundled_embedder_path())


@pytest.fixture(scope="session")
def real_generator() -> LlamaGenerator:
    """The bundled SmolLM2 GGUF, loaded once for every test that needs it."""
    from localrag.generate import LlamaGenerator
    from localrag.models import bundled_generator_path

    return LlamaGenerator(bundled_generator_path(), n_ctx=2048, n_threads=int(WORKER_THREADS or 0))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 40 MB file system (tmpfs), where mounting one is allowed (root in a container); else skipped."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)
