"""Static hosts as the tests need them: real HTTP servers (Python's http.server) that serve a built
site the way a kind of host does. `plain`: a GitHub Pages-like host or a bucket, no special
headers, the site possibly under a sub-path; `netlify`: a host that applies the site's `_headers`
file (Netlify, Cloudflare Pages)."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# What such hosts send for the site's files (Python's own table lacks .mjs on some versions).
TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript", ".json": "application/json",
         ".onnx": "application/octet-stream", ".html": "text/html", ".css": "text/css"}


def read_headers_file(path: Path) -> list[tuple[str, dict[str, str]]]:
    """Netlify's `_headers`: a path pattern on its own line, then indented `Name: value` lines."""
    rules: list[tuple[str, dict[str, str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), {}))
        elif rules:
            name, _, value = line.strip().partition(":")
            rules[-1][1][name.strip()] = value.strip()
    return rules


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}
    rules: list[tuple[str, dict[str, str]]] = []
    extra: dict[str, str] = {}

    def end_headers(self) -> None:
        path = self.path.split("?")[0]
        for pattern, headers in self.rules:
            if fnmatch.fnmatchcase(path, pattern):
                for name, value in headers.items():
                    self.send_header(name, value)
        for name, value in self.extra.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a browser closed mid-download (the test's context ended): not the test's concern


@contextlib.contextmanager
def host(root: Path, headers_file: Path | None = None, extra: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `root` on a free loopback port; yield the base URL. With `headers_file`, every response
    carries the headers its rules give the path; `extra` headers go on every response."""
    rules = read_headers_file(headers_file) if headers_file else []
    handler = type("HostHandler", (Handler,), {"rules": rules, "extra": extra or {}})
    server = QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
