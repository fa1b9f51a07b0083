"""A face detector on Python onnxruntime, decoded as the page decodes (detect.py's steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import manifest as manifest_io
from ...runtime import create_session
from .detect import anchors, check_description, decode, input_tensor, letterboxed, suppress, to_frame

FIELDS = manifest_io.Fields({"detector": check_description}, required=("detector",))


def read_model(model_dir: str | Path) -> dict:
    return manifest_io.read(model_dir, FIELDS)


class Detector:
    """A face-detection model folder on Python onnxruntime, decoded as the page decodes."""

    def __init__(self, model_dir: str | Path, manifest: dict, variant: str | None = None, threads: int = 0):
        self.manifest = manifest
        self.config = self.manifest["detector"]
        variant = variant or self.manifest["default_variant"]
        self.session = create_session(Path(model_dir) / self.manifest["variants"][variant], threads)
        self.centres = anchors(self.config)

    def raw(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.config["outputs"]
        boxes, scores = self.session.run([outputs["boxes"], outputs["scores"]], {self.config["input"]["name"]: tensor})
        return boxes[0], scores[0]

    def detect(self, rgb: np.ndarray) -> list[dict]:
        """Detections of one RGB uint8 frame; one of another size than the input is letterboxed first."""
        place = None
        size = self.config["input"]
        if rgb.shape[:2] != (size["height"], size["width"]):
            rgb, place = letterboxed(rgb, self.config)
        boxes, scores = self.raw(input_tensor(rgb, self.config))
        found = suppress(decode(boxes, scores, self.config, self.centres), self.config)
        return [to_frame(d, self.config, place) for d in found]


def open_detector(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True) -> Detector:
    return Detector(model_dir, read_model(model_dir), variant, threads)
