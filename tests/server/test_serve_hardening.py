"""`staticml serve` on a real server, over real sockets: no hidden files, no connection held open
by a client that sends nothing (or half a request), nosniff and a frame policy on every response
and in `_headers`, and CORS only where the README says (`staticml api`, not `serve --api`)."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from staticml import hosting
from staticml.browser import served
from staticml.server import IDLE_TIMEOUT, create_app, free_port
from staticml.site import WEB_ASSETS
from staticml.site_config import model_dirs, read_site
from uvicorn_thread import serving_in_thread

SHORT = 1.0  # the idle timeout of the in-thread servers, in seconds
SLACK = 1.5  # scheduling on 2 busy cores


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory) -> Path:
    """The page and a site.json (no model: enough for serving files), plus files nobody should get."""
    site = tmp_path_factory.mktemp("hardening") / "site"
    site.mkdir()
    shutil.copy(WEB_ASSETS / "index.html", site / "index.html")
    (site / "assets").mkdir()
    (site / "assets" / "app.js").write_text("export {};\n")
    (site / "site.json").write_text(json.dumps({"models": [{"name": "m", "path": "models/m/"}],
                                                "default_model": "m", "api_url": None}))
    (site / ".env").write_text("SECRET=1\n")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[remote]\n")
    (site / "models" / "m").mkdir(parents=True)
    (site / "models" / "m" / ".notes").write_text("private\n")
    hosting.write_headers(site)
    return site


@pytest.fixture(scope="module")
def plain_server(plain_site):
    with serving_in_thread(create_app(plain_site), idle_timeout=SHORT) as address:
        yield address


@pytest.fixture(scope="module")
def served_site(plain_site):
    """The real `staticml serve` command (default timeout) in a child process."""
    with served(plain_site) as url:
        yield url


def closed_after(sock: socket.socket, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closes `sock` (reading what it sends meanwhile), or fail after `limit`."""
    start = time.monotonic()
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {limit:.1f} s (received {received[:80]!r})")
    except ConnectionResetError:
        pass
    return time.monotonic() - start, received


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=5)


# ---- hidden files ----

@pytest.mark.parametrize("path", ["/.env", "/.git/config", "/models/m/.notes", "/%2eenv", "/.git/",
                                  "/assets/../.env", "/models/./m/.notes"])
def test_no_path_with_a_hidden_segment_is_served(served_site, path):
    host, port = served_site.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)  # sends the path as written
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 404, (path, response.status, body[:80])
    assert b"SECRET" not in body and b"private" not in body and b"[remote]" not in body


def test_the_site_itself_is_still_served(served_site):
    assert httpx.get(served_site).status_code == 200
    assert httpx.get(served_site + "assets/app.js").status_code == 200
    assert httpx.get(served_site + "site.json").json()["default_model"] == "m"


def test_hidden_files_stay_out_of_the_offline_cache(tmp_path):
    site = tmp_path / "site"
    (site / ".cache").mkdir(parents=True)
    (site / "sw.js").write_text("const BUILD = '__STATICML_BUILD__';\n")
    (site / "index.html").write_text("<!doctype html>\n")
    (site / ".staticml-output").write_text("{}\n")
    (site / ".cache" / "x").write_text("x\n")
    hosting.write_precache(site, {})
    assert json.loads((site / "precache.json").read_text())["files"] == ["index.html"]


# ---- headers ----

def test_every_response_says_nosniff_and_who_may_frame_the_page(served_site, plain_site):
    for url in (served_site, served_site + "assets/app.js", served_site + "no-such-file"):
        headers = httpx.get(url).headers
        assert headers["x-content-type-options"] == "nosniff", url
        assert headers["x-frame-options"] == "SAMEORIGIN", url
        assert "frame-ancestors 'self'" in headers["content-security-policy"], url
    policy = httpx.get(served_site).headers["content-security-policy"]
    assert policy == hosting.content_security_policy(plain_site)
    assert "frame-ancestors" not in (plain_site / "index.html").read_text()  # a <meta> CSP ignores it


def test_the_headers_file_carries_the_same_policy_for_static_hosts(plain_site, served_site):
    lines = (plain_site / "_headers").read_text().splitlines()
    assert lines[0] == "/*"
    written = dict(line.strip().split(": ", 1) for line in lines[1:])
    sent = httpx.get(served_site).headers
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy",
                 "Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy"):
        assert written[name] == sent[name], name


# ---- idle connections ----

@pytest.mark.slow  # waits out the real 10 s timeout
def test_connections_that_send_nothing_are_closed_by_the_serve_command(served_site):
    """The issue's probe: 100 silent connections to `staticml serve`, with its default timeout."""
    host, port = served_site.removeprefix("http://").rstrip("/").split(":")
    sockets = [connect((host, int(port))) for _ in range(100)]
    opened = time.monotonic()
    try:
        for sock in sockets:
            closed_after(sock, max(0.1, opened + IDLE_TIMEOUT + 5 - time.monotonic()))
        took = time.monotonic() - opened
    finally:
        for sock in sockets:
            sock.close()
    assert IDLE_TIMEOUT - 1 <= took <= IDLE_TIMEOUT + 5, took  # closed on time, and not early
    assert httpx.get(served_site).status_code == 200  # and the server still answers


def test_a_silent_connection_is_closed_after_the_timeout(plain_server):
    sockets = [connect(plain_server) for _ in range(20)]
    try:
        waits = [closed_after(sock, SHORT + SLACK)[0] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert max(waits) <= SHORT + SLACK


@pytest.mark.parametrize("head", [b"GET / HTTP/1.1\r\nHost: x\r\n", b"GE"])
def test_half_a_request_head_gets_a_408_and_is_closed(plain_server, head):
    with connect(plain_server) as sock:
        sock.sendall(head)
        took, received = closed_after(sock, SHORT + SLACK)
    assert received.startswith(b"HTTP/1.1 408 "), received
    assert took <= SHORT + SLACK


def test_a_trickled_head_does_not_extend_the_deadline(plain_server):
    """Slowloris: one byte of the head at a time, each well within the timeout."""
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
    with connect(plain_server) as sock:
        start = time.monotonic()
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(SHORT / 5)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed_after(sock, SHORT + SLACK)
        assert time.monotonic() - start <= SHORT + 2 * SLACK


def test_half_a_request_after_a_response_is_closed(plain_server):
    """uvicorn's keep-alive timer stops at the first new byte: the request timeout must not."""
    with connect(plain_server) as sock:
        sock.sendall(b"GET /site.json HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        took, received = closed_after(sock, SHORT + SLACK)
    assert b"408" in received and took <= SHORT + SLACK


async def echo(scope, receive, send):
    """Reads the whole body, waits as long as the query asks, answers with the body's length."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await asyncio.sleep(float(scope["query_string"] or 0))
    answer = str(len(body)).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def echo_server():
    with serving_in_thread(echo, idle_timeout=SHORT) as address:
        yield address


def post_head(length: int, query: str = "") -> bytes:
    return f"POST /?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()


def test_a_body_that_stops_arriving_is_closed(echo_server):
    with connect(echo_server) as sock:
        sock.sendall(post_head(100) + b"x" * 10)
        took, received = closed_after(sock, SHORT + SLACK)
    assert received == b"" and took <= SHORT + SLACK


def test_a_slow_but_steady_body_and_a_slow_app_are_not_cut_off(echo_server):
    """The timeout is between chunks of a body, and never while the app works on a whole request."""
    with connect(echo_server) as sock:
        sock.sendall(post_head(10, query=str(SHORT * 2.5)))
        for _ in range(10):  # 10 chunks over about 3 timeouts
            time.sleep(SHORT * 0.3)
            sock.sendall(b"x")
        sock.settimeout(SHORT * 2.5 + 10)
        answer = b""
        while not answer.endswith(b"\r\n\r\n10"):
            chunk = sock.recv(4096)
            assert chunk, f"closed after {answer!r}"
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer


# ---- CORS ----

@pytest.fixture(scope="module")
def model_dir(site) -> Path:
    return model_dirs(site, read_site(site))["sentiment"]


ORIGIN = {"origin": "https://elsewhere.example"}
PREFLIGHT = {**ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "content-type"}


def test_serve_api_answers_no_cross_origin_request(site):
    """Page and API share the origin under `serve --api`: no CORS, so other sites' pages cannot
    spend the server's CPU from their visitors' browsers."""
    with served(site, api=True) as url:
        models = httpx.get(url + "v1/models", headers=ORIGIN)
        preflight = httpx.options(url + "v1/predict", headers=PREFLIGHT)
        same_origin = httpx.post(url + "v1/predict", json={"texts": ["fine"]}, headers={"origin": url.rstrip("/")})
    assert models.status_code == 200 and "access-control-allow-origin" not in models.headers
    assert "access-control-allow-origin" not in preflight.headers
    assert same_origin.status_code == 200  # the page's own calls still work


def test_staticml_api_keeps_its_open_cors(model_dir):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(model_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read()
            try:
                httpx.get(url + "healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "staticml api did not start"
                time.sleep(0.2)
        models = httpx.get(url + "v1/models", headers=ORIGIN)
        preflight = httpx.options(url + "v1/predict", headers=PREFLIGHT)
    finally:
        process.terminate()
        process.wait(10)
    assert models.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"


def test_serve_on_port_0_names_the_port_it_listens_on(plain_site):
    """`--port 0` means any free port: the line printed at start names the real one."""
    import re
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "staticml", "serve", str(plain_site), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        assert port > 0, line
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/site.json", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer on the port it printed"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
