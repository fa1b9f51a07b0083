"""staticml.tasks.face_detection.detect: MediaPipe's anchors, decoding and NMS from the manifest's description, the face
that is followed, letterboxing; and `staticml import` of the .tflite detector (slow: TensorFlow)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from face_frames import import_face_model, parity_frames, tflite_model, two_faces
from test_cli import run

from staticml import manifest as manifest_io, tasks
from staticml.cli import main
from staticml.tasks.face_detection import detect
from staticml.tasks.face_detection.runner import open_detector
from staticml.tasks.face_detection.detect import BLAZEFACE_SHORT_RANGE as SPEC


def test_anchors_are_mediapipes_short_range_layout():
    centres = detect.anchors(SPEC)
    assert centres.shape == (896, 2) == (SPEC["anchors"]["count"], 2)
    # stride 8: a 16x16 grid, 2 anchors per cell; strides 16 (three layers): 8x8, 6 per cell.
    assert np.allclose(centres[0], centres[1]) and np.allclose(centres[0], [0.5 / 16, 0.5 / 16])
    assert np.allclose(centres[2], [1.5 / 16, 0.5 / 16])
    assert np.allclose(centres[512:518], [0.5 / 8, 0.5 / 8]) and np.allclose(centres[518], [1.5 / 8, 0.5 / 8])
    assert np.allclose(centres[-1], [7.5 / 8, 7.5 / 8])


def raw_outputs(faces: dict[int, tuple[float, float, float, float, float]]):
    """Model outputs with the given anchors firing: {anchor: (dx, dy, w, h, logit)} in input pixels."""
    boxes = np.zeros((896, 16), np.float32)
    scores = np.full((896,), -10.0, np.float32)
    for anchor, (dx, dy, w, h, logit) in faces.items():
        boxes[anchor, :4] = (dx, dy, w, h)
        boxes[anchor, 4:] = np.tile([dx, dy], 6)
        scores[anchor] = logit
    return boxes, scores


def detections(boxes, scores, spec=SPEC):
    found = detect.suppress(detect.decode(boxes, scores, spec, detect.anchors(spec)), spec)
    return [detect.to_frame(d, spec) for d in found]


def test_weighted_nms_merges_overlapping_boxes_by_score_and_keeps_the_best_score():
    # anchors 0 and 1 share a centre (1/32, 1/32) = 4 px: boxes of 20 px, 2 px apart.
    boxes, scores = raw_outputs({0: (0, 0, 20, 20, 3.0), 1: (2, 0, 20, 20, 1.0)})
    [merged] = detections(boxes, scores)
    s0, s1 = 1 / (1 + np.exp(-3.0)), 1 / (1 + np.exp(-1.0))
    assert merged["score"] == pytest.approx(s0)
    centre_x = (4 + (2 * s1) / (s0 + s1)) / 128
    assert merged["box"][0] + merged["box"][2] / 2 == pytest.approx(centre_x)
    assert merged["box"][2] == pytest.approx(20 / 128)


def test_plain_nms_keeps_the_best_box_as_it_is():
    spec = copy.deepcopy(SPEC)
    spec["nms"]["weighted"] = False
    boxes, scores = raw_outputs({0: (0, 0, 20, 20, 1.0), 1: (2, 0, 20, 20, 3.0)})
    [kept] = detections(boxes, scores, spec)
    assert kept["box"][0] + kept["box"][2] / 2 == pytest.approx(6 / 128)


def test_scores_at_or_under_the_threshold_and_empty_boxes_are_dropped():
    boxes, scores = raw_outputs({0: (0, 0, 20, 20, 0.0), 40: (0, 0, 0, 20, 5.0), 100: (0, 0, 20, 20, 500.0)})
    [only] = detections(boxes, scores)
    assert only["score"] == pytest.approx(1 / (1 + np.exp(-80.0)))  # clipped at raw_score_limit


def test_several_faces_the_largest_is_followed():
    boxes, scores = raw_outputs({0: (0, 0, 10, 10, 6.0), 600: (0, 0, 40, 30, 1.0)})
    found = detections(boxes, scores)
    assert len(found) == 2 and found[0]["score"] > found[1]["score"]
    assert detect.largest(found) is found[1]
    assert detect.largest([]) is None


def test_letterbox_placement_and_back_to_frame_coordinates():
    assert detect.placement(640, 480, SPEC) == (0, 16, 128, 96)
    assert detect.placement(480, 640, SPEC) == (16, 0, 96, 128)
    assert detect.placement(128, 128, SPEC) == (0, 0, 128, 128)
    candidate = {"score": 0.9, "corners": np.array([0.25, 0.125 + 0.25 * 0.75, 0.75, 0.125 + 0.75 * 0.75]),
                 "keypoints": np.array([[0.5, 0.5]])}
    frame = detect.to_frame(candidate, SPEC, (0, 16, 128, 96))
    assert frame["box"] == pytest.approx([0.25, 0.25, 0.5, 0.5])
    assert frame["keypoints"][0] == pytest.approx([0.5, 0.5])


def test_input_tensor_is_the_described_range():
    tensor = detect.input_tensor(np.array([[[0, 255, 128]]], np.uint8).repeat(128, 0).repeat(128, 1), SPEC)
    assert tensor.shape == (1, 128, 128, 3) and tensor.dtype == np.float32
    assert tensor[0, 0, 0].tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)


@pytest.mark.parametrize("change, problem", [
    (lambda d: d.pop("nms"), "needs input"),
    (lambda d: d["anchors"].update(strides=[8, "16"]), "not a number"),
    (lambda d: d["input"].update(resize="crop"), "resize must be"),
    (lambda d: d.update(score_threshold=1.5), "score_threshold"),
    (lambda d: d["anchors"].update(count=900), "does not match"),
    (lambda d: d["outputs"].update(boxes=""), "names must be"),
])
def test_manifest_refuses_a_broken_detector_description(change, problem):
    description = copy.deepcopy(SPEC)
    change(description)
    manifest = {"name": "face", "task": "face-detection", "files": {"model.onnx": {"sha256": "0" * 64, "bytes": 1}},
                "variants": {"fp32": "model.onnx"}, "default_variant": "fp32", "detector": description}
    with pytest.raises(manifest_io.ManifestError, match=problem):
        tasks.validate(manifest)
    tasks.validate({**manifest, "detector": SPEC})


def test_import_refuses_a_file_that_is_not_tflite(tmp_path, capsys):
    fake = tmp_path / "face.tflite"
    fake.write_bytes(b"not a model at all")
    code, err = run(capsys, "import", fake, "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "not a TFLite model" in err and not (tmp_path / "out").exists()


def test_the_http_api_refuses_a_face_detector_in_one_line(tmp_path, capsys):
    folder = tmp_path / "face"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"not run")
    manifest_io.write_model_folder(folder, name="face", task="face-detection", labels=None, variants={"fp32": "model.onnx"},
                                   default_variant="fp32", metrics={}, arch="blazeface-short-range", detector=SPEC)
    code, err = run(capsys, "api", folder, "--port", "0")
    assert code == 2 and "is not served by the HTTP API" in err and err.count("\n") == 1


# ---------------------------------------------------------------- the real model (TensorFlow: slow)


@pytest.fixture(scope="module")
def face_model(tmp_path_factory):
    return import_face_model(tmp_path_factory.mktemp("face"))


@pytest.mark.slow
def test_import_writes_a_face_detection_model_folder(face_model):
    manifest = json.loads((face_model / "manifest.json").read_text())
    assert manifest["task"] == "face-detection" and manifest["detector"] == SPEC
    assert manifest["import"]["max_abs_diff_vs_tflite"] < 1e-3 and "labels" not in manifest


@pytest.mark.slow
def test_import_refuses_a_tflite_that_is_not_a_supported_detector(tmp_path, capsys):
    code, err = run(capsys, "import", tflite_model("face_detection_back.tflite"), "--out", tmp_path / "out")
    assert code == 2 and "not a model staticml knows" in err and not (tmp_path / "out").exists()
    assert [line for line in err.splitlines() if line.startswith("staticml: error")] == [err.strip().splitlines()[-1]]


@pytest.mark.slow
def test_detector_finds_the_portrait_and_nothing_in_an_empty_frame(face_model):
    detector = open_detector(face_model)
    frames = parity_frames()
    assert all(len(detector.detect(f)) >= 1 for f in frames[:48])
    assert detector.detect(np.full((128, 128, 3), 80, np.uint8)) == []
    face = detector.detect(frames[0])[0]
    assert 0.85 < face["score"] < 1 and len(face["keypoints"]) == 6


@pytest.mark.slow
def test_several_real_faces_the_largest_is_followed(face_model):
    found = open_detector(face_model).detect(two_faces())
    assert len(found) == 2
    followed = detect.largest(found)
    assert followed["box"][0] < 0.5  # the big face is on the left


@pytest.mark.slow
def test_build_gives_a_face_detector_the_camera_page_and_refuses_mixing_it_with_a_classifier(face_model, tmp_path, capsys):
    from test_cli import small_csv

    code, _ = run(capsys, "build", face_model, "--out", tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text()
    assert code == 0 and "assets/camera.js" in index and "connect-src 'self';" in index
    assert not (tmp_path / "site" / "assets" / "staticml.js").exists() and not (tmp_path / "site" / "camera.html").exists()
    text = tmp_path / "text"
    assert run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars", "--epochs", "1",
               "--out", text)[0] == 0
    code, err = run(capsys, "build", face_model, text, "--out", tmp_path / "mixed")
    assert code == 2 and "build a site for each" in err and not (tmp_path / "mixed").exists()
    code, _ = run(capsys, "build", text, "--out", tmp_path / "text-site")
    assert code == 0 and not (tmp_path / "text-site" / "assets" / "camera.js").exists()


@pytest.mark.slow
def test_demo_camera_builds_the_camera_site(tmp_path, capsys):
    code, err = run(capsys, "demo", "--task", "camera", "--no-serve", "--out", tmp_path / "site")
    assert code == 0 and "demo: built" in err
    assert json.loads((tmp_path / "site" / "models" / "face" / "manifest.json").read_text())["task"] == "face-detection"


@pytest.mark.slow
def test_predict_on_an_image_prints_the_pages_detections_as_json_lines(face_model, tmp_path, capsys):
    from PIL import Image

    frame = parity_frames()[0]
    Image.fromarray(frame).save(tmp_path / "portrait.png")
    code = main(["predict", str(face_model), str(tmp_path / "portrait.png")])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and [json.loads(line) for line in lines] == json.loads(json.dumps(open_detector(face_model).detect(frame)))
    assert len(lines) >= 1
