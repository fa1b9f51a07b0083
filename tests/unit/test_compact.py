"""Which graphs the page's compact engine runs (staticml.compact), and what `build` does with that."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from page_tools import with_unsupported_op

from staticml import compact
from staticml.site import build

F = TensorProto.FLOAT


def graph(path, nodes, opset=20, inits=(), domains=(), inputs=None):
    inputs = inputs or [helper.make_tensor_value_info("x", F, ["n"])]
    model = helper.make_model(
        helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("logits", F, ["n"])], list(inits)),
        opset_imports=[helper.make_opsetid("", opset), *[helper.make_opsetid(d, 1) for d in domains]])
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("nodes, kwargs, expected", [
    ([helper.make_node("Erf", ["x"], ["logits"])], {}, ["Erf"]),
    ([helper.make_node("Add", ["x", "x"], ["logits"])], {"opset": 11}, ["Add at opset 11"]),
    ([helper.make_node("Softmax", ["x"], ["logits"], axis=0, extra=2)], {}, ["Softmax attribute extra"]),
    ([helper.make_node("Mod", ["x", "x"], ["logits"], fmod=2)], {}, ["Mod with fmod=2"]),
    ([helper.make_node("Cast", ["x"], ["d"], to=TensorProto.DOUBLE), helper.make_node("Cast", ["d"], ["logits"], to=F)], {},
     ["Cast with to=11", "data type double (d)"]),
    ([helper.make_node("FusedMatMul", ["x", "x"], ["logits"], domain="com.microsoft")], {"domains": ["com.microsoft"]},
     ["com.microsoft.FusedMatMul"]),
    ([helper.make_node("Add", ["x", "w"], ["logits"])], {"inits": [numpy_helper.from_array(np.ones(1), "w")]},
     ["data type double (w)"]),
    ([helper.make_node("Cast", ["i"], ["f"], to=F), helper.make_node("MatMul", ["f", "f"], ["logits"])],
     {"inputs": [helper.make_tensor_value_info("i", TensorProto.FLOAT16, ["n"])]}, ["data type float16 (i)"]),
    ([helper.make_node("Pad", ["x", "p"], ["logits"], mode="reflect")], {"inits": [numpy_helper.from_array(np.zeros(2, np.int64), "p")]},
     ["Pad with mode=reflect"]),
    ([helper.make_node("TreeEnsembleClassifier", ["x"], ["l", "logits"], domain="ai.onnx.ml", post_transform="PROBIT")],
     {"domains": ["ai.onnx.ml"]}, ["TreeEnsembleClassifier with post_transform=PROBIT"]),
    ([helper.make_node("ZipMap", ["x"], ["logits"], domain="ai.onnx.ml", classlabels_int64s=[0, 1])], {"domains": ["ai.onnx.ml"]},
     ["ai.onnx.ml.ZipMap"]),
    ([helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64), helper.make_node("Softmax", ["i"], ["s"]),
      helper.make_node("Cast", ["s"], ["logits"], to=F)], {}, ["Softmax on int64"]),
])
def test_unsupported_names_what_the_compact_engine_lacks(tmp_path, nodes, kwargs, expected):
    assert compact.unsupported(graph(tmp_path / "g.onnx", nodes, **kwargs)) == expected


def test_what_train_exports_runs_on_the_compact_engine(tiny_model):
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    chosen, missing = compact.engines(tiny_model, manifest)
    assert chosen == {"fp32": "compact", "int8": "compact"} and missing == {}
    assert compact.describe(chosen, missing) == "compact for fp32, int8"


def test_describe_names_the_engine_per_variant_and_why():
    chosen = {"fp32": "compact", "int8": "onnxruntime-web"}
    assert compact.describe(chosen, {"int8": ["MatMulInteger"]}) == \
        "compact for fp32; onnxruntime-web for int8 (MatMulInteger not in the compact engine)"
    many = {"fp32": "onnxruntime-web"}
    assert compact.describe(many, {"fp32": list("ABCDEF")}) == \
        "onnxruntime-web for fp32 (A, B, C, D and 2 more not in the compact engine)"


def lines_of(run):
    lines = []
    config = run(lines.append)
    return config, lines


def test_an_all_compact_site_has_no_onnxruntime_web(tiny_model, tmp_path):
    site = tmp_path / "site"
    _, lines = lines_of(lambda report: build([tiny_model], site, report=report))
    assert "build: model 'sentiment' engine: compact for fp32, int8" in lines
    manifest = json.loads((site / "models" / "sentiment" / "manifest.json").read_text())
    assert manifest["engines"] == {"fp32": "compact", "int8": "compact"}
    assert not (site / "assets" / "ort").exists() and not (site / "assets" / "worker.js").exists()
    precache = json.loads((site / "precache.json").read_text())["files"]
    assert "assets/staticml.js" in precache and not [f for f in precache if "ort" in f or "worker" in f]
    # nothing compiles WebAssembly, so the pages' policies (and the header) forbid it
    for page in ("index.html", "embed.html", "_headers"):
        text = (site / page).read_text()
        assert "script-src 'self'" in text and "wasm-unsafe-eval" not in text, page


def test_a_model_the_compact_engine_cannot_run_builds_with_onnxruntime_web_and_says_why(tiny_model, tmp_path):
    erf = with_unsupported_op(tiny_model, tmp_path / "erf", "sentiment-erf")
    site = tmp_path / "site"
    _, lines = lines_of(lambda report: build([tiny_model, erf], site, report=report))
    assert "build: model 'sentiment' engine: compact for fp32, int8" in lines
    assert "build: model 'sentiment-erf' engine: onnxruntime-web for fp32, int8 (Erf not in the compact engine)" in lines
    manifest = json.loads((site / "models" / "sentiment-erf" / "manifest.json").read_text())
    assert manifest["engines"] == {"fp32": "onnxruntime-web", "int8": "onnxruntime-web"}
    assert (site / "assets" / "ort" / "ort-wasm-simd-threaded.wasm").is_file() and (site / "assets" / "worker.js").is_file()
    precache = json.loads((site / "precache.json").read_text())["files"]
    assert "assets/ort/ort-wasm-simd-threaded.wasm" in precache  # a default variant runs on it
    assert all("script-src 'self' 'wasm-unsafe-eval'" in (site / p).read_text() for p in ("index.html", "_headers"))


def test_onnxruntime_web_needed_only_by_another_variant_is_cached_once_used(tiny_model, tmp_path):
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    other = next(v for v in manifest["variants"] if v != manifest["default_variant"])
    mixed = with_unsupported_op(tiny_model, tmp_path / "mixed", "mixed", variants=(other,))
    site = tmp_path / "site"
    _, lines = lines_of(lambda report: build([mixed], site, report=report))
    default = manifest["default_variant"]
    assert f"build: model 'mixed' engine: compact for {default}; onnxruntime-web for {other} " \
           "(Erf not in the compact engine)" in lines
    assert (site / "assets" / "ort" / "ort-wasm-simd-threaded.wasm").is_file()
    precache = json.loads((site / "precache.json").read_text())["files"]
    assert not [f for f in precache if f.startswith("assets/ort/") or f == "assets/worker.js"]


def test_a_task_whose_page_has_no_compact_path_runs_on_onnxruntime_web_whatever_its_graph(tiny_model):
    from staticml import tasks

    manifest = {**json.loads((tiny_model / "manifest.json").read_text()), "task": "face-detection"}
    chosen, missing = compact.engines(tiny_model, manifest, tasks.get("face-detection").compact_page)
    assert set(chosen.values()) == {"onnxruntime-web"} and all(m == [compact.PAGE_REASON] for m in missing.values())
    assert compact.describe(chosen, missing) == f"onnxruntime-web for {', '.join(chosen)} (its page runs onnxruntime-web only)"


def test_the_table_is_the_file_the_page_bundle_reads():
    table = compact.table()
    assert table == json.loads(compact.TABLE_FILE.read_text())
    assert {"", "ai.onnx.ml"} == set(table["ops"]) and "TreeEnsembleClassifier" in table["ops"]["ai.onnx.ml"]
