"""Serve a built site (and, with --api, the same models behind an HTTP API) on a real ASGI server."""

from __future__ import annotations

import mimetypes
import socket
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import UserError
from .hosting import ISOLATION_HEADERS, content_security_policy
from .site import read_site

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/json", ".json")

class SiteHeaders:
    """Adds the isolation headers and the site's CSP (as in its `_headers`) to every response,
    and keeps files from being cached stale."""

    def __init__(self, app: ASGIApp, csp: str | None = None):
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in ISOLATION_HEADERS.items()]
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
    """Static files that answer with the `.br` or `.gz` copy `build` wrote, when the client accepts it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
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


def create_app(site: Path, api: bool = False) -> Starlette:
    """The static site; with `api`, a FastAPI app holding the HTTP API with the site mounted at /."""
    config = read_site(site)
    if api:
        from .api import site_api

        app = site_api(site, config)
    else:
        app = Starlette()
    # Not a mount at "/": the site answers only paths no route takes, so a wrong method on an
    # API path still gets the API's 405 with its own Allow header.
    app.router.default = PrecompressedFiles(directory=str(site), html=True)
    app.add_middleware(SiteHeaders, csp=content_security_policy(site))
    return app


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn does: connections in TIME_WAIT from a previous run must not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"{host}:{port}: cannot listen there ({exc.strerror}); pick another --port") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def serve(site: Path, host: str = "127.0.0.1", port: int = 8000, api: bool = False) -> None:
    run(create_app(Path(site), api=api), host, port, f"serving {site}")


def run(app: ASGIApp, host: str, port: int, what: str) -> None:
    """Run `app` on uvicorn until Ctrl-C; the port is checked first so a busy one is a UserError."""
    import uvicorn

    check_port_free(host, port)
    print(f"{what} at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
