"""Serve a built site (and, with --api, the same models behind an HTTP API) on a real ASGI server."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import Any, Callable

import h11
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .hosting import content_security_policy, is_hidden, site_headers
from .ports import check_port_free, free_port
from .site_config import read_site

# A connection gets IDLE_TIMEOUT seconds to send a request's head (from when it opens, or from the
# previous response), and at most as long between two chunks of a body; after a response it may
# stay idle KEEP_ALIVE seconds (uvicorn's own keep-alive). Any real client sends a head within a
# second; 10 s leaves room for TCP retransmissions on a lossy link (1 + 2 + 4 s) while a flood of
# silent connections holds each socket for 10 s, not forever.
IDLE_TIMEOUT = 10.0
KEEP_ALIVE = 5

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/json", ".json")

class SiteHeaders:
    """Adds the isolation and security headers and the site's CSP (as in its `_headers`) to every
    response, and keeps files from being cached stale."""

    def __init__(self, app: ASGIApp, csp: str | None = None):
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in site_headers().items()]
        if csp:
            self.headers.append((b"content-security-policy", csp.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += self.headers
                headers.append((b"cache-control", b"no-cache"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PrecompressedFiles(StaticFiles):
    """Static files that answer with the `.br` or `.gz` copy `build` wrote, when the client accepts
    it; never a hidden file (`.env`, `.git/…`: 404 for any path segment that starts with ".")."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if is_hidden(scope["path"]):  # decoded already: %2e is "." here
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        accepted = Headers(scope=scope).get("accept-encoding", "")
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            compressed = Path(str(response.path) + suffix)
            # A copy older than its file is stale (the file was replaced after build): never serve it.
            if encoding in accepted and compressed.is_file() \
                    and compressed.stat().st_mtime >= Path(response.path).stat().st_mtime:
                # file_response answers 304 to a matching If-None-Match, so repeat visits stay cheap.
                answer = self.file_response(str(compressed), compressed.stat(), scope)
                answer.headers["vary"] = "accept-encoding"
                if answer.status_code == 200:
                    answer.headers["content-encoding"] = encoding
                    answer.media_type = response.media_type
                    answer.headers["content-type"] = response.headers["content-type"]
                return answer
        return response


def create_app(site: Path, api: Callable[[Path, dict], Starlette] | None = None) -> Starlette:
    """The static site; with `api` (api.site_api, given by the caller so that serving a site needs
    no model loaded), the app it makes holding the HTTP API, with the site mounted at /."""
    config = read_site(site)
    app = api(site, config) if api else Starlette()
    # Not a mount at "/": the site answers only paths no route takes, so a wrong method on an
    # API path still gets the API's 405 with its own Allow header.
    app.router.default = PrecompressedFiles(directory=str(site), html=True)
    app.add_middleware(SiteHeaders, csp=content_security_policy(site))
    return app


def serve(site: Path, host: str = "127.0.0.1", port: int = 8000, api: Callable[[Path, dict], Starlette] | None = None) -> None:
    run(create_app(Path(site), api=api), host, port, f"serving {site}")


def run(app: ASGIApp, host: str, port: int, what: str) -> None:
    """Run `app` on uvicorn until Ctrl-C; the port is checked first so a busy one is a UserError."""
    import uvicorn

    port = port or free_port(host)  # 0, "any free port": picked here, so that the line below names it
    check_port_free(host, port)
    print(f"{what} at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, **uvicorn_options())


def uvicorn_options(idle_timeout: float = IDLE_TIMEOUT) -> dict[str, Any]:
    """How `run` configures uvicorn (tests start a uvicorn.Server with a shorter `idle_timeout`)."""
    protocol = type("TimedH11Protocol", (TimedH11Protocol,), {"idle_timeout": idle_timeout})
    return {"http": protocol, "ws": "none", "timeout_keep_alive": KEEP_ALIVE, "log_level": "warning"}


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a request timeout: a connection that does not deliver a
    request's head within `idle_timeout` (from when it opened or its previous response ended), or
    pauses longer than that inside a body, is closed. uvicorn alone times out only a keep-alive
    connection that sends nothing at all after a response: a silent new connection, or half a
    request, stays open forever. Once a whole request is in, the app takes the time it needs."""

    idle_timeout: float = IDLE_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._request_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._track(fresh=True)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.transport.is_closing():
            self._track(fresh=False)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._track(fresh=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def _track(self, fresh: bool) -> None:
        state = self.conn.their_state
        if state is h11.IDLE:  # waiting for a request's head: one deadline, more bytes do not extend it
            if fresh or self._request_timer is None:
                self._start_timer()
        elif state is h11.SEND_BODY:  # inside a body: the deadline restarts with each chunk
            self._start_timer()
        else:  # the whole request is in (or the connection is closing)
            self._stop_timer()

    def _start_timer(self) -> None:
        self._stop_timer()
        self._request_timer = self.loop.call_later(self.idle_timeout, self._timed_out)

    def _stop_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _timed_out(self) -> None:
        self._request_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the server stopped reading (the app is behind), not the client
            self._start_timer()
            return
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:  # half a request head
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()
