"""What web pages in the user's browser may ask of `localrag serve`.

A browser sends a page's POST with `Content-Type: text/plain` to any address without asking first, so any site
the user visited could call `/forget` with `{"paths": ["/"], "purge": true}` on a tokenless server bound to
127.0.0.1 and erase the index; and a page whose name was made to resolve to 127.0.0.1 (DNS rebinding) could read
`/search` as its own origin. So:

- a request that a web page sent (it carries `Origin`) is refused unless that origin is this machine's
  (localhost, 127.0.0.0/8, ::1) or one the user allowed (`serve --allow-origin`); allowed ones get CORS headers,
  and their preflight (`OPTIONS`) is answered, so a browser front end the user trusts can call the API;
- on a server bound to loopback, a `Host` that is not a loopback name is refused: only a rebinding page sends one;
- on a server without a token, a page on this machine that the user did not name may search and ask, but not
  read files into the index or forget them (`FILE_ROUTES`): it is any local program's page (a dev server, a
  notebook, a downloaded HTML file served by `python -m http.server`), and `/ingest` takes any path, so it could
  read any file the user can, then search it. With a token, the token decides.

Clients that are not browsers (curl, the `openai` package) send no `Origin` and a loopback `Host`; nothing
changes for them.
"""

from __future__ import annotations

import ipaddress
import sys
from urllib.parse import SplitResult, urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localrag.errors import ConfigError
from localrag.safe_text import line_text
from localrag.serve.responses import SafeJSONResponse

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
# Headers a page may read besides the simple ones: a 503's Retry-After, a 405's Allow, a 401's WWW-Authenticate.
EXPOSED_HEADERS = "Retry-After, Allow, WWW-Authenticate"
DEFAULT_PORTS = {"http": 80, "https": 443}
# A browser extension's pages send these origins, its id for the host: no web site can send one, so an extension the
# user names may call the API (it could not: the flag refused the origin as "not one a browser sends").
EXTENSION_SCHEMES = ("chrome-extension", "moz-extension", "safari-web-extension")
# Refusals said on the terminal for each kind (origin, host): one a distinct origin, so the user's own page refused
# after a stranger's is named too, and a page that sends a new Host each request does not flood the terminal.
MAX_TOLD = 5
# The routes that read files the user did not choose into the index, or forget documents: refused to a page on this
# machine that the user did not name, on a server without a token. Its preflight is refused too.
FILE_ROUTES = frozenset({"/ingest", "/forget"})


def loopback_name(host: str) -> bool:
    """Whether `host` (a name or an address, without port or brackets) can only mean this machine."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The name in a `Host` header or an origin's authority, without the port ("[::1]:8765" -> "::1")."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _split(origin: str) -> SplitResult | None:
    """`origin` split, or None where it is no URL at all (`http://[::1`: urlsplit raised, a 500 on each request)."""
    try:
        parts = urlsplit(origin.strip())
        parts.port  # noqa: B018 -- raises on a port out of range or not a number
    except ValueError:
        return None
    return parts


def normal_origin(origin: str) -> str:
    """An origin as browsers send it: scheme://host[:port], lower case, no path, no default port."""
    parts = _split(origin)
    if parts is None or not (parts.scheme and parts.hostname):
        return origin.strip().lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = parts.port
    shown = "" if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()) else f":{port}"
    return f"{parts.scheme}://{host}{shown}".lower()


def checked_origins(origins: tuple[str, ...]) -> tuple[str, ...]:
    """`serve --allow-origin` values, refused in one line when no browser could send them (`chat.example`, `*`)
    or when any site can (`null`: every page in a sandboxed frame sends it, so allowing it let any site erase the
    index)."""
    kept = []
    for origin in origins:
        parts = _split(origin)
        if origin.strip().lower() in ("null", "*"):
            raise ConfigError(f"--allow-origin {origin}: any web site can send that origin, and so read or erase "
                              "your documents", "name the page's own origin, e.g. https://chat.example:3000")
        sent = parts is not None and parts.scheme in ("http", "https", *EXTENSION_SCHEMES) and bool(parts.hostname)
        if not sent or parts is None or not (parts.hostname or "").isascii() or parts.path not in ("", "/") \
                or parts.query or parts.fragment:
            raise ConfigError(f"--allow-origin {origin}: not an origin a browser sends",
                              "give scheme://host[:port], e.g. http://localhost:3000 or https://chat.example, or an "
                              "extension's chrome-extension://ID")
        kept.append(normal_origin(origin))
    return tuple(kept)


def private_network_notes(origins: tuple[str, ...], loopback_only: bool) -> list[str]:
    """What `serve` says at start of an allowed plain-http page that is not on this machine while the server is on
    loopback: Chromium refuses such a page's calls before they are sent (Private Network Access), so the flag seemed
    to do nothing and the server heard nothing to say."""
    notes = []
    for origin in origins:
        parts = _split(origin)
        if loopback_only and parts is not None and parts.scheme == "http" and not loopback_name(parts.hostname or ""):
            notes.append(f"a page at {origin} is neither on this machine nor https: Chromium-based browsers refuse "
                         "its calls to a server on loopback before they are sent (Private Network Access); serve the "
                         "page from localhost or over https, or serve the API on this machine's network address with "
                         "a token (--host ADDRESS --token SECRET)")
    return notes


class BrowserGuard:
    """The ASGI middleware that applies the rules above, before any route (and before the bearer token's check,
    so a page's preflight, which never carries the token, is answered)."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool, allowed_origins: tuple[str, ...] = (),
                 tokened: bool = False) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.tokened = tokened  # every request must then carry the token, which no stranger's page has
        self.allowed = set(checked_origins(allowed_origins))
        self._said: set[tuple[str, str]] = set()  # (kind, origin or Host) already told on the server's terminal

    def _origin_allowed(self, origin: str) -> bool:
        if normal_origin(origin) in self.allowed:
            return True
        parts = _split(origin)
        return parts is not None and parts.scheme in ("http", "https") and loopback_name(parts.hostname or "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.loopback_only and host and not loopback_name(host_of(host)):
            self._tell("host", host, f"refused a request addressed to {host}, not a loopback name (a page renamed to "
                       "127.0.0.1 sends one); call http://127.0.0.1 or http://localhost, or have a proxy send Host "
                       "localhost")
            await _refused(403, f"Host '{host}' is not a name of this machine: a web page whose name was made to "
                           "point at this machine sends one, to read your documents (call the server as "
                           "http://127.0.0.1:PORT or http://localhost:PORT; a proxy in front of it: have it send "
                           "Host localhost)", "host_not_allowed", scope, receive, send)
            return
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if not self._origin_allowed(origin):
            split = _split(origin)
            if split is not None and _unspecified(split.hostname or ""):
                # 0.0.0.0 is no address a page is on, and browsers are ending its use: allowing it is no fix.
                port = f":{split.port}" if split.port else ""
                fix = (f"open it as {split.scheme}://localhost{port} instead (a page on this machine needs no flag "
                       "to search and ask)")
            elif split is not None and split.scheme in ("http", "https", *EXTENSION_SCHEMES) and split.hostname:
                fix = f"start `localrag serve --allow-origin {normal_origin(origin)}`"
            elif origin.strip().lower() == "null":  # a page opened from a file, or any site's sandboxed frame
                fix = ("serve it over http from this machine (http://localhost:PORT needs no flag to search and ask) "
                       "or name its http(s) origin with `localrag serve --allow-origin`: a page opened from a file "
                       "sends origin null, as any site's sandboxed frame can")
            else:  # an app wrapper's own scheme (tauri://, app://), which any such app sends
                fix = ("serve it over http from this machine, or name its http(s) origin with `localrag serve "
                       "--allow-origin`: only http(s) pages and browser extensions can be let call this server")
            # The danger first: the line was read as an instruction to allow whatever page was refused.
            self._tell("origin", origin, f"refused a request from a web page at {origin}: an unknown page may be "
                       f"trying to read or erase your documents; if it is yours, {fix}")
            await _refused(403, f"a web page at {origin} may not call this server (any site you visit could "
                           f"otherwise read or erase your documents); if it is yours, {fix}", "origin_not_allowed",
                           scope, receive, send)
            return
        named = normal_origin(origin)
        if not self.tokened and named not in self.allowed and scope["path"].rstrip("/") in FILE_ROUTES:
            fix = (f"if it is yours, start `localrag serve --allow-origin {named}`, or give the server a token "
                   "(LOCALRAG_API_TOKEN)")
            self._tell("files", origin, f"refused a web page at {origin} reading files into the index or forgetting "
                       f"them ({scope['path']}): a page on this machine may search and ask, but any program's page "
                       f"could read your files so; {fix}")
            await _refused(403, f"a web page at {origin} may search and ask this server but not read files into the "
                           "index or forget them: any program's page on this machine could otherwise read any file "
                           f"you can; {fix}", "origin_not_allowed", scope, receive, send)
            return
        cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                (b"access-control-expose-headers", EXPOSED_HEADERS.encode())]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            # The headers the page asks for are allowed: OpenAI's JS SDK adds its own x-stainless-* to each request,
            # and a fixed list made the browser drop every call it made.
            asked = headers.get("access-control-request-headers", "").strip()
            allowed = {"Access-Control-Allow-Origin": origin, "Vary": "Origin, Access-Control-Request-Headers",
                       "Access-Control-Allow-Methods": ALLOWED_METHODS,
                       "Access-Control-Allow-Headers": asked or ALLOWED_HEADERS, "Access-Control-Max-Age": "600"}
            if headers.get("access-control-request-private-network", "").lower() == "true":
                # A page the user allowed, from a less private address (a secure one, or Chromium refuses before
                # asking): the browser's Private Network Access preflight wants this said.
                allowed["Access-Control-Allow-Private-Network"] = "true"
            preflight = Response(status_code=204, headers=allowed)
            await preflight(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, with_cors)


    def _tell(self, kind: str, value: str, line: str) -> None:
        """A refusal said on the server's terminal (a browser hides the 403's words from the page), once for each
        distinct origin or Host and at most MAX_TOLD of a kind, as one line of plain text: the headers are a
        client's, escape sequences and all, and a page can send a new Host with every request."""
        told = [key for key in self._said if key[0] == kind and not _nearby(key[1])]
        if (kind, value) in self._said or (len(told) >= MAX_TOLD and not _nearby(value)):
            # Pages on this machine or its network are always named: the user's own, which strangers' refusals
            # could otherwise crowd out of the few lines said.
            return
        self._said.add((kind, value))
        last = " (further refusals of this kind are not said)" if len(told) + 1 == MAX_TOLD and not _nearby(value) \
            else ""
        print(f"localrag: {line_text(line)}{last}", file=sys.stderr, flush=True)


def _unspecified(host: str) -> bool:
    """Whether `host` is 0.0.0.0 or ::, "every address" to a server, which some browsers let a page be opened at."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _nearby(value: str) -> bool:
    """Whether an origin or Host names this machine or its private network (a user's own page, not a stranger's)."""
    parts = _split(value if "://" in value else f"http://{value}")
    host = (parts.hostname or "") if parts is not None else ""
    if loopback_name(host) or host.endswith((".local", ".lan", ".home.arpa")):
        return True
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return False


async def _refused(status: int, message: str, code: str, scope: Scope, receive: Receive, send: Send) -> None:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}
    await SafeJSONResponse(body, status_code=status)(scope, receive, send)
