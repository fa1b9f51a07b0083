"""What crossed the network: a site served on loopback by a server that logs every response body
it sent (path, status, bytes), whoever asked for it — the page, its workers or its service worker.

The browser's own request events miss the service worker's fetches and cannot tell a cache hit from
a download in every case; the server's log can: a file sent twice with status 200 was downloaded
twice."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Statuses that carry a file's body (a 304 answers a revalidation: nothing crossed but headers).
BODY_STATUSES = (200, 206)


@dataclass(frozen=True)
class Sent:
    path: str
    status: int
    bytes: int
    at: float  # time.time() when the body was complete (the page's clock is the same machine's)


@dataclass
class WireLog:
    """Every response the server completed, in order."""

    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Sent) -> None:
        with self.lock:
            self.sent.append(item)

    def bodies(self, until: float | None = None) -> list[Sent]:
        """The responses that carried a body (200/206), completed before `until` (time.time()) if given."""
        with self.lock:
            return [s for s in self.sent if s.status in BODY_STATUSES and (until is None or s.at <= until)]

    def body_bytes(self, until: float | None = None) -> int:
        return sum(s.bytes for s in self.bodies(until))

    def sent_twice(self) -> dict[str, int]:
        """Paths whose body was sent more than once, with the count."""
        counts: dict[str, int] = {}
        for s in self.bodies():
            counts[s.path] = counts.get(s.path, 0) + 1
        return {path: n for path, n in counts.items() if n > 1}

    def clear(self) -> None:
        with self.lock:
            self.sent.clear()


class LoggingApp:
    """ASGI middleware: records each HTTP response's path, status and body bytes in `log`."""

    def __init__(self, app: ASGIApp, log: WireLog):
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, size = 0, 0

        async def counting_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    self.log.add(Sent(scope["path"], status, size, time.time()))
            await send(message)

        await self.app(scope, receive, counting_send)


AFTER_READY_S = 10.0


def first_visit(browser, site: Path, query: str = "", after_ready_s: float = AFTER_READY_S) -> dict:
    """A first visit in a fresh browser context on the counting server: the bytes of the bodies
    sent until the page was ready and by `after_ready_s` after (the service worker filling its
    offline cache comes then), and any file sent more than once."""
    from .browser import wait_until

    with counted(Path(site)) as (url, log):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url + query)
            wait_until(page, "window.staticml !== undefined", 600_000)
            page.evaluate("() => window.staticml.ready")
            ready_at = page.evaluate("performance.timeOrigin + window.staticml.info().load_ms") / 1000
            page.wait_for_timeout(after_ready_s * 1000)
        finally:
            context.close()
        before = log.body_bytes(ready_at)
        return {"before_ready_bytes": before, "after_ready_bytes": log.body_bytes() - before,
                "after_ready_s": after_ready_s, "sent_twice": log.sent_twice(),
                "sent": [{"path": s.path, "status": s.status, "bytes": s.bytes, "after_ready": s.at > ready_at} for s in log.sent]}


@contextlib.contextmanager
def counted(site: Path, app: ASGIApp | None = None) -> Iterator[tuple[str, WireLog]]:
    """Serve `site` as `staticml serve` does (same app, headers and precompressed copies; or `app`,
    when given, in its place) on a free loopback port, in a thread of this process; yield its base
    URL and the log of what it sent."""
    import uvicorn

    from .server import create_app, free_port, uvicorn_options

    log = WireLog()
    port = free_port()
    served = app if app is not None else create_app(Path(site))
    config = uvicorn.Config(LoggingApp(served, log), host="127.0.0.1", port=port, **uvicorn_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the counting server for {site} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/", log
    finally:
        server.should_exit = True
        thread.join(timeout=10)
