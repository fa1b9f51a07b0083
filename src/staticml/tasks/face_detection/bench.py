"""bench on a camera site (a face detector): first-visit bytes and time to ready, time to the first
detection of a camera frame, frames per second in the page (onnxruntime-web WASM, 1 and 2
threads: detect() back to back, one frame in flight as the camera loop runs it; and the camera
loop on a 30 fps fake camera) and natively (Python onnxruntime + staticml.detect)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ... import output
from ...browser import chromium, served, wait_until
from ...site_config import model_dirs, read_site
from ... import visits
from ...visits import PROFILES, brotli_bytes, summary
from . import clip as camera_clip
from ..base import BenchRun
from .runner import open_detector, read_model
from .verify import open_camera_page, page_detections

FRAMES = 200
CAMERA_SECONDS = 5.0
CLIP_FPS = 30
TARGET_FPS = 20  # the target at 128x128 on WASM, 2 cores

# Back-to-back detect() calls on one ImageData: each copies the frame, transfers it to the worker,
# runs and decodes (what the camera loop does per frame, without waiting for the next frame).
THROUGHPUT_JS = """async ([data, width, height, count]) => {
  const bytes = Uint8ClampedArray.from(atob(data), c => c.charCodeAt(0));
  const image = new ImageData(bytes, width, height);
  for (let i = 0; i < 10; i++) await window.staticml.detect(image);
  const times = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await window.staticml.detect(image);
    times.push(performance.now() - t);
  }
  return {times, seconds: (performance.now() - start) / 1000};
}"""


def bench_camera(run: BenchRun) -> dict:
    site, out, json_path, port, progress, force = run.site, run.out, run.json_path, run.port, run.progress, run.force
    config = read_site(site)
    name = config["default_model"]
    model_dir = model_dirs(site, config)[name]
    manifest = read_model(model_dir)
    variant = manifest["default_variant"]
    output.check_writable(Path(out).absolute(), "bench", force, [site])
    started = time.perf_counter()
    frame = camera_clip.parity_frames()[0]
    result = {"model": name, "variant": variant, "model_bytes": manifest["files"][manifest["variants"][variant]]["bytes"],
              "input": f"{manifest['detector']['input']['width']}x{manifest['detector']['input']['height']}"}
    with tempfile.TemporaryDirectory(prefix="staticml-bench-") as tmp:
        clip = camera_clip.still_clip(Path(tmp) / "still.y4m", seconds=2.0, fps=CLIP_FPS)
        with served(site, port=port) as url, chromium(camera_clip.fake_camera_flags(clip)) as browser:
            progress(f"{name}: first visit (cable) and the first detection")
            result["first_visit"] = _firstvisit(browser, url, site)
            result["page"] = {}
            for threads in (1, 2):
                progress(f"{name}: frames per second in the page, {threads} thread(s)")
                result["page"][f"threads_{threads}"] = _page_fps(browser, f"{url}?threads={threads}", frame)
            progress(f"{name}: the camera loop on a {CLIP_FPS} fps fake camera")
            result["camera_loop"] = _camera_loop(browser, url)
    progress(f"{name}: native onnxruntime")
    result["native"] = {f"threads_{t}": _native_fps(model_dir, variant, t, frame) for t in (1, 2)}
    report = {"site": str(site), "machine": {"cpus": os.cpu_count()}, "task": manifest["task"], "results": [],
              "camera": result, "target_fps": TARGET_FPS, "seconds": round(time.perf_counter() - started, 1)}
    with output.atomic_folder(out, "bench", force, [site]) as folder:
        (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (folder / "report.md").write_text(markdown(report))
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _firstvisit(browser, url: str, site: Path) -> dict:
    """A fresh visit on the cable profile with ?camera=on: bytes, ready, the first camera frame's detection."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", PROFILES[0].cdp())
        visit = visits.visit(page, f"{url}?camera=on")
        wait_until(page, "window.staticml.info().first_detection_ms !== null", 60_000)
        first = page.evaluate("() => window.staticml.info().first_detection_ms")
        return {"profile": PROFILES[0].name, "wire_bytes": visit["wire_bytes"], "brotli_bytes": brotli_bytes(site, visit["paths"]),
                "ready_ms": visit["ready_ms"], "first_detection_ms": round(first, 1), "requests": visit["requests"]}
    finally:
        context.close()


def _page_fps(browser, url: str, frame: np.ndarray) -> dict:
    import base64

    context, page, _ = open_camera_page(browser, url)
    try:
        assert page_detections(page, frame), "the bench frame shows no face"
        rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 255, np.uint8)], axis=2)
        measured = page.evaluate(THROUGHPUT_JS, [base64.b64encode(rgba.tobytes()).decode(), frame.shape[1], frame.shape[0], FRAMES])
        info = page.evaluate("() => window.staticml.info()")
        return summary(measured["times"]) | {"fps": round(FRAMES / measured["seconds"], 1), "threads": info["threads"],
                                              "cross_origin_isolated": info["cross_origin_isolated"]}
    finally:
        context.close()


def _camera_loop(browser, url: str) -> dict:
    context, page, _ = open_camera_page(browser, url)
    try:
        page.evaluate("() => window.staticml.start()")
        wait_until(page, "window.staticml.info().frames > 0", 30_000)
        first = page.evaluate("() => window.staticml.info().frames")
        time.sleep(CAMERA_SECONDS)
        info = page.evaluate("() => window.staticml.info()")
        return {"fps": round((info["frames"] - first) / CAMERA_SECONDS, 1), "clip_fps": CLIP_FPS, "threads": info["threads"],
                "last_frame_ms": round(info["last_inference_ms"], 2)}
    finally:
        context.close()


def _native_fps(model_dir: Path, variant: str, threads: int, frame: np.ndarray) -> dict:
    detector = open_detector(model_dir, variant, threads=threads)
    for _ in range(10):
        detector.detect(frame)
    times = []
    start = time.perf_counter()
    for _ in range(FRAMES):
        t = time.perf_counter()
        detector.detect(frame)
        times.append((time.perf_counter() - t) * 1000)
    return summary(times) | {"fps": round(FRAMES / (time.perf_counter() - start), 1), "threads": threads}


def rows(report: dict) -> list[tuple[str, str]]:
    """(what, figure) lines of the camera bench, for the console and report.md."""
    r = report["camera"]
    first = r["first_visit"]
    lines = [("model", f"{r['model']}/{r['variant']} ({r['model_bytes'] / 1e6:.2f} MB, input {r['input']})"),
             ("first visit (cable)", f"{first['wire_bytes'] / 1e6:.2f} MB on the wire ({first['brotli_bytes'] / 1e6:.2f} MB "
                                     f"with the build's brotli copies), ready in {first['ready_ms']:.0f} ms"),
             ("time to first detection", f"{first['first_detection_ms']:.0f} ms from navigation (camera started at ready)")]
    for key, page in r["page"].items():
        lines.append((f"page WASM, {page['threads']} thread(s)", f"{page['fps']:.1f} fps (p50 {page['p50_ms']:.1f} ms, "
                                                                 f"p95 {page['p95_ms']:.1f} ms per frame)"))
    loop = r["camera_loop"]
    lines.append(("camera loop", f"{loop['fps']:.1f} fps on a {loop['clip_fps']} fps fake camera ({loop['threads']} threads)"))
    for key, native in r["native"].items():
        lines.append((f"native, {native['threads']} thread(s)", f"{native['fps']:.1f} fps (p50 {native['p50_ms']:.2f} ms)"))
    return lines


def markdown(report: dict) -> str:
    lines = ["# staticml bench: face detection in the browser", "",
             f"Site `{report['site']}`, {report['machine']['cpus']} CPU cores ({report['seconds']:.0f} s). "
             f"Target: {report['target_fps']} fps at 128x128 on WASM.", "", "| | |", "|---|---|"]
    lines += [f"| {what} | {figure} |" for what, figure in rows(report)]
    return "\n".join(lines) + "\n"


def rich_table(report: dict):
    from rich.table import Table

    table = Table(title="staticml bench: face detection in the browser")
    table.add_column("what")
    table.add_column("figure")
    for what, figure in rows(report):
        table.add_row(what, figure)
    return table
