"""Hand landmarks: camera frames in, 21 points per hand out, for navigation by hand (a swipe →
previous/next, up/down → scroll, a pinch → select, an open palm → pause). MediaPipe's palm detector
and hand landmark model, imported from their .tflite files (`staticml import hand_landmark_lite.tflite`
with palm_detection_lite.tflite beside it), run one after the other; the manifest's `pipeline`
describes them once (description.py) for Python (runner.py) and the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any


from ..base import BenchRun, Declined, PredictRun, Report, Task, VerifyRun
from . import clip
from .runner import FIELDS, open_landmarker

NAME = "hand-landmarks"


def prepare(model_dir: Path, manifest: dict, report: Report) -> dict:
    from ..face_landmarks.parts import check_runs

    return check_runs(model_dir, manifest, report, open_landmarker, "hand landmark")


def verify(run: VerifyRun) -> list:
    from ..face_landmarks.verify import checks

    return checks(run.site, run.config, run.report, NAME, open_landmarker, clip.parity_frames())


def frames() -> list:
    """30 frames of the detector's input size with the photographed hand (one, then two on the last two)."""
    return clip.parity_frames()[:30]


def bench(run: BenchRun) -> dict:
    from ..face_landmarks.bench import Scene, bench_landmarks, still_portrait

    # No hand in view is the loop's slowest case: nothing to track, so the palm detector runs on every frame
    # (and the portrait's false palm adds the hand model, which rejects it).
    return bench_landmarks(run, NAME, open_landmarker, frames(), camera=clip.held_clip,
                           nothing_in_view=Scene("no hand in view", still_portrait))


def bench_table(report: dict) -> Any:
    from ..face_landmarks.bench import rich_table

    return rich_table(report)


def sample(manifest: dict) -> Any:
    return frames()[0]


def predict(run: PredictRun) -> int:
    from ..face_landmarks.parts import predict_lines

    return predict_lines(run, open_landmarker(run.model_dir).hands, "hand")


TASK = Task(
    name=NAME,
    demo_name="hands",
    summary="camera frames in, hand landmarks out: navigation by hand, frames never leave the page",
    page="video",
    compact_page=False,
    fields=FIELDS,
    open=open_landmarker,
    prepare=prepare,
    verify=verify,
    bench=bench,
    bench_table=bench_table,
    sample=sample,
    predict=predict,
    api=Declined("camera frames stay on the visitor's device; `staticml predict MODEL image.png` runs the same pipeline in Python"),
    train=Declined("import MediaPipe's hand model instead: staticml import hand_landmark_lite.tflite"),
    demo="staticml.train.landmarks_demo:demo_hands",
)
