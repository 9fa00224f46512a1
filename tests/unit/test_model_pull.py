"""`localrag models pull` against an HTTP server this test starts on 127.0.0.1 (never the internet).

The server honours Range requests and can drop the connection partway through a file, ignore
ranges, publish a wrong checksum or answer 404, and serves a Hugging Face style API record.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from model_stores import gguf_bytes

from localrag import model_pull
from localrag.cli import run
from localrag.errors import ModelError
from localrag.model_pull import pull

MODEL = gguf_bytes(name="pulled") + bytes(range(256)) * 1200  # a valid GGUF of ~300 KB


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    json: dict[str, object] = field(default_factory=dict)
    drops: dict[str, list[int]] = field(default_factory=dict)  # path -> bytes to send before each drop
    redirects: dict[str, str] = field(default_factory=dict)
    ignore_range: bool = False
    etags: dict[str, str] = field(default_factory=dict)  # path -> the ETag of the file served there now
    if_range: bool = True  # whether an If-Range naming another version gets the whole file (200)
    requests: list[tuple[str, str | None]] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        path = urllib.parse.urlparse(self.path).path
        state.requests.append((path, self.headers.get("Range")))
        if path in state.redirects:
            self.send_response(302)
            self.send_header("Location", state.redirects[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path in state.json:
            body = json.dumps(state.json[path]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data = state.files.get(path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        ranged = self.headers.get("Range")
        if state.if_range and self.headers.get("If-Range") not in (None, state.etags.get(path)):
            ranged = None  # the file changed: its whole body
        if ranged and not state.ignore_range:
            start = int(ranged.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        if path in state.etags:
            self.send_header("ETag", state.etags[path])
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        drops = state.drops.get(path)
        if drops:
            self.wfile.write(data[start:start + drops.pop(0)])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # the connection dies mid-file
            self.close_connection = True
            return
        self.wfile.write(data[start:])


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ServerState]]:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(model_pull.time, "sleep", lambda s: None)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = ServerState()
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def test_pull_url_with_checksum_and_card(server: tuple[str, ServerState], models: Path) -> None:
    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    state.files["/m/tiny.gguf.sha256"] = (hashlib.sha256(MODEL).hexdigest() + "  tiny.gguf\n").encode()
    seen: list[tuple[int, int | None]] = []
    result = pull(f"{base}/m/tiny.gguf", models, progress=lambda done, total: seen.append((done, total)))
    assert result.path == models / "tiny.gguf" and result.path.read_bytes() == MODEL
    assert result.checked and result.sha256 == hashlib.sha256(MODEL).hexdigest()
    assert seen[-1] == (len(MODEL), len(MODEL))
    card = json.loads((models / "tiny.json").read_text())
    assert card["source"] == f"{base}/m/tiny.gguf" and card["sha256_checked"] is True and card["size"] == len(MODEL)
    assert sorted(p.name for p in models.iterdir()) == ["tiny.gguf", "tiny.json"]  # no part left behind
    with pytest.raises(ModelError, match="already exists"):
        pull(f"{base}/m/tiny.gguf", models)


def test_dropped_connection_is_resumed_with_a_range(server: tuple[str, ServerState], models: Path) -> None:
    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    state.drops["/m/tiny.gguf"] = [100_000, 50_000]
    result = pull(f"{base}/m/tiny.gguf", models)
    assert result.path.read_bytes() == MODEL
    ranges = [r for p, r in state.requests if p == "/m/tiny.gguf"]
    assert ranges == [None, "bytes=100000-", "bytes=150000-"]


def test_interrupted_pull_resumes_on_the_next_run(server: tuple[str, ServerState], models: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    base, state = server
    monkeypatch.setattr(model_pull, "RETRIES", 1)
    state.files["/m/tiny.gguf"] = MODEL
    state.files["/m/tiny.gguf.sha256"] = hashlib.sha256(MODEL).hexdigest().encode()
    state.drops["/m/tiny.gguf"] = [70_000, 30_000]
    with pytest.raises(ModelError, match="download stopped at 100000 bytes.*run the same command again"):
        pull(f"{base}/m/tiny.gguf", models)
    assert (models / ".tiny.gguf.part").stat().st_size == 100_000 and not (models / "tiny.gguf").exists()
    result = pull(f"{base}/m/tiny.gguf", models)
    assert result.resumed_from == 100_000 and result.checked and result.path.read_bytes() == MODEL


def test_server_that_ignores_ranges_starts_over(server: tuple[str, ServerState], models: Path) -> None:
    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    state.drops["/m/tiny.gguf"] = [100_000]
    state.ignore_range = True
    assert pull(f"{base}/m/tiny.gguf", models).path.read_bytes() == MODEL


def test_wrong_checksum_deletes_the_download(server: tuple[str, ServerState], models: Path) -> None:
    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    state.files["/m/tiny.gguf.sha256"] = ("0" * 64).encode()
    with pytest.raises(ModelError, match=r"damaged \(sha256 [0-9a-f]{64}, the server stated 0{64}\)"):
        pull(f"{base}/m/tiny.gguf", models)
    assert not models.exists() or list(models.iterdir()) == []


def test_404_and_not_a_gguf(server: tuple[str, ServerState], models: Path) -> None:
    base, state = server
    with pytest.raises(ModelError, match=r"not found \(HTTP 404\) \(check the URL\)"):  # not a repository
        pull(f"{base}/m/missing.gguf", models)
    state.files["/m/page.gguf"] = b"<html>sign in</html>"
    with pytest.raises(ModelError, match="not a usable GGUF file"):
        pull(f"{base}/m/page.gguf", models)
    assert not models.exists() or list(models.iterdir()) == []


def _hf_repo(state: ServerState, files: dict[str, bytes]) -> None:
    state.json["/api/models/owner/Repo-GGUF/revision/main"] = {
        "sha": "c0ffee",
        "cardData": {"license": "apache-2.0"},
        "siblings": [{"rfilename": "README.md", "size": 10}] + [
            {"rfilename": name, "size": len(data), "lfs": {"sha256": hashlib.sha256(data).hexdigest(),
                                                           "size": len(data)}}
            for name, data in files.items()
        ],
    }
    for name, data in files.items():
        # As on the Hub, the resolve URL redirects to where the file is stored.
        state.redirects[f"/owner/Repo-GGUF/resolve/c0ffee/{name}"] = f"/storage/{name}"
        state.files[f"/storage/{name}"] = data


def test_pull_from_a_hugging_face_style_endpoint(server: tuple[str, ServerState], models: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    base, state = server
    monkeypatch.setenv("HF_ENDPOINT", base)
    _hf_repo(state, {"model-Q4_K_M.gguf": MODEL, "mmproj-f16.gguf": b"projector"})
    result = pull("hf:owner/Repo-GGUF", models)  # the one model file is chosen, the projector left out
    card = json.loads(result.card.read_text())
    assert result.path.name == "model-Q4_K_M.gguf" and result.checked
    assert (card["source"], card["revision"], card["license"]) == (
        "hf:owner/Repo-GGUF/model-Q4_K_M.gguf", "c0ffee", "apache-2.0")
    # A dropped download resumes through the redirect, Range header and all.
    state.drops["/storage/model-Q4_K_M.gguf"] = [120_000]
    again = pull("hf:owner/Repo-GGUF/model-Q4_K_M.gguf", models, name="again")
    assert again.path.read_bytes() == MODEL
    assert ("/storage/model-Q4_K_M.gguf", "bytes=120000-") in state.requests
    _hf_repo(state, {"a-Q4_K_M.gguf": MODEL, "a-Q8_0.gguf": MODEL})
    with pytest.raises(ModelError, match="holds 2 GGUF files: a-Q4_K_M.gguf, a-Q8_0.gguf"):
        pull("hf:owner/Repo-GGUF", models)
    with pytest.raises(ModelError, match="has no file nope.gguf"):
        pull("hf:owner/Repo-GGUF/nope.gguf", models)
    with pytest.raises(ModelError, match="not found"):
        pull("hf:owner/Other", models)


def test_hf_size_mismatch_is_refused(server: tuple[str, ServerState], models: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base, state = server
    monkeypatch.setenv("HF_ENDPOINT", base)
    _hf_repo(state, {"m.gguf": MODEL})
    state.files["/storage/m.gguf"] = MODEL[:-10]
    with pytest.raises(ModelError, match="damaged"):
        pull("hf:owner/Repo-GGUF/m.gguf", models)
    assert not models.exists() or list(models.iterdir()) == []


def test_cli_pull_then_list(server: tuple[str, ServerState], localrag_home: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    assert run(["models", "pull", f"{base}/m/tiny.gguf", "--name", "mine"]) == 0
    assert "use it with --model mine" in capsys.readouterr().out
    assert (localrag_home / "models" / "mine.gguf").read_bytes() == MODEL
    assert run(["models", "--json"]) == 0
    rows = {r["use"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["models:mine"]["card"]["source"] == f"{base}/m/tiny.gguf"
    assert run(["models", "pull", f"{base}/m/tiny.gguf", "--name", "../outside"]) == 2
    assert "'../outside' cannot be a model name" in capsys.readouterr().err
    assert run(["models", "pull", f"{base}/m/tiny.gguf", "--name", "again", "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["model"] == "again" and pulled["size"] == len(MODEL) and pulled["path"].endswith("again.gguf")
    assert run(["models", "pull", "ftp://nowhere/x.gguf"]) == 2
    assert "neither hf:OWNER/REPO" in capsys.readouterr().err


def test_pull_help_says_it_uses_the_network(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["models", "pull", "--help"])
    assert "only localrag command that uses the network" in " ".join(capsys.readouterr().out.split())


def test_token_stays_with_its_own_host() -> None:
    handler = model_pull._RedirectHandler()
    request = model_pull._request("http://127.0.0.1:1/o/r/resolve/c/m.gguf", "secret", Range="bytes=5-")
    same = handler.redirect_request(request, None, 302, "Found", {}, "http://127.0.0.1:1/storage/m.gguf")
    other = handler.redirect_request(request, None, 302, "Found", {}, "http://127.0.0.2:1/storage/m.gguf")
    assert same is not None and same.get_header("Authorization") == "Bearer secret"
    assert other is not None and other.get_header("Authorization") is None
    assert other.get_header("Range") == "bytes=5-"


def test_a_full_disk_stops_the_pull_at_once_and_the_next_one_resumes_intact(
    server: tuple[str, ServerState], small_disk: Path
) -> None:
    """A write that failed for want of space counted as a dropped connection: the bytes lost in the write buffer
    were counted, the retry's truncate filled them with zeros, and the next pull installed that file."""
    from disks import fill_disk

    base, state = server
    state.files["/m/tiny.gguf"], state.etags["/m/tiny.gguf"] = MODEL, '"v1"'  # a version to resume by
    models = small_disk / "models"
    filler = fill_disk(small_disk, 150_000)
    with pytest.raises(ModelError) as full:
        pull(f"{base}/m/tiny.gguf", models)
    assert full.value.message.startswith(f"{models / '.tiny.gguf.part'}: the download cannot be written (No space")
    assert full.value.hint == "free space on that disk, then run the same command again to resume"
    assert len([p for p, _ in state.requests if p == "/m/tiny.gguf"]) == 1  # not retried five times
    filler.unlink()
    result = pull(f"{base}/m/tiny.gguf", models)
    assert result.resumed_from > 0 and result.path.read_bytes() == MODEL


@pytest.mark.parametrize("if_range", [True, False])
def test_a_file_changed_on_the_server_between_two_pulls_is_not_spliced(
    server: tuple[str, ServerState], models: Path, monkeypatch: pytest.MonkeyPatch, if_range: bool
) -> None:
    """With no sha256 published, a resume into a file changed since the part was written made half of each
    version, which passed the size and header checks and was installed."""
    base, state = server
    monkeypatch.setattr(model_pull, "RETRIES", 0)
    state.if_range = if_range  # a server that ignores If-Range answers 206 with the new file's ETag
    state.files["/m/tiny.gguf"], state.etags["/m/tiny.gguf"] = MODEL, '"v1"'
    state.drops["/m/tiny.gguf"] = [100_000]
    with pytest.raises(ModelError, match="download stopped at 100000 bytes"):
        pull(f"{base}/m/tiny.gguf", models)
    second = gguf_bytes(name="pulled") + bytes(range(255, -1, -1)) * 1200
    state.files["/m/tiny.gguf"], state.etags["/m/tiny.gguf"] = second, '"v2"'
    result = pull(f"{base}/m/tiny.gguf", models)
    assert result.path.read_bytes() == second and result.resumed_from == 0


def test_a_part_nothing_can_check_is_not_resumed_by_a_later_pull(
    server: tuple[str, ServerState], models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ETag, no Last-Modified, no sha256: a later pull cannot tell the file did not change, and spliced."""
    base, state = server
    monkeypatch.setattr(model_pull, "RETRIES", 0)
    state.files["/m/tiny.gguf"] = MODEL
    state.drops["/m/tiny.gguf"] = [100_000]
    with pytest.raises(ModelError, match="download stopped at 100000 bytes"):
        pull(f"{base}/m/tiny.gguf", models)
    second = gguf_bytes(name="pulled") + bytes(range(255, -1, -1)) * 1200
    state.files["/m/tiny.gguf"] = second
    result = pull(f"{base}/m/tiny.gguf", models)
    assert result.path.read_bytes() == second and result.resumed_from == 0


def test_two_pulls_of_one_name_at_once_the_second_is_refused(
    server: tuple[str, ServerState], models: Path
) -> None:
    """The second wrote into the first's part and failed in a traceback when the first installed it."""
    from localrag.writer_lock import file_lock

    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    with file_lock(model_pull.pull_lock(models / "tiny.gguf")):  # as a pull under way holds it
        with pytest.raises(ModelError) as busy:
            pull(f"{base}/m/tiny.gguf", models)
    assert str(busy.value) == (f"another `localrag models pull` is downloading {models / 'tiny.gguf'} now "
                               "(wait for it to finish)")
    assert not (models / ".tiny.gguf.part").exists()
    pull(f"{base}/m/tiny.gguf", models)
    assert sorted(p.name for p in models.iterdir()) == ["tiny.gguf", "tiny.json"]


def test_force_over_a_fine_tune_leaves_no_card_of_it(server: tuple[str, ServerState], models: Path) -> None:
    base, state = server
    state.files["/m/tiny.gguf"] = MODEL
    models.mkdir()
    for suffix in (".gguf", ".json", ".md"):
        (models / f"tiny{suffix}").write_text("an exported fine-tune")
    pull(f"{base}/m/tiny.gguf", models, force=True)
    assert sorted(p.name for p in models.iterdir()) == ["tiny.gguf", "tiny.json"]
