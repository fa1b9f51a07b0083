// Reductions: ReduceSum (float32, int64) and ReduceMean (float32), axes as an input (opset 13 for
// ReduceSum, 18 for ReduceMean) or, for ReduceMean before opset 18, as an attribute. Sums
// accumulate in float64; each product of a fused Mul is rounded to float32 as the Mul's output would be.
import { alloc, attr, axis, checkInt, fail, ints, list, num, size, type Inputs, type Kernel } from "../kernel";
import type { Node, NumTensor, Tensor } from "../onnx";
import { broadcastDims, broadcastStrides, ELEMENTWISE } from "./elementwise";

/**
 * ReduceSum of x, or of the broadcast product x·y without writing the product out (one pass
 * instead of two: the engine fuses a Mul read only by a ReduceSum, see `mulReduceSum`); with
 * `mean`, divided by the count of values summed into each output.
 */
function reduce(node: Node, x: NumTensor, y: NumTensor | null, given: number[], mean = false): NumTensor {
  const full = y ? broadcastDims(node, x.dims, y.dims) : x.dims;
  const rank = full.length;
  const axes = new Set(given.length ? given.map((a) => axis(node, a, rank)) : full.map((_, i) => i));
  const outDims = full.map((d, i) => (axes.has(i) ? 1 : d));
  // Output strides per axis, 0 along the reduced ones; input strides, 0 along broadcast ones.
  const so = broadcastStrides(outDims, outDims).map((s, i) => (axes.has(i) ? 0 : s));
  const sx = broadcastStrides(x.dims, full);
  const sy = y ? broadcastStrides(y.dims, full) : sx;
  const acc = alloc("int64", size(outDims), true); // float64 sums
  const xd = x.data;
  const yd = y ? y.data : xd;
  const n = size(full);
  if (rank === 0) acc[0] = y ? Math.fround(xd[0] * yd[0]) : xd[0];
  else if (n > 0) {
    const last = rank - 1;
    const width = full[last];
    const [lo, lx, ly] = [so[last], sx[last], sy[last]];
    const index = full.map(() => 0);
    for (let k = 0, p = 0, px = 0, py = 0; k < n; k += width) {
      if (!y) for (let j = 0; j < width; j++) acc[p + j * lo] += xd[px + j * lx];
      else if (lo === 1 && lx === 0 && ly === 1) {
        const w = xd[px]; // weights × units (attention pooling): the common case, kept tight
        for (let j = 0; j < width; j++) acc[p + j] += Math.fround(w * yd[py + j]);
      } else for (let j = 0; j < width; j++) acc[p + j * lo] += Math.fround(xd[px + j * lx] * yd[py + j * ly]);
      for (let d = last - 1; d >= 0; d--) {
        p += so[d];
        px += sx[d];
        py += sy[d];
        if (++index[d] < full[d]) break;
        p -= so[d] * full[d];
        px -= sx[d] * full[d];
        py -= sy[d] * full[d];
        index[d] = 0;
      }
    }
  }
  if (mean) {
    const count = n / acc.length;
    for (let i = 0; i < acc.length; i++) acc[i] /= count;
  }
  const dims = attr(node, "keepdims", 1) === 1 ? outDims : full.filter((_, i) => !axes.has(i));
  if (x.type === "int64") for (const v of acc) checkInt(node, v);
  let data = acc;
  if (x.type === "float32") (data = alloc("float32", acc.length)).set(acc);
  return { type: x.type, dims, data };
}

/** The axes of a reduction: its input (empty when absent) or, for older opsets, its attribute. */
function axesOf(node: Node, inputs: Inputs): number[] | null {
  const given = inputs[1] ? ints(node, inputs[1], "axes") : list<number>(node, "axes");
  if (given.length === 0 && attr(node, "noop_with_empty_axes", 0) === 1) return null;
  return given;
}

const reduceSum: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, ["float32", "int64"]);
  const axes = axesOf(node, inputs);
  return [axes ? reduce(node, x, null, axes) : x];
};

const reduceMean: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, ["float32"]);
  const axes = axesOf(node, inputs);
  if (axes && x.data.length === 0) fail(node, "the mean of no values");
  return [axes ? reduce(node, x, null, axes, true) : x];
};

/** Mul (`mul`) followed by the ReduceSum that alone reads it, in one pass when both are float32. */
export function mulReduceSum(mul: Node): Kernel {
  return (inputs, node): Tensor[] => {
    const [a, b, axesInput] = [num(mul, inputs, 0, ["float32", "int64", "int32"]), num(mul, inputs, 1, ["float32", "int64", "int32"]), inputs[2]];
    const axes = axesOf(node, [undefined, axesInput]);
    if (a.type !== "float32" || b.type !== "float32" || !axes) return reduceSum([ELEMENTWISE.Mul([a, b], mul)[0], axesInput], node);
    return [reduce(node, a, b, axes)];
  };
}

/**
 * Gather(table [V, D], ids [B, T]) → ReduceMean over the T axis (an embedding averaged over tokens,
 * as Keras' GlobalAveragePooling1D exports) in one pass: the rows summed in token order in float64,
 * divided and rounded as ReduceMean does, without writing the [B, T, D] gathered tensor out.
 */
export function gatherMean(gather: Node): Kernel {
  return (inputs, node) => {
    const table = num(gather, inputs, 0, ["float32"]);
    const ids = num(gather, inputs, 1, ["int64", "int32"]);
    if (ids.dims.length !== 2 || table.dims.length !== 2) fail(node, `averaged rows of [${table.dims}] picked by [${ids.dims}]; expected [batch, tokens] ids`);
    const [batch, tokens] = ids.dims;
    const [rows, width] = table.dims;
    const acc = alloc("int64", batch * width, true);
    const td = table.data;
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < tokens; t++) {
        let row = ids.data[b * tokens + t];
        if (row < -rows || row >= rows) fail(gather, `index ${row} is out of range (${rows} entries)`);
        if (row < 0) row += rows;
        for (let j = 0, from = row * width, to = b * width; j < width; j++) acc[to + j] += td[from + j];
      }
    }
    if (tokens === 0) fail(node, "the mean of no values");
    const out = alloc("float32", acc.length);
    for (let i = 0; i < acc.length; i++) out[i] = acc[i] / tokens;
    return [{ type: "float32", dims: attr(node, "keepdims", 1) === 1 ? [batch, 1, width] : [batch, width], data: out }];
  };
}

export const REDUCE: Record<string, Kernel> = { ReduceSum: reduceSum, ReduceMean: reduceMean };
