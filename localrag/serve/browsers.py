"""What web pages in the user's browser may ask of `localrag serve`.

A browser sends a page's POST with `Content-Type: text/plain` to any address without asking first, so any site
the user visited could call `/forget` with `{"paths": ["/"], "purge": true}` on a tokenless server bound to
127.0.0.1 and erase the index; and a page whose name was made to resolve to 127.0.0.1 (DNS rebinding) could read
`/search` as its own origin. So:

- a request that a web page sent (it carries `Origin`) is refused unless that origin is this machine's
  (localhost, 127.0.0.0/8, ::1) or one the user allowed (`serve --allow-origin`); allowed ones get CORS headers,
  and their preflight (`OPTIONS`) is answered, so a browser front end the user trusts can call the API;
- on a server bound to loopback, a `Host` that is not a loopback name is refused: only a rebinding page sends one.

Clients that are not browsers (curl, the `openai` package) send no `Origin` and a loopback `Host`; nothing
changes for them.
"""

from __future__ import annotations

import ipaddress
import sys
from urllib.parse import SplitResult, urlsplit

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localrag.errors import ConfigError
from localrag.safe_text import line_text

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
# Headers a page may read besides the simple ones: a 503's Retry-After, a 405's Allow, a 401's WWW-Authenticate.
EXPOSED_HEADERS = "Retry-After, Allow, WWW-Authenticate"
DEFAULT_PORTS = {"http": 80, "https": 443}


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
        sent = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
        if not sent or parts is None or not (parts.hostname or "").isascii() or parts.path not in ("", "/") \
                or parts.query or parts.fragment:
            raise ConfigError(f"--allow-origin {origin}: not an origin a browser sends",
                              "give scheme://host[:port], e.g. https://chat.example or http://192.168.1.5:3000")
        kept.append(normal_origin(origin))
    return tuple(kept)


class BrowserGuard:
    """The ASGI middleware that applies the rules above, before any route (and before the bearer token's check,
    so a page's preflight, which never carries the token, is answered)."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.allowed = set(checked_origins(allowed_origins))
        self._said: set[str] = set()  # refusals already told on the server's terminal

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
            self._tell("host", f"refused a request addressed to {host}, not a loopback name (a page renamed to "
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
            if split is not None and split.scheme in ("http", "https"):
                fix = f"to let it, start `localrag serve --allow-origin {normal_origin(origin)}`"
            else:  # `null` (a file, a sandboxed frame: any site can make one) and extensions' own schemes
                fix = "serve the page from an http(s) origin and name it with `localrag serve --allow-origin`"
            self._tell("origin", f"refused a request from a web page at {origin}; {fix}")
            await _refused(403, f"a web page at {origin} may not call this server (any site you visit could "
                           f"otherwise read or erase your documents); {fix}", "origin_not_allowed",
                           scope, receive, send)
            return
        cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                (b"access-control-expose-headers", EXPOSED_HEADERS.encode())]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            # The headers the page asks for are allowed: OpenAI's JS SDK adds its own x-stainless-* to each request,
            # and a fixed list made the browser drop every call it made.
            asked = headers.get("access-control-request-headers", "").strip()
            preflight = Response(status_code=204, headers={
                "Access-Control-Allow-Origin": origin, "Vary": "Origin, Access-Control-Request-Headers",
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": asked or ALLOWED_HEADERS, "Access-Control-Max-Age": "600"})
            await preflight(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, with_cors)


    def _tell(self, kind: str, line: str) -> None:
        """The first refusal of each kind said on the server's terminal (a browser hides the 403's words from the
        page), as one line of plain text: the headers are a client's, escape sequences and all, and a page can
        send a new Host with every request."""
        if kind not in self._said:
            self._said.add(kind)
            print(f"localrag: {line_text(line)} (further refusals are not said)", file=sys.stderr, flush=True)


async def _refused(status: int, message: str, code: str, scope: Scope, receive: Receive, send: Send) -> None:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}
    await JSONResponse(body, status_code=status)(scope, receive, send)
