"""Browser or server? Measure one site's models in real Chromium, behind the HTTP API, and natively.

Per model (and variant) and network profile: first- and repeat-visit bytes and time to ready,
per-prediction latency in the page (1 thread and all threads), the server round trip through the
same emulated network, native onnxruntime as the physical reference, and the break-even number of
predictions after which the browser's up-front cost is paid back.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import numpy as np

from . import manifest as manifest_io, output, tabular
from .browser import CHROMIUM_FLAGS, WEBGPU_FLAGS, chromium, chromium_path, open_page, served, wait_until
from .bench_accuracy import accuracy_points
from .errors import UserError
from .runtime import Classifier
from .site import model_dirs, read_site
from .wire import AFTER_READY_S, first_visit

TEXT = "Driverless cars will make our roads so much safer, I can't wait to ride in one!"


def sample_input(manifest: dict) -> str | dict:
    """What one prediction takes: TEXT, or for a tabular model its typical row."""
    return tabular.typical_row(manifest["features"]) if manifest["task"] == "tabular-classification" else TEXT


def _request_body(sample: str | dict, name: str) -> str:
    return json.dumps({"rows" if isinstance(sample, dict) else "texts": [sample], "model": name})


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


@dataclass
class Settings:
    profiles: list[Profile]
    predictions: int = 200
    server_requests: int = 60
    threads: int = min(os.cpu_count() or 1, 4)
    service_worker: bool = False


def bench(site: str | Path, out: str | Path, models: list[str] | None = None, all_variants: bool = False,
          quick: bool = False, json_path: str | Path | None = None, port: int | None = None,
          progress: Callable[[str], None] | None = None, force: bool = False) -> dict:
    """Run the whole benchmark and write report.json, report.md and charts into `out`."""
    site = Path(site)
    config = read_site(site)
    if _is_camera_site(site, config):  # a face detector: frames per second, not predictions
        from .bench_camera import bench_camera

        return bench_camera(site, Path(out), json_path, port, progress or (lambda _: None), force)
    targets = _targets(site, config, models, all_variants)
    output.check_writable(Path(out).absolute(), "bench", force, [site])
    settings = Settings(PROFILES[:2], 40, 20) if quick else Settings(list(PROFILES))
    settings.service_worker = (site / "sw.js").is_file()
    steps = len(targets) * (len(settings.profiles) + 5)
    progress = progress or (lambda _: None)
    started = time.perf_counter()
    results = []
    with served(site, api=True, port=port) as url, chromium() as browser:
        gpu = _webgpu_browser(browser, targets)
        try:
            for name, variant, model_dir in targets:
                results.append(_bench_model(browser, url, name, variant, model_dir, settings, progress, gpu))
        finally:
            if gpu is not None:
                gpu.close()
    report = {"site": str(site), "machine": {"cpus": os.cpu_count()}, "quick": quick,
              "profiles": [asdict(p) for p in [*settings.profiles, OFFLINE]], "text": TEXT,
              "results": results, "seconds": round(time.perf_counter() - started, 1), "steps": steps,
              "accuracy_per_byte": accuracy_points(site)}  # every model and variant, from the manifests
    from .bench_report import write_charts, write_markdown

    with output.atomic_folder(out, "bench", force, [site]) as folder:
        (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        write_charts(report, folder)
        (folder / "report.md").write_text(write_markdown(report))
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _is_camera_site(site: Path, config: dict) -> bool:
    from .verify_camera import is_camera_site

    return is_camera_site(site, config)


def _targets(site: Path, config: dict, models: list[str] | None, all_variants: bool) -> list[tuple[str, str, Path]]:
    available = model_dirs(site, config)
    unknown = [m for m in models or [] if m not in available]
    if unknown:
        raise UserError(f"{site}: no model named {', '.join(unknown)} (the site has {', '.join(available)})")
    targets = []
    for name in models or list(available):
        manifest = manifest_io.read(available[name])
        variants = list(manifest["variants"]) if all_variants else [manifest["default_variant"]]
        targets += [(name, variant, available[name]) for variant in variants]
    return targets


def _webgpu_browser(browser, targets: list[tuple[str, str, Path]]):
    """A second Chromium with WebGPU on, when a model's site ships WebGPU; None otherwise."""
    if not any("webgpu" in manifest_io.read(d).get("backends", []) for _, _, d in targets):
        return None
    return browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS + list(WEBGPU_FLAGS))


def _bench_model(browser, url: str, name: str, variant: str, model_dir: Path, settings: Settings,
                 progress: Callable[[str], None], gpu_browser=None) -> dict:
    page_url = f"{url}?model={name}&variant={variant}"
    label = f"{name}/{variant}"
    result = {"model": name, "variant": variant, "model_bytes": _model_bytes(model_dir, variant), "profiles": {}}
    sample = sample_input(manifest_io.read(model_dir))
    if isinstance(sample, dict):
        result["input"] = sample  # a tabular model: one row per prediction
    for profile in settings.profiles:
        progress(f"{label}: visits and server round trips on {profile.name}")
        result["profiles"][profile.name] = _network_profile(browser, page_url, url, name, profile, settings, sample)
    first = result["profiles"][settings.profiles[0].name]["first_visit"]
    result["first_visit_brotli_bytes"] = brotli_bytes(model_dir.parents[1], first["paths"])
    progress(f"{label}: first visit counted at the server (until ready, and {AFTER_READY_S:.0f} s after)")
    result["first_visit_wire"] = wire_first_visit(browser, model_dir.parents[1], f"?model={name}&variant={variant}")
    progress(f"{label}: offline after cache")
    result["profiles"][OFFLINE.name] = {"repeat_visit": _offline_visit(browser, page_url)}
    progress(f"{label}: latency in the page")
    one = _page_latency(browser, f"{page_url}&threads=1", settings.predictions, sample)
    result["engine"] = one["engine"]  # compact or onnxruntime-web
    result["page"] = {"threads_1": one}
    if one["engine"] != "compact":  # the compact engine runs on the page's thread: threads do not apply
        result["page"][f"threads_{settings.threads}"] = _page_latency(
            browser, f"{page_url}&threads={settings.threads}", settings.predictions, sample)
    progress(f"{label}: native onnxruntime")
    result["native"] = {f"threads_{t}": native_latency(model_dir, variant, t, settings.predictions, sample)
                        for t in sorted({1, settings.threads})}
    result["server_compute"] = _server_compute(browser, url, name, settings.server_requests, sample)
    if gpu_browser is not None and "webgpu" in manifest_io.read(model_dir).get("backends", []):
        progress(f"{label}: WebGPU")
        result["webgpu"] = webgpu_figures(gpu_browser, page_url, max(10, settings.predictions // 10), sample)
    progress(f"{label}: done")
    _derive(result, settings.threads)
    return result


def webgpu_figures(browser, page_url: str, count: int, sample: str | dict = TEXT) -> dict:
    """The page forced onto WebGPU (loopback, no emulated network): time to ready, latency, the
    adapter; `software` when it is a fallback adapter (SwiftShader here): correctness, not speed."""
    context, page, _ = open_page(browser, f"{page_url}&backend=webgpu", timeout_ms=600_000)
    try:
        info = page.evaluate("window.staticml.info()")
        if info["backend"] != "webgpu":
            return {"backend": info["backend"], "reason": info["backend_reason"], "adapter": info["adapter"]}
        measured = page.evaluate(LATENCY_JS, [sample, count])
        return _summary(measured["times"]) | {
            "backend": "webgpu", "adapter": info["adapter"], "software": "fallback adapter" in (info["adapter"] or ""),
            "ready_ms": round(float(info["load_ms"]), 1), "raw_bytes": int(info["bytes_downloaded"]),
            "wasm_bytes": int(info["wasm_bytes"])}
    finally:
        context.close()


def wire_first_visit(browser, site: Path, query: str) -> dict:
    """Bytes of the bodies the server sent during a first visit: until ready, and in the 10 s after
    (the service worker filling its offline cache), with every file sent more than once. Counted at a
    server of its own (staticml.wire), which sees the service worker's requests too; on loopback."""
    visit = first_visit(browser, site, query)
    return {key: visit[key] for key in ("before_ready_bytes", "after_ready_bytes", "after_ready_s", "sent_twice")}


def _model_bytes(model_dir: Path, variant: str) -> int:
    manifest = manifest_io.read(model_dir)
    return manifest["files"][manifest["variants"][variant]]["bytes"]


def _network_profile(browser, page_url: str, url: str, name: str, profile: Profile, settings: Settings,
                     sample: str | dict) -> dict:
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", profile.cdp())
        first = _visit(page, page_url)
        if settings.service_worker:  # a repeat visit comes after the offline cache is filled
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        repeat = _visit(page, page_url)
        server = _server_latency(page, url, name, settings.server_requests, sample)
        return {"first_visit": first, "repeat_visit": repeat, "server": server}
    finally:
        context.close()


def _visit(page, page_url: str) -> dict:
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
    wire = sum(_wire_bytes(r) for r in requests)
    ends = [r.timing["startTime"] + r.timing["responseEnd"] for r in requests if r.timing["responseEnd"] > 0]
    download_ms = max(0.0, max(ends, default=origin) - origin)
    ready_ms = float(info["load_ms"])
    return {"ready_ms": round(ready_ms, 1), "download_ms": round(min(download_ms, ready_ms), 1),
            "compile_and_session_ms": round(max(0.0, ready_ms - download_ms), 1),
            "wire_bytes": wire, "raw_bytes": int(info["bytes_downloaded"]), "requests": len(requests),
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


def _wire_bytes(request) -> int:
    try:
        sizes = request.sizes()
    except Exception:  # a request served from a cache has no sizes to report
        return 0
    return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])


def _offline_visit(browser, page_url: str) -> dict | None:
    """Repeat visit with the network off: works only where the site has a service worker."""
    context = browser.new_context()
    try:
        page = context.new_page()
        _visit(page, page_url)
        has_worker = page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => !!r)")
        if not has_worker:
            return None
        page.reload()
        wait_until(page, "navigator.serviceWorker.controller !== null", 30_000)
        context.set_offline(True)
        return _visit(page, page_url)
    except Exception:  # no service worker, or it does not serve the page offline
        return None
    finally:
        context.close()


# One text (or row) per predict. The page's clock is coarse (5 µs with cross-origin isolation, 100 µs
# without) and the compact engine predicts in tens of µs: each sample is the mean of a block of
# runs of about 2 ms (one run per block when a run is that long, as on onnxruntime-web). The block
# is sized on 20 ms of runs after 100 ms of warm-up (JIT, and the service worker installing).
LATENCY_JS = """async ([text, count]) => {  // text: a text, or a tabular model's row
  for (let i = 0; i < 5; i++) await window.staticml.predict([text]);
  for (const start = performance.now(); performance.now() - start < 100; ) await window.staticml.predict([text]);
  let runs = 0;
  for (const start = performance.now(); performance.now() - start < 20; runs++) await window.staticml.predict([text]);
  const block = Math.max(1, Math.round(runs / 10));
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    for (let j = 0; j < block; j++) await window.staticml.predict([text]);
    times.push((performance.now() - start) / block);
  }
  return {times, block};
}"""

SERVER_JS = """async ([url, body, count]) => {
  const times = [];
  for (let i = 0; i < count + 2; i++) {
    const start = performance.now();
    const response = await fetch(url, {method: "POST", headers: {"content-type": "application/json"}, body});
    await response.json();
    if (i >= 2) times.push(performance.now() - start);
  }
  return times;
}"""


def _page_latency(browser, page_url: str, count: int, sample: str | dict = TEXT) -> dict:
    context, page, _ = open_page(browser, page_url)
    try:
        measured = page.evaluate(LATENCY_JS, [sample, count])
        info = page.evaluate("window.staticml.info()")
        return _summary(measured["times"]) | {"threads": info["threads"], "engine": info["engine"], "block": measured["block"]}
    finally:
        context.close()


def _server_latency(page, url: str, name: str, count: int, sample: str | dict = TEXT) -> dict:
    body = _request_body(sample, name)
    return _summary(page.evaluate(SERVER_JS, [f"{url}v1/predict", body, count]))


def _server_compute(browser, url: str, name: str, count: int, sample: str | dict = TEXT) -> dict:
    """The API's round trip on loopback with no emulated network: its compute plus HTTP overhead."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}site.json")
        body = _request_body(sample, name)
        return _summary(page.evaluate(SERVER_JS, [f"{url}v1/predict", body, count]))
    finally:
        context.close()


def native_latency(model_dir: Path, variant: str, threads: int, count: int, text: str | dict = TEXT) -> dict:
    """p50/p95 of one text (a tabular model: one row, checked and fed as the page does) through
    native onnxruntime, after a warm-up."""
    classifier = Classifier(model_dir, variant, threads=threads)
    run = classifier.probabilities if classifier.tabular else classifier.logits
    for _ in range(5):
        run([text])
    times = []
    for _ in range(count):
        start = time.perf_counter()
        run([text])
        times.append((time.perf_counter() - start) * 1000)
    return _summary(times) | {"threads": threads}


def _summary(times_ms: list[float]) -> dict:
    values = np.asarray(times_ms, dtype=float)
    return {"p50_ms": round(float(np.percentile(values, 50)), 4), "p95_ms": round(float(np.percentile(values, 95)), 4),
            "count": int(values.size)}


def _derive(result: dict, threads: int) -> None:
    """Break-even per profile and the page/native latency ratio."""
    page = result["page"]  # the compact engine is measured on the page's thread only
    local = page.get(f"threads_{threads}", page["threads_1"])["p50_ms"]
    native = result["native"][f"threads_{threads}"]["p50_ms"]
    result["page_native_ratio"] = round(local / native, 2) if native > 0 else None
    for profile in result["profiles"].values():
        if "server" in profile:
            profile["break_even"] = break_even(profile["first_visit"]["ready_ms"], local, profile["server"]["p50_ms"])
    gpu = result.get("webgpu", {})
    if "p50_ms" in gpu:  # against the server on loopback: no network profile applies to it
        gpu["break_even_vs_loopback_server"] = break_even(gpu["ready_ms"], gpu["p50_ms"], result["server_compute"]["p50_ms"])


def break_even(first_visit_ms: float, local_ms: float, server_ms: float) -> int | None:
    """Smallest n with first_visit + n × local < n × server; None when the server is never slower."""
    if server_ms <= local_ms:
        return None
    return math.floor(first_visit_ms / (server_ms - local_ms)) + 1
