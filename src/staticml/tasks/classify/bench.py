"""Browser or server? Measure a classifier site's models in real Chromium, behind the HTTP API, and natively.

Per model (and variant) and network profile: first- and repeat-visit bytes and time to ready,
per-prediction latency in the page (1 thread and all threads), the server round trip through the
same emulated network, native onnxruntime as the physical reference, and the break-even number of
predictions after which the browser's up-front cost is paid back.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from ... import output
from ...browser import CHROMIUM_FLAGS, WEBGPU_FLAGS, chromium, chromium_path, open_page, served
from ...errors import UserError
from ...site_config import model_dirs, read_site
from ...visits import OFFLINE, PROFILES, Profile, break_even, brotli_bytes, offline_visit, summary, visit
from ...wire import AFTER_READY_S, first_visit
from ..base import BenchRun
from .accuracy import accuracy_points

Opener = Callable[..., Any]  # tasks.open_model: (model_dir, variant, threads) -> a runtime.Classifier
Sample = Callable[[Path], tuple[str, Any]]  # model_dir -> (the API's request field, one input)


def request_body(field: str, sample: Any, name: str) -> str:
    return json.dumps({field: [sample], "model": name})


@dataclass
class Settings:
    profiles: list[Profile]
    predictions: int = 200
    server_requests: int = 60
    threads: int = min(os.cpu_count() or 1, 4)
    service_worker: bool = False


def bench_site(run: BenchRun, open_model: Opener, sample: Sample) -> dict:
    """Run the whole benchmark of a classifier site and write report.json, report.md and charts into `run.out`."""
    site = run.site
    config = read_site(site)
    targets = _targets(site, config, run.models, run.all_variants)
    output.check_writable(Path(run.out).absolute(), "bench", run.force, [site])
    settings = Settings(PROFILES[:2], 40, 20) if run.quick else Settings(list(PROFILES))
    settings.service_worker = (site / "sw.js").is_file()
    steps = len(targets) * (len(settings.profiles) + 5)
    started = time.perf_counter()
    results = []
    with served(site, api=True, port=run.port) as url, chromium() as browser:
        gpu = _webgpu_browser(browser, targets)
        try:
            for name, variant, model_dir in targets:
                model = Target(name, variant, model_dir, open_model, *sample(model_dir))
                results.append(_bench_model(browser, url, model, settings, run.progress, gpu))
        finally:
            if gpu is not None:
                gpu.close()
    report = {"site": str(site), "machine": {"cpus": os.cpu_count()}, "quick": run.quick,
              "profiles": [asdict(p) for p in [*settings.profiles, OFFLINE]],
              "results": results, "seconds": round(time.perf_counter() - started, 1), "steps": steps,
              "accuracy_per_byte": accuracy_points(site)}  # every model and variant, from the manifests
    from .report import write_charts, write_markdown

    with output.atomic_folder(run.out, "bench", run.force, [site]) as folder:
        (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        write_charts(report, folder)
        (folder / "report.md").write_text(write_markdown(report))
    if run.json_path:
        Path(run.json_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


@dataclass(frozen=True)
class Target:
    """One model and variant of the site, how to run it natively, and one input of it."""

    name: str
    variant: str
    model_dir: Path
    open_model: Opener
    field: str  # the API request's field for inputs: "texts", "rows"
    sample: Any


def _targets(site: Path, config: dict, models: list[str] | None, all_variants: bool) -> list[tuple[str, str, Path]]:
    available = model_dirs(site, config)
    unknown = [m for m in models or [] if m not in available]
    if unknown:
        raise UserError(f"{site}: no model named {', '.join(unknown)} (the site has {', '.join(available)})")
    targets = []
    for name in models or list(available):
        manifest = read_manifest(available[name])
        variants = list(manifest["variants"]) if all_variants else [manifest["default_variant"]]
        targets += [(name, variant, available[name]) for variant in variants]
    return targets


def _webgpu_browser(browser, targets: list[tuple[str, str, Path]]):
    """A second Chromium with WebGPU on, when a model's site ships WebGPU; None otherwise."""
    if not any("webgpu" in read_manifest(d).get("backends", []) for _, _, d in targets):
        return None
    return browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS + list(WEBGPU_FLAGS))


def _bench_model(browser, url: str, model: Target, settings: Settings, progress: Callable[[str], None], gpu_browser=None) -> dict:
    name, variant, model_dir, sample = model.name, model.variant, model.model_dir, model.sample
    page_url = f"{url}?model={name}&variant={variant}"
    label = f"{name}/{variant}"
    result = {"model": name, "variant": variant, "model_bytes": _model_bytes(model_dir, variant), "profiles": {},
              "input": sample}
    body = request_body(model.field, sample, name)
    for profile in settings.profiles:
        progress(f"{label}: visits and server round trips on {profile.name}")
        result["profiles"][profile.name] = _network_profile(browser, page_url, url, body, profile, settings)
    first = result["profiles"][settings.profiles[0].name]["first_visit"]
    result["first_visit_brotli_bytes"] = brotli_bytes(model_dir.parents[1], first["paths"])
    progress(f"{label}: first visit counted at the server (until ready, and {AFTER_READY_S:.0f} s after)")
    result["first_visit_wire"] = wire_first_visit(browser, model_dir.parents[1], f"?model={name}&variant={variant}")
    progress(f"{label}: offline after cache")
    result["profiles"][OFFLINE.name] = {"repeat_visit": offline_visit(browser, page_url)}
    progress(f"{label}: latency in the page")
    one = _page_latency(browser, f"{page_url}&threads=1", settings.predictions, sample)
    result["engine"] = one["engine"]  # compact or onnxruntime-web
    result["page"] = {"threads_1": one}
    if one["engine"] != "compact":  # the compact engine runs on the page's thread: threads do not apply
        result["page"][f"threads_{settings.threads}"] = _page_latency(
            browser, f"{page_url}&threads={settings.threads}", settings.predictions, sample)
    progress(f"{label}: native onnxruntime")
    result["native"] = {f"threads_{t}": native_latency(model.open_model(model_dir, variant, threads=t), settings.predictions, sample)
                        for t in sorted({1, settings.threads})}
    result["server_compute"] = _server_compute(browser, url, body, settings.server_requests)
    if gpu_browser is not None and "webgpu" in read_manifest(model_dir).get("backends", []):
        progress(f"{label}: WebGPU")
        result["webgpu"] = webgpu_figures(gpu_browser, page_url, max(10, settings.predictions // 10), sample)
    progress(f"{label}: done")
    _derive(result, settings.threads)
    return result


def webgpu_figures(browser, page_url: str, count: int, sample: Any) -> dict:
    """The page forced onto WebGPU (loopback, no emulated network): time to ready, latency, the
    adapter; `software` when it is a fallback adapter (SwiftShader here): correctness, not speed."""
    context, page, _ = open_page(browser, f"{page_url}&backend=webgpu", timeout_ms=600_000)
    try:
        info = page.evaluate("window.staticml.info()")
        if info["backend"] != "webgpu":
            return {"backend": info["backend"], "reason": info["backend_reason"], "adapter": info["adapter"]}
        measured = page.evaluate(LATENCY_JS, [sample, count])
        return summary(measured["times"]) | {
            "backend": "webgpu", "adapter": info["adapter"], "software": "fallback adapter" in (info["adapter"] or ""),
            "ready_ms": round(float(info["load_ms"]), 1), "raw_bytes": int(info.get("bytes_uncompressed", info["bytes_downloaded"])),
            "wasm_bytes": int(info["wasm_bytes"])}
    finally:
        context.close()


def wire_first_visit(browser, site: Path, query: str) -> dict:
    """Bytes of the bodies the server sent during a first visit: until ready, and in the 10 s after
    (the service worker filling its offline cache), with every file sent more than once. Counted at a
    server of its own (staticml.wire), which sees the service worker's requests too; on loopback."""
    visit = first_visit(browser, site, query)
    return {key: visit[key] for key in ("before_ready_bytes", "after_ready_bytes", "after_ready_s", "sent_twice")}


def read_manifest(model_dir: Path) -> dict:
    from ...manifest import read

    return read(model_dir)


def _model_bytes(model_dir: Path, variant: str) -> int:
    manifest = read_manifest(model_dir)
    return manifest["files"][manifest["variants"][variant]]["bytes"]


def _network_profile(browser, page_url: str, url: str, body: str, profile: Profile, settings: Settings) -> dict:
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", profile.cdp())
        first = visit(page, page_url)
        if settings.service_worker:  # a repeat visit comes after the offline cache is filled
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        repeat = visit(page, page_url)
        server = _server_latency(page, url, body, settings.server_requests)
        return {"first_visit": first, "repeat_visit": repeat, "server": server}
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


def _page_latency(browser, page_url: str, count: int, sample: Any) -> dict:
    context, page, _ = open_page(browser, page_url)
    try:
        measured = page.evaluate(LATENCY_JS, [sample, count])
        info = page.evaluate("window.staticml.info()")
        return summary(measured["times"]) | {"threads": info["threads"], "engine": info["engine"], "block": measured["block"]}
    finally:
        context.close()


def _server_latency(page, url: str, body: str, count: int) -> dict:
    return summary(page.evaluate(SERVER_JS, [f"{url}v1/predict", body, count]))


def _server_compute(browser, url: str, body: str, count: int) -> dict:
    """The API's round trip on loopback with no emulated network: its compute plus HTTP overhead."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}site.json")
        return summary(page.evaluate(SERVER_JS, [f"{url}v1/predict", body, count]))
    finally:
        context.close()


def native_latency(classifier, count: int, text: Any) -> dict:
    """p50/p95 of one input (a text, a row: checked and fed as the page does) through native
    onnxruntime, after a warm-up."""
    threads = classifier.session.get_session_options().intra_op_num_threads
    run = classifier.probabilities
    for _ in range(5):
        run([text])
    times = []
    for _ in range(count):
        start = time.perf_counter()
        run([text])
        times.append((time.perf_counter() - start) * 1000)
    return summary(times) | {"threads": threads}


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


