"""A tabular ONNX graph written with onnx.helper, imported with `staticml import model.onnx --features
features.json --labels a,b`: features named like JavaScript's object internals (`__proto__`,
`constructor`, `toString`), and optional padding that makes the model file as big as a real one
(random bytes: they do not compress, so they cross the network at full size)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from staticml import cli

FEATURES = [
    {"name": "__proto__", "type": "number", "min": 0, "max": 10, "step": 1, "optional": False, "typical": 3},
    {"name": "constructor", "type": "category", "categories": ["a", "b", "c"], "optional": False, "typical": "b"},
    {"name": "toString", "type": "yes-no", "optional": False, "typical": False},
]
LABELS = ["no", "yes"]
# score = 0.4·__proto__ + {a: -1, b: 0, c: 1}[constructor] − 1.5·toString − 1.2; P(yes) = sigmoid(score)
CATEGORY_SCORE = {"a": -1.0, "b": 0.0, "c": 1.0}


def expected_yes(row: dict) -> float:
    score = 0.4 * row["__proto__"] + CATEGORY_SCORE[row["constructor"]] - 1.5 * float(row["toString"]) - 1.2
    return float(1 / (1 + np.exp(-score)))


def graph(padding_bytes: int = 0) -> onnx.ModelProto:
    """[batch, 1] inputs named as the features; `probabilities` [batch, 2] = [1 − p, p]."""
    inputs = [helper.make_tensor_value_info("__proto__", TensorProto.FLOAT, ["batch", 1]),
              helper.make_tensor_value_info("constructor", TensorProto.STRING, ["batch", 1]),
              helper.make_tensor_value_info("toString", TensorProto.FLOAT, ["batch", 1])]
    output = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])
    consts = {"w_proto": 0.4, "w_to_string": -1.5, "bias": -1.2, "one": 1.0}
    initializers = [numpy_helper.from_array(np.array(v, dtype=np.float32), k) for k, v in consts.items()]
    nodes = [
        helper.make_node("Mul", ["__proto__", "w_proto"], ["s1"]),
        helper.make_node("LabelEncoder", ["constructor"], ["s2"], domain="ai.onnx.ml",
                         keys_strings=list(CATEGORY_SCORE), values_floats=list(CATEGORY_SCORE.values()), default_float=0.0),
        helper.make_node("Mul", ["toString", "w_to_string"], ["s3"]),
        helper.make_node("Sum", ["s1", "s2", "s3", "bias"], ["score"]),
        helper.make_node("Sigmoid", ["score"], ["p_yes"]),
        helper.make_node("Sub", ["one", "p_yes"], ["p_no"]),
        helper.make_node("Concat", ["p_no", "p_yes"], ["probabilities"], axis=1),
    ]
    if padding_bytes:
        # An input-independent branch that keeps the padding in the graph: probabilities + 0·ReduceSum(padding).
        padding = np.random.default_rng(0).standard_normal(padding_bytes // 4).astype(np.float32)
        initializers += [numpy_helper.from_array(padding, "padding"), numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")]
        nodes[-1] = helper.make_node("Concat", ["p_no", "p_yes"], ["probabilities_raw"], axis=1)
        nodes += [helper.make_node("ReduceSum", ["padding"], ["padding_sum"], keepdims=0),
                  helper.make_node("Mul", ["padding_sum", "zero"], ["padding_zero"]),
                  helper.make_node("Add", ["probabilities_raw", "padding_zero"], ["probabilities"])]
    model = helper.make_model(helper.make_graph(nodes, "js-internals", inputs, [output], initializers),
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 2)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def import_model(root: Path, name: str, padding_bytes: int = 0) -> Path:
    """The graph and its features.json written under `root`, imported as model folder `root/name`."""
    root.mkdir(parents=True, exist_ok=True)
    onnx.save(graph(padding_bytes), str(root / f"{name}.onnx"))
    (root / f"{name}-features.json").write_text(json.dumps(FEATURES), encoding="utf-8")
    out = root / name
    code = cli.main(["import", str(root / f"{name}.onnx"), "--features", str(root / f"{name}-features.json"),
                     "--labels", ",".join(LABELS), "--out", str(out)])
    assert code == 0, f"staticml import of {name} failed"
    return out
