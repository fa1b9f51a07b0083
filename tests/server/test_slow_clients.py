"""Slow clients cannot starve the servers (issue 22 item 5), over real sockets on 127.0.0.1: a body
trickled a byte at a time is cut off at its deadline with a 408, a client that never reads its
response is dropped, connections are capped below the open-files limit, and `staticml api` /
`staticml serve` started with a soft open-files limit of 256 raise it and keep answering normal
requests while 300 slow clients hold connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from async_tools import run_in_own_loop

from onnx_tabular import import_model
from staticml.server import FD_RESERVE, MAX_CONNECTIONS, connection_cap, free_port
from staticml.site import WEB_ASSETS
from uvicorn_thread import serving_in_thread

SLACK = 2.0  # scheduling on 2 busy cores


async def read_body_then_answer(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_steadily_trickled_body_is_cut_off_at_its_deadline_with_a_408():
    """One byte every 0.4 s never pauses as long as the 1 s idle timeout, yet the body must be whole within 3 s."""
    with serving_in_thread(read_body_then_answer, idle_timeout=1.0, body_timeout=3.0) as address:
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            started, received = time.monotonic(), b""
            sock.settimeout(0.4)
            while time.monotonic() - started < 3.0 + 2 * SLACK:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(b"x")
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    break
                received += chunk
                if not chunk:
                    break
            took = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert 3.0 - 0.5 <= took <= 3.0 + SLACK, took


def test_a_body_sent_in_time_is_answered():
    with serving_in_thread(read_body_then_answer, idle_timeout=1.0, body_timeout=3.0) as address:
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
            for _ in range(4):  # 2 s of a 3 s deadline
                time.sleep(0.5)
                sock.sendall(b"x")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")


def test_a_client_that_never_reads_its_response_is_dropped():
    """64 MB to a client that reads nothing: the send buffer fills, and 1 s later the connection goes
    (without the write timeout, the app's send would wait for ever)."""
    finished = threading.Event()

    async def big(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(64 << 20).encode())]})
        for _ in range(1024):
            await send({"type": "http.response.body", "body": b"x" * (64 << 10), "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        finished.set()

    with serving_in_thread(big, write_timeout=1.0) as address:
        with socket.create_connection(address, timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert finished.wait(1.0 + 5 * SLACK), "the server still waits on a client that reads nothing"


def test_connections_beyond_the_cap_get_a_503_not_a_hang():
    with serving_in_thread(read_body_then_answer, max_connections=20) as address:
        held = [socket.create_connection(address, timeout=5) for _ in range(25)]
        try:
            time.sleep(0.5)
            answer = httpx.post(f"http://{address[0]}:{address[1]}/", content=b"{}", timeout=5)
        finally:
            for sock in held:
                sock.close()
        assert answer.status_code == 503
        time.sleep(0.5)
        assert httpx.post(f"http://{address[0]}:{address[1]}/", content=b"{}", timeout=5).status_code == 200


def test_the_cap_leaves_room_below_the_open_files_limit():
    assert connection_cap(1024) == 1024 - FD_RESERVE
    assert connection_cap(1 << 20) == MAX_CONNECTIONS
    assert connection_cap(-1) == MAX_CONNECTIONS  # RLIM_INFINITY


# ---- the real commands, with a soft open-files limit of 256 and 300 slow clients ----

SLOW_CLIENTS = 300
LOW_SOFT_LIMIT = 256


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return import_model(tmp_path_factory.mktemp("slow-clients"), "form")


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("slow-site") / "site"
    site.mkdir()
    shutil.copy(WEB_ASSETS / "index.html", site / "index.html")
    (site / "site.json").write_text(json.dumps({"models": [{"name": "m", "path": "models/m/"}], "default_model": "m", "api_url": None}))
    return site


def low_open_files_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT_LIMIT, hard))


@contextlib.contextmanager
def command(args: list[str], ready_path: str) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", *args, "--port", str(port)], preexec_fn=low_open_files_limit,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + ready_path, timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"staticml {args[0]} did not start"
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(10)


def soft_open_files_limit(pid: int) -> int:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if line.startswith("Max open files"))
    return int(line.split()[3])


async def trickle(port: int, path: str, stop: float) -> None:
    """A slow client: a POST head, then one byte of its body every 2 s until `stop`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n".encode())
        while time.monotonic() < stop and not reader.at_eof():
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(2)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def normal_requests_among_slow_clients(url: str, method: str, path: str, payload: dict | None) -> list[tuple[int, float]]:
    """SLOW_CLIENTS slow clients attached, then 20 normal requests, one after another on fresh
    connections; returns each one's (status, seconds)."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    stop = time.monotonic() + 60
    slow = [asyncio.create_task(trickle(port, "/v1/predict", stop)) for _ in range(SLOW_CLIENTS)]
    await asyncio.sleep(3)  # all connected and trickling
    answers = []
    try:
        for _ in range(20):
            async with httpx.AsyncClient(timeout=10) as client:
                started = time.monotonic()
                try:
                    response = await client.request(method, url + path, json=payload)
                    answers.append((response.status_code, time.monotonic() - started))
                except httpx.HTTPError as exc:
                    answers.append((type(exc).__name__, time.monotonic() - started))
            if answers[-1][0] != 200:
                break  # starved: no need to wait out 19 more timeouts
            await asyncio.sleep(0.1)
    finally:
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
    return answers


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc/PID/limits")
@pytest.mark.parametrize("which", ["api", "serve"])
def test_normal_requests_are_answered_while_300_slow_clients_hold_connections(which, model_dir, plain_site):
    if which == "api":
        args, ready, method, path, payload = ["api", str(model_dir)], "healthz", "POST", "v1/predict", \
            {"rows": [{"__proto__": 3, "constructor": "b", "toString": False}]}
    else:
        args, ready, method, path, payload = ["serve", str(plain_site)], "site.json", "GET", "site.json", None
    with command(args, ready) as (url, process):
        assert soft_open_files_limit(process.pid) > LOW_SOFT_LIMIT  # raised at start (to the hard limit)
        answers = run_in_own_loop(normal_requests_among_slow_clients(url, method, path, payload))
        assert process.poll() is None
    assert all(status == 200 for status, _ in answers), answers
    assert max(seconds for _, seconds in answers) < 3.0, answers
