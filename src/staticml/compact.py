"""Which ONNX graphs the page's compact engine (web/src/engine/) runs; the others run on onnxruntime-web.

The compact engine is a few KB of JS in the page bundle that executes the exported `.onnx` file
itself (the same file Python's onnxruntime runs). What it implements is one table,
`data/compact_ops.json`, which the engine's registry (web/src/engine/registry.ts) is built from and
which this module reads: per domain and operator, the opset range, the attributes and values, the
input data types. `build` asks `unsupported` per variant: a graph with any operator, attribute value,
data type or opset outside the table goes to onnxruntime-web, never to a different computation.
A task whose page has no compact path (the camera page) always runs on onnxruntime-web.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import onnx
from onnx import TensorProto

COMPACT = "compact"
ONNXRUNTIME_WEB = "onnxruntime-web"
TABLE_FILE = Path(__file__).parent / "data" / "compact_ops.json"
STANDARD = ""
DTYPES = {TensorProto.FLOAT: "float32", TensorProto.INT64: "int64", TensorProto.INT32: "int32", TensorProto.INT8: "int8",
          TensorProto.UINT8: "uint8", TensorProto.BOOL: "bool", TensorProto.STRING: "string"}


@lru_cache(maxsize=1)
def table() -> dict:
    """The engine's table (data/compact_ops.json), as the page's registry reads it."""
    data = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    unknown = set(data["dtypes"]) - set(DTYPES.values())
    if unknown:  # a type added to the table must be named here too
        raise ValueError(f"{TABLE_FILE}: data types {sorted(unknown)} have no ONNX code in compact.DTYPES")
    return data


def operators() -> dict[tuple[str, str], dict]:
    """(domain, op type) → its table entry."""
    return {(domain, op): spec for domain, ops in table()["ops"].items() for op, spec in ops.items()}


def _domain(node_domain: str) -> str:
    return STANDARD if node_domain in ("", "ai.onnx") else node_domain


def _label(domain: str, op: str) -> str:
    return f"{domain}.{op}" if domain else op


def unsupported(onnx_path: str | Path) -> list[str]:
    """What the graph needs that the compact engine does not implement (empty: it runs there):
    storage first, then operators (and their opsets), attributes, and one entry per data type."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    structure, ops, attrs, types_missing = [], [], [], {}
    opsets = {_domain(o.domain): o.version for o in model.opset_import}
    if graph.sparse_initializer:
        structure.append("sparse initializers")
    structure += [f"external data ({t.name})" for t in graph.initializer if t.data_location == TensorProto.EXTERNAL]
    known = operators()
    types = _types(model, known)
    for name, elem in types.items():
        if elem not in DTYPES or DTYPES[elem] not in table()["dtypes"]:
            types_missing.setdefault(elem, f"data type {TensorProto.DataType.Name(elem).lower()} ({name})")
    for node in graph.node:
        domain = _domain(node.domain)
        spec = known.get((domain, node.op_type))
        if spec is None:
            ops.append(_label(domain, node.op_type))
            continue
        low, high = spec["opsets"]
        version = opsets.get(domain, 0)
        if not low <= version <= high:
            ops.append(f"{_label(domain, node.op_type)} at opset {version}")
        attrs += _attribute_problems(node, spec["attrs"])
        first = types.get(node.input[0]) if node.input and node.input[0] else None
        if node.input and node.input[0] and first is None:
            attrs.append(f"{node.op_type} on a tensor of unknown type ({node.input[0]})")
        elif spec["inputs"] is not None and first in DTYPES and DTYPES[first] not in spec["inputs"]:
            attrs.append(f"{node.op_type} on {DTYPES[first]}")
    return list(dict.fromkeys(structure + ops + attrs + list(types_missing.values())))


def _attribute_problems(node, allowed: dict) -> list[str]:
    problems = []
    for attribute in node.attribute:
        if attribute.name not in allowed or attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            problems.append(f"{node.op_type} attribute {attribute.name}")
            continue
        values = allowed[attribute.name]
        if values is None:
            continue
        value = onnx.helper.get_attribute_value(attribute)
        items = value if isinstance(value, list) else [value]
        items = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in items]
        bad = [v for v in items if v not in values]
        if bad:
            problems.append(f"{node.op_type} with {attribute.name}={bad[0]}")
    return problems


# Operator domains whose kernels onnxruntime-web's WASM build registers (the page's build: the CPU
# kernels of native onnxruntime, ai.onnx.ml included; tests/browser/test_tabular_page.py runs the
# skl2onnx ones, string inputs too). An operator of any other domain (a custom op) cannot run there.
ORT_WEB_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "com.microsoft")


def onnxruntime_web_missing(onnx_path: str | Path) -> list[str]:
    """Operators of the graph that onnxruntime-web has no kernel for (empty: it runs there)."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    return list(dict.fromkeys(f"{node.domain}.{node.op_type}" for node in model.graph.node
                              if node.domain not in ORT_WEB_DOMAINS))


def _types(model, known: dict[tuple[str, str], dict]) -> dict[str, int]:
    """Element type of every tensor of the graph: ONNX shape inference, then for the outputs it leaves
    untyped (ai.onnx.ml ops such as Imputer and Scaler have no inference) the table's "out" type, or
    the type of the node's first input."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference failed: only what the file declares
        inferred = model
    graph = inferred.graph
    types = {t.name: t.data_type for t in graph.initializer}
    for info in [*graph.input, *graph.output, *graph.value_info]:
        if info.type.HasField("tensor_type") and info.type.tensor_type.elem_type:
            types[info.name] = info.type.tensor_type.elem_type
    codes = {name: code for code, name in DTYPES.items()}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    types[node.output[0]] = attribute.t.data_type
        if node.output and node.output[0] and node.output[0] not in types:
            spec = known.get((_domain(node.domain), node.op_type), {})
            guess = codes.get(spec["out"]) if "out" in spec else types.get(node.input[0]) if node.input else None
            if guess:
                types[node.output[0]] = guess
    return types


PAGE_REASON = "its page runs onnxruntime-web only"


def engines(model_dir: Path, manifest: dict, page_runs_compact: bool = True) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The page's engine per variant, and for each variant on onnxruntime-web what was missing
    (`page_runs_compact`: whether the task's page can run the compact engine at all)."""
    chosen, reasons = {}, {}
    for variant, file in manifest["variants"].items():
        missing = unsupported(Path(model_dir) / file) if page_runs_compact else [PAGE_REASON]
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
            if missing == [PAGE_REASON]:
                parts.append(f"{text} ({PAGE_REASON})")
                continue
            more = f" and {len(missing) - shown} more" if len(missing) > shown else ""
            text += f" ({', '.join(missing[:shown])}{more} not in the compact engine)"
        parts.append(text)
    return "; ".join(parts)
