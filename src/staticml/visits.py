"""Visiting a built site in headless Chromium as a visitor would, for `bench`: emulated networks,
bytes on the wire, time to ready, the offline repeat visit; and the summary of measured times."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np

from .browser import wait_until


@dataclass(frozen=True)
class Profile:
    """An emulated network: throughput in kbit/s and round-trip latency in ms (CDP network emulation)."""

    name: str
    down_kbps: float
    up_kbps: float
    rtt_ms: float
    offline: bool = False

    def cdp(self) -> dict:
        return {"offline": self.offline, "latency": self.rtt_ms,
                "downloadThroughput": self.down_kbps * 1000 / 8, "uploadThroughput": self.up_kbps * 1000 / 8}


PROFILES = [
    Profile("cable", 50_000, 10_000, 20),
    Profile("fast-4g", 9_000, 1_500, 60),
    Profile("slow-3g", 400, 400, 400),
]
OFFLINE = Profile("offline-after-cache", 0, 0, 0, offline=True)


def visit(page, page_url: str) -> dict:
    """Load the page; bytes on the wire (compressed), time to ready and where it went."""
    started, requests, failed = [], [], []

    def recorder(into: list):  # Playwright needs Python functions, not builtins like list.append
        return lambda request: into.append(request)

    listeners = {"request": recorder(started), "requestfinished": recorder(requests), "requestfailed": recorder(failed)}
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        page.goto(page_url, wait_until="commit")
        wait_until(page, "window.staticml !== undefined", 600_000)
        page.evaluate("() => window.staticml.ready")
        info = page.evaluate("window.staticml.info()")
        origin = page.evaluate("performance.timeOrigin")
        # "ready" may come a few ms after the last body arrived (the compact engine needs no
        # compile step), before Playwright has reported that request as finished: wait for it.
        before_ready = list(started)
        deadline = time.monotonic() + 10
        while any(r not in requests and r not in failed for r in before_ready) and time.monotonic() < deadline:
            page.wait_for_timeout(20)
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)
    wire = sum(wire_bytes(r) for r in requests)
    ends = [r.timing["startTime"] + r.timing["responseEnd"] for r in requests if r.timing["responseEnd"] > 0]
    download_ms = max(0.0, max(ends, default=origin) - origin)
    ready_ms = float(info["load_ms"])
    return {"ready_ms": round(ready_ms, 1), "download_ms": round(min(download_ms, ready_ms), 1),
            "compile_and_session_ms": round(max(0.0, ready_ms - download_ms), 1),
            "wire_bytes": wire, "raw_bytes": int(info.get("bytes_uncompressed", info["bytes_downloaded"])), "requests": len(requests),
            "paths": sorted({urlsplit(r.url).path for r in requests}),
            "engine": info.get("engine")}


def brotli_bytes(site: Path, paths: list[str]) -> int:
    """Bodies of these files as a host serving the build's .br copies sends them (Chromium asks for
    brotli over https only, so a visit over plain http measures gzip)."""
    total = 0
    for path in paths:
        file = site / (unquote(path).lstrip("/") or "index.html")
        copy = file.with_name(file.name + ".br")
        total += copy.stat().st_size if copy.is_file() else file.stat().st_size if file.is_file() else 0
    return total


def wire_bytes(request) -> int:
    try:
        sizes = request.sizes()
    except Exception:  # a request served from a cache has no sizes to report
        return 0
    return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])


def offline_visit(browser, page_url: str) -> dict | None:
    """Repeat visit with the network off: works only where the site has a service worker."""
    context = browser.new_context()
    try:
        page = context.new_page()
        visit(page, page_url)
        has_worker = page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => !!r)")
        if not has_worker:
            return None
        page.reload()
        wait_until(page, "navigator.serviceWorker.controller !== null", 30_000)
        context.set_offline(True)
        return visit(page, page_url)
    except Exception:  # no service worker, or it does not serve the page offline
        return None
    finally:
        context.close()


def summary(times_ms: list[float]) -> dict:
    values = np.asarray(times_ms, dtype=float)
    return {"p50_ms": round(float(np.percentile(values, 50)), 4), "p95_ms": round(float(np.percentile(values, 95)), 4),
            "count": int(values.size)}


def break_even(first_visit_ms: float, local_ms: float, server_ms: float) -> int | None:
    """Smallest n with first_visit + n × local < n × server; None when the server is never slower."""
    if server_ms <= local_ms:
        return None
    return math.floor(first_visit_ms / (server_ms - local_ms)) + 1
