"""PyTorch → ONNX (validated), int8 quantization, and the choice of the variant to ship."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from . import parity
from .runtime import create_session, softmax

INPUTS = ("input_ids", "attention_mask")
EXPORT_TOLERANCE = 1e-5  # ONNX logits vs PyTorch logits
F1_SLACK = 0.01  # the shipped variant may lose at most one point of macro-F1 against fp32


def export_onnx(model, path: Path, sample: dict[str, np.ndarray],
                tolerance: float = EXPORT_TOLERANCE) -> parity.ParityReport:
    """Export with dynamic batch and sequence axes; check the graph and its numbers."""
    import torch

    model.eval()
    args = tuple(torch.from_numpy(sample[name]) for name in INPUTS)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dynamic = {name: {0: batch, 1: seq} for name in INPUTS}
    # torch.onnx prints progress of its own; the CLI shows its own progress instead.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), _quiet_logging():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, args, input_names=list(INPUTS), output_names=["logits"],
                                    dynamic_shapes=dynamic, dynamo=True, verbose=False)
        program.save(str(path))
    onnx.checker.check_model(str(path), full_check=True)
    with torch.no_grad():
        expected = model(*args).numpy()
    actual = create_session(path).run(["logits"], sample)[0]
    return parity.require(f"{path.name} vs PyTorch", expected, actual, tolerance)


def quantize_int8(source: Path, target: Path, op_types: list[str] | None = None) -> None:
    """Dynamic int8, per channel (per-tensor drifted 1e-2 between page and native in a probe).

    `op_types=["Gather"]` stores only embedding tables as int8: they are dequantized to the
    same floats everywhere, so page and native agree to 1e-7. Quantized MatMuls also quantize
    activations at run time, and WASM and x86 round those differently (1e-2 seen on the tiny model).
    """
    with _quiet_logging():
        quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=op_types)


@contextlib.contextmanager
def _quiet_logging():
    """torch.onnx and the quantizer log advice meant for their developers; the CLI reports its own."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def evaluate(path: Path, batches: list[dict[str, np.ndarray]], labels: list[int]) -> dict:
    """Accuracy and macro-F1 of one ONNX file on pre-tokenized held-out batches."""
    from sklearn.metrics import accuracy_score, f1_score

    session = create_session(path)
    predictions = np.concatenate([softmax(session.run(["logits"], b)[0]).argmax(-1) for b in batches])
    return {"accuracy": round(float(accuracy_score(labels, predictions)), 4),
            "macro_f1": round(float(f1_score(labels, predictions, average="macro")), 4)}


def choose_default(variants: dict[str, str], metrics: dict[str, dict], sizes: dict[str, int]) -> str:
    """The smallest variant whose macro-F1 is within F1_SLACK of fp32."""
    floor = metrics["fp32"]["macro_f1"] - F1_SLACK
    good = [v for v in variants if metrics[v]["macro_f1"] >= floor]
    return min(good, key=lambda v: sizes[variants[v]])
