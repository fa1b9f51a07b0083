"""`staticml demo --task camera --control hands` (issue 26): the control picks the hand-landmarks task, whose
demo imports MediaPipe's hand models and builds the camera page's site (about 50 s on 2 cores)."""

from __future__ import annotations

import json

import pytest
from landmark_models import mediapipe_models

from staticml.cli import main


@pytest.mark.slow
def test_demo_camera_control_hands_builds_the_hands_site(tmp_path, capsys):
    mediapipe_models()  # skips where scripts/setup.sh has not taken the hand models
    site = tmp_path / "site"
    assert main(["demo", "--task", "camera", "--control", "hands", "--no-serve", "--out", str(site)]) == 0
    assert "demo: built" in capsys.readouterr().err
    manifest = json.loads((site / "models" / "hands" / "manifest.json").read_text())
    assert manifest["task"] == "hand-landmarks" and set(manifest["files"]) == {"palm_detection.onnx", "hand_landmark.onnx", "LICENSE"}
    assert (site / "index.html").is_file() and (site / "assets" / "landmarks-worker.js").is_file()


def test_demo_refuses_an_unknown_control_in_one_line(capsys):
    assert main(["demo", "--task", "camera", "--control", "feet", "--no-serve"]) == 2
    err = capsys.readouterr().err
    assert "argument --control: invalid choice: 'feet'" in err and len(err.strip().splitlines()) == 1
