"""PyTorch → ONNX: the contract's I/O, dynamic axes, parity, and int8."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from staticml import archs
from staticml.train import export
from staticml.train.models.tiny import TinyClassifier
from staticml.runtime import create_session

TOLERANCE = archs.get("tiny").export_tolerance


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = TinyClassifier(vocab_size=500, num_labels=3).eval()
    path = tmp_path_factory.mktemp("export") / "model.onnx"
    rng = np.random.default_rng(0)
    sample = {"input_ids": rng.integers(0, 500, (4, 12), dtype=np.int64), "attention_mask": np.ones((4, 12), np.int64)}
    report = export.export_onnx(model, path, sample, TOLERANCE)
    return model, path, report


def test_graph_has_the_contract_inputs_and_output(exported):
    _, path, _ = exported
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in graph.output] == ["logits"]
    for tensor in graph.input:
        assert tensor.type.tensor_type.elem_type == onnx.TensorProto.INT64
        dims = tensor.type.tensor_type.shape.dim
        assert len(dims) == 2 and all(d.dim_param for d in dims)  # batch and sequence are dynamic


@pytest.mark.parametrize("batch, seq", [(1, 1), (1, 5), (7, 40), (2, 128)])
def test_onnxruntime_matches_pytorch_at_any_shape(exported, batch, seq):
    model, path, report = exported
    assert report.max_abs_diff <= TOLERANCE
    rng = np.random.default_rng(batch * seq)
    ids = rng.integers(0, 500, (batch, seq), dtype=np.int64)
    mask = np.ones_like(ids)
    mask[0, seq // 2 + 1:] = 0  # padding must not change the first row's logits
    with torch.no_grad():
        expected = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    actual = create_session(path).run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    assert actual.shape == (batch, 3)
    np.testing.assert_allclose(actual, expected, atol=TOLERANCE)


def test_int8_embeddings_are_smaller_and_close(exported, tmp_path):
    _, path, _ = exported
    target = tmp_path / "model.int8.onnx"
    export.quantize_int8(path, target, op_types=["Gather"])
    assert target.stat().st_size < path.stat().st_size / 3
    feeds = {"input_ids": np.arange(30, dtype=np.int64).reshape(2, 15), "attention_mask": np.ones((2, 15), np.int64)}
    fp32 = create_session(path).run(["logits"], feeds)[0]
    int8 = create_session(target).run(["logits"], feeds)[0]
    np.testing.assert_allclose(int8, fp32, atol=0.05)


def test_tables_on_16_byte_values_keep_the_graph_and_compress(exported, tmp_path):
    """Coarse tables (the tiny model ships 6 bits; 4 here): same ops and format, 16 distinct bytes per table."""
    import gzip

    from onnx import numpy_helper

    _, path, _ = exported
    full, coarse = tmp_path / "full.onnx", tmp_path / "coarse.onnx"
    export.quantize_int8(path, full, op_types=["Gather"])
    export.quantize_int8(path, coarse, op_types=["Gather"], table_bits=4)
    graphs = [onnx.load(str(p)).graph for p in (full, coarse)]
    assert [n.op_type for n in graphs[0].node] == [n.op_type for n in graphs[1].node]
    tables = [numpy_helper.to_array(i) for i in graphs[1].initializer if i.name.endswith("_quantized")]
    assert len(tables) == 2 and all(len(np.unique(t)) <= 17 for t in tables)
    assert len(gzip.compress(coarse.read_bytes())) < 0.7 * len(gzip.compress(full.read_bytes()))
    feeds = {"input_ids": np.arange(30, dtype=np.int64).reshape(2, 15), "attention_mask": np.ones((2, 15), np.int64)}
    fp32 = create_session(path).run(["logits"], feeds)[0]
    np.testing.assert_allclose(create_session(coarse).run(["logits"], feeds)[0], fp32, atol=0.05)


def test_default_variant_is_the_smallest_within_one_point():
    variants = {"fp32": "a.onnx", "int8": "b.onnx"}
    sizes = {"a.onnx": 100, "b.onnx": 25}
    assert export.choose_default(variants, {"fp32": {"macro_f1": 0.80}, "int8": {"macro_f1": 0.795}}, sizes) == "int8"
    assert export.choose_default(variants, {"fp32": {"macro_f1": 0.80}, "int8": {"macro_f1": 0.78}}, sizes) == "fp32"
