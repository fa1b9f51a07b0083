"""Which ONNX graphs the page's compact engine (web/src/engine/) runs; the others run on onnxruntime-web.

The compact engine is a few KB of JS in the page bundle that executes the exported `.onnx` file
itself (the same file Python's onnxruntime runs) with the operators `staticml train --arch tiny`
exports, fp32 and int8. `build` asks `unsupported` per variant: a graph with any operator,
attribute value, data type or opset outside this table goes to onnxruntime-web, never to a
different computation. The engine checks the same table when it loads a file
(web/src/engine/ops.ts mirrors it; web/test/engine.test.ts compares the two).
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto

COMPACT = "compact"
ONNXRUNTIME_WEB = "onnxruntime-web"

# Standard-domain opsets whose semantics the engine implements (axes are inputs since 13).
OPSET = (13, 25)
FLOAT, UINT8, INT8, INT64 = TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT8, TensorProto.INT64
DTYPES = {FLOAT: "float32", UINT8: "uint8", INT8: "int8", INT64: "int64"}
NUMERIC = (FLOAT, INT64)
ANY = None  # any value of the attribute's kind

# op type: ({attribute: allowed values or ANY}, allowed data types of its first input or ANY)
OPS: dict[str, tuple[dict[str, tuple | None], tuple | None]] = {
    "Add": ({}, NUMERIC),
    "Sub": ({}, NUMERIC),
    "Mul": ({}, NUMERIC),
    "Div": ({}, NUMERIC),
    "Mod": ({"fmod": (0, 1)}, NUMERIC),
    "Cast": ({"to": (FLOAT, INT64), "saturate": ANY}, ANY),
    "Constant": ({"value": ANY}, ANY),
    "Unsqueeze": ({}, ANY),
    "Concat": ({"axis": ANY}, ANY),
    "Gather": ({"axis": ANY}, ANY),
    "Slice": ({}, ANY),
    "MatMul": ({}, (FLOAT,)),
    "Gemm": ({"alpha": ANY, "beta": ANY, "transA": (0, 1), "transB": (0, 1)}, (FLOAT,)),
    "Softmax": ({"axis": ANY}, (FLOAT,)),
    "ReduceSum": ({"keepdims": (0, 1), "noop_with_empty_axes": (0, 1)}, NUMERIC),
    "DequantizeLinear": ({"axis": ANY, "block_size": (0,), "output_dtype": (0, FLOAT)}, (UINT8, INT8)),
}


def table() -> dict:
    """The table as JSON-able data (what web/test/engine.test.ts compares with ops.ts)."""
    return {"opset": list(OPSET), "dtypes": sorted(DTYPES.values()),
            "ops": {op: {name: (list(allowed) if allowed is not ANY else None) for name, allowed in attrs.items()}
                    for op, (attrs, _) in OPS.items()}}


def unsupported(onnx_path: str | Path) -> list[str]:
    """What the graph needs that the compact engine does not implement (empty: it runs there):
    opset and storage first, then operators, attributes, and one entry per data type."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    structure, ops, attrs, types_missing = [], [], [], {}
    version = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if not OPSET[0] <= version <= OPSET[1]:
        structure.append(f"opset {version}")
    if graph.sparse_initializer:
        structure.append("sparse initializers")
    structure += [f"external data ({t.name})" for t in graph.initializer if t.data_location == TensorProto.EXTERNAL]
    types = _types(model)
    for name, elem in types.items():
        if elem not in DTYPES:
            types_missing.setdefault(elem, f"data type {TensorProto.DataType.Name(elem).lower()} ({name})")
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in OPS:
            ops.append(f"{node.domain}.{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type)
            continue
        allowed, input_types = OPS[node.op_type]
        for attribute in node.attribute:
            value = onnx.helper.get_attribute_value(attribute)
            if attribute.name not in allowed or attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                attrs.append(f"{node.op_type} attribute {attribute.name}")
            elif allowed[attribute.name] is not ANY and value not in allowed[attribute.name]:
                attrs.append(f"{node.op_type} with {attribute.name}={value}")
        if len(node.output) != 1:
            attrs.append(f"{node.op_type} with {len(node.output)} outputs")
        first = types.get(node.input[0]) if node.input and node.input[0] else None
        if node.input and node.input[0] and first is None:
            attrs.append(f"{node.op_type} on a tensor of unknown type ({node.input[0]})")
        elif input_types is not ANY and first is not None and first not in input_types and first in DTYPES:
            attrs.append(f"{node.op_type} on {DTYPES[first]}")
    return list(dict.fromkeys(structure + ops + attrs + list(types_missing.values())))


# Operator domains whose kernels onnxruntime-web's WASM build registers (the page's build: the CPU
# kernels of native onnxruntime, ai.onnx.ml included; tests/browser/test_tabular_page.py runs the
# skl2onnx ones, string inputs too). An operator of any other domain (a custom op) cannot run there.
ORT_WEB_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "com.microsoft")


def onnxruntime_web_missing(onnx_path: str | Path) -> list[str]:
    """Operators of the graph that onnxruntime-web has no kernel for (empty: it runs there)."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    return list(dict.fromkeys(f"{node.domain}.{node.op_type}" for node in model.graph.node
                              if node.domain not in ORT_WEB_DOMAINS))


def _types(model) -> dict[str, int]:
    """Element type of every tensor of the graph, after ONNX shape inference."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference failed: only what the file declares
        inferred = model
    graph = inferred.graph
    types = {t.name: t.data_type for t in graph.initializer}
    for info in [*graph.input, *graph.output, *graph.value_info]:
        if info.type.HasField("tensor_type") and info.type.tensor_type.elem_type:
            types[info.name] = info.type.tensor_type.elem_type
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    types[node.output[0]] = attribute.t.data_type
    return types


def engines(model_dir: Path, manifest: dict, page_runs_compact: bool = True) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The page's engine per variant, and for each variant on onnxruntime-web what was missing
    (`page_runs_compact`: whether the task's page can run the compact engine at all)."""
    chosen, reasons = {}, {}
    for variant, file in manifest["variants"].items():
        missing = unsupported(Path(model_dir) / file) if page_runs_compact else [f"the {manifest['task']} page"]
        chosen[variant] = ONNXRUNTIME_WEB if missing else COMPACT
        if missing:
            reasons[variant] = missing
    return chosen, reasons


def describe(chosen: dict[str, str], reasons: dict[str, list[str]], shown: int = 4) -> str:
    """"compact for fp32, int8" or "compact for fp32; onnxruntime-web for int8 (MatMulInteger not in the compact engine)"."""
    parts = []
    for engine in (COMPACT, ONNXRUNTIME_WEB):
        variants = [v for v, e in chosen.items() if e == engine]
        if not variants:
            continue
        text = f"{engine} for {', '.join(variants)}"
        if engine == ONNXRUNTIME_WEB:
            missing = list(dict.fromkeys(m for v in variants for m in reasons.get(v, [])))
            more = f" and {len(missing) - shown} more" if len(missing) > shown else ""
            text += f" ({', '.join(missing[:shown])}{more} not in the compact engine)"
        parts.append(text)
    return "; ".join(parts)
