"""Issue 29: the server's HTTP/1.1 protocol runs on httptools (llhttp) rather than h11, for the API's
requests per core; what the h11 protocol guaranteed still holds (the timeouts: test_slow_clients.py and
test_serve_hardening.py), plus the head size limit and pipelining here. And the API's worker processes
freeze their start-up heap out of the garbage collector's sight (the latency tail)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time


from staticml.server import MAX_HEAD_BYTES, TimedHttpToolsProtocol, free_port, uvicorn_options
from uvicorn_thread import serving_in_thread


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    body = scope["path"].encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def exchange(address: tuple[str, int], data: bytes, wait: float = 5.0) -> bytes:
    """Sends `data`, returns all that comes back until the server closes or `wait` passes."""
    with socket.create_connection(address, timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    return received


def test_the_server_protocol_is_httptools_based():
    assert issubclass(uvicorn_options()["http"], TimedHttpToolsProtocol)


def test_a_head_over_the_limit_gets_a_400_and_is_closed():
    padding = b"a" * (MAX_HEAD_BYTES + 1024)
    with serving_in_thread(hello, idle_timeout=2.0) as address:
        started = time.monotonic()
        received = exchange(address, b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + padding)  # never finished
        assert received.startswith(b"HTTP/1.1 400 "), received[:100]
        assert time.monotonic() - started < 2.0  # refused as it came, not at the timeout
        fine = exchange(address, b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * (MAX_HEAD_BYTES // 2) + b"\r\nConnection: close\r\n\r\n")
        assert fine.startswith(b"HTTP/1.1 200 ") and fine.endswith(b"/ok")


def test_pipelined_requests_are_answered_in_order():
    requests = b"".join(f"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(5))
    with serving_in_thread(hello, idle_timeout=2.0) as address:
        received = exchange(address, requests + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    bodies = [part.rsplit(b"\r\n\r\n", 1)[-1] for part in received.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"/0", b"/1", b"/2", b"/3", b"/4", b"/last"], received


def test_an_api_worker_freezes_its_start_up_heap(tiny_model):
    """What each `staticml api --workers N` process runs: its app, then gc.freeze (so that full collections
    between requests do not walk the libraries' and the models' objects)."""
    code = ("import gc; from staticml.api import app_from_environment; app_from_environment(); "
            "print(gc.get_freeze_count())")
    env = {**os.environ, "STATICML_API_MODELS": str(tiny_model), "STATICML_API_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) > 10_000, done.stdout


def test_the_api_answers_over_the_new_protocol(tiny_model):
    """A real `staticml api` process: a keep-alive connection, several requests on it, every one answered."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(tiny_model), "--port", str(port), "--workers", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read()
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            assert time.monotonic() < deadline, "staticml api did not start"
            time.sleep(0.2)
        body = json.dumps({"texts": ["I love this!"]}).encode()
        request = (b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n\r\n" + body)
        received = exchange(("127.0.0.1", port), request * 3 + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", wait=30)
        assert received.count(b"HTTP/1.1 200 OK") == 4, received
        assert received.count(b'"predictions"') == 3
    finally:
        process.terminate()
        process.wait(20)


def test_the_fast_predict_path_answers_exactly_as_fastapi_does(tiny_model):
    """POST /v1/predict's common case skips FastAPI's layers (api.FastPredict); the same request sent so that
    it takes FastAPI's path (a charset in its Content-Type) gets the same bytes, and bad bodies the same refusals."""
    from fastapi.testclient import TestClient

    from staticml.api import create_api, load_models

    with TestClient(create_api(load_models([tiny_model]), cors_origins=())) as client:  # one event loop for the batcher
        same_answers(client)


def same_answers(client) -> None:
    bodies = [{"texts": ["I love this!", "worst flight ever"]}, {"texts": ["meh"], "model": "sentiment"},
              {"texts": []}, {"texts": ["a"], "extra": 1}, {"texts": [3]}, {"texts": ["a"], "model": "nope"}, [1, 2], "text"]
    for body in bodies:
        content = json.dumps(body).encode()
        fast = client.post("/v1/predict", content=content, headers={"content-type": "application/json"})
        plain = client.post("/v1/predict", content=content, headers={"content-type": "application/json; charset=utf-8"})
        assert (fast.status_code, fast.content) == (plain.status_code, plain.content), body
        assert fast.headers["content-type"] == plain.headers["content-type"]
    assert client.post("/v1/predict", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    stats = client.get("/healthz").json()["models"]["sentiment"]
    assert stats["requests"] == 4  # the two good bodies, each answered once by each path
