"""Face/iris and hand landmarks (issue 26): the turned region of interest and its crop, `staticml
import` of MediaPipe's four landmark models (and the refusal of a .tflite it does not know),
the manifests' one `pipeline` description, the Python runners and `staticml predict` on an image."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cli_tools import run, run_output
from face_frames import tflite_model
import landmark_models

from staticml import tasks
from staticml.tasks.face_detection import clip
from staticml.tasks.face_landmarks import roi
from staticml.tasks.face_landmarks.runner import open_landmarker as open_face
from staticml.tasks.hand_landmarks import clip as hand_clip
from staticml.tasks.hand_landmarks.runner import open_landmarker as open_hands


@pytest.fixture(scope="module")
def eyes_model(tmp_path_factory):
    return landmark_models.eyes_model(tmp_path_factory)


@pytest.fixture(scope="module")
def hands_model(tmp_path_factory):
    return landmark_models.hands_model(tmp_path_factory)


def test_rotation_turns_the_eyes_line_level_and_the_palm_upright():
    assert roi.rotation((0, 0), (10, 0), 0.0) == 0.0
    assert math.isclose(roi.rotation((0, 0), (10, 10), 0.0), math.pi / 4)  # y down: a line going down-right is turned back
    assert math.isclose(roi.rotation((0, 10), (0, 0), math.pi / 2), 0.0)  # wrist below, fingers up: upright already


def test_transformed_squares_shifts_and_scales_in_the_rects_own_axes():
    rect = roi.transformed(roi.Rect(100, 100, 40, 20, 0.0), {"scale": 2.0, "shift_y": -0.5, "square_long": True})
    assert rect == roi.Rect(100, 90, 80, 80, 0.0)
    turned = roi.transformed(roi.Rect(100, 100, 20, 20, math.pi / 2), {"scale": 1.0, "shift_y": -0.5})
    assert math.isclose(turned.cx, 110) and math.isclose(turned.cy, 100)


def test_crop_then_project_returns_each_pixel_to_where_it_was():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    rect = roi.Rect(40.0, 30.0, 20.0, 20.0, 0.0)
    tensor = roi.crop(frame, rect, (20, 20), [0.0, 1.0])
    assert tensor.shape == (1, 20, 20, 3) and tensor.dtype == np.float32
    assert np.allclose(tensor[0] * 255, frame[20:40, 30:50], atol=1e-3)  # one crop pixel per frame pixel, unturned
    flipped = roi.crop(frame, rect, (20, 20), [0.0, 1.0], flip=True)
    assert np.allclose(flipped[0], tensor[0][:, ::-1])
    points = np.array([[0.5, 0.5, 2.0], [19.5, 10.5, 0.0]])
    projected = roi.project(points, rect, (20, 20), (80, 60))
    assert np.allclose(projected[:, :2], [[30.5 / 80, 20.5 / 60], [49.5 / 80, 30.5 / 60]])
    assert math.isclose(projected[0, 2], 2.0 / 80)


def test_crop_outside_the_frame_is_zero_and_turning_by_a_half_turn_mirrors_both_ways():
    frame = np.full((10, 10, 3), 255, np.uint8)
    assert roi.crop(frame, roi.Rect(100, 100, 10, 10, 0.0), (4, 4), [0.0, 1.0]).max() == 0
    ramp = np.tile(np.arange(10, dtype=np.uint8)[None, :, None] * 20, (10, 1, 3))
    turned = roi.crop(ramp, roi.Rect(5, 5, 10, 10, math.pi), (10, 10), [0.0, 255.0])
    assert np.allclose(turned[0, 5, :, 0], ramp[5, ::-1, 0], atol=1e-6)


@pytest.mark.slow
def test_import_of_the_face_mesh_writes_the_eyes_pipeline_once(eyes_model):
    manifest = json.loads((eyes_model / "manifest.json").read_text())
    pipeline = manifest["pipeline"]
    assert manifest["task"] == "face-landmarks"
    assert set(manifest["files"]) == {"face_detector.onnx", "face_landmark.onnx", "iris_landmark.onnx", "LICENSE"}
    assert [pipeline[p]["file"] for p in ("detector", "landmarks", "iris")] == ["face_detector.onnx", "face_landmark.onnx", "iris_landmark.onnx"]
    assert pipeline["roi"]["scale"] == 1.5 and pipeline["iris"]["corners"] == [[33, 133], [362, 263]]
    assert all(r["max_abs_diff_vs_tflite"] < 1e-3 for r in manifest["import"]["models"].values())
    assert manifest["provenance"]["license"] == "Apache-2.0" and "LICENSE" in manifest["files"]
    tasks.read_model(eyes_model)  # the contract and the task's own fields hold


@pytest.mark.slow
def test_import_of_the_hand_model_takes_the_palm_detector_beside_it(hands_model):
    manifest = json.loads((hands_model / "manifest.json").read_text())
    pipeline = manifest["pipeline"]
    assert manifest["task"] == "hand-landmarks" and set(manifest["files"]) == {"palm_detection.onnx", "hand_landmark.onnx", "LICENSE"}
    assert pipeline["detector"]["anchors"]["count"] == 2016 and pipeline["detector"]["keypoints"] == 7
    assert pipeline["roi"] == {"keypoints": [0, 2], "target_angle": math.pi / 2, "scale": 2.6, "shift_y": -0.5, "square_long": True}
    assert manifest["import"]["models"]["detector"]["source"].endswith("palm_detection_lite.tflite")
    assert all(r["max_abs_diff_vs_tflite"] < 1e-3 for r in manifest["import"]["models"].values())


@pytest.mark.slow
def test_import_refuses_a_tflite_it_does_not_know_in_one_line(tmp_path, capsys):
    code, err = run(capsys, "import", tflite_model("face_detection_back.tflite"), "--out", tmp_path / "out")
    assert code == 2 and len([line for line in err if line.startswith("staticml: error")]) == 1, err
    assert "not a model staticml knows" in err[-1] and "hand_landmark" in err[-1] and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_import_of_a_palm_detector_without_its_hand_model_is_one_line(tmp_path, capsys):
    lonely = tmp_path / "palm_detection_lite.tflite"
    lonely.write_bytes((landmark_models.mediapipe_models() / "palm_detection_lite.tflite").read_bytes())
    code, err = run(capsys, "import", lonely, "--out", tmp_path / "out")
    assert code == 2 and "needs hand_landmark_lite.tflite" in err[-1] and not (tmp_path / "out").exists(), err


@pytest.mark.slow
def test_face_landmarks_on_the_portrait_put_each_iris_between_its_eye_corners(eyes_model):
    landmarker = open_face(eyes_model)
    frame = clip.place(clip.portrait(), 320, 240, 0.5, 0.5, 0.6)
    [face] = landmarker.landmarks(frame)
    points = np.array(face["face"])
    assert points.shape == (468, 3) and np.array(face["irises"]).shape == (2, 5, 2) and face["score"] > 0.9
    box = landmarker.detect(frame)[0]["box"]
    assert box[0] < points[:, 0].mean() < box[0] + box[2] and box[1] < points[:, 1].mean() < box[1] + box[3]
    for (a, b), iris in zip([(33, 133), (362, 263)], face["irises"]):
        corner_a, corner_b, centre = points[a, :2], points[b, :2], np.array(iris[0])
        along = (centre - corner_a) @ (corner_b - corner_a) / np.sum((corner_b - corner_a) ** 2)
        assert 0.3 < along < 0.7, along
    assert landmarker.landmarks(np.full((240, 320, 3), 90, np.uint8)) == []


@pytest.mark.slow
def test_hands_finds_no_hand_where_there_is_none(hands_model):
    landmarker = open_hands(hands_model)
    assert landmarker.hands(np.full((240, 320, 3), 90, np.uint8)) == []
    assert landmarker.hands(clip.place(clip.portrait(), 320, 240, 0.5, 0.5, 0.6)) == []


@pytest.mark.slow
def test_hands_on_the_photographed_hand_find_it_upright_where_it_was_placed(hands_model):
    """The photograph of two hands (src/staticml/data/hands.jpg): one hand placed at the frame's centre
    is found there, fingers up; in the whole photograph both are found, the right one upside down."""
    landmarker = open_hands(hands_model)
    [hand] = landmarker.hands(hand_clip.place(hand_clip.one_hand(), 320, 240, 0.5, 0.5, 0.75))
    assert set(hand) == {"score", "handedness", "box", "landmarks"} and hand["score"] > 0.9
    points = np.array(hand["landmarks"])
    assert points.shape == (21, 3) and hand["handedness"] in ("left", "right")
    assert 0.3 < points[:, 0].mean() < 0.7 and points[12, 1] < points[9, 1] < points[0, 1]  # middle tip above its base above the wrist
    both = landmarker.hands(hand_clip.photo())
    assert len(both) == 2
    by_x = sorted(both, key=lambda h: h["box"][0])
    wrist_y = [np.array(h["landmarks"])[0, 1] for h in by_x]
    middle_tip_y = [np.array(h["landmarks"])[12, 1] for h in by_x]
    assert middle_tip_y[0] < wrist_y[0] and middle_tip_y[1] > wrist_y[1]


@pytest.mark.slow
def test_predict_prints_the_hands_of_the_photograph_as_json_lines(hands_model, capsys):
    code, out, err = run_output(capsys, "predict", hands_model, hand_clip.PHOTO)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and all(len(h["landmarks"]) == 21 for h in lines)
    assert lines == json.loads(json.dumps(open_hands(hands_model).hands(hand_clip.photo())))


@pytest.mark.slow
def test_predict_prints_the_landmarks_of_an_image_as_json_lines(eyes_model, tmp_path, capsys):
    from PIL import Image

    image = tmp_path / "portrait.png"
    Image.fromarray(clip.place(clip.portrait(), 320, 240, 0.5, 0.5, 0.6)).save(image)
    code, out, err = run_output(capsys, "predict", eyes_model, image)
    assert code == 0, err
    [line] = out.splitlines()
    face = json.loads(line)
    assert set(face) == {"score", "box", "face", "irises"} and len(face["face"]) == 468
    assert face == json.loads(json.dumps(open_face(eyes_model).landmarks(np.asarray(Image.open(image).convert("RGB")))[0]))
    code, err = run(capsys, "predict", eyes_model, tmp_path / "missing.png")
    assert code == 2 and "no such file" in err[-1]
