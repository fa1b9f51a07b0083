"""Hand landmarks on Python onnxruntime, step by step as the page runs them (web/src/tasks/landmarks/):
palms → a crop per palm turned upright → 21 hand points, presence and handedness."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import manifest as manifest_io
from ...runtime import create_session
from ..face_landmarks import roi as regions
from ..face_landmarks.description import check_pipeline
from ..face_landmarks.runner import BoxDetector, presence, run_crop

PARTS = ("landmarks",)
FIELDS = manifest_io.Fields({"pipeline": lambda value: check_pipeline(value, PARTS)}, required=("pipeline",))


class HandLandmarker:
    """A hand-landmarks model folder: `hands(rgb)` as the page's hands(image) answers."""

    def __init__(self, model_dir: str | Path, manifest: dict, threads: int = 0):
        self.manifest = manifest
        self.pipeline = pipeline = manifest["pipeline"]
        folder = Path(model_dir)
        self.detector = BoxDetector(folder / pipeline["detector"]["file"], pipeline["detector"], threads)
        self.model = create_session(folder / pipeline["landmarks"]["file"], threads)

    def detect(self, rgb: np.ndarray) -> list[dict]:
        return self.detector.detect(rgb)

    def hands(self, rgb: np.ndarray) -> list[dict]:
        """Hands in one RGB uint8 frame, in the detector's order (the first is the one followed):
        [{score, handedness, box, landmarks: [[x, y, z] × 21]}]."""
        found = []
        for palm in self.detect(rgb)[: self.pipeline["max_hands"]]:
            hand = self.hand(rgb, palm)
            if hand is not None:
                found.append(hand)
        return found

    def hand(self, rgb: np.ndarray, palm: dict) -> dict | None:
        pipeline, model = self.pipeline, self.pipeline["landmarks"]
        frame_size = (rgb.shape[1], rgb.shape[0])
        start, end = (palm["keypoints"][i] for i in pipeline["roi"]["keypoints"])
        rect = regions.from_box(palm["box"], start, end, frame_size, pipeline["roi"])
        out = run_crop(self.model, model, rgb, rect)
        score = presence(model, out["score"][0])
        if score < model["threshold"]:
            return None
        size = (model["input"]["width"], model["input"]["height"])
        points = regions.project(out["points"].reshape(-1, 3), rect, size, frame_size)
        handedness = "right" if float(out["handedness"][0]) > 0.5 else "left"
        return {"score": score, "handedness": handedness, "box": regions.bounding_box(points), "landmarks": points.tolist()}


def read_model(model_dir: str | Path) -> dict:
    return manifest_io.read(model_dir, FIELDS)


def open_landmarker(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True) -> HandLandmarker:
    return HandLandmarker(model_dir, read_model(model_dir), threads)
