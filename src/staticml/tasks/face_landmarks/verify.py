"""verify on a landmark site (eyes or hands) and the page-vs-Python comparison the tests share: in
headless Chromium with a fake camera, the page's landmarks equal Python's (runner.py) on the same
frames, the page makes no network request while it processes camera frames, and nothing is stored
but the site's own files."""

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
from ..face_detection import clip as camera_clip
from ..face_detection.verify import STORAGE, open_camera_page, wait_quiet

CAMERA_SECONDS = 6.0
LANDMARK_TOLERANCE = 1e-3  # of the frame's size (the bound; measured ~4e-7)

# Per task: the page API member, the points it compares and the parity frames' size (the detector's input).
MEMBERS = {"face-landmarks": ("landmarks", ("face", "irises"), 128), "hand-landmarks": ("hands", ("landmarks",), 192)}


def page_results(page, member: str, frame: np.ndarray) -> list[dict]:
    """`window.staticml.<member>(ImageData)` on an RGB uint8 frame."""
    rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return page.evaluate(f"""([data, width, height]) => {{
        const bytes = Uint8ClampedArray.from(atob(data), c => c.charCodeAt(0));
        return window.staticml.{member}(new ImageData(bytes, width, height)); }}""",
                         [base64.b64encode(rgba.tobytes()).decode(), frame.shape[1], frame.shape[0]])


def parity_frames(task: str) -> list[np.ndarray]:
    """30+ frames of the detector's input size: the portrait at many places and sizes, two faces, none."""
    frames = camera_clip.parity_frames(MEMBERS[task][2])
    return frames[:24] + frames[48:]


def landmark_parity(page, task: str, runner, frames: list[np.ndarray]) -> dict:
    """Page vs Python on the same frames: the same count, every point within LANDMARK_TOLERANCE."""
    member, keys, _ = MEMBERS[task]
    python = getattr(runner, member)
    worst, found, mismatches = 0.0, 0, []
    for i, frame in enumerate(frames):
        expected, actual = python(frame), page_results(page, member, frame)
        if len(expected) != len(actual):
            mismatches.append(i)
            continue
        for e, a in zip(expected, actual):
            for key in keys:
                worst = max(worst, float(np.max(np.abs(np.array(e[key]) - np.array(a[key])))))
            worst = max(worst, abs(e["score"] - a["score"]))
        found += len(expected)
    return {"ok": not mismatches and worst <= LANDMARK_TOLERANCE, "frames": len(frames), "found": found,
            "count_mismatches": mismatches, "max_diff": worst}


def checks(site: Path, config: dict, report: Callable[[str], None], task: str, open_runner: Callable,
           frames: list[np.ndarray] | None = None) -> list:
    """`frames`: the parity frames (default: the portrait's, parity_frames(task))."""
    frames = frames if frames is not None else parity_frames(task)
    results = []
    with tempfile.TemporaryDirectory(prefix="staticml-verify-") as tmp:
        clip = camera_clip.still_clip(Path(tmp) / "camera.y4m", seconds=3.0)
        with served(site) as url, chromium(camera_clip.fake_camera_flags(clip)) as browser:
            for name, model_dir in model_dirs(site, config).items():
                runner = open_runner(model_dir)
                results.append(check_integrity(name, model_dir, runner.manifest))
                report(f"verify: {name}: landmarks page vs Python, then the camera for {CAMERA_SECONDS:.0f} s …")
                results += page_checks(browser, f"{url}?model={name}", site, runner, name, task, frames)
            member = MEMBERS[task][0]
            frame = frames[0]
            results.append(check_offline(browser, url, site, works=lambda page: isinstance(page_results(page, member, frame), list)))
    return results


def page_checks(browser, url: str, site: Path, runner, label: str, task: str, frames: list[np.ndarray]) -> list:
    context, page, requests = open_camera_page(browser, url)
    try:
        parity = landmark_parity(page, task, runner, frames)
        figure = f"{parity['frames']} frames, {parity['found']} found: max |landmark diff| {parity['max_diff']:.2g}"
        if parity["count_mismatches"]:
            figure += f"; counts differ on frames {parity['count_mismatches'][:5]}"
        found = [Check(f"{label}: landmark parity", parity["ok"], figure, parity)]
        page.evaluate("() => navigator.serviceWorker.ready")
        wait_quiet(requests)
        before = len(requests)
        page.evaluate("() => window.staticml.start()")
        wait_until(page, "window.staticml.info().frames > 0", 60_000)
        first = page.evaluate("() => window.staticml.info().frames")
        time.sleep(CAMERA_SECONDS)
        info = page.evaluate("() => window.staticml.info()")
        during = [u for _, u in requests[before:]]
        frames = info["frames"] - first
        found.append(Check(f"{label}: camera privacy", not during and frames > 0,
                           f"{frames} camera frames in {CAMERA_SECONDS:.0f} s ({info['fps']} fps), "
                           + ("no network request" if not during else f"{len(during)} requests: {during[:3]}"),
                           {"frames": frames, "fps": info["fps"], "requests": during}))
        found.append(storage_check(page, site, label))
        return found
    finally:
        context.close()


def storage_check(page, site: Path, label: str) -> Check:
    """No frame in storage: no local/session storage or IndexedDB, caches hold only the site's own files."""
    from urllib.parse import unquote

    stored = page.evaluate(STORAGE)
    origin = page.url.split("?")[0].rsplit("/", 1)[0] + "/"
    foreign = [u for u in stored["cached"]
               if not u.startswith(origin) or not (site / (unquote(u[len(origin):].split("?")[0]) or "index.html")).is_file()]
    ok = not stored["local"] and not stored["session"] and not stored["databases"] and not foreign
    figure = f"no frame stored (caches hold {len(stored['cached'])} of the site's own files)" if ok else \
        f"stored: {stored['local']} local, {stored['session']} session, databases {stored['databases']}, other cached {foreign[:3]}"
    return Check(f"{label}: no frame stored", ok, figure, stored | {"foreign": foreign})
