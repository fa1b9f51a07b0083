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

from .. import parity
from ..runtime import create_session, softmax
from .calibrate import calibration

INPUTS = ("input_ids", "attention_mask")
F1_SLACK = 0.01  # the shipped variant may lose at most one point of macro-F1 against fp32


def export_onnx(model, path: Path, sample: dict[str, np.ndarray], tolerance: float) -> parity.ParityReport:
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


def quantize_int8(source: Path, target: Path, op_types: list[str] | None = None, table_bits: int = 8) -> None:
    """Dynamic int8, per channel (per-tensor drifted 1e-2 between page and native in a probe); an
    imported graph that is already quantized is shipped as it is, so only `op_types` use this.

    `op_types=["Gather"]` stores only embedding tables as int8: they are dequantized to the
    same floats everywhere, so page and native agree to 1e-7. Quantized MatMuls also quantize
    activations at run time, and WASM and x86 round those differently (1e-2 seen on the tiny model).
    `table_bits` < 8: see `coarsen_tables`.
    """
    with _quiet_logging():
        quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=op_types)
    if table_bits < 8:
        coarsen_tables(target, table_bits)


def coarsen_tables(path: Path, bits: int) -> None:
    """Round each quantized Gather table onto 2^bits of its 256 byte values, in place.

    The tables are uint8 with one scale and zero point each (Gather → DequantizeLinear);
    (q - zero point) is rounded to a multiple of 2^(8 - bits). The file keeps its format, graph
    and ops — it is still 1 byte per value — but holds ~2^bits distinct bytes, which gzip and
    brotli code in ~bits bits: 4 bits halve the tiny model's gzip size at the same held-out
    accuracy (scripts/tiny_frontier.py).
    """
    from onnx import numpy_helper

    model = onnx.load(str(path))
    values = {i.name: i for i in model.graph.initializer}
    step = 2 ** (8 - bits)
    for node in model.graph.node:
        if node.op_type != "Gather" or not node.input[0].endswith("_quantized") or node.input[0] not in values:
            continue
        name = node.input[0]
        zero = int(numpy_helper.to_array(values[name.removesuffix("_quantized") + "_zero_point"]))
        q = numpy_helper.to_array(values[name]).astype(np.int32) - zero
        q = np.clip(np.rint(q / step) * step, -zero, 255 - zero) + zero
        values[name].CopyFrom(numpy_helper.from_array(q.astype(np.uint8), name))
    onnx.save(model, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def quantize_weights_int8(source: Path, target: Path, min_elements: int = 4096, matmuls: bool = True) -> None:
    """int8 weights, float32 arithmetic: the same numbers in the page as natively.

    MatMul weights become int8 per output column and embedding tables int8 per row (symmetric),
    each followed by `Cast` to float and `Mul` by its scales. Activations stay float32:
    dynamic quantization (`quantize_int8` on MatMuls) rounds the 1e-7 float noise between WASM
    and x86 into whole quantization steps (MiniLM: 5e-2 page vs native). Plain Cast/Mul rather
    than DequantizeLinear, which onnxruntime fuses with the MatMul into int8 arithmetic;
    Cast/Mul on weights are constant-folded when the session loads, so runs cost what fp32 costs.
    """
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    initializers = {i.name: i for i in model.graph.initializer}

    def big(name: str) -> bool:
        return name in initializers and len(initializers[name].dims) == 2 and np.prod(initializers[name].dims) >= min_elements

    matmul_weights = {n.input[1] for n in model.graph.node if matmuls and n.op_type == "MatMul" and big(n.input[1])}
    new_nodes = []
    for name in sorted(matmul_weights):  # w [in, out] = int8 [in, out] * scale [out]
        q, scale = _int8_symmetric(numpy_helper.to_array(initializers[name]), axis=0)
        _replace_initializer(model, initializers[name], {f"{name}_int8": q, f"{name}_scale": scale})
        new_nodes += [helper.make_node("Cast", [f"{name}_int8"], [f"{name}_float"], to=onnx.TensorProto.FLOAT),
                      helper.make_node("Mul", [f"{name}_float", f"{name}_scale"], [name])]
    for node in [n for n in model.graph.node if n.op_type == "Gather" and big(n.input[0])]:
        name, ids, out = node.input[0], node.input[1], node.output[0]  # table [rows, dim] = int8 * scale [rows, 1]
        q, scale = _int8_symmetric(numpy_helper.to_array(initializers[name]), axis=1)
        _replace_initializer(model, initializers[name], {f"{name}_int8": q, f"{name}_scale": scale})
        node.input[0], node.output[0] = f"{name}_int8", f"{out}_int8"
        index = list(model.graph.node).index(node) + 1
        for k, extra in enumerate([helper.make_node("Gather", [f"{name}_scale", ids], [f"{out}_scale"], axis=0),
                                   helper.make_node("Cast", [f"{out}_int8"], [f"{out}_float"], to=onnx.TensorProto.FLOAT),
                                   helper.make_node("Mul", [f"{out}_float", f"{out}_scale"], [out])]):
            model.graph.node.insert(index + k, extra)
    for node in reversed(new_nodes):  # before their users: the graph stays topologically sorted
        model.graph.node.insert(0, node)
    onnx.save(model, str(target))
    onnx.checker.check_model(str(target), full_check=True)


Q4_BLOCK = 128  # weights per 4-bit block (MatMul: along the input axis; tables: along a row); measured, README


def quantize_q4(source: Path, target: Path, block_size: int = Q4_BLOCK, tables: str = "q4",
                min_elements: int = 1024, table_block: int | None = None, int8_matmuls: tuple[str, ...] = ()) -> None:
    """4-bit weights, float32 arithmetic: MatMul weights as onnxruntime's `MatMulNBits` (blocks of
    `block_size` along the input axis, each with a scale and a 4-bit zero point), embedding tables
    as `GatherBlockQuantized` 4-bit blocks of `table_block` (default `block_size`) along each row
    (`tables="q4"`), or as int8 rows (`tables="int8"`). MatMuls whose weight is named in
    `int8_matmuls` get int8 weights instead (mixed precision: int8 where 4-bit hurts).

    `accuracy_level` 0 keeps MatMulNBits' arithmetic in float32 (level 4 would quantize the
    activations to int8 at run time, as dynamic int8 does, and the page would drift from native).
    """
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = onnx.load(str(source))
    # Small tensors, and integer ones (a pruned vocabulary's id table, prune_vocab), stay as they are.
    small = {i.name for i in model.graph.initializer if np.prod(i.dims) < min_elements or i.data_type != onnx.TensorProto.FLOAT}
    keep = [n.name for n in model.graph.node if n.op_type in ("MatMul", "Gather")
            and n.input[0 if n.op_type == "Gather" else 1] in small | set(int8_matmuls)]
    passes = [(("MatMul",), block_size)] + ([(("Gather",), table_block or block_size)] if tables == "q4" else [])
    for ops, block in passes:
        with _quiet_logging(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 on all-zero blocks (padding rows), which it then handles
            quantizer = MatMulNBitsQuantizer(model, bits=4, block_size=block, is_symmetric=False, accuracy_level=0,
                                             nodes_to_exclude=keep, op_types_to_quantize=ops,
                                             quant_axes=(("MatMul", 0), ("Gather", 1)))
            quantizer.process()
        model = quantizer.model.model
    onnx.save(model, str(target))
    if tables == "int8" or int8_matmuls:
        quantize_weights_int8(target, target, min_elements, matmuls=bool(int8_matmuls))
    onnx.checker.check_model(str(target), full_check=True)


def quantize_matmuls_4bit_bytes(source: Path, target: Path, block_size: int = 32, min_elements: int = 4096) -> None:
    """MatMul weights on 16 levels per block of `block_size` along the input axis (a scale and a
    zero point each, as MatMulNBits), stored one level per byte and unpacked by Cast/Sub/Mul/Reshape.

    Those ops read only constants, so the session folds them into float32 weights when it loads:
    runs cost what fp32 costs (MatMulNBits runs ~3x slower than float MatMuls in the page's WASM).
    A byte holding one of 16 values is what brotli codes in ~4 bits, so the download stays 4-bit."""
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    initializers = {i.name: i for i in model.graph.initializer}
    weights = sorted({n.input[1] for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in initializers
                      and len(initializers[n.input[1]].dims) == 2 and np.prod(initializers[n.input[1]].dims) >= min_elements
                      and initializers[n.input[1]].dims[0] % block_size == 0})
    new_nodes = []
    for name in weights:
        w = numpy_helper.to_array(initializers[name]).astype(np.float32)
        k, n = w.shape
        blocks = w.reshape(k // block_size, block_size, n)
        low, high = blocks.min(axis=1, keepdims=True), blocks.max(axis=1, keepdims=True)
        scale = ((high - low) / 15).astype(np.float16)
        scale[scale == 0] = 1
        zero = np.clip(np.rint(-low / scale.astype(np.float32)), 0, 15).astype(np.uint8)
        q = np.clip(np.rint(blocks / scale.astype(np.float32)) + zero, 0, 15).astype(np.uint8)
        _replace_initializer(model, initializers[name], {f"{name}_q4": q, f"{name}_zero": zero, f"{name}_scale16": scale,
                                                         f"{name}_shape": np.array([k, n], dtype=np.int64)})
        f = onnx.TensorProto.FLOAT
        new_nodes += [helper.make_node("Cast", [f"{name}_q4"], [f"{name}_qf"], to=f),
                      helper.make_node("Cast", [f"{name}_zero"], [f"{name}_zf"], to=f),
                      helper.make_node("Cast", [f"{name}_scale16"], [f"{name}_sf"], to=f),
                      helper.make_node("Sub", [f"{name}_qf", f"{name}_zf"], [f"{name}_centered"]),
                      helper.make_node("Mul", [f"{name}_centered", f"{name}_sf"], [f"{name}_blocks"]),
                      helper.make_node("Reshape", [f"{name}_blocks", f"{name}_shape"], [name])]
    for node in reversed(new_nodes):  # before their users: the graph stays topologically sorted
        model.graph.node.insert(0, node)
    onnx.save(model, str(target))
    onnx.checker.check_model(str(target), full_check=True)


def halve_table_scales(source: Path, target: Path) -> None:
    """The float32 scales of each `GatherBlockQuantized` table stored as float16 and cast back to
    float32 in the graph. That Cast reads a constant, so the session folds it when it loads: the table
    is read with float32 scales that are the float16 ones exactly, in the page as natively. The rows
    move by at most 2^-11 of a block's scale, far below their 4-bit step (1/15 of the block's range)."""
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    initializers = {i.name: i for i in model.graph.initializer}
    casts = []
    for node in model.graph.node:
        scales = node.input[2] if node.op_type == "GatherBlockQuantized" else None
        if scales not in initializers or initializers[scales].data_type != onnx.TensorProto.FLOAT:
            continue
        halved = numpy_helper.to_array(initializers[scales]).astype(np.float16)
        _replace_initializer(model, initializers.pop(scales), {f"{scales}16": halved})
        casts.append(helper.make_node("Cast", [f"{scales}16"], [scales], to=onnx.TensorProto.FLOAT))
    for node in reversed(casts):  # before their users: the graph stays topologically sorted
        model.graph.node.insert(0, node)
    onnx.save(model, str(target))
    onnx.checker.check_model(str(target), full_check=True)


PRUNED_VARIANT = "q4-pruned"
# 4-bit blocks of the pruned variant's MatMuls (q4's 128 moved MiniLM's probabilities 0.24, build allows
# 0.25; 32: 0.21) and of its embedding rows (128: as close as 32, 1.2 MB less): docs/trust.md.
PRUNED_BLOCK, PRUNED_TABLE_BLOCK = 32, 128


def quantize_pruned(source: Path, target: Path, texts: list[str], tokenizer: Path) -> int:
    """The embedding cut to the tokens `texts` use and the general ones (prune_vocab: the others
    read [UNK]'s row, the graph renumbers the full tokenizer's ids itself), then 4-bit
    (quantize_pruned_graph). Returns the rows kept."""
    import tempfile

    from . import prune_vocab

    kept, unk, size = prune_vocab.kept_ids(tokenizer, texts)
    with tempfile.TemporaryDirectory(dir=Path(target).parent) as scratch:
        pruned = Path(scratch) / "pruned.onnx"
        rows = prune_vocab.prune_graph_with_remap(source, pruned, kept, size, unk)
        quantize_pruned_graph(pruned, target)
    return rows


def quantize_pruned_graph(source: Path, target: Path) -> None:
    """The 4-bit form of q4-pruned: MatMuls in blocks of PRUNED_BLOCK one level a byte (float MatMuls
    in the page, as fast as int8; MatMulNBits was 2.8x slower), embedding rows in blocks of
    PRUNED_TABLE_BLOCK with float16 scales (0.16 MB less brotli on MiniLM: what brings it under 12 MB)."""
    quantize_matmuls_4bit_bytes(source, target, block_size=PRUNED_BLOCK)
    quantize_q4(target, target, block_size=PRUNED_BLOCK, table_block=PRUNED_TABLE_BLOCK)
    halve_table_scales(target, target)


def _int8_symmetric(w: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and float32 scales (max |w| / 127 along `axis`, kept as a broadcastable dim)."""
    scale = np.abs(w).max(axis=axis, keepdims=True).astype(np.float32) / np.float32(127.0)
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, (scale.reshape(-1) if axis == 0 else scale)


def _replace_initializer(model, old, new: dict[str, np.ndarray]) -> None:
    from onnx import numpy_helper

    model.graph.initializer.remove(old)
    model.graph.initializer.extend(numpy_helper.from_array(value, name) for name, value in new.items())


def quantize(kind: str, source: Path, target: Path) -> None:
    """The variant an architecture asks for (archs.Arch.quantizer, archs.Arch.q4_quantizer)."""
    QUANTIZERS[kind](source, target)


@contextlib.contextmanager
def _quiet_logging():
    """torch.onnx and the quantizer log advice meant for their developers; the CLI reports its own."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def evaluate(path: Path, batches: list[dict[str, np.ndarray]], labels: list[int], temperature: float = 1.0) -> dict:
    """Accuracy, macro-F1 and calibration of one ONNX file on pre-tokenized held-out batches;
    `temperature` is the one folded into the graph: "before" undoes it."""
    from sklearn.metrics import accuracy_score, f1_score

    session = create_session(path)
    logits = np.concatenate([session.run(["logits"], b)[0] for b in batches]).astype(np.float64)
    predictions = logits.argmax(-1)
    return {"accuracy": round(float(accuracy_score(labels, predictions)), 4),
            "macro_f1": round(float(f1_score(labels, predictions, average="macro")), 4),
            "calibration": {"before": calibration(softmax(logits * temperature), labels),
                            "after": calibration(softmax(logits), labels)}}


def choose_default(variants: dict[str, str], metrics: dict[str, dict], sizes: dict[str, int]) -> str:
    """The smallest variant whose macro-F1 is within F1_SLACK of fp32."""
    floor = metrics["fp32"]["macro_f1"] - F1_SLACK
    good = [v for v in variants if metrics[v]["macro_f1"] >= floor]
    return min(good, key=lambda v: sizes[variants[v]])


TABLE_BITS = 6
QUANTIZERS = {
    # Embedding tables only: the tiny model's bytes are its tables, its head too small to matter;
    # 64 byte values per table (table_bits=6): the same test accuracy in 3/4 of the gzip bytes.
    # 16 values (4 bits) saved 80 KB more, but moved probabilities up to 0.22 from fp32 on the
    # hard strings, next to build's 0.25 limit (6 bits: 0.07; all 256: 0.007).
    "gather-int8": lambda source, target: quantize_int8(source, target, op_types=["Gather"], table_bits=TABLE_BITS),
    "weights-int8": quantize_weights_int8,
    "q4": quantize_q4,
}
