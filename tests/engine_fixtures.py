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
F, I64, U8, I8 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.UINT8, TensorProto.INT8
NP = {F: np.float32, I64: np.int64, U8: np.uint8, I8: np.int8}
TYPE = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8",
        np.dtype(np.int8): "int8"}
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)
rng = np.random.default_rng(0)


def floats(*shape: int) -> np.ndarray:
    return rng.normal(size=shape).astype(np.float32)


def ints(*shape: int, low: int = -20, high: int = 20) -> np.ndarray:
    return rng.integers(low, high, size=shape).astype(np.int64)


def case(name: str, op: str, inputs: dict[str, np.ndarray], constants: dict[str, np.ndarray] | None = None,
         order: list[str] | None = None, **attrs) -> dict:
    """One node `op` reading `order` (graph inputs and constants by name; "" for an omitted one)."""
    constants = constants or {}
    order = order if order is not None else [*inputs, *constants]
    elem = {np.dtype(np.float32): F, np.dtype(np.int64): I64, np.dtype(np.uint8): U8, np.dtype(np.int8): I8}
    graph_inputs = [helper.make_tensor_value_info(n, elem[v.dtype], list(v.shape)) for n, v in inputs.items()]
    inits = [onnx.numpy_helper.from_array(v, n) for n, v in constants.items()]
    node = helper.make_node(op, order, ["y"], **attrs)
    values = {**inputs, **constants}
    out = {"Cast": attrs.get("to"), "DequantizeLinear": F}.get(op) or (
        attrs["value"].data_type if op == "Constant" else elem[values[order[0]].dtype])
    graph = helper.make_graph([node], name, graph_inputs, [helper.make_tensor_value_info("y", out, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10
    return {"name": name, "op": op, "model": model, "inputs": inputs}


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
        chain("Gather→DequantizeLinear, the gathered int8 also an output (not rewritten)",
              [helper.make_node("Gather", ["q", "i"], ["g"], axis=0), helper.make_node("DequantizeLinear", ["g", "s", "z"], ["y"])],
              {"i": idx}, {"q": q, "s": np.array(0.5, dtype=np.float32), "z": np.array(3, dtype=np.uint8)}, ["y", "g"], (F, U8)),
    ]


def tensor_json(value: np.ndarray) -> dict:
    return {"type": TYPE[value.dtype], "dims": list(value.shape), "data": value.reshape(-1).tolist()}


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
    for i, c in enumerate(cases() + graphs()):
        file = f"op{i:02d}.onnx"
        data = c["model"].SerializeToString()
        (out / file).write_bytes(data)
        names = c.get("outputs", ["y"])
        values = run(data, c["inputs"], names)
        written.append({"name": c["name"], "op": c["op"], "file": file,
                        "inputs": {k: tensor_json(v) for k, v in c["inputs"].items()},
                        "outputs": {n: tensor_json(np.asarray(v)) for n, v in zip(names, values)}})
    ops = {c["op"] for c in written}
    untested = set(compact.OPS) - ops
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
