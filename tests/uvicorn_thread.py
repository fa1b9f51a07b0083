"""A uvicorn server in a thread of the test process, with the options `staticml serve` and `api` use
(some of them shortened by the test), for tests that speak raw HTTP to it."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

import uvicorn

from staticml.server import free_port, uvicorn_options


@contextlib.contextmanager
def serving_in_thread(app, **options) -> Iterator[tuple[str, int]]:
    """Yields (host, port) once the server is up; `options` go to `uvicorn_options` (idle_timeout, …)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **uvicorn_options(**options)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)
