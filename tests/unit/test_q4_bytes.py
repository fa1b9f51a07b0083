"""4-bit MatMul weights stored one level per byte (export.quantize_matmuls_4bit_bytes): float
MatMuls at run time, 16 levels per block, outputs close to fp32."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper
from test_q4 import embed_and_project

from staticml.runtime import create_session
from staticml.train import export


def test_matmul_weights_take_16_levels_a_block_and_stay_float_matmuls(tmp_path):
    source = embed_and_project(tmp_path / "fp32.onnx")
    export.quantize_matmuls_4bit_bytes(source, tmp_path / "bytes.onnx", block_size=32)
    graph = onnx.load(str(tmp_path / "bytes.onnx")).graph
    ops = [n.op_type for n in graph.node]
    assert "MatMulNBits" not in ops and "MatMul" in ops and {"Cast", "Sub", "Mul", "Reshape"} <= set(ops)
    levels = numpy_helper.to_array(next(i for i in graph.initializer if i.name == "weight_q4"))
    assert levels.dtype == np.uint8 and levels.shape == (2, 32, 64) and levels.max() <= 15
    ids = {"input_ids": np.array([[1, 5, 299, 0]], dtype=np.int64)}
    expected = create_session(source).run(None, ids)[0]
    actual = create_session(tmp_path / "bytes.onnx").run(None, ids)[0]
    relative = np.sqrt(np.mean((actual - expected) ** 2) / np.mean(expected ** 2))
    assert 0 < relative < 0.1
