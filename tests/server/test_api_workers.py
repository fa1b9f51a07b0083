"""Issue 29 item 4: `staticml api --workers N` serves from N processes behind one port, each batching
its own requests, every answer the same as Python's; a bad --workers and a bad model are one line."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pytest
from async_tools import run_in_own_loop
from cli_tools import assert_one_line_refusal, run

from staticml import Classifier
from staticml.ports import free_port

TEXTS = ["I love this, it made my day!", "worst service ever, never again", "meh", "the bus was late again"]


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes (multiprocessing's spawned children; not its resource tracker)."""
    return [c for c in children(pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@contextlib.contextmanager
def api(model: Path, workers: int) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(model), "--port", str(port), "--workers", str(workers)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while len(worker_pids(process.pid)) < workers or not ready(url):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "staticml api --workers did not start"
            time.sleep(0.3)
        yield url, process
    finally:
        process.terminate()
        process.wait(20)


def ready(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(url + "healthz", timeout=2).status_code == 200
    return False


async def post_many(url: str, count: int) -> list[httpx.Response]:
    """`count` requests, each on a connection of its own (the kernel hands each connection to one worker)."""
    async def one(i: int) -> httpx.Response:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await client.post("v1/predict", json={"texts": [TEXTS[i % len(TEXTS)]]})

    return list(await asyncio.gather(*(one(i) for i in range(count))))


@pytest.mark.slow
def test_two_workers_share_one_port_and_both_answer_the_same_as_python(tiny_model):
    expected = Classifier(tiny_model).probabilities(TEXTS)
    with api(tiny_model, 2) as (url, process):
        pids = worker_pids(process.pid)
        assert len(pids) == 2
        before = {pid: cpu_ticks(pid) for pid in pids}
        responses = run_in_own_loop(post_many(url, 400))
        assert [r.status_code for r in responses] == [200] * len(responses)
        for i, response in enumerate(responses):
            got = response.json()["predictions"][0]["scores"]
            assert np.abs(np.array([got["negative"], got["positive"]]) - expected[i % len(TEXTS)]).max() <= 1e-6
        busy = [pid for pid in pids if cpu_ticks(pid) - before[pid] > 5]  # more than 50 ms of CPU: it scored requests
        assert sorted(busy) == sorted(pids)
        assert "2 worker processes" in process.stdout.readline()


def test_workers_must_be_a_positive_number(capsys, tiny_model):
    code, err = run(capsys, "api", tiny_model, "--workers", "0")
    assert_one_line_refusal(code, err, "'0' is not a number of worker processes (1 to 256)")


def test_a_bad_model_is_refused_before_any_worker_starts(capsys, tmp_path):
    code, err = run(capsys, "api", tmp_path / "missing", "--workers", "2", "--port", "0")
    assert code == 2 and len(err) == 1 and "missing" in err[0]
