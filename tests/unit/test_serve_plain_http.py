"""`localrag serve` beyond loopback says at start that its traffic is plain HTTP, and how to keep it private."""

from __future__ import annotations

from localrag.serve.http import plain_http_note


def test_a_server_beyond_loopback_says_its_token_crosses_the_network_unencrypted() -> None:
    # `--host 0.0.0.0 --token ...` read as safe: nothing said that anyone on the network could read the token.
    for host in ("0.0.0.0", "192.168.1.20", "::", "myhost.lan"):
        note = plain_http_note(host, 8765)
        assert note is not None and "plain HTTP, unencrypted" in note and "bearer token" in note
        assert "ssh -L 8765:127.0.0.1:8765" in note and "HTTPS reverse proxy" in note
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert plain_http_note(host, 8765) is None
