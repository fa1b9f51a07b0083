// The operators of the compact engine: what `staticml train --arch tiny` exports (fp32, and int8
// with DequantizeLinear after the embedding Gathers), plus Div and Constant. Semantics follow the
// ONNX spec for opsets 13 and later (axes as inputs, Softmax on one axis). float32 results are
// rounded to float32 after each operator, as onnxruntime stores them; sums are accumulated in
// float64. int64 values are held as doubles and any result past 2^53 is an error, not a guess.
// OPS[op].attrs is the table of attributes (and allowed values) each op accepts; it mirrors
// staticml/compact.py, and web/test/engine.test.ts checks that the two agree.
import type { Attribute, Data, DType, Node, Tensor } from "./onnx";

type Inputs = (Tensor | undefined)[];

export interface OpSpec {
  /** Attribute name → allowed values (null: any value). */
  attrs: Record<string, readonly number[] | null>;
  run(inputs: Inputs, node: Node): Tensor[];
}

export class OpError extends Error {}

const FLOAT: readonly DType[] = ["float32"];
const NUMERIC: readonly DType[] = ["float32", "int64"];
const QUANTIZED: readonly DType[] = ["int8", "uint8"];
const ELEM_TYPES: Record<number, DType> = { 1: "float32", 7: "int64" }; // Cast targets
const SAFE = 2 ** 53;

export function size(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

const ARRAYS = { float32: Float32Array, int64: Float64Array, int8: Int8Array, uint8: Uint8Array };

function make(type: DType, n: number): Data {
  return new ARRAYS[type](n);
}

/**
 * The buffers one node allocated in its previous run, reused when the next run needs no more:
 * a typed array of more than a few values lives outside the JS heap, and allocating (and
 * collecting) one costs microseconds, as much as a tiny model's whole node. Results live until
 * the node runs again, so the engine copies the graph's outputs before returning them.
 */
export interface Buffers {
  list: Data[];
  next: number;
}

let buffers: Buffers | null = null;
// Values; a batch of 64 texts of the tiny model's longest length fits, and no more is kept.
const REUSE_MAX = 1 << 20;

/** Runs `f` (one node) with its own buffers, or with fresh ones when `own` is null (constant folding). */
export function withBuffers<T>(own: Buffers | null, f: () => T): T {
  buffers = own;
  if (own) own.next = 0;
  try {
    return f();
  } finally {
    buffers = null;
  }
}

/** An array of n values of `type`: zero-filled if `zero`, else of unspecified content (to be overwritten). */
function alloc(type: DType, n: number, zero = false): Data {
  if (!buffers || n > REUSE_MAX) return make(type, n);
  const i = buffers.next++;
  const old = buffers.list[i];
  if (old && old.length >= n && old instanceof ARRAYS[type]) {
    const view = old.length === n ? old : old.subarray(0, n);
    return zero ? view.fill(0) : view;
  }
  return (buffers.list[i] = make(type, n));
}

function fail(node: Node, why: string): never {
  throw new OpError(`${node.op} node ${node.name}: ${why}`);
}

function input(node: Node, inputs: Inputs, i: number, types?: readonly DType[]): Tensor {
  const t = inputs[i];
  if (!t) fail(node, `input ${i + 1} is missing`);
  if (types && !types.includes(t.type)) fail(node, `input ${i + 1} is ${t.type}, which the compact engine does not implement here`);
  return t;
}

function attr(node: Node, name: string, fallback: number): number {
  const value: Attribute | undefined = node.attrs.get(name);
  if (value === undefined) return fallback;
  if (typeof value !== "number") fail(node, `attribute ${name} is not a number`);
  return value;
}

/** Values of a small int64 tensor (axes, starts, …) as plain numbers. */
function ints(node: Node, t: Tensor | undefined, what: string): number[] {
  if (!t) return [];
  if (t.type !== "int64") fail(node, `${what} must be int64`);
  const values: number[] = [];
  for (let i = 0; i < t.data.length; i++) values.push(t.data[i]); // Array.from is slower on typed arrays
  return values;
}

function axis(node: Node, a: number, rank: number): number {
  if (!Number.isInteger(a) || a < -rank || a >= rank) fail(node, `axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

function checkInt(node: Node, x: number): number {
  if (!(Math.abs(x) <= SAFE)) fail(node, `an int64 result (${x}) is beyond 2^53, which the compact engine cannot hold exactly`);
  return x + 0; // no -0 among integers
}

// ---- elementwise with multidirectional (numpy) broadcasting ----

function broadcastDims(node: Node, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) fail(node, `shapes [${a}] and [${b}] do not broadcast`);
    dims.push(x === 1 ? y : x);
  }
  return dims;
}

/** Strides of `dims` inside an output of rank `rank`, 0 along broadcast axes. */
function broadcastStrides(dims: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let i = dims.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    strides[j] = dims[i] === 1 ? 0 : stride;
    stride *= dims[i];
  }
  return strides;
}

/** One output row: out[k + j] = f(a[pa + j * sa], b[pb + j * sb]) for j < n. */
type Row = (out: Data, k: number, a: Data, pa: number, sa: number, b: Data, pb: number, sb: number, n: number) => void;

function broadcast(node: Node, a: Tensor, b: Tensor, type: DType, row: Row): Tensor {
  const dims = broadcastDims(node, a.dims, b.dims);
  const n = size(dims);
  const out = alloc(type, n);
  const rank = dims.length;
  if (n === 0) return { type, dims, data: out };
  if (rank === 0) {
    row(out, 0, a.data, 0, 0, b.data, 0, 0, 1);
    return { type, dims, data: out };
  }
  const sa = broadcastStrides(a.dims, dims);
  const sb = broadcastStrides(b.dims, dims);
  // Merge the trailing axes where both operands are contiguous or both broadcast: longer rows.
  let last = rank - 1;
  let width = dims[last];
  while (last > 0) {
    const d = last - 1;
    const okA = sa[d] === sa[last] * dims[last] || (sa[d] === 0 && sa[last] === 0);
    const okB = sb[d] === sb[last] * dims[last] || (sb[d] === 0 && sb[last] === 0);
    if (!okA || !okB || (sa[last] === 0) !== (sa[d] === 0) || (sb[last] === 0) !== (sb[d] === 0)) break;
    width *= dims[d];
    last = d;
  }
  const la = sa[rank - 1] === 0 ? 0 : 1;
  const lb = sb[rank - 1] === 0 ? 0 : 1;
  const index = new Array<number>(last).fill(0);
  let pa = 0;
  let pb = 0;
  for (let k = 0; k < n; k += width) {
    row(out, k, a.data, pa, la, b.data, pb, lb, width);
    for (let d = last - 1; d >= 0; d--) {
      pa += sa[d];
      pb += sb[d];
      if (++index[d] < dims[d]) break;
      pa -= sa[d] * dims[d];
      pb -= sb[d] * dims[d];
      index[d] = 0;
    }
  }
  return { type, dims, data: out };
}

// Float rows, one function each so that every loop stays monomorphic.
const addRow: Row = (o, k, a, pa, sa, b, pb, sb, n) => {
  for (let j = 0; j < n; j++, pa += sa, pb += sb) o[k + j] = a[pa] + b[pb];
};
const subRow: Row = (o, k, a, pa, sa, b, pb, sb, n) => {
  for (let j = 0; j < n; j++, pa += sa, pb += sb) o[k + j] = a[pa] - b[pb];
};
const mulRow: Row = (o, k, a, pa, sa, b, pb, sb, n) => {
  for (let j = 0; j < n; j++, pa += sa, pb += sb) o[k + j] = a[pa] * b[pb];
};
const divRow: Row = (o, k, a, pa, sa, b, pb, sb, n) => {
  for (let j = 0; j < n; j++, pa += sa, pb += sb) o[k + j] = a[pa] / b[pb];
};

/** An int64 row from a scalar function, with the 2^53 check. */
function intRow(node: Node, f: (x: number, y: number) => number): Row {
  return (o, k, a, pa, sa, b, pb, sb, n) => {
    for (let j = 0; j < n; j++, pa += sa, pb += sb) o[k + j] = checkInt(node, f(a[pa], b[pb]));
  };
}

function binary(float: Row, int: (node: Node) => (x: number, y: number) => number): OpSpec {
  return {
    attrs: {},
    run(inputs, node) {
      const a = input(node, inputs, 0, NUMERIC);
      const b = input(node, inputs, 1, [a.type]);
      return [broadcast(node, a, b, a.type, a.type === "float32" ? float : intRow(node, int(node)))];
    },
  };
}

function intDiv(node: Node, x: number, y: number): number {
  if (y === 0) fail(node, "integer division by zero");
  return Math.trunc(x / y); // exact: |x|, |y| <= 2^53 and the quotient is truncated like C++
}

// ---- the operators ----

export const OPS: Record<string, OpSpec> = {
  Add: binary(addRow, () => (x, y) => x + y),
  Sub: binary(subRow, () => (x, y) => x - y),
  Mul: binary(mulRow, () => (x, y) => x * y),
  Div: binary(divRow, (node) => (x, y) => intDiv(node, x, y)),

  Mod: {
    attrs: { fmod: [0, 1] },
    run(inputs, node) {
      const a = input(node, inputs, 0, NUMERIC);
      const b = input(node, inputs, 1, [a.type]);
      const fmod = attr(node, "fmod", 0);
      if (a.type === "float32") {
        if (fmod !== 1) fail(node, "float Mod needs fmod=1");
        return [broadcast(node, a, b, a.type, (o, k, x, px, sx, y, py, sy, n) => {
          for (let j = 0; j < n; j++, px += sx, py += sy) o[k + j] = x[px] % y[py]; // C fmod
        })];
      }
      const f = (x: number, y: number): number => {
        if (y === 0) fail(node, "integer modulo by zero");
        const r = x % y; // sign of the dividend (fmod=1)
        return fmod === 1 || r === 0 || r < 0 === y < 0 ? r : r + y; // fmod=0: sign of the divisor
      };
      return [broadcast(node, a, b, a.type, intRow(node, f))];
    },
  },

  Cast: {
    attrs: { to: [1, 7], saturate: null },
    run(inputs, node) {
      const x = input(node, inputs, 0);
      const to = ELEM_TYPES[attr(node, "to", 0)];
      if (!to) fail(node, `cast to type ${attr(node, "to", 0)} is not implemented`);
      if (to === x.type) return [x];
      if (to === "float32") {
        const out = alloc(to, x.data.length);
        out.set(x.data as ArrayLike<number>);
        return [{ type: to, dims: x.dims, data: out }];
      }
      const out = alloc("int64", x.data.length);
      for (let i = 0; i < out.length; i++) {
        const v = Math.trunc(x.data[i]);
        if (!Number.isFinite(v)) fail(node, `cannot cast ${x.data[i]} to int64`);
        out[i] = checkInt(node, v);
      }
      return [{ type: to, dims: x.dims, data: out }];
    },
  },

  Constant: {
    attrs: { value: null },
    run(_inputs, node) {
      const value = node.attrs.get("value");
      if (!value || typeof value !== "object" || Array.isArray(value)) fail(node, "needs a tensor in its value attribute");
      return [value];
    },
  },

  Unsqueeze: {
    attrs: {},
    run(inputs, node) {
      const x = input(node, inputs, 0);
      const axes = ints(node, input(node, inputs, 1), "axes");
      const rank = x.dims.length + axes.length;
      const at = new Set(axes.map((a) => axis(node, a, rank)));
      if (at.size !== axes.length) fail(node, "repeated axes");
      const dims: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) dims.push(at.has(i) ? 1 : x.dims[j++]);
      return [{ type: x.type, dims, data: x.data }];
    },
  },

  Concat: {
    attrs: { axis: null },
    run(inputs, node) {
      const parts = inputs.map((_, i) => input(node, inputs, i));
      const first = parts[0];
      const rank = first.dims.length;
      const ax = axis(node, attr(node, "axis", NaN), rank);
      const dims = first.dims.slice();
      dims[ax] = 0;
      for (const p of parts) {
        if (p.type !== first.type || p.dims.length !== rank || p.dims.some((d, i) => i !== ax && d !== first.dims[i])) {
          fail(node, `inputs [${first.dims}] ${first.type} and [${p.dims}] ${p.type} cannot be joined on axis ${ax}`);
        }
        dims[ax] += p.dims[ax];
      }
      const outer = size(dims.slice(0, ax));
      const inner = size(dims.slice(ax + 1));
      const out = alloc(first.type, size(dims));
      let k = 0;
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = p.dims[ax] * inner;
          const pd = p.data;
          if (outer === 1) out.set(pd as never, k);
          else if (chunk > 256) out.set(pd.subarray(o * chunk, (o + 1) * chunk) as never, k);
          else for (let j = 0, from = o * chunk; j < chunk; j++) out[k + j] = pd[from + j]; // subarray costs more
          k += chunk;
        }
      }
      return [{ type: first.type, dims, data: out }];
    },
  },

  Gather: {
    attrs: { axis: null },
    run(inputs, node) {
      const x = input(node, inputs, 0);
      const indices = input(node, inputs, 1, ["int64"]);
      const ax = axis(node, attr(node, "axis", 0), x.dims.length);
      const count = x.dims[ax];
      const outer = size(x.dims.slice(0, ax));
      const inner = size(x.dims.slice(ax + 1));
      const dims = [...x.dims.slice(0, ax), ...indices.dims, ...x.dims.slice(ax + 1)];
      const out = alloc(x.type, size(dims));
      const idx = indices.data;
      const xd = x.data;
      let k = 0;
      for (let o = 0; o < outer; o++) {
        const base = o * count * inner;
        for (let i = 0; i < idx.length; i++) {
          let at = idx[i];
          if (at < -count || at >= count) fail(node, `index ${at} is out of range (${count} entries)`);
          if (at < 0) at += count;
          const from = base + at * inner;
          if (inner >= 64) out.set(xd.subarray(from, from + inner) as never, k);
          else for (let j = 0; j < inner; j++) out[k + j] = xd[from + j]; // subarray costs more for short rows
          k += inner;
        }
      }
      return [{ type: x.type, dims, data: out }];
    },
  },

  Slice: {
    attrs: {},
    run(inputs, node) {
      const x = input(node, inputs, 0);
      const starts = ints(node, input(node, inputs, 1), "starts");
      const ends = ints(node, input(node, inputs, 2), "ends");
      const rank = x.dims.length;
      const axes = inputs[3] ? ints(node, inputs[3], "axes") : starts.map((_, i) => i);
      const steps = inputs[4] ? ints(node, inputs[4], "steps") : starts.map(() => 1);
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
        fail(node, "starts, ends, axes and steps differ in length");
      }
      const first = x.dims.map(() => 0);
      const step = x.dims.map(() => 1);
      const dims = x.dims.slice();
      const seen = new Set<number>();
      axes.forEach((a, i) => {
        const ax = axis(node, a, rank);
        if (seen.has(ax)) fail(node, "repeated axes");
        seen.add(ax);
        const d = x.dims[ax];
        const s = steps[i];
        if (s === 0) fail(node, "a step of 0");
        let start = starts[i] < 0 ? starts[i] + d : starts[i];
        let end = ends[i] < 0 ? ends[i] + d : ends[i];
        if (s > 0) {
          start = Math.min(Math.max(start, 0), d);
          end = Math.min(Math.max(end, 0), d);
        } else {
          start = Math.min(Math.max(start, 0), d - 1);
          end = Math.min(Math.max(end, -1), d - 1);
        }
        first[ax] = start;
        step[ax] = s;
        dims[ax] = Math.max(0, Math.ceil((end - start) / s));
      });
      const n = size(dims);
      const out = alloc(x.type, n);
      if (n > 0) {
        const strides = x.dims.map((_, i) => size(x.dims.slice(i + 1)));
        const index = dims.map(() => 0);
        const last = rank - 1;
        for (let k = 0; k < n; ) {
          let from = 0;
          for (let i = 0; i < last; i++) from += (first[i] + index[i] * step[i]) * strides[i];
          if (rank === 0) out[k++] = x.data[0];
          else for (let j = 0; j < dims[last]; j++) out[k++] = x.data[from + (first[last] + j * step[last]) * strides[last]];
          for (let d = last - 1; d >= 0 && ++index[d] >= dims[d]; d--) index[d] = 0;
        }
      }
      return [{ type: x.type, dims, data: out }];
    },
  },

  MatMul: {
    attrs: {},
    run(inputs, node) {
      const a = input(node, inputs, 0, FLOAT);
      const b = input(node, inputs, 1, FLOAT);
      if (a.dims.length === 0 || b.dims.length === 0) fail(node, "scalar inputs");
      // numpy.matmul: a 1-D operand is a row (a) or a column (b) vector, dropped from the result.
      const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
      const bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
      const [m, kk] = ad.slice(-2);
      const [kb, nn] = bd.slice(-2);
      if (kk !== kb) fail(node, `shapes [${a.dims}] and [${b.dims}] cannot be multiplied`);
      const batch = broadcastDims(node, ad.slice(0, -2), bd.slice(0, -2));
      const count = size(batch);
      const out = alloc("float32", count * m * nn) as Float32Array;
      const sa = broadcastStrides(ad.slice(0, -2), batch);
      const sb = broadcastStrides(bd.slice(0, -2), batch);
      const index = batch.map(() => 0);
      for (let p = 0; p < count; p++) {
        let oa = 0;
        let ob = 0;
        for (let d = 0; d < batch.length; d++) (oa += index[d] * sa[d]), (ob += index[d] * sb[d]);
        gemm(a.data, oa * m * kk, kk, 1, b.data, ob * kb * nn, nn, 1, out, p * m * nn, m, kk, nn);
        for (let d = batch.length - 1; d >= 0 && ++index[d] >= batch[d]; d--) index[d] = 0;
      }
      const dims = [...batch, ...(a.dims.length === 1 ? [] : [m]), ...(b.dims.length === 1 ? [] : [nn])];
      return [{ type: "float32", dims, data: out }];
    },
  },

  Gemm: {
    attrs: { alpha: null, beta: null, transA: [0, 1], transB: [0, 1] },
    run(inputs, node) {
      const a = input(node, inputs, 0, FLOAT);
      const b = input(node, inputs, 1, FLOAT);
      const c = inputs[2];
      if (a.dims.length !== 2 || b.dims.length !== 2) fail(node, "inputs A and B must be 2-D");
      const transA = attr(node, "transA", 0) === 1;
      const transB = attr(node, "transB", 0) === 1;
      const alpha = attr(node, "alpha", 1);
      const beta = attr(node, "beta", 1);
      const [m, k] = transA ? [a.dims[1], a.dims[0]] : a.dims;
      const [kb, n] = transB ? [b.dims[1], b.dims[0]] : b.dims;
      if (k !== kb) fail(node, `shapes [${a.dims}] and [${b.dims}] cannot be multiplied`);
      const out = alloc("float32", m * n) as Float32Array;
      // Row/column strides of op(A) and op(B) in their stored layouts.
      const [ra, ca] = transA ? [1, m] : [k, 1];
      const [rb, cb] = transB ? [1, k] : [n, 1];
      gemm(a.data, 0, ra, ca, b.data, 0, rb, cb, out, 0, m, k, n, alpha);
      if (c && beta !== 0) {
        if (c.type !== "float32" || c.dims.length > 2) fail(node, "input C must be float32 of rank 0 to 2");
        const cd = [1, 1, ...c.dims].slice(-2);
        if ((cd[0] !== 1 && cd[0] !== m) || (cd[1] !== 1 && cd[1] !== n)) fail(node, `C [${c.dims}] does not broadcast to [${m},${n}]`);
        const sr = cd[0] === 1 ? 0 : cd[1];
        const sc = cd[1] === 1 ? 0 : 1;
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] += beta * c.data[i * sr + j * sc];
      }
      return [{ type: "float32", dims: [m, n], data: out }];
    },
  },

  Softmax: {
    attrs: { axis: null },
    run(inputs, node) {
      const x = input(node, inputs, 0, FLOAT);
      const ax = axis(node, attr(node, "axis", -1), x.dims.length);
      const len = x.dims[ax];
      const inner = size(x.dims.slice(ax + 1));
      const outer = size(x.dims.slice(0, ax));
      const out = alloc("float32", x.data.length);
      const exps = alloc("int64", len); // float64 scratch
      const xd = x.data;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let max = -Infinity;
          for (let j = 0; j < len; j++) max = Math.max(max, xd[base + j * inner]);
          let sum = 0;
          for (let j = 0; j < len; j++) sum += exps[j] = Math.exp(xd[base + j * inner] - max);
          for (let j = 0; j < len; j++) out[base + j * inner] = exps[j] / sum;
        }
      }
      return [{ type: "float32", dims: x.dims, data: out }];
    },
  },

  ReduceSum: {
    attrs: { keepdims: [0, 1], noop_with_empty_axes: [0, 1] },
    run(inputs, node) {
      const x = input(node, inputs, 0, NUMERIC);
      if (!inputs[1]?.data.length && attr(node, "noop_with_empty_axes", 0) === 1) return [x];
      return [reduceSum(node, x, null, inputs[1])];
    },
  },

  DequantizeLinear: {
    attrs: { axis: null, block_size: [0], output_dtype: [0, 1] },
    run(inputs, node) {
      const x = input(node, inputs, 0, QUANTIZED);
      const scale = input(node, inputs, 1, FLOAT);
      const zero = inputs[2];
      if (zero && zero.type !== x.type) fail(node, `zero point is ${zero.type}, input is ${x.type}`);
      if (zero && zero.data.length !== scale.data.length) fail(node, "zero point and scale differ in size");
      const out = alloc("float32", x.data.length);
      const s = scale.data;
      const z = zero?.data;
      const xd = x.data;
      if (s.length === 1) {
        const zp = z ? z[0] : 0;
        const s0 = s[0];
        for (let i = 0; i < out.length; i++) out[i] = (xd[i] - zp) * s0;
      } else {
        if (scale.dims.length !== 1) fail(node, "blocked quantization is not implemented");
        const ax = axis(node, attr(node, "axis", 1), x.dims.length);
        if (x.dims[ax] !== s.length) fail(node, `${s.length} scales for axis ${ax} of [${x.dims}]`);
        const inner = size(x.dims.slice(ax + 1));
        for (let i = 0; i < out.length; i++) {
          const c = Math.floor(i / inner) % s.length;
          out[i] = (xd[i] - (z ? z[c] : 0)) * s[c];
        }
      }
      return [{ type: "float32", dims: x.dims, data: out }];
    },
  },
};

/**
 * ReduceSum of x, or of the broadcast product x·y without writing the product out (one pass
 * instead of two: the engine fuses a Mul read only by a ReduceSum, see `mulReduceSum`). Each
 * product is rounded to float32 as the Mul's output would be; sums accumulate in float64.
 */
function reduceSum(node: Node, x: Tensor, y: Tensor | null, axesTensor: Tensor | undefined): Tensor {
  const full = y ? broadcastDims(node, x.dims, y.dims) : x.dims;
  const rank = full.length;
  const given = ints(node, axesTensor, "axes");
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
  const dims = attr(node, "keepdims", 1) === 1 ? outDims : full.filter((_, i) => !axes.has(i));
  if (x.type === "int64") for (const v of acc) checkInt(node, v);
  let data = acc;
  if (x.type === "float32") (data = alloc("float32", acc.length)).set(acc);
  return { type: x.type, dims, data };
}

/** Mul (`mul`) followed by the ReduceSum that alone reads it, in one pass when both are float32. */
export function mulReduceSum(mul: Node): OpSpec {
  return {
    attrs: {},
    run(inputs, node) {
      const [a, b, axes] = [input(mul, inputs, 0), input(mul, inputs, 1), inputs[2]];
      const noop = !axes?.data.length && attr(node, "noop_with_empty_axes", 0) === 1;
      if (a.type !== "float32" || b.type !== "float32" || noop) return OPS.ReduceSum.run([OPS.Mul.run([a, b], mul)[0], axes], node);
      return [reduceSum(node, a, b, axes)];
    },
  };
}

/**
 * out[m×n] = alpha · op(A)[m×k] · op(B)[k×n], with op(A)[i][p] = a[oa + i·ra + p·ca] and likewise
 * for B; accumulated in float64, rounded once to float32.
 */
function gemm(
  a: Data, oa: number, ra: number, ca: number,
  b: Data, ob: number, rb: number, cb: number,
  out: Float32Array, oo: number, m: number, k: number, n: number, alpha = 1,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let pa = oa + i * ra;
      let pb = ob + j * cb;
      for (let p = 0; p < k; p++, pa += ca, pb += rb) sum += a[pa] * b[pb];
      out[oo + i * n + j] = alpha * sum;
    }
  }
}
