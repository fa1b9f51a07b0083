"""Face detection: camera frames in, faces (box, score, six keypoints) out, for hands-free
navigation by head movement. The frames never leave the page: the camera page runs MediaPipe's
BlazeFace (imported from its .tflite) in a worker on onnxruntime-web.

The manifest's `detector` describes the whole pipeline once (input size and resize, anchors,
thresholds, non-maximum suppression), for the page (web/src/tasks/camera/decode.ts) and for Python
(detect.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import UserError
from ..base import BenchRun, Declined, PredictRun, Report, Task, VerifyRun
from .runner import FIELDS, open_detector

NAME = "face-detection"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def prepare(model_dir: Path, manifest: dict, report: Report) -> dict:
    from .detect import check_model

    check_model(model_dir, manifest, report)
    return manifest


def verify(run: VerifyRun) -> list:
    from .verify import checks

    return checks(run.site, run.config, run.report)


def bench(run: BenchRun) -> dict:
    from .bench import bench_camera

    return bench_camera(run)


def bench_table(report: dict) -> Any:
    from .bench import rich_table

    return rich_table(report)


def sample(manifest: dict) -> Any:
    from .clip import parity_frames

    return parity_frames()[0]


def read_image(path: Path):
    """An image file as RGB uint8 pixels (Pillow decodes it; a file it cannot decode is named)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UserError(f"{path}: a face detector reads an image ({', '.join(IMAGE_SUFFIXES)})")
    try:
        with Image.open(path) as image:
            if image.width * image.height > 50_000_000:
                raise UserError(f"{path}: {image.width}x{image.height} pixels is too large an image (50 megapixels at most)")
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UserError(f"{path}: not an image Pillow can read ({str(exc)[:120]})") from None


def predict(run: PredictRun) -> int:
    """The faces in one image as JSON lines, one face a line, as the page's detect() answers."""
    from ...output import write_lines_out

    frame = read_image(run.data)  # before the model: a table given as the image is named as such
    faces = open_detector(run.model_dir).detect(frame)
    write_lines_out(run.out, "".join(json.dumps(face) + "\n" for face in faces), run.force, [run.data])
    run.report(f"predict: {len(faces)} face(s) in {run.data}")
    return 1


TASK = Task(
    name=NAME,
    demo_name="camera",
    summary="camera frames in, faces out: hands-free navigation by head movement, frames never leave the page",
    page="video",
    compact_page=False,  # convolutions: plain JavaScript is ~10x slower than onnxruntime-web's WASM-SIMD
    fields=FIELDS,
    open=open_detector,
    prepare=prepare,
    verify=verify,
    bench=bench,
    bench_table=bench_table,
    sample=sample,
    predict=predict,
    api=Declined("camera frames stay on the visitor's device; `staticml predict MODEL image.png` runs the same detector in Python"),
    train=Declined("import MediaPipe's face detector instead: staticml import face_detection_short_range.tflite"),
    demo="staticml.train.commands:demo_camera",
)
