"""`localrag models pull`: the one code path that uses the network, and only when the user runs it.

A source is `hf:OWNER/REPO[/PATH.gguf]` or the http(s) URL of a .gguf file.
- hf: the repository's API record (`/api/models/OWNER/REPO/revision/REV?blobs=true`) gives the commit
  the download is pinned to, every file's size and sha256, and the licence its card states. The
  endpoint is `$HF_ENDPOINT` when set (tests point it at a loopback server), else huggingface_hub's
  default. `$HF_TOKEN`, when set, is sent for gated repositories. Without PATH the repository must
  hold exactly one GGUF model file (else the error lists them).
- URL: the size is the server's Content-Length; the sha256 is the first word of URL.sha256 when the
  server has one, else the file is checked only for size and for being a complete GGUF.

The file is written to models/.NAME.gguf.part with a sidecar saying what it is a part of, with the
version of the server's file (its ETag or Last-Modified). A later pull of the same file resumes it with
an HTTP Range request sent If-Range that version (a 200 instead of 206 means the server ignores ranges or
the file changed: start over; so does a 206 of another version, and a part nothing can check, with no
version and no sha256); a connection that drops mid-file is resumed the same way, a few times, before
giving up with a hint to run the command again. A full disk stops the pull at once, keeping what reached
it. One pull of a name at a time: a second is refused. The sha256 is computed while writing (after
hashing the part already there). Only a file whose size and sha256 match and whose GGUF header reads is
renamed to models/NAME.gguf (atomic: same folder), next to a card models/NAME.json naming its source,
revision, licence and checksum. A mismatched part is deleted, so it is never resumed into.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from localrag import __version__, paths
from localrag.atomic import write_text_atomic
from localrag.errors import ModelError
from localrag.models import read_gguf_header

CHUNK = 1 << 20
RETRIES = 5
TIMEOUT_S = 30.0
Progress = Callable[[int, int | None], None]


class PullError(ModelError):
    title = "Download failed"


@dataclass
class Remote:
    """What to download and what the server says it must be."""

    spec: str
    url: str
    file_name: str
    size: int | None = None
    sha256: str = ""
    revision: str = ""
    license: str = ""
    token: str = ""


@dataclass
class Pulled:
    path: Path
    card: Path
    size: int
    sha256: str
    checked: bool
    resumed_from: int
    seconds: float


def hf_endpoint() -> str:
    explicit = os.environ.get("HF_ENDPOINT")
    if explicit:
        return explicit.rstrip("/")
    from huggingface_hub import constants

    return str(constants.ENDPOINT).rstrip("/")


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects (a file download goes on to a storage host) but keep the token to its own host."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlparse(newurl).netloc != urllib.parse.urlparse(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_RedirectHandler)


def _open(request: urllib.request.Request, timeout: float) -> Any:
    return _OPENER.open(request, timeout=timeout)


def _request(url: str, token: str = "", **headers: str) -> urllib.request.Request:
    request = urllib.request.Request(url, headers={"User-Agent": f"localrag/{__version__}", **headers})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    return request


def _http_error(url: str, exc: urllib.error.HTTPError, hf: bool) -> PullError:
    if exc.code in (401, 403):
        hint = "the repository is gated or private: accept its terms and set HF_TOKEN" if hf else "check the URL"
        return PullError(f"{url}: access refused (HTTP {exc.code})", hint)
    if exc.code == 404:
        return PullError(f"{url}: not found (HTTP 404)",
                         "check the owner, repository and file name" if hf else "check the URL")
    return PullError(f"{url}: the server answered HTTP {exc.code}", "try again later")


def _get_json(url: str, token: str) -> dict[str, Any]:
    try:
        with _open(_request(url, token), timeout=TIMEOUT_S) as response:
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise _http_error(url, exc, hf=True) from None
    except urllib.error.URLError as exc:
        raise PullError(f"{url}: cannot connect ({exc.reason})", "check the network connection") from None
    except ValueError as exc:
        raise PullError(f"{url}: the answer is not JSON ({exc})", "check HF_ENDPOINT") from None
    if not isinstance(data, dict):
        raise PullError(f"{url}: unexpected answer", "check HF_ENDPOINT")
    return data


def _hf_remote(spec: str, revision: str) -> Remote:
    parts = spec.removeprefix("hf:").strip("/").split("/")
    if len(parts) < 2 or not all(parts):
        raise PullError(f"'{spec}' is not hf:OWNER/REPO or hf:OWNER/REPO/FILE.gguf",
                        "for example hf:OWNER/REPO/model-Q4_K_M.gguf")
    repo, file_name = "/".join(parts[:2]), "/".join(parts[2:])
    if file_name and not file_name.endswith(".gguf"):
        raise PullError(f"'{spec}': {file_name} is not a .gguf file", "name the GGUF file in the repository")
    token = os.environ.get("HF_TOKEN", "")
    endpoint = hf_endpoint()
    info = _get_json(f"{endpoint}/api/models/{repo}/revision/{urllib.parse.quote(revision, safe='')}?blobs=true",
                     token)
    siblings = [s for s in info.get("siblings") or [] if isinstance(s, dict) and "rfilename" in s]
    if not file_name:
        ggufs = [s["rfilename"] for s in siblings
                 if s["rfilename"].endswith(".gguf") and not Path(s["rfilename"]).name.startswith("mmproj")]
        if len(ggufs) != 1:
            listed = ", ".join(ggufs[:12]) + (" ..." if len(ggufs) > 12 else "")
            raise PullError(f"hf:{repo} holds {len(ggufs)} GGUF files{': ' + listed if ggufs else ''}",
                            f"name one: localrag models pull hf:{repo}/FILE.gguf")
        file_name = ggufs[0]
    sibling = next((s for s in siblings if s["rfilename"] == file_name), None)
    if sibling is None:
        raise PullError(f"hf:{repo} has no file {file_name}", "run it without the file name to list the GGUF files")
    lfs = sibling.get("lfs")
    lfs = lfs if isinstance(lfs, dict) else {}
    commit = str(info.get("sha") or revision)
    card = info.get("cardData")
    card = card if isinstance(card, dict) else {}
    size = lfs.get("size", sibling.get("size"))
    return Remote(
        spec=f"hf:{repo}/{file_name}",
        url=f"{endpoint}/{repo}/resolve/{commit}/{urllib.parse.quote(file_name)}",
        file_name=Path(file_name).name,
        size=int(size) if isinstance(size, int) else None,
        sha256=str(lfs.get("sha256") or ""),
        revision=commit,
        license=str(card.get("license") or ""),
        token=token,
    )


def _url_remote(url: str) -> Remote:
    parsed = urllib.parse.urlparse(url)
    file_name = Path(urllib.parse.unquote(parsed.path)).name
    if not file_name.endswith(".gguf"):
        raise PullError(f"{url}: not the URL of a .gguf file", "pull a GGUF model file")
    sha256 = ""
    try:
        with _open(_request(url + ".sha256"), timeout=TIMEOUT_S) as response:
            words = response.read(4096).decode("ascii", errors="replace").split()
            if words and len(words[0]) == 64:
                sha256 = words[0].lower()
    except (urllib.error.URLError, OSError):
        pass  # no checksum published beside the file: size and GGUF header are still checked
    return Remote(spec=url, url=url, file_name=file_name, sha256=sha256)


def remote_for(spec: str, revision: str = "main") -> Remote:
    if spec.startswith("hf:"):
        return _hf_remote(spec, revision)
    if urllib.parse.urlparse(spec).scheme in ("https", "http"):
        return _url_remote(spec)
    raise PullError(f"'{spec}' is neither hf:OWNER/REPO[/FILE.gguf] nor an https URL",
                    "for example: localrag models pull hf:OWNER/REPO/FILE.gguf")


def _total_from(response: Any, offset: int) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _hash_existing(part: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with part.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest


def _version(response: Any) -> str:
    """What names this version of the file on the server: its strong ETag, else its Last-Modified ("" if none)."""
    etag = str(response.headers.get("ETag") or "")
    return etag if etag and not etag.startswith("W/") else str(response.headers.get("Last-Modified") or "")


def _stream(remote: Remote, part: Path, progress: Progress | None, version: str,
            remember: Callable[[str], None]) -> tuple[hashlib._Hash, int, int]:
    """Download into `part`, resuming what is there; returns (sha256, size, bytes resumed from). `version` is
    that of the server's file the part was written from (`_version`; "" if unknown): a resume into another
    version would splice two files, which only a published sha256 told. `remember` records a new start's."""
    offset = part.stat().st_size if part.exists() else 0
    resumed_from = offset
    digest = _hash_existing(part) if offset else hashlib.sha256()
    failures = 0
    while True:
        headers = {"Range": f"bytes={offset}-", **({"If-Range": version} if version else {})} if offset else {}
        try:
            with _open(_request(remote.url, remote.token, **headers), timeout=TIMEOUT_S) as response:
                now = _version(response)
                if offset and response.status == 206 and version and now != version:
                    # The file changed on the server, which ignored If-Range: start again from its first byte.
                    offset, resumed_from, digest, version = 0, 0, hashlib.sha256(), ""
                    continue
                if offset and response.status != 206:
                    # The server ignored the range, or honoured If-Range: the file changed. Its body is the file.
                    offset, resumed_from, digest = 0, 0, hashlib.sha256()
                if not offset and now != version:
                    version = now
                    remember(now)
                if remote.size is None:
                    remote.size = _total_from(response, offset)
                offset, dropped = _written(part, response, digest, offset, remote.size, progress)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:
                # Nothing after `offset`: the file is complete, or shorter than stated (the size check says so).
                return digest, offset, resumed_from
            raise _http_error(remote.url, exc, hf=remote.spec.startswith("hf:")) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            dropped = exc
        else:
            if dropped is None and remote.size is not None and offset < remote.size:
                dropped = ConnectionError("the server closed the connection early")
            if dropped is None:
                return digest, offset, resumed_from
        failures += 1
        if failures > RETRIES:
            raise PullError(
                f"{remote.url}: download stopped at {offset} bytes ({dropped})",
                "run the same command again to resume",
            ) from None
        time.sleep(min(0.1 * 2**failures, 5.0))


class _WriteFailed(Exception):
    """Writing the part failed (a full disk): no dropped connection, so no retry."""


def _written(part: Path, response: Any, digest: hashlib._Hash, offset: int, total: int | None,
             progress: Progress | None) -> tuple[int, Exception | None]:
    """Append the body to `part` from `offset`, which is its size: what `_copy` returns."""
    try:
        with part.open("r+b" if offset else "wb") as f:
            f.seek(offset)
            f.truncate()
            return _copy(response, f, digest, offset, total, progress)
    except _WriteFailed:
        raise
    except OSError as exc:  # opening the part, or the last buffered bytes written at close
        raise _WriteFailed(exc) from exc


def _copy(response: Any, f: BinaryIO, digest: hashlib._Hash, offset: int, total: int | None,
          progress: Progress | None) -> tuple[int, Exception | None]:
    """Copy the body into f, hashing it; a dropped connection keeps the bytes so far and is returned. A write
    that fails raises `_WriteFailed`: the bytes counted but lost in the buffer would be hashed as written."""
    while True:
        try:
            block = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            return offset, exc
        if not block:
            return offset, None
        try:
            f.write(block)
        except OSError as exc:
            raise _WriteFailed(exc) from exc
        digest.update(block)
        offset += len(block)
        if progress is not None:
            progress(offset, total)


def _meta_for(remote: Remote) -> dict[str, Any]:
    return {"url": remote.url, "size": remote.size, "sha256": remote.sha256}


def pull_lock(target: Path) -> Path:
    """The file a pull into `target` holds a lock on: in the cache, by the target's path, and never removed (one
    removed while held let a pull that had opened it lock a file no one else would, while a third made a new
    one: two wrote one part at once)."""
    return paths.cache_dir() / "pull-locks" / f"{hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:16]}.lock"


def pull(spec: str, models_dir: Path, *, name: str = "", revision: str = "main", force: bool = False,
         progress: Progress | None = None) -> Pulled:
    """Download a GGUF into models_dir as NAME.gguf with its card; see the module docstring."""
    from localrag.tune.runs import check_model_name
    from localrag.writer_lock import file_lock

    started = time.monotonic()
    remote = remote_for(spec, revision)
    # The same rule as for exported models, so the name works as --model NAME and stays inside models/.
    stem = check_model_name(name or remote.file_name.removesuffix(".gguf"))
    target = models_dir / f"{stem}.gguf"
    lock = pull_lock(target)

    def busy(_handle: object) -> None:
        # Two pulls of a name wrote one part, and the second failed in a traceback when the first installed it.
        raise PullError(f"another `localrag models pull` is downloading {target} now", "wait for it to finish")

    if target.exists() and not force:
        raise PullError(f"{target} already exists", "pass --force to replace it, or --name to pick another name")
    with file_lock(lock, on_wait=busy):
        if target.exists() and not force:  # the pull that held the lock installed it
            raise PullError(f"{target} already exists", "pass --force to replace it, or --name to pick another name")
        return _pull(remote, stem, target, progress, started)


def _pull(remote: Remote, stem: str, target: Path, progress: Progress | None, started: float) -> Pulled:
    models_dir = target.parent
    models_dir.mkdir(parents=True, exist_ok=True)
    part = models_dir / f".{stem}.gguf.part"
    meta = models_dir / f".{stem}.gguf.part.json"
    expected = _meta_for(remote)
    try:
        known = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else None
    except (OSError, ValueError):
        known = None
    version = ""
    if part.exists() and (not isinstance(known, dict) or any(known.get(k) != v for k, v in expected.items())):
        part.unlink()  # a part of some other file (or of an older revision) is no use
    elif isinstance(known, dict):
        version = str(known.get("version") or "")
    if part.exists() and not version and not remote.sha256:
        # Nothing tells whether the server's file is still the one the part came from (no ETag, no Last-Modified,
        # no sha256): a resume could splice two versions that pass every check. Within one run, a dropped
        # connection is still resumed.
        part.unlink()
    write_text_atomic(meta, json.dumps({**expected, "version": version}))

    def remember(now: str) -> None:
        write_text_atomic(meta, json.dumps({**expected, "version": now}))

    try:
        digest, size, resumed_from = _stream(remote, part, progress, version, remember)
    except PullError:
        if not part.exists():
            meta.unlink(missing_ok=True)  # nothing to resume
        raise
    except _WriteFailed as exc:
        # What reached the disk is kept: the next pull re-reads its size and hash and resumes after it.
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else OSError(str(exc))
        raise PullError(f"{part}: the download cannot be written ({cause.strerror or cause})",
                        "free space on that disk, then run the same command again to resume") from None
    sha256 = digest.hexdigest()
    problem = ""
    if remote.size is not None and size != remote.size:
        problem = f"size {size} bytes, the server stated {remote.size}"
    elif remote.sha256 and sha256 != remote.sha256.lower():
        problem = f"sha256 {sha256}, the server stated {remote.sha256}"
    if problem:
        part.unlink()
        meta.unlink(missing_ok=True)
        raise PullError(f"{remote.url}: the download is damaged ({problem}); it was deleted",
                        "run the command again; if it repeats, the file on the server is wrong")
    try:
        read_gguf_header(part)
    except ModelError as exc:
        part.unlink()
        meta.unlink(missing_ok=True)
        raise PullError(f"{remote.url}: not a usable GGUF file ({exc.message})", "check the URL") from None
    with part.open("rb") as f:
        os.fsync(f.fileno())
    card = {
        "name": stem,
        "source": remote.spec,
        "url": remote.url,
        "revision": remote.revision,
        "license": remote.license,
        "sha256": sha256,
        "sha256_checked": bool(remote.sha256),
        "size": size,
        "pulled": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    card_path = target.with_suffix(".json")
    part.replace(target)
    write_text_atomic(card_path, json.dumps(card, indent=2) + "\n")
    # A fine-tune's card in words, from the model this one replaced (--force), would describe that one.
    target.with_suffix(".md").unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    return Pulled(target, card_path, size, sha256, bool(remote.sha256), resumed_from, time.monotonic() - started)
