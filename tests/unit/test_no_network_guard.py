"""The suite's network guard: loopback stays reachable, every other address is refused."""

from __future__ import annotations

import socket

import pytest


def test_loopback_server_is_reachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


def test_other_addresses_are_refused() -> None:
    # 192.0.2.0/24 is TEST-NET-1: never routed, and the guard refuses before any packet is sent.
    refused = pytest.raises(AssertionError, match="network connection")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, refused:
        sock.connect(("192.0.2.1", 80))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(AssertionError, match="network"):
        sock.connect_ex(("192.0.2.1", 80))
