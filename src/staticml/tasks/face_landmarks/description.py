"""The landmark pipelines' one description (manifest `pipeline`), read by Python (runner.py) and the
page (web/src/tasks/landmarks/): which model file does what, its input and outputs, how a region
of interest is found and turned, and the thresholds. The model entries also tell `staticml import`
which .tflite file is which (by their tensors' names and shapes)."""

from __future__ import annotations

import copy
import math

from ..face_detection.detect import BLAZEFACE_SHORT_RANGE, check_description

# MediaPipe face mesh's 468-point model (face_landmark.tflite, 192x192 RGB in [0, 1]); the score is a logit.
FACE_LANDMARK = {
    "input": {"name": "input_1", "width": 192, "height": 192, "range": [0.0, 1.0]},
    "outputs": {"points": "conv2d_20", "score": "conv2d_30"},
    "shapes": {"conv2d_20": [1, 1, 1, 1404], "conv2d_30": [1, 1, 1, 1]},
    "count": 468,
    "score": "logit",
    "threshold": 0.5,
}
# MediaPipe's iris model (iris_landmark.tflite): a 64x64 crop around one eye, 5 iris points (centre first).
IRIS_LANDMARK = {
    "input": {"name": "input_1", "width": 64, "height": 64, "range": [0.0, 1.0]},
    "outputs": {"points": "output_iris", "contours": "output_eyes_contours_and_brows"},
    "shapes": {"output_eyes_contours_and_brows": [1, 213], "output_iris": [1, 15]},
    "count": 5,
}
# face_detection_front_detection_to_roi.pbtxt: turned by the eyes (keypoints 0 → 1), 1.5x the box, square.
FACE_ROI = {"keypoints": [0, 1], "target_angle": 0.0, "scale": 1.5, "shift_y": 0.0, "square_long": True}
# face_landmark_landmarks_to_roi.pbtxt: while a face is tracked, the next frame's region comes from
# this frame's points (turned by the eye corners 33 → 263, around the points' upright box, 1.5x, square: simpler than
# MediaPipe's turned box); the
# page's live loop skips the detector then (landmarks() on one image always runs it).
FACE_TRACKING = {"keypoints": [33, 263], "target_angle": 0.0, "scale": 1.5, "shift_y": 0.0, "square_long": True}
# iris_landmark_landmarks_to_roi.pbtxt: the eye's two corners (face mesh points), 2.3x, square; the
# second eye is mirrored so that the model sees it as the first.
EYES = {"corners": [[33, 133], [362, 263]], "flip": [False, True],
        "roi": {"target_angle": 0.0, "scale": 2.3, "shift_y": 0.0, "square_long": True}}


def face_pipeline(files: dict[str, str]) -> dict:
    """The face-landmarks manifest's `pipeline`: face box → face mesh → an iris per eye."""
    return {
        "detector": {**copy.deepcopy(BLAZEFACE_SHORT_RANGE), "file": files["detector"]},
        "roi": copy.deepcopy(FACE_ROI),
        "tracking": copy.deepcopy(FACE_TRACKING),
        "landmarks": {**model_entry(FACE_LANDMARK), "file": files["landmarks"]},
        "iris": {**model_entry(IRIS_LANDMARK), "file": files["iris"], **copy.deepcopy(EYES)},
        "max_faces": 1,
    }


def model_entry(model: dict) -> dict:
    """A model's description as the manifest carries it (without the shapes import recognises it by)."""
    return {k: copy.deepcopy(v) for k, v in model.items() if k != "shapes"}


def check_roi(roi) -> str | None:
    if not isinstance(roi, dict):
        return "must be an object"
    numbers = [roi.get("target_angle"), roi.get("scale"), roi.get("shift_y", 0.0), roi.get("shift_x", 0.0)]
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n) for n in numbers):
        return "needs target_angle and scale (numbers), optional shift_x, shift_y"
    if not 0 < roi["scale"] <= 10:
        return "scale must be in (0, 10]"
    return None


def check_model_entry(entry, where: str) -> str | None:
    if not isinstance(entry, dict):
        return f"{where} must be an object"
    size, outputs = entry.get("input"), entry.get("outputs")
    if not isinstance(size, dict) or not isinstance(outputs, dict) or not isinstance(entry.get("file"), str):
        return f"{where} needs file, input {{name, width, height, range}} and outputs"
    dims = [size.get("width"), size.get("height")]
    if not all(isinstance(d, int) and 0 < d <= 1024 for d in dims) or not isinstance(size.get("name"), str):
        return f"{where} input needs a name and width, height in 1..1024"
    value_range = size.get("range")
    if not (isinstance(value_range, list) and len(value_range) == 2 and all(isinstance(v, (int, float)) for v in value_range)):
        return f"{where} input range must be [low, high]"
    if not all(isinstance(v, str) and v for v in outputs.values()) or "points" not in outputs:
        return f"{where} outputs must name a points output"
    return None


def check_pipeline(value, parts: tuple[str, ...]) -> str | None:
    """The manifest's `pipeline`: a problem, or None. `parts` are the landmark models it must name."""
    if not isinstance(value, dict):
        return "must be an object"
    problem = check_description(value.get("detector"))
    if problem:
        return f"detector {problem}"
    if not isinstance(value["detector"].get("file"), str):
        return "detector needs its file"
    problem = check_roi(value.get("roi"))
    if problem:
        return f"roi {problem}"
    if "tracking" in value and check_roi(value["tracking"]):
        return f"tracking {check_roi(value['tracking'])}"
    for part in parts:
        problem = check_model_entry(value.get(part), part)
        if problem:
            return problem
    return None


def pipeline_files(pipeline: dict, parts: tuple[str, ...]) -> list[str]:
    return [pipeline["detector"]["file"], *(pipeline[p]["file"] for p in parts)]
