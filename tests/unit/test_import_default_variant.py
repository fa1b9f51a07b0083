"""An import's default variant is chosen by measured agreement (issue 24 item 3): the smallest variant
that agrees with fp32 on the probe texts (labels identical, |Δp| within the int8 tolerance), said in
the import's log; `--default-variant` overrides it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from staticml import cli, parity
from staticml.train.imported_text import smallest_agreeing_variant

REFERENCE = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])


def drift(moved: float, flip: bool = False) -> parity.ParityReport:
    candidate = REFERENCE + np.array([[-moved, moved]] * 3)
    if flip:
        candidate[2] = [0.3, 0.7]
    return parity.compare(REFERENCE, candidate, parity.TOLERANCE["int8"])


@pytest.fixture
def folder(tmp_path):
    for name, size in (("model.onnx", 4000), ("model.int8.onnx", 1000), ("model.q4.onnx", 600)):
        (tmp_path / name).write_bytes(b"x" * size)
    return tmp_path


VARIANTS = {"fp32": "model.onnx", "int8": "model.int8.onnx", "q4": "model.q4.onnx"}


def test_the_smallest_agreeing_variant_is_the_default_and_the_log_says_why(folder):
    lines: list[str] = []
    chosen = smallest_agreeing_variant(folder, VARIANTS, {"int8": drift(4e-4), "q4": drift(0.05)}, lines.append)
    assert chosen == "int8"
    assert "default variant int8" in lines[0] and "smallest that agrees with fp32 on 3 probe texts" in lines[0]
    assert "not q4 (max |Δp| 5.00e-02" in lines[0]


def test_fp32_stays_the_default_when_no_smaller_variant_agrees(folder):
    lines: list[str] = []
    variants = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
    assert smallest_agreeing_variant(folder, variants, {"int8": drift(2e-3)}, lines.append) == "fp32"
    assert smallest_agreeing_variant(folder, variants, {"int8": drift(0.0, flip=True)}, lines.append) == "fp32"
    assert "not int8" in lines[-1] and "labels agree 66.67%" in lines[-1]


@pytest.mark.slow
def test_the_keras_tutorial_model_imports_as_int8_unless_told(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    import keras_models

    source = keras_models.tutorial_model(tmp_path / "keras")["keras"]
    assert cli.main(["import", str(source), "--out", str(tmp_path / "auto")]) == 0
    log = "".join(capsys.readouterr())
    manifest = json.loads((tmp_path / "auto" / "manifest.json").read_text())
    assert manifest["default_variant"] == "int8", log
    agreement = manifest["import"]["int8_vs_fp32"]
    assert agreement["label_agreement"] == 1.0 and agreement["max_abs_diff_probability"] <= parity.TOLERANCE["int8"]
    assert "default variant int8" in log and "agrees with fp32" in log
    assert cli.main(["import", str(source), "--out", str(tmp_path / "told"), "--default-variant", "fp32"]) == 0
    assert json.loads((tmp_path / "told" / "manifest.json").read_text())["default_variant"] == "fp32"
