"""Face and iris landmarks: camera frames in, 468 face points and 5 iris points per eye out, for
navigation by eye (iris position → previous/next, up/down; a long blink → select). MediaPipe's face
detector, face mesh and iris models, imported from their .tflite files (`staticml import
face_landmark.tflite`), run one after the other; the manifest's `pipeline` describes them once
(description.py) for Python (runner.py) and the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..base import BenchRun, Declined, PredictRun, Report, Task, VerifyRun
from .runner import FIELDS, open_landmarker

NAME = "face-landmarks"


def prepare(model_dir: Path, manifest: dict, report: Report) -> dict:
    from .parts import check_runs

    return check_runs(model_dir, manifest, report, open_landmarker, "face and iris landmark")


def verify(run: VerifyRun) -> list:
    from .verify import checks

    return checks(run.site, run.config, run.report, NAME, open_landmarker)


def frames() -> list:
    from ..face_detection.clip import parity_frames

    return parity_frames()[:30]


def bench(run: BenchRun) -> dict:
    from .bench import bench_landmarks

    return bench_landmarks(run, NAME, open_landmarker, frames())


def bench_table(report: dict) -> Any:
    from .bench import rich_table

    return rich_table(report)


def sample(manifest: dict) -> Any:
    return frames()[0]


def predict(run: PredictRun) -> int:
    from .parts import predict_lines

    return predict_lines(run, open_landmarker(run.model_dir).landmarks, "face")


TASK = Task(
    name=NAME,
    demo_name="eyes",
    summary="camera frames in, face and iris landmarks out: navigation by eye, frames never leave the page",
    page="video",
    compact_page=False,  # convolutions: onnxruntime-web's WASM-SIMD, as for the face detector
    fields=FIELDS,
    open=open_landmarker,
    prepare=prepare,
    verify=verify,
    bench=bench,
    bench_table=bench_table,
    sample=sample,
    predict=predict,
    api=Declined("camera frames stay on the visitor's device; `staticml predict MODEL image.png` runs the same pipeline in Python"),
    train=Declined("import MediaPipe's face mesh instead: staticml import face_landmark.tflite"),
    demo="staticml.train.landmarks_demo:demo_eyes",
)
