"""Does a model file found elsewhere derive from yours? `staticml fingerprint SUSPECT MODEL` compares
the weights themselves, after undoing what shipping does to them: quantization (int8 tables and
matrices, DequantizeLinear, onnxruntime's 4-bit MatMulNBits and GatherBlockQuantized), renaming and
transposing (re-export, opset change). Names and graph structure are not evidence: both change when a
model is re-saved, while the numbers survive up to rounding.

Each weight tensor of MODEL is matched with the suspect's tensor of the same size (as it is, or
transposed) that correlates best with it; the score is the mean of those correlations weighted by
tensor size. Independent training from another seed gives unrelated numbers (correlation near 0)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError

# Below this many values a tensor (a bias, a scalar constant) matches too easily to be evidence.
MIN_VALUES = 64
# Chosen from measurements (docs/model-ip.md): a model's own int8 and q4 variants and a re-saved copy
# score >= 0.98, the same architecture trained from another seed <= 0.05, an unrelated model 0.
MATCH_THRESHOLD = 0.5
# onnxruntime's 4-bit operators and the position of their packed weight among the node's inputs.
FOUR_BIT = {"MatMulNBits": 1, "GatherBlockQuantized": 0}


@dataclass
class TensorMatch:
    name: str  # the MODEL's tensor
    shape: tuple[int, ...]
    suspect: str | None  # the suspect's tensor that correlates best, or None when none has its size
    correlation: float
    transposed: bool = False


@dataclass
class Fingerprint:
    score: float
    threshold: float
    matches: list[TensorMatch] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.score >= self.threshold


def compare(suspect: Path, model: Path, threshold: float = MATCH_THRESHOLD) -> Fingerprint:
    """The similarity of the suspect's weights to the model's (a .onnx file or a model folder each)."""
    if not 0 < threshold <= 1:
        raise UserError(f"--threshold {threshold}: give a similarity above 0 and at most 1")
    ours = weights(model_file(model, "MODEL"))
    theirs = weights(model_file(suspect, "SUSPECT"))
    if not ours:
        raise UserError(f"{model}: no weight tensor of {MIN_VALUES} values or more to compare")
    matches = [best_match(name, tensor, theirs) for name, tensor in ours.items()]
    sizes = np.array([np.prod(m.shape) for m in matches], dtype=np.float64)
    score = float(np.sum(sizes * np.array([max(m.correlation, 0.0) for m in matches])) / sizes.sum())
    return Fingerprint(round(score, 4), threshold, matches)


def model_file(path: Path, role: str) -> Path:
    """The graph to compare: the file itself, or a model folder's fp32 (else default) variant."""
    path = Path(path)
    if path.is_dir():
        import json

        manifest_path = path / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            variants = manifest["variants"]
            name = variants.get("fp32") or variants[manifest["default_variant"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"{path}: {role} is a folder but not a model folder (no readable manifest.json variants)") from None
        path = path / str(name)
    if not path.is_file():
        raise UserError(f"{path}: {role} is not a file")
    return path


def weights(path: Path) -> dict[str, np.ndarray]:
    """Every float weight of the graph with at least MIN_VALUES values, quantized ones dequantized."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises DecodeError, onnx its own: any of them means "not a model"
        raise UserError(f"{path}: not an ONNX model ({exc.__class__.__name__})") from None
    if not model.graph.node:
        raise UserError(f"{path}: not an ONNX model (no graph)")
    raw = {}
    for init in model.graph.initializer:
        try:
            raw[init.name] = numpy_helper.to_array(init, base_dir=str(path.parent))
        except Exception:  # external data that is missing: the tensor cannot be evidence
            continue
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            raw[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    found = dequantized(model, raw)
    used = set(found)
    for name, value in raw.items():
        if name not in used and value.dtype.kind == "f" and value.size >= MIN_VALUES:
            found[name] = value.astype(np.float32)
    return {name: value for name, value in found.items() if value.size >= MIN_VALUES and np.isfinite(value).all()}


def dequantized(model, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Float weights rebuilt from the quantized forms staticml (and onnxruntime's quantizers) write;
    keyed by the quantized tensor's name, whose float source names are dropped from `raw`."""
    found: dict[str, np.ndarray] = {}
    for name in list(raw):
        base = _strip(name, ("_quantized", "_int8"))
        if base is None or f"{base}_scale" not in raw or raw[name].dtype.kind not in "iu":
            continue
        zero = raw.get(f"{base}_zero_point", np.zeros((), dtype=np.int32)).astype(np.float32)
        scale = raw[f"{base}_scale"].astype(np.float32)
        values = raw[name].astype(np.float32)
        found[base] = (values - _broadcast(zero, values)) * _broadcast(scale, values)
        raw.pop(f"{base}_scale")
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in raw and raw[node.input[0]].dtype.kind in "iu":
            found[node.output[0]] = _dequantize_linear(node, raw)
        elif node.op_type in FOUR_BIT and node.input[FOUR_BIT[node.op_type]] in raw:
            found[node.name or node.output[0]] = _run_4bit(node, raw)
    return found


def _strip(name: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _broadcast(factor: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A per-tensor, per-row or per-column factor shaped to multiply `values`."""
    if factor.ndim == 0 or factor.shape == values.shape or factor.ndim == values.ndim:
        return factor
    if factor.ndim == 1 and values.ndim == 2:
        return factor.reshape(1, -1) if factor.shape[0] == values.shape[1] else factor.reshape(-1, 1)
    return factor


def _dequantize_linear(node, raw: dict[str, np.ndarray]) -> np.ndarray:
    values = raw[node.input[0]].astype(np.float32)
    scale = raw.get(node.input[1], np.ones((), np.float32)).astype(np.float32) if len(node.input) > 1 else np.float32(1)
    zero = raw.get(node.input[2], np.zeros((), np.float32)).astype(np.float32) if len(node.input) > 2 and node.input[2] else np.float32(0)
    axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
    if np.ndim(scale) == 1 and values.ndim > 1:
        shape = [1] * values.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), (zero.reshape(shape) if np.ndim(zero) == 1 else zero)
    return (values - zero) * scale


def _run_4bit(node, raw: dict[str, np.ndarray]) -> np.ndarray:
    """onnxruntime's own kernel dequantizes: MatMulNBits times the identity gives its weight [K, N],
    GatherBlockQuantized of every row gives its table."""
    import onnx
    from onnx import helper, numpy_helper

    from ..runtime import create_session

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    inits = [numpy_helper.from_array(raw[n], n) for n in node.input if n and n in raw]
    if node.op_type == "MatMulNBits":
        k = int(attrs["K"])
        feed_name, feed = node.input[0], np.eye(k, dtype=np.float32)
        inputs = [helper.make_tensor_value_info(feed_name, onnx.TensorProto.FLOAT, [k, k])]
    else:
        rows = int(raw[node.input[0]].shape[0])
        feed_name, feed = node.input[1], np.arange(rows, dtype=np.int64)
        inputs = [helper.make_tensor_value_info(feed_name, onnx.TensorProto.INT64, [rows])]
    out = helper.make_tensor_value_info(node.output[0], onnx.TensorProto.FLOAT, None)
    graph = helper.make_graph([node], "dequantize", inputs, [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dequantize.onnx"
        onnx.save(model, str(path))
        return np.asarray(create_session(path).run(None, {feed_name: feed})[0], dtype=np.float32)


def best_match(name: str, ours: np.ndarray, theirs: dict[str, np.ndarray]) -> TensorMatch:
    best = TensorMatch(name, tuple(ours.shape), None, 0.0)
    for other, value in theirs.items():
        if value.size != ours.size:
            continue
        for transposed, candidate in _orientations(ours, value):
            r = correlation(ours, candidate)
            if best.suspect is None or r > best.correlation:
                best = TensorMatch(name, tuple(ours.shape), other, r, transposed)
    return best


def _orientations(ours: np.ndarray, value: np.ndarray):
    """The suspect's tensor as stored and, for a matrix, transposed (Gemm's transB, MatMul's [in, out])."""
    squeezed = value.reshape([d for d in value.shape if d != 1] or [1])
    plain = [d for d in ours.shape if d != 1] or [1]
    if list(squeezed.shape) == plain:
        yield False, squeezed.reshape(ours.shape)
    if squeezed.ndim == 2 and list(squeezed.T.shape) == plain:
        yield True, squeezed.T.reshape(ours.shape)
    if list(squeezed.shape) != plain and not (squeezed.ndim == 2 and list(squeezed.T.shape) == plain):
        yield False, value.reshape(ours.shape)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the values: blind to a tensor-wide scale and offset, not to their order."""
    x = a.astype(np.float64).ravel() - a.mean()
    y = b.astype(np.float64).ravel() - b.mean()
    denominator = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denominator) if denominator > 0 else 0.0


def describe(result: Fingerprint) -> list[str]:
    """The verdict and its evidence, one tensor per line."""
    verdict = "MATCH" if result.matched else "no match"
    lines = [f"fingerprint: {verdict}: similarity {result.score:.3f} (threshold {result.threshold})"]
    for m in sorted(result.matches, key=lambda m: -np.prod(m.shape)):
        where = f"{m.suspect}{' (transposed)' if m.transposed else ''}" if m.suspect else "no tensor of its size"
        lines.append(f"  {m.name} {list(m.shape)}: correlation {m.correlation:.4f} with {where}")
    return lines
