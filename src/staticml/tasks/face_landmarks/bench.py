"""bench on a landmark site (eyes or hands): first-visit bytes (as a host serving the build's brotli
copies sends them) and the time to the first landmarks after the camera starts on loopback; frames
per second of landmarks()/hands() alone in the page and of the live camera loop on a fake camera
(WASM, 1 thread), and on a hands site the loop again with no hand in view (the slowest case: the
palm detector runs on every frame); natively, the same pipeline on Python onnxruntime (1 thread)."""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from ... import output, visits
from ...browser import chromium, served, wait_until
from ...site_config import model_dirs, read_site
from ..base import BenchRun
from ..face_detection import clip as camera_clip
from .parts import native_fps
from .verify import MEMBERS, open_camera_page

PAGE_FRAMES = 40
CAMERA_SECONDS = 5.0
# The targets for the live loop on 2 cores, WASM.
TARGET_FPS = {"face-landmarks": 15, "hand-landmarks": 10}
FIRST_LANDMARKS_TARGET_MS = 1500

THROUGHPUT_JS = """async ([member, data, width, height, count]) => {
  const bytes = Uint8ClampedArray.from(atob(data), c => c.charCodeAt(0));
  const image = new ImageData(bytes, width, height);
  for (let i = 0; i < 3; i++) await window.staticml[member](image);
  const start = performance.now();
  for (let i = 0; i < count; i++) await window.staticml[member](image);
  return (performance.now() - start) / 1000;
}"""


class Scene(NamedTuple):
    """A fake camera's scene for a second measure of the live loop: what it shows, and its clip's maker."""

    label: str
    clip: Callable[[Path], Path]


def bench_landmarks(run: BenchRun, task: str, open_runner: Callable, frames: list[np.ndarray],
                    camera: Callable[[Path], Path] | None = None, nothing_in_view: Scene | None = None) -> dict:
    """`camera(path)` writes the fake camera's clip (default: the portrait, still); `frames[0]` is the page API's frame;
    `nothing_in_view`, if given, is measured as a second live loop (reported as `camera_loop_nothing_in_view`)."""
    config = read_site(run.site)
    name = config["default_model"]
    model_dir = model_dirs(run.site, config)[name]
    runner = open_runner(model_dir, threads=1)
    output.check_writable(Path(run.out).absolute(), "bench", run.force, [run.site])
    started = time.perf_counter()
    member = MEMBERS[task][0]
    manifest = runner.manifest
    result: dict[str, Any] = {"model": name, "task": task, "files": {f: e["bytes"] for f, e in manifest["files"].items()}}
    with tempfile.TemporaryDirectory(prefix="staticml-bench-") as tmp:
        clip = (camera or still_portrait)(Path(tmp) / "camera.y4m")
        with served(run.site, port=run.port) as url:
            with chromium(camera_clip.fake_camera_flags(clip)) as browser:
                run.progress(f"{name}: first visit and the first landmarks")
                result["first_visit"] = first_visit(browser, url, run.site)
                run.progress(f"{name}: {member}() alone in the page")
                result["page_api_fps"] = page_fps(browser, url, member, frames[0])
                run.progress(f"{name}: the live camera loop")
                result["camera_loop"] = camera_loop(browser, url)
            if nothing_in_view is not None:
                run.progress(f"{name}: the live camera loop, {nothing_in_view.label}")
                empty = nothing_in_view.clip(Path(tmp) / "nothing.y4m")
                with chromium(camera_clip.fake_camera_flags(empty)) as browser:
                    result["camera_loop_nothing_in_view"] = {"scene": nothing_in_view.label, **camera_loop(browser, url)}
    run.progress(f"{name}: native onnxruntime")
    result["native_1_thread"] = native_fps(getattr(runner, member), frames)
    report = {"site": str(run.site), "machine": {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)},
              "task": task, "model": name, "landmarks": result, "target_fps": TARGET_FPS[task],
              "first_landmarks_target_ms": FIRST_LANDMARKS_TARGET_MS, "seconds": round(time.perf_counter() - started, 1)}
    with output.atomic_folder(run.out, "bench", run.force, [run.site]) as folder:
        (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (folder / "report.md").write_text(markdown(report))
    if run.json_path:
        Path(run.json_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def still_portrait(path: Path) -> Path:
    return camera_clip.still_clip(path, seconds=3.0, fps=30)


def first_visit(browser, url: str, site: Path) -> dict:
    context = browser.new_context()
    try:
        page = context.new_page()
        visit = visits.visit(page, f"{url}?camera=on")
        wait_until(page, "window.staticml.info().frames > 0", 120_000)
        return {"wire_bytes": visit["wire_bytes"], "brotli_bytes": visits.brotli_bytes(site, visit["paths"]),
                "ready_ms": visit["ready_ms"], "requests": visit["requests"]}
    finally:
        context.close()


def page_fps(browser, url: str, member: str, frame: np.ndarray) -> dict:
    context, page, _ = open_camera_page(browser, url)
    try:
        rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 255, np.uint8)], axis=2)
        seconds = page.evaluate(THROUGHPUT_JS, [member, base64.b64encode(rgba.tobytes()).decode(), frame.shape[1], frame.shape[0], PAGE_FRAMES])
        return {"frames": PAGE_FRAMES, "fps": round(PAGE_FRAMES / seconds, 1), "frame": f"{frame.shape[1]}x{frame.shape[0]}"}
    finally:
        context.close()


def camera_loop(browser, url: str) -> dict:
    context, page, _ = open_camera_page(browser, url)
    try:
        page.evaluate("() => window.staticml.start()")
        wait_until(page, "window.staticml.info().frames > 0", 60_000)
        first = page.evaluate("() => window.staticml.info().frames")
        started = time.monotonic()
        time.sleep(CAMERA_SECONDS)
        info = page.evaluate("() => window.staticml.info()")
        seconds = time.monotonic() - started
        return {"fps": round((info["frames"] - first) / seconds, 1), "first_landmarks_ms": info["first_landmarks_ms"],
                "found": info["found"], "last_frame_ms": info["last_inference_ms"]}
    finally:
        context.close()


def markdown(report: dict) -> str:
    r = report["landmarks"]
    files = ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in r["files"].items())
    first = r["camera_loop"]["first_landmarks_ms"]
    first_text = "none" if first is None else f"{first:.0f} ms"
    return "\n".join([
        f"# bench: {report['model']} ({report['task']})", "",
        f"Machine: {report['machine']['cpus']} CPUs, load {report['machine']['load_1min']} at the end.", "",
        "| measure | value |", "|---|---|",
        f"| model files | {files} |",
        f"| first visit (brotli) | {r['first_visit']['brotli_bytes'] / 1e6:.2f} MB "
        f"({r['first_visit']['wire_bytes'] / 1e6:.2f} MB on the wire over http) |",
        f"| ready | {r['first_visit']['ready_ms']:.0f} ms |",
        f"| page API alone, WASM 1 thread | {r['page_api_fps']['fps']} frames/s ({r['page_api_fps']['frame']}) |",
        f"| live camera loop, WASM 1 thread | {r['camera_loop']['fps']} frames/s (target {report['target_fps']}) |",
        *([f"| live camera loop, {r['camera_loop_nothing_in_view']['scene']}, WASM 1 thread | "
           f"{r['camera_loop_nothing_in_view']['fps']} frames/s (target {report['target_fps']}) |"] if "camera_loop_nothing_in_view" in r else []),
        f"| first landmarks after the camera starts | {first_text} (target {report['first_landmarks_target_ms']} ms) |",
        f"| native, Python onnxruntime 1 thread | {r['native_1_thread']['fps']} frames/s |", "",
    ])


def rich_table(report: dict) -> Any:
    from rich.table import Table

    table = Table(title=f"bench: {report['model']} ({report['task']})")
    table.add_column("measure")
    table.add_column("value")
    for line in markdown(report).splitlines():
        if line.startswith("| ") and not line.startswith("| measure"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            table.add_row(*cells[:2])
    return table
