"""The camera page in real headless Chromium with a fake camera (y4m clips made from the sample
portrait): the page's detections equal Python onnxruntime + staticml.tasks.face_detection.detect on the same frames,
head movement gives previous/next in order and nothing while still, a camera that is refused or
shows no face leaves the page usable and says so."""

from __future__ import annotations

import time

import numpy as np
import pytest
from face_frames import import_face_model, parity_frames

from staticml.tasks.face_detection.runner import open_detector
from staticml.tasks.face_detection import clip as camera_clip
from staticml.tasks.face_detection.verify import open_camera_page as open_verified_page, page_detections
from staticml.browser import chromium, served, wait_until
from staticml.site import build

pytestmark = [pytest.mark.browser, pytest.mark.own_thread]
BOX_TOLERANCE = 1e-4  # of the frame's size
SCORE_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def face_model(tmp_path_factory):
    return import_face_model(tmp_path_factory.mktemp("camera-model"))


@pytest.fixture(scope="module")
def camera_url(face_model, tmp_path_factory):
    site = tmp_path_factory.mktemp("camera-site") / "site"
    build([face_model], site, report=lambda line: None)
    with served(site) as url:
        yield url


def open_camera_page(browser, url: str):
    context, page, _ = open_verified_page(browser, url)
    page.evaluate("""() => { window.moves = [];
        document.addEventListener('staticml:navigate', e => window.moves.push([performance.now(), e.detail.direction, e.detail.source])); }""")
    return context, page


def test_page_detections_equal_python_on_60_frames(face_model, camera_url):
    python = open_detector(face_model)
    frames = parity_frames()
    worst_box = worst_score = 0.0
    faces = 0
    with chromium() as browser:
        context, page = open_camera_page(browser, camera_url)
        for i, frame in enumerate(frames):
            expected, actual = python.detect(frame), page_detections(page, frame)
            assert len(actual) == len(expected), f"frame {i}: {len(actual)} faces in the page, {len(expected)} in Python"
            for e, a in zip(expected, actual):
                worst_box = max(worst_box, np.max(np.abs(np.array(e["box"]) - a["box"])),
                                np.max(np.abs(np.array(e["keypoints"]) - a["keypoints"])))
                worst_score = max(worst_score, abs(e["score"] - a["score"]))
            faces += len(expected)
        context.close()
    print(f"camera parity: {len(frames)} frames, {faces} faces, max |box/keypoint diff| {worst_box:.2g}, "
          f"max |score diff| {worst_score:.2g}")
    assert faces >= 50
    assert worst_box <= BOX_TOLERANCE and worst_score <= SCORE_TOLERANCE


def camera_moves(page, seconds: float) -> list[str]:
    """Starts the camera and returns the moves it made in `seconds` from its first frame."""
    page.evaluate("() => window.staticml.start()")
    wait_until(page, "window.staticml.info().frames > 0", 30_000)
    started = page.evaluate("() => window.staticml.info().first_detection_ms")
    time.sleep(seconds)
    return [direction for at, direction, source in page.evaluate("() => window.moves")
            if source == "camera" and at - started < seconds * 1000]


def test_moving_to_the_left_then_right_gives_previous_then_next_and_nothing_while_still(camera_url, tmp_path):
    clip = camera_clip.movement_clip(tmp_path / "moves.y4m")
    with chromium(camera_clip.fake_camera_flags(clip)) as browser:
        context, page = open_camera_page(browser, camera_url)
        # One pass of the clip: still, to the visitor's left and back, to their right and back, still.
        moves = camera_moves(page, camera_clip.clip_seconds() - 0.5)
        info = page.evaluate("() => window.staticml.info()")
        deck = page.text_content("#deck-position")
        context.close()
    print(f"camera moves {moves}; {info['fps']} fps; {info['frames']} frames")
    assert moves == ["previous", "next"]
    assert deck == "Card 2 of 5"  # previous on the first card stays there, next goes to the second


def test_a_frame_without_a_face_gives_no_move_and_says_no_face(camera_url, tmp_path):
    clip = camera_clip.still_clip(tmp_path / "empty.y4m", face=False)
    with chromium(camera_clip.fake_camera_flags(clip)) as browser:
        context, page = open_camera_page(browser, camera_url)
        moves = camera_moves(page, 2.0)
        indicator = page.text_content("#face-indicator")
        face = page.evaluate("() => window.staticml.info().face")
        context.close()
    assert moves == [] and face is False and indicator == "No face in view"


def test_a_refused_camera_says_so_and_the_keyboard_still_works(camera_url):
    flags = ("--use-fake-device-for-media-stream", "--deny-permission-prompts")
    with chromium(flags) as browser:
        context, page = open_camera_page(browser, camera_url)
        page.click("#camera-switch")
        wait_until(page, "window.staticml.info().camera === 'denied'", 30_000)
        status = page.text_content("#camera-status")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowDown")
        deck = page.text_content("#deck-position")
        scrolled = page.evaluate("() => document.getElementById('reading').scrollTop")
        moves = page.evaluate("() => window.moves.map(m => [m[1], m[2]])")
        switch = page.get_attribute("#camera-switch", "aria-checked")
        context.close()
    assert "not allowed" in status and "arrow keys still work" in status
    assert moves == [["next", "keyboard"], ["next", "keyboard"], ["previous", "keyboard"], ["down", "keyboard"]]
    assert deck == "Card 2 of 5" and scrolled > 0 and switch == "false"


def test_verify_passes_on_a_camera_site_with_no_request_while_frames_are_processed(camera_url, face_model, tmp_path):
    from staticml.verify import verify

    site = tmp_path / "site"
    build([face_model], site, report=lambda line: None)
    checks = {c.name: c for c in verify(site, report=lambda line: None)}
    assert all(c.passed is not False for c in checks.values()), [(c.name, c.figure) for c in checks.values() if c.passed is False]
    privacy = checks["face/fp32: camera privacy"]
    assert privacy.details["frames"] > 0 and privacy.details["requests"] == []
    assert checks["face/fp32: detection parity"].details["faces"] >= 50
    assert {"offline", "face/fp32: no frame stored", "content-security-policy"} <= set(checks)


def test_verify_fails_a_camera_page_that_sends_requests_while_it_processes_frames(face_model, tmp_path):
    from staticml.verify import verify

    site = tmp_path / "site"
    build([face_model], site, report=lambda line: None)
    script = site / "assets" / "camera.js"
    for copy in (script.with_name("camera.js.br"), script.with_name("camera.js.gz")):
        copy.unlink(missing_ok=True)
    # A page that phones home (to its own origin, which the CSP allows) once the camera is on.
    script.write_text(script.read_text() + "\nsetInterval(() => { if (window.staticml?.info().camera === 'on') "
                      "fetch('site.json?frame=1'); }, 500);\n")
    checks = {c.name: c for c in verify(site, report=lambda line: None)}
    privacy = checks["face/fp32: camera privacy"]
    assert privacy.passed is False and any("frame=1" in url for url in privacy.details["requests"])
