"""Load benchmark of the HTTP API (not a test): `staticml api MODEL` in one process, an httpx async
client in this one, on loopback. For each model and each concurrency level it runs a fixed time
and prints requests/s, p50/p99 latency and errors; then the batching gain: throughput at the
highest concurrency with micro-batching and without it (STATICML_API_MAX_BATCH=1). With
--slow-clients N, the highest concurrency is measured again with N slow clients attached (each a
raw socket on 127.0.0.1 sending a POST body one byte every 2 s, reconnecting when the server cuts
it off), against the same run without them.

    .venv/bin/python scripts/bench_api.py [MODEL_DIR ...] [--seconds 30] [--concurrency 1,8,64] [--slow-clients 300]

With --wrk, the load comes from a real load generator instead: `wrk` (Debian: `apt-get install
wrk`) with a Lua script POSTing one input per request (a held-out tweet, or one of a tabular
model's rows), --wrk-threads client threads (default 2; 1 leaves the server more of 2 cores) and
--concurrency connections (default 64), against `staticml api MODEL --workers N` for each N of
--workers (default 1,2). Each run reports requests/s, rows/s, p50/p99 latency (wrk's), errors
(non-2xx and socket errors), the resident memory of each worker process at the start and the end of
the run, the workers' CPU time per request (which a busy machine disturbs far less than the rest) and
the load average; --repeat R runs the whole set R times, interleaved:

    .venv/bin/python scripts/bench_api.py --wrk [MODEL_DIR ...] [--seconds 30] [--concurrency 64] [--workers 1,2] \
        [--wrk-threads 1,2] [--repeat 2]

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


# ---- a real load generator: wrk, against staticml api --workers N

WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("STATICML_BODIES")) do bodies[#bodies + 1] = line end
local i = math.random(#bodies)
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/predict", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


@dataclass
class WrkRun:
    model: str
    workers: int
    threads: int  # wrk's
    connections: int
    seconds: float
    requests: int
    errors: int
    rps: float
    rows_per_s: float
    p50_ms: float
    p99_ms: float
    worker_rss_mb: list[tuple[float, float]]  # each worker's resident memory at the start and the end
    load_average: float = 0.0  # the 1-minute load average at the end of the run
    cpu_us_per_request: float = 0.0  # the workers' CPU time (user + system) over the run, per request: robust to a busy machine

    def line(self) -> str:
        memory = ", ".join(f"{a:.0f}->{b:.0f}" for a, b in self.worker_rss_mb)
        return (f"{self.model:<14} workers={self.workers} wrk -t{self.threads} -c{self.connections:<3} {self.rps:8.1f} req/s "
                f"{self.rows_per_s:8.1f} rows/s   p50 {self.p50_ms:7.2f} ms   p99 {self.p99_ms:7.2f} ms   errors {self.errors}   "
                f"worker RSS MB {memory}   CPU {self.cpu_us_per_request:.0f} us/request   load average {self.load_average:.1f}")


@contextlib.contextmanager
def api_workers(model_dir: Path, workers: int) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(model_dir), "--port", str(port), "--workers", str(workers)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait(url, process, timeout=120)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def worker_pids(process: subprocess.Popen, workers: int) -> list[int]:
    """The processes that serve: uvicorn's spawned workers, or the server itself with one worker."""
    if workers == 1:
        return [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def request_bodies(url: str, model_dir: Path, texts: list[str]) -> tuple[list[str], str]:
    """One JSON body per line, one input each: texts for a text model, the model's own rows for a tabular one."""
    field = httpx.get(url + "v1/models").json()["models"][0]["input"]
    if field == "texts":
        return [json.dumps({"texts": [t]}) for t in texts], field
    rows_file = model_dir / "test_rows.json"
    if rows_file.is_file():
        rows = json.loads(rows_file.read_text())
    else:
        from staticml.tasks.tabular.features import typical_row

        rows = [typical_row(json.loads((model_dir / "manifest.json").read_text())["features"])]
    return [json.dumps({"rows": [row]}) for row in rows], field


def wrk_latency_ms(text: str, percentile: str) -> float:
    import re

    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk_run(model_dir: Path, texts: list[str], workers: int, connections: int, seconds: float, threads: int = 2) -> WrkRun:
    import re
    import shutil

    if shutil.which("wrk") is None:
        sys.exit("bench_api --wrk: wrk is not installed (Debian: apt-get install wrk)")
    name = json.loads((model_dir / "manifest.json").read_text())["name"]
    with api_workers(model_dir, workers) as (url, process), tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        bodies, _ = request_bodies(url, model_dir, texts)
        (Path(tmp) / "bodies.jsonl").write_text("\n".join(bodies) + "\n")
        (Path(tmp) / "post.lua").write_text(WRK_SCRIPT)
        env = {**os.environ, "STATICML_BODIES": str(Path(tmp) / "bodies.jsonl")}
        # wrk's own 2 s timeout would count a slow model's queued requests as errors: they are answered, late
        command = ["wrk", f"-t{threads}", f"-c{connections}", "--timeout", "60s", "--latency", "-s", str(Path(tmp) / "post.lua"), url]
        subprocess.run(command[:1] + ["-d3s"] + command[1:], env=env, capture_output=True, check=True)  # warm-up
        pids = worker_pids(process, workers)
        start, cpu_start = [rss_mb(pid) for pid in pids], cpu_seconds(pids)
        done = subprocess.run(command[:1] + [f"-d{seconds:g}s"] + command[1:], env=env, capture_output=True, text=True, check=True)
        end, cpu = [rss_mb(pid) for pid in pids], cpu_seconds(pids) - cpu_start
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out.split("Socket errors:")[1].splitlines()[0])) \
        if "Socket errors:" in out else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return WrkRun(name, workers, threads, connections, seconds, requests, non_2xx + socket, rps, rps,  # one input per request
                  wrk_latency_ms(out, "50"), wrk_latency_ms(out, "99"), list(zip(start, end)), os.getloadavg()[0],
                  cpu / max(requests, 1) * 1e6)


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
    parser.add_argument("--wrk", action="store_true", help="load from wrk (a real load generator) against staticml api --workers N")
    parser.add_argument("--workers", default="1,2", help="--wrk: comma-separated numbers of worker processes (default 1,2)")
    parser.add_argument("--wrk-threads", default="2", help="--wrk: comma-separated numbers of wrk threads (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="--wrk: run the whole set this many times, interleaved (default 1)")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    texts = data.split(data.load_default(keep_labels=["negative", "positive"])).test[0][:2000]
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        models = args.models or [train_tiny(Path(tmp) / "sentiment")]
        if args.wrk:
            connections = max(levels) if args.concurrency != parser.get_default("concurrency") else 64
            print(f"wrk, {connections} connections, {args.seconds:g} s per run; {os.cpu_count()} cores shared by "
                  f"wrk and the server; load average {os.getloadavg()[0]:.1f} at start", flush=True)
            runs = []
            for _ in range(args.repeat):
                for model_dir in models:
                    for workers in (int(w) for w in args.workers.split(",")):
                        for threads in (int(t) for t in args.wrk_threads.split(",")):
                            runs.append(wrk_run(model_dir, texts, workers, connections, args.seconds, threads))
                            print(runs[-1].line(), flush=True)
            if args.json:
                args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")
            return
        print(f"{len(texts)} held-out tweets, one per request; {args.seconds:g} s per run; "
              f"{os.cpu_count()} cores shared by client and server; load average {os.getloadavg()[0]:.1f} at start", flush=True)
        runs = [run for model_dir in models for run in bench_model(model_dir, texts, levels, args.seconds, args.slow_clients)]
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")


if __name__ == "__main__":
    main()
