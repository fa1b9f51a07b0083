"""Fixtures for the compact engine's JS unit tests (web/test/): small ONNX graphs, one operator each
(and the tiny model as `train` exports it, fp32 and int8), with inputs and the outputs Python
onnxruntime computes for them. `npm test` runs this into a temporary folder:

    python tests/engine_fixtures.py OUT_DIR

writes OUT_DIR/cases.json, OUT_DIR/*.onnx and OUT_DIR/table.json (staticml.compact's table, which
the engine's own table must equal).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from staticml import compact

OPSET = 20
ML = "ai.onnx.ml"
F, I64, U8, I8 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.UINT8, TensorProto.INT8
I32, B, S = TensorProto.INT32, TensorProto.BOOL, TensorProto.STRING
TYPE = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8",
        np.dtype(np.int8): "int8", np.dtype(np.int32): "int32", np.dtype(bool): "bool", np.dtype(object): "string"}
ELEM = {np.dtype(np.float32): F, np.dtype(np.int64): I64, np.dtype(np.uint8): U8, np.dtype(np.int8): I8,
        np.dtype(np.int32): I32, np.dtype(bool): B, np.dtype(object): S}
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)
rng = np.random.default_rng(0)


def floats(*shape: int) -> np.ndarray:
    return rng.normal(size=shape).astype(np.float32)


def ints(*shape: int, low: int = -20, high: int = 20) -> np.ndarray:
    return rng.integers(low, high, size=shape).astype(np.int64)


BOOL_OUT = {"Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal", "IsNaN"}
FLOAT_OUT = {"DequantizeLinear", "Scaler", "Normalizer", "OneHotEncoder"}


def case(name: str, op: str, inputs: dict[str, np.ndarray], constants: dict[str, np.ndarray] | None = None,
         order: list[str] | None = None, out: list[tuple[str, int]] | None = None, domain: str = "", opset: int = OPSET,
         **attrs) -> dict:
    """One node `op` reading `order` (graph inputs and constants by name; "" for an omitted one),
    writing `out` ((name, type) pairs; one output "y" of the type it implies when not given)."""
    constants = constants or {}
    order = order if order is not None else [*inputs, *constants]
    graph_inputs = [helper.make_tensor_value_info(n, ELEM[v.dtype], list(v.shape)) for n, v in inputs.items()]
    inits = [onnx.numpy_helper.from_array(v, n) for n, v in constants.items()]
    values = {**inputs, **constants}
    if out is None:
        elem = (attrs.get("to") if op == "Cast" else F if op in FLOAT_OUT else B if op in BOOL_OUT else I64 if op == "Shape"
                else attrs["value"].data_type if op in ("Constant", "ConstantOfShape") and "value" in attrs
                else F if op == "ConstantOfShape" else ELEM[values[order[1] if op == "Where" else order[0]].dtype])
        out = [("y", elem)]
    node = helper.make_node(op, order, [n for n, _ in out], domain=domain or None, **attrs)
    graph = helper.make_graph([node], name, graph_inputs, [helper.make_tensor_value_info(n, t, None) for n, t in out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset if not domain else OPSET),
                                                    *([helper.make_opsetid(domain, opset)] if domain else [])])
    model.ir_version = 10
    return {"name": name, "op": f"{domain}.{op}" if domain else op, "model": model, "inputs": inputs, "outputs": [n for n, _ in out]}


def cases() -> list[dict]:
    x234 = floats(2, 3, 4)
    table = floats(10, 4)
    q = rng.integers(0, 256, size=(6, 4)).astype(np.uint8)
    qi = rng.integers(-127, 128, size=(6, 4)).astype(np.int8)
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=np.int64)
    ids = np.array([[2, 17, 2999, 3], [2, 5, 3, 0]], dtype=np.int64)
    return [
        case("Add same shape", "Add", {"a": x234, "b": floats(2, 3, 4)}),
        case("Add broadcast [2,3,4]+[4]", "Add", {"a": x234, "b": floats(4)}),
        case("Add broadcast [2,1,4]+[3,1]", "Add", {"a": floats(2, 1, 4), "b": floats(3, 1)}),
        case("Add int64 + scalar", "Add", {"a": ints(3, 4)}, {"b": np.array(1_000_003, dtype=np.int64)}),
        case("Add scalar + scalar", "Add", {"a": np.array(1.5, dtype=np.float32), "b": np.array(-0.25, dtype=np.float32)}),
        case("Sub [3,1]-[1,4]", "Sub", {"a": floats(3, 1), "b": floats(1, 4)}),
        case("Sub scalar - tensor (tiny's 1 - mask)", "Sub", {"b": floats(2, 7, 1)}, {"a": np.array(1.0, dtype=np.float32)},
             order=["a", "b"]),
        case("Sub int64", "Sub", {"a": ints(2, 5), "b": ints(2, 5)}),
        case("Mul [2,3,1]*[2,3,4] (tiny's weights * units)", "Mul", {"a": floats(2, 3, 1), "b": x234}),
        case("Mul int64 * 1000003 (tiny's pair hash)", "Mul", {"a": ids}, {"b": np.array(1_000_003, dtype=np.int64)}),
        case("Mul [2,1,4,1]*[3,1,5]", "Mul", {"a": floats(2, 1, 4, 1), "b": floats(3, 1, 5)}),
        case("Div float", "Div", {"a": floats(3, 4), "b": floats(3, 4) + 3}),
        case("Div int64 truncates", "Div", {"a": np.array([7, -7, 7, -7, 0], dtype=np.int64),
                                            "b": np.array([2, 2, -2, -2, 5], dtype=np.int64)}),
        case("Mod int64 fmod=0 (sign of divisor)", "Mod", {"a": np.array([-7, 7, -7, 7, 5, 0, 3_000_009_000], dtype=np.int64),
                                                          "b": np.array([3, -3, -3, 3, 16384, 7, 16384], dtype=np.int64)}, fmod=0),
        case("Mod int64 fmod=1 (sign of dividend)", "Mod", {"a": np.array([-7, 7, -7, 7], dtype=np.int64),
                                                           "b": np.array([3, -3, -3, 3], dtype=np.int64)}, fmod=1),
        case("Mod float fmod=1", "Mod", {"a": floats(5) * 10, "b": np.abs(floats(5)) + 1}, fmod=1),
        case("Cast int64 to float", "Cast", {"x": mask}, to=F),
        case("Cast float to int64 truncates", "Cast", {"x": np.array([-2.7, -0.5, 0.5, 2.7, 1e6], dtype=np.float32)}, to=I64),
        case("Cast uint8 to float", "Cast", {"x": q}, to=F),
        case("Cast int8 to int64", "Cast", {"x": qi}, to=I64),
        case("Cast float to float", "Cast", {"x": floats(3)}, to=F),
        {**case("Constant", "Constant", {}, value=onnx.numpy_helper.from_array(floats(2, 3), "v")), "inputs": {}},
        case("Unsqueeze axes [-1] (tiny's mask)", "Unsqueeze", {"x": mask}, {"axes": np.array([-1], dtype=np.int64)}),
        case("Unsqueeze axes [0, 2]", "Unsqueeze", {"x": floats(3, 4)}, {"axes": np.array([0, 2], dtype=np.int64)}),
        case("Concat axis 1 (tiny's units)", "Concat", {"a": x234, "b": floats(2, 2, 4)}, axis=1),
        case("Concat axis -1 int64", "Concat", {"a": ints(2, 3), "b": ints(2, 1), "c": ints(2, 2)}, axis=-1),
        case("Concat axis 0", "Concat", {"a": floats(1, 3), "b": floats(2, 3)}, axis=0),
        case("Gather axis 0 (embedding)", "Gather", {"i": np.array([[0, 9, 3], [-1, 2, 2]], dtype=np.int64)},
             {"t": table}, order=["t", "i"], axis=0),
        case("Gather axis 1", "Gather", {"t": floats(3, 5, 2), "i": np.array([4, 0, -2], dtype=np.int64)}, axis=1),
        case("Gather uint8 table", "Gather", {"i": np.array([[5, 0], [1, 1]], dtype=np.int64)}, {"t": q},
             order=["t", "i"], axis=0),
        case("Gather wide rows", "Gather", {"i": np.array([1, 0, 1], dtype=np.int64)}, {"t": floats(2, 64)},
             order=["t", "i"], axis=0),
        case("Gather scalar index", "Gather", {"t": floats(4, 3), "i": np.array(2, dtype=np.int64)}, axis=0),
        case("Slice [:, :-1] (tiny)", "Slice", {"x": ids}, {"s": np.array([0], dtype=np.int64), "e": np.array([-1], dtype=np.int64),
                                                           "a": np.array([1], dtype=np.int64), "st": np.array([1], dtype=np.int64)}),
        case("Slice [:, 1:] to INT64_MAX", "Slice", {"x": floats(2, 5, 3)},
             {"s": np.array([1], dtype=np.int64), "e": np.array([INT64_MAX], dtype=np.int64), "a": np.array([1], dtype=np.int64)}),
        case("Slice reversed (step -1 to INT64_MIN)", "Slice", {"x": floats(3, 4)},
             {"s": np.array([-1], dtype=np.int64), "e": np.array([INT64_MIN], dtype=np.int64),
              "a": np.array([-1], dtype=np.int64), "st": np.array([-1], dtype=np.int64)}),
        case("Slice two axes, steps 2 and -2", "Slice", {"x": floats(5, 6)},
             {"s": np.array([0, 5], dtype=np.int64), "e": np.array([5, 0], dtype=np.int64),
              "a": np.array([0, 1], dtype=np.int64), "st": np.array([2, -2], dtype=np.int64)}),
        case("Slice without axes and steps", "Slice", {"x": floats(4, 3)},
             {"s": np.array([1, -2], dtype=np.int64), "e": np.array([3, 10], dtype=np.int64)}),
        case("Slice to empty", "Slice", {"x": floats(4, 3)},
             {"s": np.array([3], dtype=np.int64), "e": np.array([1], dtype=np.int64), "a": np.array([0], dtype=np.int64)}),
        case("MatMul [2,5,4]x[4,1] (tiny's scorer)", "MatMul", {"a": floats(2, 5, 4)}, {"b": floats(4, 1)}),
        case("MatMul [3,4]x[4,2]", "MatMul", {"a": floats(3, 4), "b": floats(4, 2)}),
        case("MatMul 1-D x 2-D", "MatMul", {"a": floats(4), "b": floats(4, 3)}),
        case("MatMul 2-D x 1-D", "MatMul", {"a": floats(3, 4), "b": floats(4)}),
        case("MatMul batch broadcast", "MatMul", {"a": floats(2, 1, 3, 4), "b": floats(5, 4, 2)}),
        case("Gemm transB=1 with bias (tiny's head)", "Gemm", {"a": floats(3, 4)}, {"w": floats(2, 4), "c": floats(2)},
             transB=1, alpha=1.0, beta=1.0),
        case("Gemm transA=1 alpha beta C [M,1]", "Gemm", {"a": floats(4, 3), "b": floats(4, 2), "c": floats(3, 1)},
             transA=1, alpha=0.5, beta=2.0),
        case("Gemm without C", "Gemm", {"a": floats(2, 3), "b": floats(3, 5)}),
        case("Softmax axis 1 with masked entries (tiny)", "Softmax",
             {"x": np.concatenate([floats(2, 5, 1), np.full((2, 2, 1), -1e4, np.float32)], axis=1)}, axis=1),
        case("Softmax axis -1", "Softmax", {"x": floats(3, 6) * 5}, axis=-1),
        case("ReduceSum axis 1 keepdims 0 (tiny's pooling)", "ReduceSum", {"x": x234}, {"axes": np.array([1], dtype=np.int64)},
             keepdims=0, noop_with_empty_axes=0),
        case("ReduceSum keepdims 1 axes [-1, 0]", "ReduceSum", {"x": x234}, {"axes": np.array([-1, 0], dtype=np.int64)}),
        case("ReduceSum all axes", "ReduceSum", {"x": x234}, keepdims=0),
        case("ReduceSum noop with empty axes", "ReduceSum", {"x": x234}, noop_with_empty_axes=1),
        case("ReduceSum int64", "ReduceSum", {"x": ints(3, 4)}, {"axes": np.array([0], dtype=np.int64)}, keepdims=0),
        case("DequantizeLinear uint8 per tensor (tiny int8)", "DequantizeLinear", {"x": q},
             {"s": np.array(0.0123, dtype=np.float32), "z": np.array(131, dtype=np.uint8)}),
        case("DequantizeLinear int8 without zero point", "DequantizeLinear", {"x": qi}, {"s": np.array(0.5, dtype=np.float32)}),
        case("DequantizeLinear int8 per axis 0", "DequantizeLinear", {"x": qi},
             {"s": (np.abs(floats(6)) / 100).astype(np.float32), "z": np.zeros(6, dtype=np.int8)}, axis=0),
        case("DequantizeLinear uint8 per axis 1", "DequantizeLinear", {"x": q},
             {"s": (np.abs(floats(4)) / 100).astype(np.float32), "z": np.array([0, 10, 128, 255], dtype=np.uint8)}, axis=1),
    ]


def i64(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def more_cases() -> list[dict]:
    """The standard operators of the tf2onnx text graphs (Keras import) and of skl2onnx's, int32 and bool included."""
    x = floats(2, 3, 4)
    nan = np.array([[1.5, np.nan, -2.0], [np.nan, 0.0, 3.0]], dtype=np.float32)
    i32 = rng.integers(-50, 50, size=(3, 4)).astype(np.int32)
    cond = rng.random((2, 1, 4)) < 0.5
    return [
        case("Shape", "Shape", {"x": x}),
        case("Shape start=1 end=-1", "Shape", {"x": x}, start=1, end=-1),
        case("Reshape with 0 and -1", "Reshape", {"x": x}, {"s": i64(0, -1)}),
        case("Reshape to [4, 6]", "Reshape", {"x": x}, {"s": i64(4, 6)}),
        case("Reshape allowzero to [0, 3] of an empty tensor", "Reshape", {"x": np.zeros((0, 3), np.float32)}, {"s": i64(0, 3)}, allowzero=1),
        case("Reshape strings (OneHotEncoder's [N, 1, K] to [N, K])", "Reshape", {"x": np.array([["a"], ["b"]], dtype=object)},
             {"s": i64(-1, 1)}),
        case("Squeeze axes [0] (tf2onnx's shape slice)", "Squeeze", {"x": np.array([7], dtype=np.int32)}, {"a": i64(0)}),
        case("Squeeze without axes", "Squeeze", {"x": floats(1, 3, 1, 2)}),
        case("Unsqueeze int32 scalar", "Unsqueeze", {"x": np.array(5, dtype=np.int32)}, {"a": i64(0)}),
        case("Transpose default (tf2onnx's paddings)", "Transpose", {"x": i64(0, 0, 0, 5).reshape(2, 2)}),
        case("Transpose perm [1, 2, 0]", "Transpose", {"x": x}, perm=[1, 2, 0]),
        case("Pad [:, :n] to 8 (tf2onnx's padding to the sequence)", "Pad", {"x": ints(2, 5)}, {"p": i64(0, 0, 0, 3)}),
        case("Pad float with a value, negative pads crop", "Pad", {"x": floats(3, 4)}, {"p": i64(1, -1, 0, 2), "v": np.array(9.5, np.float32)}),
        case("Pad with axes (opset 18)", "Pad", {"x": floats(2, 3)}, {"p": i64(2, 1), "v": np.array(0, np.float32), "a": i64(-1)}),
        case("ConstantOfShape default float zeros (tf2onnx's zeros_like)", "ConstantOfShape", {"s": i64(2, 1)}),
        case("ConstantOfShape int64 value", "ConstantOfShape", {"s": i64(3)}, value=onnx.numpy_helper.from_array(i64(7), "v")),
        case("Less float vs scalar (tf2onnx's id < 0)", "Less", {"a": floats(3, 4)}, {"b": np.array(0.0, np.float32)}),
        case("LessOrEqual int64", "LessOrEqual", {"a": ints(3, 4), "b": ints(1, 4)}),
        case("Greater int32", "Greater", {"a": i32, "b": i32[:1]}),
        case("GreaterOrEqual float", "GreaterOrEqual", {"a": floats(3, 1), "b": floats(4)}),
        case("Equal int64", "Equal", {"a": ints(3, 4, low=0, high=3), "b": ints(4, low=0, high=3)}),
        case("Equal bool", "Equal", {"a": cond, "b": ~cond}),
        case("Not", "Not", {"x": cond}),
        case("IsNaN (missing values)", "IsNaN", {"x": nan}),
        case("Where float", "Where", {"c": cond, "x": floats(2, 3, 4), "z": floats(4)}),
        case("Where strings (skl2onnx's string imputer)", "Where", {"c": np.array([[True], [False]]),
                                                                   "x": np.array([["fill"]], dtype=object),
                                                                   "z": np.array([["a"], ["b"]], dtype=object)}),
        case("Add int32 (tf2onnx's shapes)", "Add", {"a": i32, "b": i32[0]}),
        case("Sub int32 scalar - tensor", "Sub", {"b": np.array([3], np.int32)}, {"a": np.array(64, np.int32)}, order=["a", "b"]),
        case("Mul int32", "Mul", {"a": i32, "b": i32 * 1000}),
        case("Div int32 truncates", "Div", {"a": np.array([7, -7, 7, -7], np.int32), "b": np.array([2, 2, -2, -2], np.int32)}),
        case("Mod int32", "Mod", {"a": np.array([7, -7, 7, -7], np.int32), "b": np.array([3, 3, -3, -3], np.int32)}, fmod=0),
        case("Neg int64", "Neg", {"x": ints(5)}),
        case("Abs float", "Abs", {"x": floats(5)}),
        case("Relu", "Relu", {"x": floats(3, 4)}),
        case("Sigmoid", "Sigmoid", {"x": floats(3, 4) * 6}),
        case("Tanh", "Tanh", {"x": floats(3, 4) * 3}),
        case("Exp", "Exp", {"x": floats(3, 4)}),
        case("Log", "Log", {"x": np.abs(floats(3, 4)) + 0.1}),
        case("Sqrt", "Sqrt", {"x": np.abs(floats(3, 4))}),
        case("Identity strings", "Identity", {"x": np.array(["a", "b"], dtype=object)}),
        case("Cast int64 to int32 (tf2onnx's shapes)", "Cast", {"x": i64(2, 64, -5)}, to=I32),
        case("Cast int32 to int64", "Cast", {"x": i32}, to=I64),
        case("Cast bool to float (IsNaN flags)", "Cast", {"x": cond}, to=F),
        case("Cast float to bool", "Cast", {"x": np.array([0.0, -0.0, 2.5, np.nan], np.float32)}, to=B),
        case("Cast bool to int64", "Cast", {"x": cond}, to=I64),
        case("ReduceMean axes [1] attribute (opset 17, Keras' average pooling)", "ReduceMean", {"x": x}, opset=17, axes=[1], keepdims=0),
        case("ReduceMean axes input (opset 18+)", "ReduceMean", {"x": x}, {"a": i64(-1, 0)}),
        case("ReduceMean all axes", "ReduceMean", {"x": x}, keepdims=0),
        case("Concat strings", "Concat", {"a": np.array([["a"], ["b"]], dtype=object), "b": np.array([["c"], ["d"]], dtype=object)}, axis=1),
        case("Gather strings axis 1", "Gather", {"x": np.array([["a", "b"], ["c", "d"]], dtype=object)}, {"i": i64(1)}, axis=1),
        case("Gather int32 table", "Gather", {"x": i32}, {"i": i64(2, 0)}, axis=0),
        case("Slice int32 (tf2onnx's shape)", "Slice", {"x": np.array([2, 64], np.int32)}, {"s": i64(1), "e": i64(2), "a": i64(0)}),
    ]


POST = [("label", I64), ("probabilities", F)]


def ml_cases() -> list[dict]:
    """The ai.onnx.ml operators, each on its own, in the forms skl2onnx writes them and in onnxruntime's other cases."""
    rows = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan], [7.0, 8.0, 0.0]], dtype=np.float32)
    x = floats(5, 3)
    cats = np.array([["owner"], ["rent"], [""], ["unseen"]], dtype=object)
    return [
        case("Imputer NaN per column (skl2onnx)", "Imputer", {"x": rows}, domain=ML, opset=1,
             imputed_value_floats=[10.0, 20.0, 30.0], replaced_value_float=float("nan")),
        case("Imputer value 0 with one value", "Imputer", {"x": rows}, domain=ML, opset=1, imputed_value_floats=[-1.0],
             replaced_value_float=0.0),
        case("Imputer int64", "Imputer", {"x": ints(3, 2, low=-1, high=3)}, domain=ML, opset=1, imputed_value_int64s=[5, 6],
             replaced_value_int64=-1),
        case("Scaler per column (StandardScaler)", "Scaler", {"x": x * 100}, domain=ML, opset=1,
             offset=[1.5, -2.25, 30.125], scale=[0.5, 0.01234, 3.0]),
        case("Scaler one value, int64 input", "Scaler", {"x": ints(2, 3)}, domain=ML, opset=1, offset=[1.0], scale=[0.25]),
        *[case(f"Normalizer {norm}", "Normalizer", {"x": x}, domain=ML, opset=1, norm=norm) for norm in ("MAX", "L1", "L2")],
        case("OneHotEncoder strings, unknown ignored (skl2onnx)", "OneHotEncoder", {"x": cats}, domain=ML, opset=1,
             cats_strings=["", "other", "owner", "rent"], zeros=1),
        case("OneHotEncoder int64", "OneHotEncoder", {"x": i64(3, 1, 9, 3).reshape(4, 1)}, domain=ML, opset=1, cats_int64s=[1, 3, 5]),
        case("LabelEncoder strings to int64 (skl2onnx's string imputer)", "LabelEncoder", {"x": cats}, domain=ML, opset=2, out=[("y", I64)],
             keys_strings=[""], values_int64s=[1], default_int64=0),
        case("LabelEncoder int64 to strings", "LabelEncoder", {"x": i64(0, 2, 1)}, domain=ML, opset=2, out=[("y", S)],
             keys_int64s=[0, 1], values_strings=["owner", "rent"], default_string="none"),
        case("ArrayFeatureExtractor strings", "ArrayFeatureExtractor", {"x": np.array([["a", "b", "c"], ["d", "e", "f"]], dtype=object)},
             {"i": i64(2, 0)}, domain=ML, opset=1),
        case("ArrayFeatureExtractor float 1-D", "ArrayFeatureExtractor", {"x": floats(4)}, {"i": i64(1)}, domain=ML, opset=1),
        case("LinearClassifier binary, two rows, LOGISTIC (skl2onnx's LogisticRegression)", "LinearClassifier", {"x": x},
             domain=ML, opset=1, out=POST, coefficients=[0.5, -1.0, 2.0, -0.5, 1.0, -2.0], intercepts=[-0.3, 0.3],
             classlabels_ints=[0, 1], multi_class=0, post_transform="LOGISTIC"),
        case("LinearClassifier one row, two labels, LOGISTIC (scores [1 - σ(s), σ(s)])", "LinearClassifier", {"x": x}, domain=ML, opset=1, out=POST,
             coefficients=[0.5, -1.0, 2.0], intercepts=[0.1], classlabels_ints=[0, 1], post_transform="LOGISTIC"),
        case("LinearClassifier one row, NONE (scores [1 - s, s])", "LinearClassifier", {"x": x}, domain=ML, opset=1, out=POST,
             coefficients=[0.5, -1.0, 2.0], intercepts=[0.1], classlabels_ints=[0, 1]),
        case("LinearClassifier three classes SOFTMAX, string labels", "LinearClassifier", {"x": x}, domain=ML, opset=1,
             out=[("label", S), ("probabilities", F)], coefficients=floats(9).tolist(), intercepts=[0.1, -0.2, 0.3],
             classlabels_strings=["a", "b", "c"], multi_class=1, post_transform="SOFTMAX"),
        case("LinearClassifier NONE, int64 input", "LinearClassifier", {"x": ints(2, 3)}, domain=ML, opset=1, out=POST,
             coefficients=floats(6).tolist(), intercepts=[0.0, 1.0], classlabels_ints=[3, 7]),
        *tree_cases(),
    ]


def tree(x_features: int, classes: list[int], weights: list[float], **extra) -> dict:
    """Two trees of depth 2 on features 0 and 1 (a NaN goes to the true branch of the first test)."""
    ids = [0, 1, 2, 3, 4] * 2
    return dict(nodes_treeids=[0] * 5 + [1] * 5, nodes_nodeids=ids, nodes_featureids=[0, 1, 0, 0, 0, 1, 0, 0, 0, 0],
                nodes_modes=["BRANCH_LEQ", "BRANCH_LT", "LEAF", "LEAF", "LEAF"] * 2, nodes_values=[0.0, 0.5, 0, 0, 0, 0.25, -0.5, 0, 0, 0],
                nodes_truenodeids=[1, 3, 0, 0, 0, 1, 3, 0, 0, 0], nodes_falsenodeids=[2, 4, 0, 0, 0, 2, 4, 0, 0, 0],
                nodes_missing_value_tracks_true=[1, 0, 0, 0, 0, 0, 1, 0, 0, 0], nodes_hitrates=[1.0] * 10,
                class_treeids=[t for t in (0, 1) for _ in range(3) for _ in classes],
                class_nodeids=[n for _ in (0, 1) for n in (2, 3, 4) for _ in classes],
                class_ids=[c for _ in range(6) for c in classes], class_weights=weights, **extra)


def tree_cases() -> list[dict]:
    x = floats(6, 2)
    x[0, 0], x[1, 1] = np.nan, np.nan
    mixed = (floats(6) * 0.5).tolist()
    return [
        case("TreeEnsembleClassifier binary, one class, mixed weights, LOGISTIC, one base value (skl2onnx's HistGradientBoosting)",
             "TreeEnsembleClassifier", {"x": x}, domain=ML, opset=1, out=POST,
             **tree(2, [0], mixed, classlabels_int64s=[0, 1], base_values=[0.25], post_transform="LOGISTIC")),
        case("TreeEnsembleClassifier binary, one class, positive weights", "TreeEnsembleClassifier", {"x": x}, domain=ML, opset=1,
             out=POST, **tree(2, [1], [0.1, 0.2, 0.3, 0.25, 0.05, 0.15], classlabels_int64s=[0, 1])),
        case("TreeEnsembleClassifier binary, both classes (a random forest)", "TreeEnsembleClassifier", {"x": x}, domain=ML, opset=1,
             out=POST, **tree(2, [0, 1], np.abs(floats(12)).tolist(), classlabels_int64s=[0, 1])),
        case("TreeEnsembleClassifier three classes SOFTMAX, base values, string labels", "TreeEnsembleClassifier", {"x": x}, domain=ML,
             opset=1, out=[("label", S), ("probabilities", F)],
             **tree(2, [0, 1, 2], floats(18).tolist(), classlabels_strings=["a", "b", "c"], base_values=[0.1, 0.2, -0.1],
                    post_transform="SOFTMAX")),
    ]


def chain(name: str, nodes: list, inputs: dict[str, np.ndarray], constants: dict[str, np.ndarray],
          outputs: list[str], types: tuple[int, ...] = (F, F)) -> dict:
    """A graph of several nodes: the engine's load-time rewrites (fusion, dequantized tables) must
    give onnxruntime's numbers, also where they must not apply."""
    elem = {np.dtype(np.float32): F, np.dtype(np.int64): I64, np.dtype(np.uint8): U8, np.dtype(np.int8): I8}
    graph_inputs = [helper.make_tensor_value_info(n, elem[v.dtype], list(v.shape)) for n, v in inputs.items()]
    inits = [onnx.numpy_helper.from_array(v, n) for n, v in constants.items()]
    outs = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outputs, types)]
    model = helper.make_model(helper.make_graph(nodes, name, graph_inputs, outs, inits),
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10
    return {"name": name, "op": "graph", "model": model, "inputs": inputs, "outputs": outputs}


def graphs() -> list[dict]:
    axes1 = {"axes": np.array([1], dtype=np.int64)}
    q = rng.integers(0, 256, size=(8, 4)).astype(np.uint8)
    idx = np.array([[1, 7, 0], [3, 3, -1]], dtype=np.int64)
    return [
        chain("Mul→ReduceSum fused (tiny's pooling)", [helper.make_node("Mul", ["w", "u"], ["m"]),
                                                       helper.make_node("ReduceSum", ["m", "axes"], ["y"], keepdims=0)],
              {"w": floats(2, 5, 1), "u": floats(2, 5, 4)}, axes1, ["y"]),
        chain("Mul→ReduceSum fused, all axes, operands swapped", [helper.make_node("Mul", ["u", "w"], ["m"]),
                                                                 helper.make_node("ReduceSum", ["m"], ["y"])],
              {"u": floats(3, 4), "w": floats(4)}, {}, ["y"]),
        chain("Mul→ReduceSum keepdims over axes [0, 2]", [helper.make_node("Mul", ["a", "b"], ["m"]),
                                                         helper.make_node("ReduceSum", ["m", "axes"], ["y"], keepdims=1)],
              {"a": floats(2, 3, 4), "b": floats(2, 3, 4)}, {"axes": np.array([0, 2], dtype=np.int64)}, ["y"]),
        chain("Mul→ReduceSum not fused: the product is an output too", [helper.make_node("Mul", ["a", "b"], ["m"]),
                                                                       helper.make_node("ReduceSum", ["m", "axes"], ["y"])],
              {"a": floats(2, 3), "b": floats(2, 3)}, axes1, ["y", "m"]),
        chain("Mul→ReduceSum int64 (fused node falls back)", [helper.make_node("Mul", ["a", "b"], ["m"]),
                                                             helper.make_node("ReduceSum", ["m", "axes"], ["y"], keepdims=0)],
              {"a": ints(2, 3), "b": ints(2, 3)}, axes1, ["y"], (I64,)),
        chain("Gather→DequantizeLinear per tensor (tiny int8: table dequantized once)",
              [helper.make_node("Gather", ["q", "i"], ["g"], axis=0), helper.make_node("DequantizeLinear", ["g", "s", "z"], ["y"])],
              {"i": idx}, {"q": q, "s": np.array(0.02, dtype=np.float32), "z": np.array(128, dtype=np.uint8)}, ["y"]),
        chain("Gather→DequantizeLinear per axis (not rewritten)",
              [helper.make_node("Gather", ["q", "i"], ["g"], axis=0), helper.make_node("DequantizeLinear", ["g", "s"], ["y"], axis=2)],
              {"i": idx}, {"q": q.astype(np.int8) // 2, "s": (np.abs(floats(4)) / 10).astype(np.float32)}, ["y"]),
        chain("Gather(int8)→Cast→Mul(Gather(row scales))→ReduceMean (Keras int8: table dequantized once, mean fused)",
              [helper.make_node("Gather", ["q", "i"], ["g"], axis=0), helper.make_node("Gather", ["s", "i"], ["gs"], axis=0),
               helper.make_node("Cast", ["g"], ["gf"], to=F), helper.make_node("Mul", ["gf", "gs"], ["e"]),
               helper.make_node("ReduceMean", ["e", "a"], ["y"], keepdims=0)],
              {"i": np.abs(idx)}, {"q": q.astype(np.int8) // 2, "s": (np.abs(floats(8, 1)) / 10).astype(np.float32),
                                   "a": np.array([1], dtype=np.int64)}, ["y"]),
        chain("Gather→DequantizeLinear, the gathered int8 also an output (not rewritten)",
              [helper.make_node("Gather", ["q", "i"], ["g"], axis=0), helper.make_node("DequantizeLinear", ["g", "s", "z"], ["y"])],
              {"i": idx}, {"q": q, "s": np.array(0.5, dtype=np.float32), "z": np.array(3, dtype=np.uint8)}, ["y", "g"], (F, U8)),
    ]


def keras_text_graph(vocab: int = 50, width: int = 4, length: int = 8) -> onnx.ModelProto:
    """The graph tf2onnx makes of Keras' tutorial model (what `staticml import model.keras` writes), node for node
    at a small size: ids padded to the sequence inside the graph with int32 shape arithmetic, the
    embedding's ids clamped through Less/Not/Cast, GlobalAveragePooling as ReduceMean (opset 17, axes as
    an attribute), Dense, and logits [0, z] built with Shape/ConstantOfShape/Concat."""
    n = helper.make_node
    c = onnx.numpy_helper.from_array
    nodes = [
        n("Mul", ["input_ids", "attention_mask"], ["ids"]),
        n("Slice", ["ids", "starts2", "ends2", "axes2"], ["cut"]),
        n("Shape", ["cut"], ["shape"]), n("Cast", ["shape"], ["shape32"], to=I32),
        n("Slice", ["shape32", "one", "two", "zero"], ["len1"]), n("Squeeze", ["len1", "zero"], ["len"]),
        n("Sub", ["length", "len"], ["missing"]), n("Unsqueeze", ["missing", "zero"], ["missing1"]),
        n("Concat", ["zero32", "missing1"], ["row"], axis=0), n("Unsqueeze", ["row", "zero"], ["row1"]),
        n("Concat", ["zeros12", "row1"], ["pads2"], axis=0), n("Cast", ["pads2"], ["pads64"], to=I64),
        n("Transpose", ["pads64"], ["padsT"]), n("Reshape", ["padsT", "minus1"], ["pads"]),
        n("Pad", ["cut", "pads"], ["padded"]),
        n("Add", ["padded", "zero64"], ["shifted"]), n("Cast", ["padded"], ["paddedf"], to=F),
        n("Less", ["paddedf", "zerof"], ["negative"]), n("Not", ["negative"], ["kept"]),
        n("Cast", ["kept"], ["kept64"], to=I64), n("Mul", ["padded", "kept64"], ["a"]),
        n("Cast", ["negative"], ["negative64"], to=I64), n("Mul", ["negative64", "shifted"], ["b"]),
        n("Add", ["b", "a"], ["index"]), n("Gather", ["table", "index"], ["vectors"], axis=0),
        n("ReduceMean", ["vectors"], ["mean"], axes=[1], keepdims=0),
        n("MatMul", ["mean", "w"], ["z0"]), n("Add", ["z0", "bias"], ["z"]),
        n("Shape", ["z"], ["zshape"]), n("ConstantOfShape", ["zshape"], ["zeros"], value=c(np.zeros(1, np.float32), "value")),
        n("Concat", ["zeros", "z"], ["logits"], axis=1),
    ]
    inits = [c(i64(0, 0), "starts2"), c(i64(INT64_MAX, length), "ends2"), c(i64(0, 1), "axes2"), c(i64(1), "one"), c(i64(2), "two"),
             c(i64(0), "zero"), c(np.array(length, np.int32), "length"), c(np.array([0], np.int32), "zero32"),
             c(np.zeros((1, 2), np.int32), "zeros12"), c(i64(-1), "minus1"), c(np.array(0, np.int64), "zero64"),
             c(np.array(0, np.float32), "zerof"), c(floats(vocab, width), "table"), c(floats(width, 1), "w"), c(floats(1), "bias")]
    ids = [helper.make_tensor_value_info(name, I64, ["batch", "sequence"]) for name in ("input_ids", "attention_mask")]
    graph = helper.make_graph(nodes, "keras-text", ids, [helper.make_tensor_value_info("logits", F, ["batch", 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ML, 2)])
    model.ir_version = 8
    return model


def real_graphs(out: Path) -> list[dict]:
    """Whole graphs as the exporters write them: the Keras text graph's replica, and scikit-learn pipelines
    exported by staticml's own skl2onnx export (logistic regression, random forest, histogram gradient boosting)."""
    ids = rng.integers(1, 50, size=(3, 5)).astype(np.int64)
    mask = np.ones_like(ids)
    ids[1, 3:], mask[1, 3:] = 0, 0
    keras = keras_text_graph()
    found = [{"name": "tf2onnx Keras text graph (replica)", "op": "graph", "model": keras,
              "inputs": {"input_ids": ids, "attention_mask": mask}, "outputs": ["logits"]},
             {"name": "tf2onnx Keras text graph (replica), shorter texts", "op": "graph", "model": keras,
              "inputs": {"input_ids": ids[:2, :3], "attention_mask": mask[:2, :3]}, "outputs": ["logits"]}]
    try:
        import sklearn  # noqa: F401
        import skl2onnx  # noqa: F401
    except ImportError:  # a serving-only install: no tabular fixtures
        return found
    from tabular_probe import FEATURES, applicants, frame, make_model_folder

    from staticml.tasks.tabular import features as tabular
    from staticml.train import tabular as train_tabular

    rows, labels = applicants(300, seed=1)
    rows[0] = {"Seniority": None, "Home <type>": "unheard of", "Income": 10.0, "Records": True}
    rows[1] = {**rows[1], "Home <type>": None}
    feeds = tabular.feeds(FEATURES, rows[:80])
    for classifier in ("logistic", "forest"):
        folder = make_model_folder(out / f"probe-{classifier}", classifier=classifier)
        found.append({"name": f"skl2onnx {classifier} pipeline with a string imputer (tabular probe)", "op": "graph",
                      "model": onnx.load(str(folder / "model.onnx")), "inputs": feeds, "outputs": ["probabilities"]})
    kinds = {f["name"]: f["type"] for f in FEATURES}
    for key, pipeline in train_tabular.candidates(kinds, 0, ["Seniority"]).items():
        pipeline.fit(frame(rows), labels)
        found.append({"name": f"staticml train --task tabular's {key} export", "op": "graph",
                      "model": train_tabular.to_onnx(pipeline, FEATURES), "inputs": feeds, "outputs": ["probabilities"]})
    return found


def tensor_json(value: np.ndarray) -> dict:
    data = value.reshape(-1).tolist()
    if value.dtype == np.float32:  # JSON has no NaN
        data = [None if v != v else v for v in data]
    return {"type": TYPE[value.dtype], "dims": list(value.shape), "data": data}


def run(model_bytes: bytes, feeds: dict[str, np.ndarray], outputs: list[str] | None = None) -> list[np.ndarray]:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(outputs, feeds)


def tiny_models(out: Path) -> list[dict]:
    """The tiny architecture exported and quantized exactly as `train` does (untrained weights)."""
    try:
        import torch
    except ImportError:  # a serving-only install: no torch, no tiny fixtures
        return []
    from staticml import archs
    from staticml.train import export
    from staticml.train.models.tiny import TinyClassifier
    torch.manual_seed(0)
    model = TinyClassifier(vocab_size=500, num_labels=3, dim=16, buckets=256)
    ids = rng.integers(4, 500, size=(3, 9)).astype(np.int64)
    ids[:, 0] = 2
    mask = np.ones_like(ids)
    ids[1, 6:], mask[1, 6:] = 0, 0  # padding, as the page batches texts
    ids[2, 3:], mask[2, 3:] = 0, 0
    sample = {"input_ids": ids, "attention_mask": mask}
    export.export_onnx(model, out / "tiny.onnx", sample, archs.get("tiny").export_tolerance)
    export.QUANTIZERS[archs.get("tiny").quantizer](out / "tiny.onnx", out / "tiny.int8.onnx")
    found = []
    for name in ("tiny.onnx", "tiny.int8.onnx"):
        assert compact.unsupported(out / name) == [], compact.unsupported(out / name)
        for feeds in (sample, {k: v[:1, :2] for k, v in sample.items()}):
            [logits] = run((out / name).read_bytes(), feeds, ["logits"])
            found.append({"name": f"tiny {name} batch {feeds['input_ids'].shape}", "file": name,
                          "inputs": {k: tensor_json(v) for k, v in feeds.items()}, "outputs": {"logits": tensor_json(logits)}})
    return found


def refusals(out: Path) -> list[dict]:
    """Graphs the compact engine must refuse, with what staticml.compact says they need."""
    x = helper.make_tensor_value_info("x", F, ["n"])
    y = helper.make_tensor_value_info("logits", F, ["n"])

    def model(nodes, opset=OPSET, domains=(), inits=()):
        graph = helper.make_graph(nodes, "refused", [x], [y], list(inits))
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), *[helper.make_opsetid(d, 1) for d in domains]])
        m.ir_version = 10
        return m

    graphs = {
        "erf.onnx": model([helper.make_node("Erf", ["x"], ["logits"])]),
        "opset11.onnx": model([helper.make_node("Add", ["x", "x"], ["logits"])], opset=11),
        "cast_double.onnx": model([helper.make_node("Cast", ["x"], ["d"], to=TensorProto.DOUBLE),
                                   helper.make_node("Cast", ["d"], ["logits"], to=F)]),
        "contrib_op.onnx": model([helper.make_node("FusedMatMul", ["x", "x"], ["logits"], domain="com.microsoft")],
                                 domains=["com.microsoft"]),
        "softmax_attr.onnx": model([helper.make_node("Softmax", ["x"], ["logits"], axis=0, extra=1)]),
        "double_weight.onnx": model([helper.make_node("Add", ["x", "w"], ["logits"])],
                                    inits=[onnx.numpy_helper.from_array(np.ones(1, np.float64), "w")]),
    }
    found = []
    for file, m in graphs.items():
        onnx.save(m, str(out / file))
        found.append({"file": file, "python": compact.unsupported(out / file)})
    return found


def tokenize_case(path: Path, max_length: int = 12) -> dict:
    """A WordPiece tokenizer.json trained as `train` does, and the ids the Python rule gives
    (tokenize.TextEncoder): the page's tokenize.ts must give the same."""
    from staticml.hard_texts import hard_texts
    from staticml.tokenize import TextEncoder, describe, train_tokenizer

    corpus = ["I love this car", "this is not good at all", "οδυσσευσ σοφια ήταν εδώ", "never trust a robot"] * 30
    tokenizer = train_tokenizer(corpus, vocab_size=120)
    tokenizer.save(str(path), pretty=False)
    spec = describe(tokenizer)
    texts = ["", "I love this", "ΟΔΥΣΣΕΥΣ ΣΟΦΙΑ", "this is not good at all, not good at all, never"] + hard_texts(40)
    encoder = TextEncoder(tokenizer, spec, max_length)
    return {"spec": spec.to_json(), "max_length": max_length, "texts": texts, "ids": encoder.ids(texts),
            "batch": {k: v.tolist() for k, v in encoder.batch(texts[:4]).items()}}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i, c in enumerate(cases() + more_cases() + ml_cases() + graphs() + real_graphs(out)):
        file = f"op{i:03d}.onnx"
        data = c["model"].SerializeToString()
        (out / file).write_bytes(data)
        names = c.get("outputs", ["y"])
        try:
            values = run(data, c["inputs"], names)
        except Exception as exc:
            raise SystemExit(f"engine_fixtures: onnxruntime fails on case {c['name']!r}: {exc}") from None
        written.append({"name": c["name"], "op": c["op"], "file": file,
                        "inputs": {k: tensor_json(v) for k, v in c["inputs"].items()},
                        "outputs": {n: tensor_json(np.asarray(v)) for n, v in zip(names, values)}})
    ops = {c["op"] for c in written}
    untested = {f"{domain}.{op}" if domain else op for domain, table in compact.table()["ops"].items() for op in table} - ops
    if untested:
        raise SystemExit(f"engine_fixtures: no case for {', '.join(sorted(untested))}")
    written += tiny_models(out)
    (out / "cases.json").write_text(json.dumps(written))
    (out / "table.json").write_text(json.dumps(compact.table()))
    (out / "refusals.json").write_text(json.dumps(refusals(out)))
    (out / "tokenize.json").write_text(json.dumps(tokenize_case(out / "tokenizer.json")))
    print(f"engine_fixtures: {len(written)} cases in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
