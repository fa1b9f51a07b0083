"""Serve a built site (and, with --api, the same models behind an HTTP API) on a real ASGI server."""

from __future__ import annotations

import asyncio
import gc
import mimetypes
import os
import sys
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
# A request's body must be whole within BODY_TIMEOUT of its head, however steadily it trickles in (one
# byte every 2 s would otherwise hold the connection forever); the API's largest body, 2 MB, takes
# 30 s at 70 KB/s. A client that reads nothing of a response for WRITE_TIMEOUT is dropped.
BODY_TIMEOUT = 30.0
WRITE_TIMEOUT = 30.0
# At most MAX_CONNECTIONS open connections (more get a 503), and never more than the open-files
# limit leaves room for: FD_RESERVE descriptors stay for the model files, onnxruntime and logging.
MAX_CONNECTIONS = 4096
FD_RESERVE = 128
MAX_HEAD_BYTES = 16 * 1024  # a request line and headers beyond this get a 400
HEAD, BODY, IN = "head", "body", "in"  # what a connection waits for: a request's head, its body, nothing (the request is in)
SHUTDOWN_GRACE = 5  # seconds Ctrl-C waits for requests in progress

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
    raise_open_files_limit()
    print(f"{what} at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    settle_heap()
    uvicorn.run(app, host=host, port=port, **uvicorn_options())


def settle_heap() -> None:
    """Called once the app and its models are loaded, before serving: moves everything alive now out of the
    garbage collector's sight (gc.freeze). Otherwise each full collection walks the whole start-up heap (the
    libraries, the models' Python objects) between two requests, and those pauses are the latency tail: with
    it, p99 at 64 clients fell from 200-430 ms to 31-58 ms in A/B runs on the same loaded machine."""
    gc.collect()
    gc.freeze()


def run_workers(factory: str, environment: dict[str, str], host: str, port: int, workers: int, what: str) -> None:
    """Run the app `factory` ("module:function", called once in each process) in `workers` processes
    that share one listening socket (uvicorn's multi-process mode: the kernel spreads connections
    over them); `environment` is set for them first. One worker runs in this process."""
    import uvicorn

    port = port or free_port(host)
    check_port_free(host, port)
    raise_open_files_limit()  # the workers inherit it
    os.environ.update(environment)
    print(f"{what} at http://{host}:{port}/  ({workers} worker process{'es' if workers > 1 else ''}; Ctrl-C to stop)", flush=True)
    # The protocol by name: each worker process imports it (a class made at run time would not pickle).
    options = {**uvicorn_options(), "http": f"{__name__}:TimedHttpToolsProtocol"}
    uvicorn.run(factory, host=host, port=port, factory=True, workers=workers, **options)


def uvicorn_options(idle_timeout: float = IDLE_TIMEOUT, body_timeout: float = BODY_TIMEOUT,
                    write_timeout: float = WRITE_TIMEOUT, max_connections: int | None = None) -> dict[str, Any]:
    """How `run` configures uvicorn (tests start a uvicorn.Server with shorter timeouts). The
    connection cap defaults to what the current open-files limit allows (`connection_cap`)."""
    timeouts = {"idle_timeout": idle_timeout, "body_timeout": body_timeout, "write_timeout": write_timeout}
    protocol = type("TimedHttpToolsProtocol", (TimedHttpToolsProtocol,), timeouts)
    return {"http": protocol, "ws": "none", "timeout_keep_alive": KEEP_ALIVE, "log_level": "warning",
            "limit_concurrency": max_connections or connection_cap(), "timeout_graceful_shutdown": SHUTDOWN_GRACE}


def open_files_limit() -> int | None:
    """The process's soft limit on open files (None where there is none to read: Windows)."""
    if sys.platform == "win32":
        return None
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_open_files_limit() -> int | None:
    """Raises the soft open-files limit to the hard one (often 1,024 against 500,000 or more): each
    connection holds a descriptor, and running out of them stops the server accepting any."""
    if sys.platform == "win32":
        return None
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # macOS caps the soft limit below an unlimited hard one
        return soft
    return target


def connection_cap(limit: int | None = None) -> int:
    """MAX_CONNECTIONS, or fewer when the open-files limit would run out first."""
    limit = open_files_limit() if limit is None else limit
    if limit is None or limit < 0:  # no limit to respect (RLIM_INFINITY is -1)
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, limit - FD_RESERVE))


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol on httptools (llhttp: about twice the requests per core of the pure-Python
    h11) with request and write timeouts: a connection that does not deliver a request's head within
    `idle_timeout` (from when it opened or its previous response ended), pauses longer than that inside a
    body, or has not delivered the whole body within `body_timeout` of its head, is closed (with a 408
    when no response has started). uvicorn alone times out only a keep-alive connection that sends
    nothing at all after a response: a silent new connection, half a request, or a body trickled a byte
    at a time stays open forever. Once a whole request is in, the app takes the time it needs. A head
    over `max_head_bytes` gets a 400. A client that leaves the response unread (the send buffer full)
    for `write_timeout` is dropped."""

    idle_timeout: float = IDLE_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    write_timeout: float = WRITE_TIMEOUT
    max_head_bytes: int = MAX_HEAD_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._request_timer: asyncio.TimerHandle | None = None
        self._body_deadline: float | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._phase = HEAD  # what the client sends now: HEAD, BODY, or nothing (IN: the request is whole)
        self._head_bytes = 0  # bytes received while waiting for the current head
        super().connection_made(transport)
        self._track(fresh=True)

    def data_received(self, data: bytes) -> None:
        if self._phase is HEAD:
            self._head_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._phase is HEAD and self._head_bytes > self.max_head_bytes:
            self.send_400_response("Request head too large.")
            return
        self._track(fresh=False)

    def on_message_begin(self) -> None:
        self._phase = HEAD
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._phase, self._body_deadline = BODY, self.loop.time() + self.body_timeout
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._phase, self._body_deadline = IN, None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._phase is IN:  # not a pipelined request already on its way: wait for the next head
            self._phase, self._head_bytes = HEAD, 0
        if not self.transport.is_closing():
            self._track(fresh=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self._stop_write_timer()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.write_timeout, self._write_timed_out)

    def resume_writing(self) -> None:
        self._stop_write_timer()
        super().resume_writing()

    def _stop_write_timer(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _write_timed_out(self) -> None:
        self._write_timer = None
        if not self.transport.is_closing():
            self.transport.abort()  # close() would wait for the unread buffer to drain, which it never does

    def _track(self, fresh: bool) -> None:
        if self._phase is HEAD:  # waiting for a request's head: one deadline, more bytes do not extend it
            if fresh or self._request_timer is None:
                self._start_timer()
        elif self._phase is BODY:  # inside a body: restarts with each chunk, but never past the body's deadline
            self._start_timer(min(self.idle_timeout, self._body_deadline - self.loop.time()))
        else:  # the whole request is in
            self._stop_timer()

    def _start_timer(self, delay: float | None = None) -> None:
        self._stop_timer()
        self._request_timer = self.loop.call_later(self.idle_timeout if delay is None else max(delay, 0.0), self._timed_out)

    def _stop_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _timed_out(self) -> None:
        self._request_timer = None
        if self.transport.is_closing():
            return
        body_overdue = self._body_deadline is not None and self.loop.time() >= self._body_deadline
        if self.flow.read_paused and not body_overdue:  # the server stopped reading (the app is behind), not the client
            self._start_timer()
            return
        half_head = self._phase is HEAD and self._head_bytes > 0
        unanswered_body = body_overdue and not (self.cycle is not None and self.cycle.response_started)
        if half_head or unanswered_body:
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()
