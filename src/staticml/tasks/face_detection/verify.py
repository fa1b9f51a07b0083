"""verify on a camera site (a face detector): in headless Chromium with a fake camera, the page's
detections equal Python's, the page makes no network request while it processes frames for
CAMERA_SECONDS, writes no frame to storage, and works offline after one visit."""

from __future__ import annotations

import base64
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ...browser import chromium, served, wait_until
from ...checks import Check, check_integrity, check_offline
from ...site_config import model_dirs
from . import clip as camera_clip
from .runner import open_detector, read_model

CAMERA_SECONDS = 10.0
BOX_TOLERANCE = 1e-4  # of the frame's size
SCORE_TOLERANCE = 1e-5
QUIET_MS = 1500  # the service worker's precache of the site's files done: no request for this long


def page_detections(page, frame: np.ndarray) -> list[dict]:
    """`window.staticml.detect(ImageData)` on an RGB uint8 frame."""
    rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return page.evaluate("""([data, width, height]) => {
        const bytes = Uint8ClampedArray.from(atob(data), c => c.charCodeAt(0));
        return window.staticml.detect(new ImageData(bytes, width, height)); }""",
                         [base64.b64encode(rgba.tobytes()).decode(), frame.shape[1], frame.shape[0]])


def open_camera_page(browser, url: str):
    """A fresh context and page at `url`, waited until ready; every request of the context is listed."""
    context = browser.new_context()
    requests: list[tuple[float, str]] = []
    context.on("request", lambda request: requests.append((time.monotonic(), request.url)))
    page = context.new_page()
    page.goto(url)
    wait_until(page, "window.staticml !== undefined")
    page.evaluate("() => window.staticml.ready")
    return context, page, requests


def detection_parity(page, model_dir: Path, variant: str, frames: list[np.ndarray]) -> dict:
    """Page vs Python onnxruntime + staticml.tasks.face_detection.detect on the same frames."""
    python = open_detector(model_dir, variant)
    worst_box = worst_score = 0.0
    faces, count_mismatches = 0, []
    for i, frame in enumerate(frames):
        expected, actual = python.detect(frame), page_detections(page, frame)
        if len(expected) != len(actual):
            count_mismatches.append(i)
            continue
        for e, a in zip(expected, actual):
            worst_box = max(worst_box, float(np.max(np.abs(np.array(e["box"]) - a["box"]))),
                            float(np.max(np.abs(np.array(e["keypoints"]) - a["keypoints"]))))
            worst_score = max(worst_score, abs(e["score"] - a["score"]))
        faces += len(expected)
    ok = not count_mismatches and worst_box <= BOX_TOLERANCE and worst_score <= SCORE_TOLERANCE
    return {"ok": ok, "frames": len(frames), "faces": faces, "count_mismatches": count_mismatches,
            "max_box_diff": worst_box, "max_score_diff": worst_score}


def wait_quiet(requests: list, quiet_ms: float = QUIET_MS, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = requests[-1][0] if requests else 0.0
        if time.monotonic() - last > quiet_ms / 1000:
            return
        time.sleep(0.1)


STORAGE = """async () => {
    const names = await caches.keys();
    const cached = [];
    for (const name of names) for (const request of await (await caches.open(name)).keys()) cached.push(request.url);
    const databases = indexedDB.databases ? (await indexedDB.databases()).map(d => d.name) : [];
    return { local: localStorage.length, session: sessionStorage.length, databases, cached };
}"""


def checks(site: Path, config: dict, report: Callable[[str], None]) -> list:
    results = []
    with tempfile.TemporaryDirectory(prefix="staticml-verify-") as tmp:
        clip = camera_clip.movement_clip(Path(tmp) / "camera.y4m")
        with served(site) as url, chromium(camera_clip.fake_camera_flags(clip)) as browser:
            for name, model_dir in model_dirs(site, config).items():
                manifest = read_model(model_dir)
                results.append(check_integrity(name, model_dir, manifest))
                for variant in manifest["variants"]:
                    report(f"verify: {name} / {variant}: detections, then the camera for {CAMERA_SECONDS:.0f} s …")
                    results += _page_checks(browser, f"{url}?model={name}&variant={variant}", site, model_dir, f"{name}/{variant}")
            frame = camera_clip.parity_frames()[0]
            results.append(check_offline(browser, url, site, works=lambda page: bool(page_detections(page, frame))))
    return results


def _page_checks(browser, url: str, site: Path, model_dir: Path, label: str) -> list:
    context, page, requests = open_camera_page(browser, url)
    try:
        parity = detection_parity(page, model_dir, page.evaluate("() => window.staticml.info().variant"),
                                  camera_clip.parity_frames())
        figure = (f"{parity['frames']} frames, {parity['faces']} faces: max |box diff| {parity['max_box_diff']:.2g}, "
                  f"max |score diff| {parity['max_score_diff']:.2g}")
        if parity["count_mismatches"]:
            figure += f"; face counts differ on frames {parity['count_mismatches'][:5]}"
        checks = [Check(f"{label}: detection parity", parity["ok"], figure, parity)]
        page.evaluate("() => navigator.serviceWorker.ready")
        wait_quiet(requests)
        before = len(requests)
        page.evaluate("() => window.staticml.start()")
        wait_until(page, "window.staticml.info().frames > 0", 30_000)
        first = page.evaluate("() => window.staticml.info().frames")
        time.sleep(CAMERA_SECONDS)
        info = page.evaluate("() => window.staticml.info()")
        during = [u for _, u in requests[before:]]
        frames = info["frames"] - first
        checks.append(Check(f"{label}: camera privacy", not during and frames > 0,
                            f"{frames} camera frames in {CAMERA_SECONDS:.0f} s ({info['fps']} fps), "
                            + ("no network request" if not during else f"{len(during)} requests: {during[:3]}"),
                            {"frames": frames, "fps": info["fps"], "requests": during}))
        checks.append(_storage(page, site, label, Check))
        return checks
    finally:
        context.close()


def _storage(page, site: Path, label: str, Check):
    """No frame in storage: nothing in local/session storage or IndexedDB, and the caches hold only
    the site's own files (the service worker's copy of the site)."""
    stored = page.evaluate(STORAGE)
    origin = page.url.split("?")[0].rsplit("/", 1)[0] + "/"
    foreign = [u for u in stored["cached"] if not u.startswith(origin) or not _site_file(site, u[len(origin):])]
    ok = not stored["local"] and not stored["session"] and not stored["databases"] and not foreign
    figure = (f"no frame stored (caches hold {len(stored['cached'])} of the site's own files; no local/session "
              "storage, no IndexedDB)") if ok else f"stored: {stored['local']} local, {stored['session']} session, " \
        f"databases {stored['databases']}, other cached {foreign[:3]}"
    return Check(f"{label}: no frame stored", ok, figure, stored | {"foreign": foreign})


def _site_file(site: Path, path: str) -> bool:
    from urllib.parse import unquote

    name = unquote(path.split("?")[0]) or "index.html"
    return (site / name).is_file()
