"""The q4 variant (4-bit MatMul weights and embedding tables, float32 arithmetic) and what build
does with one that disagrees: the site is built without it and says why."""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from test_cli import run, small_csv

from staticml import archs, manifest
from staticml.runtime import create_session
from staticml.train import export


def embed_and_project(path, vocab: int = 300, width: int = 64, seed: int = 0):
    """input_ids → Gather(table) → MatMul(weight) → [batch, seq, width]: one embedding, one projection."""
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["emb"]),
             helper.make_node("MatMul", ["emb", "weight"], ["out"])]
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "sequence", width])],
        [numpy_helper.from_array(rng.normal(size=(vocab, width)).astype(np.float32), "table"),
         numpy_helper.from_array((rng.normal(size=(width, width)) / 8).astype(np.float32), "weight")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_q4_stores_4bit_blocks_and_computes_close_to_fp32(tmp_path):
    source = embed_and_project(tmp_path / "fp32.onnx")
    export.quantize("q4", source, tmp_path / "q4.onnx")
    ops = {n.op_type for n in onnx.load(str(tmp_path / "q4.onnx")).graph.node}
    assert ops == {"GatherBlockQuantized", "MatMulNBits"}
    ids = {"input_ids": np.array([[1, 5, 299, 0]], dtype=np.int64)}
    expected = create_session(source).run(None, ids)[0]
    actual = create_session(tmp_path / "q4.onnx").run(None, ids)[0]
    # 16 levels per block of 32 (in both the table and the weight): ~1/30 of a block's range per value.
    relative = np.sqrt(np.mean((actual - expected) ** 2) / np.mean(expected ** 2))
    assert 0 < relative < 0.15
    assert (tmp_path / "q4.onnx").stat().st_size < 0.25 * source.stat().st_size


def test_q4_with_int8_tables_keeps_gather_and_int8_rows(tmp_path):
    source = embed_and_project(tmp_path / "fp32.onnx")
    export.quantize_q4(source, tmp_path / "q4.onnx", tables="int8")
    graph = onnx.load(str(tmp_path / "q4.onnx")).graph
    assert {n.op_type for n in graph.node} >= {"Gather", "MatMulNBits"}
    assert any(i.data_type == TensorProto.INT8 for i in graph.initializer)


def test_transformers_get_q4_and_webgpu_and_the_tiny_model_neither():
    assert archs.get("minilm").q4_quantizer == "q4" and archs.get("bert").q4_quantizer == "q4"
    assert archs.get("tiny").q4_quantizer is None
    assert archs.offers_webgpu("minilm-finetuned") and archs.offers_webgpu("imported-roberta")
    assert not archs.offers_webgpu("tiny") and not archs.offers_webgpu("imported-onnx") and not archs.offers_webgpu(None)


def test_build_leaves_out_a_q4_variant_that_disagrees_and_says_why(tmp_path, capsys):
    """A q4 file that answers differently (the default, even): the site gets fp32 and int8, int8 as default."""
    model = tmp_path / "m"
    assert run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars",
               "--out", model, "--epochs", "2")[0] == 0
    graph = onnx.load(str(model / "model.onnx"))
    bias = next(t for t in graph.graph.initializer if t.name == "head.bias")
    bias.CopyFrom(numpy_helper.from_array(np.array([-20.0, 20.0], dtype=np.float32), "head.bias"))
    onnx.save(graph, str(model / "model.q4.onnx"))  # always "pos"
    m = manifest.read(model)
    m["files"].update(manifest.file_entries(model, ["model.q4.onnx"]))
    m["variants"]["q4"] = "model.q4.onnx"
    m["default_variant"] = "q4"
    manifest.write(model, m)

    code, err = run(capsys, "build", model, "--out", tmp_path / "site")
    assert code == 0, err
    assert "q4 left out of the site: it disagrees with 'fp32'" in err and "default variant int8" in err
    shipped = json.loads((tmp_path / "site" / "models" / "m" / "manifest.json").read_text())
    assert set(shipped["variants"]) == {"fp32", "int8"} and shipped["default_variant"] == "int8"
    assert "model.q4.onnx" not in shipped["files"]
    assert not (tmp_path / "site" / "models" / "m" / "model.q4.onnx").exists()
    assert shipped["backends"] == ["wasm"]  # the tiny model: no WebGPU build in its site
    assert not (tmp_path / "site" / "assets" / "ort-webgpu").exists()
    assert not (tmp_path / "site" / "assets" / "worker-webgpu.js").exists()
