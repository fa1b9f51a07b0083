"""A rotated region of interest and its crop, as MediaPipe's landmark pipelines compute them
(DetectionsToRectsCalculator, RectTransformationCalculator, ImageToTensorCalculator,
LandmarkProjectionCalculator), in numpy only, for face, iris and hand landmarks.

web/src/tasks/landmarks/roi.ts does the same steps in the same order in float64, and samples the
crop the same way (bilinear, pixel centres, zero outside), so the page's landmarks equal these.
A rect is (centre x, centre y, width, height, angle) in the frame's pixels; the angle is in radians,
positive turning x towards y (clockwise on the screen).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np


class Rect(NamedTuple):
    cx: float
    cy: float
    width: float
    height: float
    angle: float


def normalized_angle(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def rotation(start: Sequence[float], end: Sequence[float], target_angle: float) -> float:
    """The angle that turns the start→end vector (pixels, y down) to `target_angle` (MediaPipe's
    rotation_vector_{start,end}_keypoint_index with target_angle)."""
    return normalized_angle(target_angle - math.atan2(-(end[1] - start[1]), end[0] - start[0]))


def transformed(rect: Rect, roi: dict) -> Rect:
    """RectTransformationCalculator: shift (in the rect's own turned axes), square on the long side, scale."""
    cx, cy, width, height, angle = rect
    shift_x, shift_y = roi.get("shift_x", 0.0), roi.get("shift_y", 0.0)
    cx += width * shift_x * math.cos(angle) - height * shift_y * math.sin(angle)
    cy += width * shift_x * math.sin(angle) + height * shift_y * math.cos(angle)
    if roi.get("square_long", True):
        width = height = max(width, height)
    return Rect(cx, cy, width * roi["scale"], height * roi["scale"], angle)


def from_box(box: Sequence[float], start: Sequence[float], end: Sequence[float], frame_size: tuple[int, int], roi: dict) -> Rect:
    """The region of a detection: its box [x, y, w, h] and two keypoints, normalised to the frame."""
    width, height = frame_size
    angle = rotation((start[0] * width, start[1] * height), (end[0] * width, end[1] * height), roi["target_angle"])
    rect = Rect((box[0] + box[2] / 2) * width, (box[1] + box[3] / 2) * height, box[2] * width, box[3] * height, angle)
    return transformed(rect, roi)


def from_points(start: Sequence[float], end: Sequence[float], frame_size: tuple[int, int], roi: dict) -> Rect:
    """The region around two landmarks (an eye's corners), normalised to the frame: their bounding box, turned."""
    width, height = frame_size
    x0, y0, x1, y1 = start[0] * width, start[1] * height, end[0] * width, end[1] * height
    angle = rotation((x0, y0), (x1, y1), roi["target_angle"])
    rect = Rect((x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0), abs(y1 - y0), angle)
    return transformed(rect, roi)


def crop(rgb: np.ndarray, rect: Rect, size: tuple[int, int], value_range: Sequence[float], flip: bool = False) -> np.ndarray:
    """The rect's pixels as the model's input [1, height, width, 3] float32 in `value_range`:
    each output pixel's centre mapped into the frame, sampled bilinearly, zero outside; `flip`
    mirrors the crop left-right (the iris model sees a right eye as a left one)."""
    out_w, out_h = size
    frame_h, frame_w = rgb.shape[:2]
    u = ((np.arange(out_w) + 0.5) / out_w - 0.5) * rect.width
    v = ((np.arange(out_h) + 0.5) / out_h - 0.5) * rect.height
    if flip:
        u = -u
    lx, ly = np.meshgrid(u, v)
    cos, sin = math.cos(rect.angle), math.sin(rect.angle)
    sx = rect.cx + cos * lx - sin * ly - 0.5
    sy = rect.cy + sin * lx + cos * ly - 0.5
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    # A border of zeros one pixel wide: every position outside the frame is clipped onto it.
    padded = np.pad(rgb[..., :3], ((1, 1), (1, 1), (0, 0))).astype(np.float64).reshape(-1, 3)
    stride = frame_w + 2

    def at(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return padded[(np.clip(y, -1, frame_h) + 1) * stride + np.clip(x, -1, frame_w) + 1]

    top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
    bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
    sampled = top * (1 - fy) + bottom * fy
    low, high = value_range
    return (sampled * ((high - low) / 255) + low).astype(np.float32)[np.newaxis]


def project(points: np.ndarray, rect: Rect, size: tuple[int, int], frame_size: tuple[int, int], flip: bool = False) -> np.ndarray:
    """Landmarks [n, 2 or 3] in the crop's input pixels → the frame, normalised (z scaled as x is)."""
    out_w, out_h = size
    frame_w, frame_h = frame_size
    points = np.asarray(points, dtype=np.float64)
    lx = (points[:, 0] / out_w - 0.5) * rect.width
    ly = (points[:, 1] / out_h - 0.5) * rect.height
    if flip:
        lx = -lx
    cos, sin = math.cos(rect.angle), math.sin(rect.angle)
    x = (rect.cx + cos * lx - sin * ly) / frame_w
    y = (rect.cy + sin * lx + cos * ly) / frame_h
    columns = [x, y]
    if points.shape[1] > 2:
        columns.append(points[:, 2] / out_w * rect.width / frame_w)
    return np.stack(columns, axis=1)


def bounding_box(points: np.ndarray) -> list[float]:
    """[x, y, w, h] around normalised points."""
    low, high = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    return [float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])]


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, value))))
