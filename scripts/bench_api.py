"""Load benchmark of the HTTP API (not a test): `staticml api MODEL` in one process, an httpx async
client in this one, on loopback. For each model and each concurrency level it runs a fixed time
and prints requests/s, p50/p99 latency and errors; then the batching gain: throughput at the
highest concurrency with micro-batching and without it (STATICML_API_MAX_BATCH=1). With
--slow-clients N, the highest concurrency is measured again with N slow clients attached (each a
raw socket on 127.0.0.1 sending a POST body one byte every 2 s, reconnecting when the server cuts
it off), against the same run without them.

    .venv/bin/python scripts/bench_api.py [MODEL_DIR ...] [--seconds 30] [--concurrency 1,8,64] [--slow-clients 300]

Without model folders it first trains the tiny sentiment model (1 epoch) into a temporary folder.
Each request carries one tweet from the held-out split.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np

from staticml.train import data
from staticml.server import free_port


@dataclass
class Run:
    model: str
    concurrency: int
    batching: bool
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    mean_batch: float
    slow_clients: int = 0

    def line(self) -> str:
        mode = "batched" if self.batching else "unbatched"
        if self.slow_clients:
            mode += f" +{self.slow_clients} slow"
        return (f"{self.model:<14} c={self.concurrency:<3} {mode:<9} {self.rps:8.1f} req/s   p50 {self.p50_ms:7.2f} ms"
                f"   p99 {self.p99_ms:7.2f} ms   errors {self.errors}   mean batch {self.mean_batch:5.1f} texts")


@contextlib.contextmanager
def api_server(model_dir: Path, batching: bool) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "STATICML_API_MAX_BATCH": os.environ.get("STATICML_API_MAX_BATCH", "32") if batching else "1"}
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(model_dir), "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench_api: the server exited: {process.stderr.read().strip()[-300:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    sys.exit(f"bench_api: no answer from {url} within {timeout:.0f} s")


async def trickle(port: int, stop: float) -> int:
    """One slow client until `stop`: a POST head, then one byte of its body every 2 s; when the
    server closes the connection (the body's deadline), a new one. Returns how many it opened."""
    opened = 0
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(1)
            continue
        opened += 1
        try:
            writer.write(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while time.monotonic() < stop and not reader.at_eof():
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(2)
        except OSError:
            pass
        finally:
            writer.close()
    return opened


async def load(url: str, texts: list[str], concurrency: int, seconds: float, slow_clients: int = 0) -> tuple[list[float], int]:
    """`concurrency` clients posting one text each, back to back, for `seconds` (after `slow_clients`
    slow ones have connected); returns latencies and errors."""
    slow: list[asyncio.Task] = []
    if slow_clients:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        slow = [asyncio.create_task(trickle(port, time.monotonic() + seconds + 5)) for _ in range(slow_clients)]
        await asyncio.sleep(3)  # all attached before the measured clients start
    # One client (one keep-alive connection) per worker: a shared httpx pool of 64 connections
    # costs more CPU than the server does, and it would be what gets measured.
    clients = [httpx.AsyncClient(base_url=url, timeout=30, verify=False) for _ in range(concurrency)]
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient, seed: int, stop: float) -> None:
        nonlocal errors
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                response = await client.post("v1/predict", json={"texts": [rng.choice(texts)]})
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    try:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(worker(client, i, stop) for i, client in enumerate(clients)))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
    return latencies, errors


def measure(url: str, model: str, texts: list[str], concurrency: int, seconds: float, batching: bool,
            slow_clients: int = 0) -> Run:
    asyncio.run(load(url, texts, concurrency, min(seconds, 2.0)))  # warm up connections and the session
    before = _stats(url)
    started = time.perf_counter()
    latencies, errors = asyncio.run(load(url, texts, concurrency, seconds, slow_clients))
    elapsed = time.perf_counter() - started - (3 if slow_clients else 0)  # less the slow clients' head start
    after = _stats(url)
    batches = max(after["batches"] - before["batches"], 1)
    ms = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return Run(model, concurrency, batching, round(elapsed, 1), len(latencies), errors, len(latencies) / elapsed,
               float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), (after["texts"] - before["texts"]) / batches,
               slow_clients)


def _stats(url: str) -> dict:
    return next(iter(httpx.get(url + "healthz").json()["models"].values()))


def bench_model(model_dir: Path, texts: list[str], levels: list[int], seconds: float, slow_clients: int = 0) -> list[Run]:
    name = json.loads((model_dir / "manifest.json").read_text())["name"]
    runs = []
    with api_server(model_dir, batching=True) as url:
        if not httpx.get(url + "v1/models").json()["models"][0]["micro_batching"]:
            print(f"{name}: its graph quantizes activations per batch, so the server never batches it "
                  "across requests (the 'batched' rows run one request at a time)", flush=True)
        for concurrency in levels:
            runs.append(measure(url, name, texts, concurrency, seconds, batching=True))
            print(runs[-1].line(), flush=True)
        if slow_clients:
            plain = runs[-1]
            runs.append(measure(url, name, texts, max(levels), seconds, batching=True, slow_clients=slow_clients))
            print(runs[-1].line(), flush=True)
            print(f"{name}: with {slow_clients} slow clients at c={max(levels)}: {runs[-1].rps / plain.rps:.2f}x throughput, "
                  f"p99 {runs[-1].p99_ms:.1f} vs {plain.p99_ms:.1f} ms", flush=True)
    with api_server(model_dir, batching=False) as url:
        runs.append(measure(url, name, texts, max(levels), seconds, batching=False))
        print(runs[-1].line(), flush=True)
    batched, unbatched = next(r for r in runs if r.batching and not r.slow_clients and r.concurrency == max(levels)), runs[-1]
    print(f"{name}: batching gain at c={max(levels)}: {batched.rps / unbatched.rps:.2f}x throughput "
          f"({batched.rps:.0f} vs {unbatched.rps:.0f} req/s)", flush=True)
    return runs


def train_tiny(out: Path) -> Path:
    from staticml.train import TrainConfig, train

    dataset = data.load_default(keep_labels=["negative", "positive"])
    train(dataset, out, TrainConfig(name="sentiment", epochs=1), lambda line: None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="model folders (default: train the tiny model)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each run (default 30)")
    parser.add_argument("--concurrency", default="1,8,64", help="comma-separated levels (default 1,8,64)")
    parser.add_argument("--slow-clients", type=int, default=0,
                        help="also measure the highest concurrency with this many slow clients attached (e.g. 300)")
    parser.add_argument("--json", type=Path, help="also write the runs here")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    texts = data.split(data.load_default(keep_labels=["negative", "positive"])).test[0][:2000]
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        models = args.models or [train_tiny(Path(tmp) / "sentiment")]
        print(f"{len(texts)} held-out tweets, one per request; {args.seconds:g} s per run; "
              f"{os.cpu_count()} cores shared by client and server; load average {os.getloadavg()[0]:.1f} at start", flush=True)
        runs = [run for model_dir in models for run in bench_model(model_dir, texts, levels, args.seconds, args.slow_clients)]
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")


if __name__ == "__main__":
    main()
