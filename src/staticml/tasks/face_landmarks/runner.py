"""Face and iris landmarks on Python onnxruntime, step by step as the page runs them
(web/src/tasks/landmarks/): face boxes → a turned crop per face → 468 face points → a crop per eye →
5 iris points each. Python's reference for the page and `staticml predict`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import manifest as manifest_io
from ...runtime import create_session
from ..face_detection.detect import anchors, decode, input_tensor, letterboxed, suppress, to_frame
from . import roi as regions
from .description import check_pipeline

PARTS = ("landmarks", "iris")
FIELDS = manifest_io.Fields({"pipeline": lambda value: check_pipeline(value, PARTS)}, required=("pipeline",))


class BoxDetector:
    """The pipeline's detector (BlazeFace, or the palm detector): detections normalised to the frame."""

    def __init__(self, path: Path, config: dict, threads: int = 0):
        self.config = config
        self.session = create_session(path, threads)
        self.centres = anchors(config)

    def detect(self, rgb: np.ndarray) -> list[dict]:
        place = None
        size = self.config["input"]
        if rgb.shape[:2] != (size["height"], size["width"]):
            rgb, place = letterboxed(rgb, self.config)
        outputs = self.config["outputs"]
        boxes, scores = self.session.run([outputs["boxes"], outputs["scores"]], {size["name"]: input_tensor(rgb, self.config)})
        found = suppress(decode(boxes[0], scores[0], self.config, self.centres), self.config)
        return [to_frame(d, self.config, place) for d in found]


def run_crop(session, model: dict, rgb: np.ndarray, rect: regions.Rect, flip: bool = False) -> dict[str, np.ndarray]:
    """One landmark model on the rect's crop: its outputs by their description's names, flattened."""
    size = (model["input"]["width"], model["input"]["height"])
    tensor = regions.crop(rgb, rect, size, model["input"]["range"], flip)
    names = list(model["outputs"].values())
    values = session.run(names, {model["input"]["name"]: tensor})
    return {key: np.asarray(v, dtype=np.float64).reshape(-1) for key, v in zip(model["outputs"], values)}


def presence(model: dict, raw: float) -> float:
    return regions.sigmoid(raw) if model.get("score") == "logit" else float(raw)


class FaceLandmarker:
    """A face-landmarks model folder: `landmarks(rgb)` as the page's landmarks(image) answers."""

    def __init__(self, model_dir: str | Path, manifest: dict, threads: int = 0):
        self.manifest = manifest
        self.pipeline = pipeline = manifest["pipeline"]
        folder = Path(model_dir)
        self.detector = BoxDetector(folder / pipeline["detector"]["file"], pipeline["detector"], threads)
        self.mesh = create_session(folder / pipeline["landmarks"]["file"], threads)
        self.iris = create_session(folder / pipeline["iris"]["file"], threads)

    def detect(self, rgb: np.ndarray) -> list[dict]:
        return self.detector.detect(rgb)

    def landmarks(self, rgb: np.ndarray) -> list[dict]:
        """Faces in one RGB uint8 frame: [{score, box, face: [[x, y, z] × 468], irises: [[[x, y] × 5] × 2]}]."""
        faces = []
        for detection in self.detect(rgb)[: self.pipeline["max_faces"]]:
            face = self.face(rgb, detection)
            if face is not None:
                faces.append(face)
        return faces

    def face(self, rgb: np.ndarray, detection: dict) -> dict | None:
        pipeline, model = self.pipeline, self.pipeline["landmarks"]
        frame_size = (rgb.shape[1], rgb.shape[0])
        start, end = (detection["keypoints"][i] for i in pipeline["roi"]["keypoints"])
        rect = regions.from_box(detection["box"], start, end, frame_size, pipeline["roi"])
        out = run_crop(self.mesh, model, rgb, rect)
        score = presence(model, out["score"][0])
        if score < model["threshold"]:
            return None
        size = (model["input"]["width"], model["input"]["height"])
        points = regions.project(out["points"].reshape(-1, 3), rect, size, frame_size)
        irises = [self.eye(rgb, points, corners, flip) for corners, flip in zip(pipeline["iris"]["corners"], pipeline["iris"]["flip"])]
        return {"score": score, "box": regions.bounding_box(points), "face": points.tolist(), "irises": irises}

    def eye(self, rgb: np.ndarray, face: np.ndarray, corners: list[int], flip: bool) -> list[list[float]]:
        model = self.pipeline["iris"]
        frame_size = (rgb.shape[1], rgb.shape[0])
        rect = regions.from_points(face[corners[0]], face[corners[1]], frame_size, model["roi"])
        out = run_crop(self.iris, model, rgb, rect, flip)
        size = (model["input"]["width"], model["input"]["height"])
        return regions.project(out["points"].reshape(-1, 3)[:, :2], rect, size, frame_size, flip).tolist()


def read_model(model_dir: str | Path) -> dict:
    return manifest_io.read(model_dir, FIELDS)


def open_landmarker(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True) -> FaceLandmarker:
    return FaceLandmarker(model_dir, read_model(model_dir), threads)
