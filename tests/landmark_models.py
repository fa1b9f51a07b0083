"""The landmark model folders for the eyes and hands tests, each imported once per test session by
`staticml import` (TensorFlow + tf2onnx in a child: about a minute each on 2 busy cores) into the
session's temporary folder, and reused by every module that asks (each module's fixture calls
eyes_model or hands_model)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from face_frames import tflite_model

from staticml.cli import main


def mediapipe_models() -> Path:
    """The hand models scripts/setup.sh took from the mediapipe 0.10.21 wheel."""
    folder = Path(os.environ.get("STATICML_MEDIAPIPE_MODELS", Path.home() / ".cache" / "staticml" / "mediapipe"))
    if not (folder / "hand_landmark_lite.tflite").is_file():
        pytest.skip(f"no MediaPipe hand models in {folder} (scripts/setup.sh takes them from the mediapipe wheel)")
    return folder


def imported(tmp_path_factory, name: str, source: Path) -> Path:
    """The model folder `staticml import SOURCE` writes, made once per session."""
    pytest.importorskip("tf2onnx")
    out = tmp_path_factory.getbasetemp() / "landmark-models" / name
    if not (out / "manifest.json").is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        assert main(["import", str(source), "--out", str(out)]) == 0
    return out


def eyes_model(tmp_path_factory) -> Path:
    return imported(tmp_path_factory, "eyes", tflite_model("face_landmark.tflite"))


def hands_model(tmp_path_factory) -> Path:
    return imported(tmp_path_factory, "hands", mediapipe_models() / "hand_landmark_lite.tflite")
