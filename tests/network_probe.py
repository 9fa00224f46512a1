"""Run localrag's CLI in a child process that records every attempt to reach the network.

conftest's `no_network` guard patches sockets in the test process only: it cannot see a CLI child, nor
a grandchild a library forks to send telemetry. And CI sets CI=true, which silences OpenVINO's
telemetry (it checks that variable), while a user's machine does not. So `run_cli` (and `start_cli`,
for a server) starts the CLI without CI, with a temporary HOME (where OpenVINO would write its client
id, under intel/), with Ctrl-C's default meaning, and under an audit hook that appends every name
lookup of, or connection to, a non-loopback host to a log file.
A forked child keeps the hook, so what it tries is logged too. The variables that switch telemetry and
hub access off are dropped from the child's environment as well (the test process has them, set by
localrag's own import): the CLI must set them itself, as it has to on a user's machine. The hook sees
Python's sockets only; a native library's own connections show as the files it leaves in HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import ipaddress, os, runpy, signal, sys

# Ctrl-C as in a user's terminal: a test run started in the background of a script (`pytest &`) hands its
# children SIGINT ignored, and a CLI stopped with Ctrl-C (watch, serve) would then never stop.
signal.signal(signal.SIGINT, signal.default_int_handler)

LOG = os.environ.pop("LOCALRAG_TEST_NETWORK_LOG")


def _loopback(host):
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _hook(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname"):
        host = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    host = host.decode() if isinstance(host, bytes) else host
    if not _loopback(host):
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{event} {host!r} from pid {os.getpid()}\n")


sys.addaudithook(_hook)
sys.argv = ["localrag", *sys.argv[1:]]
runpy.run_module("localrag", run_name="__main__", alter_sys=True)
"""


# What CI or this test process (through `localrag.offline`) has set, and a user's shell has not.
_NOT_IN_A_USERS_SHELL = ("CI", "ORT_DISABLE_TELEMETRY", "DO_NOT_TRACK", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE",
                         "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


def child_args(*args: str) -> list[str]:
    """The interpreter arguments that run `localrag ARGS` under the hook."""
    return ["-c", _CHILD, *args]


def probe_env(user_home: Path) -> dict[str, str]:
    """What the child needs besides its usual environment: its own HOME and the log's path."""
    user_home.mkdir(parents=True, exist_ok=True)
    return {"HOME": str(user_home), "LOCALRAG_TEST_NETWORK_LOG": str(network_log(user_home))}


def users_env(home: Path, user_home: Path) -> dict[str, str]:
    """This process's environment as a user's shell would have it, with LOCALRAG_HOME=home and HOME=user_home."""
    env = {name: value for name, value in os.environ.items() if name not in _NOT_IN_A_USERS_SHELL}
    return env | {"LOCALRAG_HOME": str(home)} | probe_env(user_home)


def run_cli(*args: str, home: Path, user_home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`localrag ARGS` with LOCALRAG_HOME=home and HOME=user_home; network attempts go to user_home/network.log."""
    return subprocess.run([sys.executable, *child_args(*args)], capture_output=True, text=True,
                          env=users_env(home, user_home), timeout=timeout)


def start_cli(*args: str, home: Path, user_home: Path) -> subprocess.Popen[str]:
    """`localrag ARGS` as `run_cli` runs it, left running (a server): stderr is a pipe, stdout discarded."""
    return subprocess.Popen([sys.executable, *child_args(*args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=users_env(home, user_home))


def network_log(user_home: Path) -> Path:
    return user_home / "network.log"


def reached_out(user_home: Path) -> str:
    """What the CLI runs under `user_home` tried: network attempts, and files a library wrote to the home."""
    log = network_log(user_home)
    attempts = log.read_text(encoding="utf-8") if log.exists() else ""
    written = sorted(str(p.relative_to(user_home)) for p in user_home.rglob("*") if p != log)
    return attempts + "".join(f"wrote ~/{name}\n" for name in written)
