"""The hands pipeline's one description (manifest `pipeline`): palm detection → a turned hand crop →
21 hand landmarks, read by Python (runner.py) and the page (web/src/tasks/landmarks/)."""

from __future__ import annotations

import copy
import math

from ..face_landmarks.description import model_entry

# palm_detection_cpu.pbtxt (0.10): 192x192 RGB in [0, 1], letterboxed; SSD anchors as BlazeFace's
# (2016 of them), 7 keypoints (wrist first, middle finger's base third), weighted NMS.
PALM_DETECTION = {
    "input": {"name": "input_1", "width": 192, "height": 192, "layout": "NHWC", "channels": "RGB",
              "range": [0.0, 1.0], "resize": "letterbox"},
    "outputs": {"boxes": "Identity", "scores": "Identity_1"},
    "anchors": {"num_layers": 4, "strides": [8, 16, 16, 16], "offset_x": 0.5, "offset_y": 0.5,
                "interpolated_scale_aspect_ratio": 1.0, "count": 2016},
    "keypoints": 7,
    "keypoint_names": ["wrist", "index base", "middle base", "ring base", "little base", "thumb base", "thumb joint"],
    "raw_score_limit": 100.0,
    "score_threshold": 0.5,
    "nms": {"iou_threshold": 0.3, "weighted": True},
}
# hand_landmark_{lite,full}.tflite: 224x224 RGB in [0, 1]; 21 points (x, y, z in input pixels), the
# hand's presence and handedness (probabilities), and 21 world points (metres, unused here).
HAND_LANDMARK = {
    "input": {"name": "input_1", "width": 224, "height": 224, "range": [0.0, 1.0]},
    "outputs": {"points": "Identity", "score": "Identity_1", "handedness": "Identity_2"},
    "shapes": {"Identity": [1, 63], "Identity_1": [1, 1], "Identity_2": [1, 1], "Identity_3": [1, 63]},
    "count": 21,
    "score": "probability",
    "threshold": 0.5,
}
# palm_detection_detection_to_roi.pbtxt: wrist → middle finger's base turned upright (90°), the box
# shifted half its height towards the fingers, squared, 2.6x.
HAND_ROI = {"keypoints": [0, 2], "target_angle": math.pi / 2, "scale": 2.6, "shift_y": -0.5, "square_long": True}

# hand_landmark_landmarks_to_roi.pbtxt: while a hand is tracked, its next region comes from this frame's
# points (wrist → middle finger's base turned upright, around the points' upright box, shifted 0.1
# towards the fingers, 2.0x, square: simpler than MediaPipe's turned box of some of the points); the page's live loop skips the palm detector then.
HAND_TRACKING = {"keypoints": [0, 9], "target_angle": math.pi / 2, "scale": 2.0, "shift_y": -0.1, "square_long": True}


def hand_pipeline(files: dict[str, str]) -> dict:
    return {
        "detector": {**copy.deepcopy(PALM_DETECTION), "file": files["detector"]},
        "roi": copy.deepcopy(HAND_ROI),
        "tracking": copy.deepcopy(HAND_TRACKING),
        "landmarks": {**model_entry(HAND_LANDMARK), "file": files["landmarks"]},
        "max_hands": 2,
    }
