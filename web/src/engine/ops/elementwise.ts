// Elementwise operators with multidirectional (numpy) broadcasting: arithmetic (float32, int64
// checked against 2^53, int32 wrapping like C++), comparisons and logic (bool out), IsNaN, Where,
// and the float activations.
import { alloc, checkInt, fail, FLOAT, input, NUMERIC, num, size, strides, type Kernel } from "../kernel";
import type { Data, DType, Node, NumData, NumTensor, Tensor } from "../onnx";

export function broadcastDims(node: Node, a: readonly number[], b: readonly number[]): number[] {
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
export function broadcastStrides(dims: readonly number[], out: readonly number[]): number[] {
  const result = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let i = dims.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    result[j] = dims[i] === 1 ? 0 : stride;
    stride *= dims[i];
  }
  return result;
}

/** One output row: out[k + j] = f(a[pa + j * sa], b[pb + j * sb]) for j < n. */
type Row = (out: NumData, k: number, a: NumData, pa: number, sa: number, b: NumData, pb: number, sb: number, n: number) => void;

function broadcast(node: Node, a: NumTensor, b: NumTensor, type: Exclude<DType, "string">, row: Row): NumTensor {
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

/** A row from a scalar function (int64 checked against 2^53; an Int32Array store wraps like C++). */
function scalarRow(f: (x: number, y: number) => number): Row {
  return (o, k, a, pa, sa, b, pb, sb, n) => {
    for (let j = 0; j < n; j++, pa += sa, pb += sb) o[k + j] = f(a[pa], b[pb]);
  };
}

type IntOp = (node: Node, type: DType) => (x: number, y: number) => number;

function arithmetic(float: Row, int: IntOp): Kernel {
  return (inputs, node) => {
    const a = num(node, inputs, 0, NUMERIC);
    const b = num(node, inputs, 1, [a.type]);
    if (a.type === "float32") return [broadcast(node, a, b, a.type, float)];
    if (a.type === "int64" && float !== divRow) { // exact in float64 up to 2^53: compute as floats, then check
      const out = broadcast(node, a, b, a.type, float);
      for (let i = 0; i < out.data.length; i++) out.data[i] = checkInt(node, out.data[i]);
      return [out];
    }
    const f = int(node, a.type);
    return [broadcast(node, a, b, a.type, scalarRow(a.type === "int64" ? (x, y) => checkInt(node, f(x, y)) : f))];
  };
}

function intDiv(node: Node, x: number, y: number): number {
  if (y === 0) fail(node, "integer division by zero");
  return Math.trunc(x / y); // exact: |x|, |y| <= 2^53 and the quotient is truncated like C++
}

function mod(inputs: (Tensor | undefined)[], node: Node): Tensor[] {
  const a = num(node, inputs, 0, NUMERIC);
  const b = num(node, inputs, 1, [a.type]);
  const fmod = node.attrs.get("fmod") ?? 0;
  if (a.type === "float32") {
    if (fmod !== 1) fail(node, "float Mod needs fmod=1");
    return [broadcast(node, a, b, a.type, scalarRow((x, y) => x % y))]; // C fmod
  }
  const f = (x: number, y: number): number => {
    if (y === 0) fail(node, "integer modulo by zero");
    const r = x % y; // sign of the dividend (fmod=1)
    return fmod === 1 || r === 0 || r < 0 === y < 0 ? r : r + y; // fmod=0: sign of the divisor
  };
  return [broadcast(node, a, b, a.type, scalarRow(a.type === "int64" ? (x, y) => checkInt(node, f(x, y)) : f))];
}

function compare(f: (x: number, y: number) => boolean, types: readonly DType[] = NUMERIC): Kernel {
  const row = scalarRow((x, y) => (f(x, y) ? 1 : 0));
  return (inputs, node) => {
    const a = num(node, inputs, 0, types);
    return [broadcast(node, a, num(node, inputs, 1, [a.type]), "bool", row)];
  };
}

function unary(types: readonly DType[], f: (x: number) => number, out?: "bool"): Kernel {
  return (inputs, node) => {
    const x = num(node, inputs, 0, types);
    const type = out ?? x.type;
    const data = alloc(type, x.data.length);
    const xd = x.data;
    for (let i = 0; i < data.length; i++) data[i] = f(xd[i]);
    if (type === "int64") for (const v of data) checkInt(node, v);
    return [{ type, dims: x.dims, data }];
  };
}

/** Where(condition, x, y), all three broadcast together; x and y of any one type, strings too. */
function where(inputs: (Tensor | undefined)[], node: Node): Tensor[] {
  const cond = num(node, inputs, 0, ["bool"]);
  const x = input(node, inputs, 1);
  const y = input(node, inputs, 2, [x.type]);
  const dims = broadcastDims(node, broadcastDims(node, cond.dims, x.dims), y.dims);
  const [sc, sx, sy] = [cond.dims, x.dims, y.dims].map((d) => broadcastStrides(d, dims));
  const n = size(dims);
  const out = alloc(x.type, n) as { [i: number]: unknown };
  const [xd, yd] = [x.data as ArrayLike<unknown>, y.data as ArrayLike<unknown>];
  const step = strides(dims);
  for (let k = 0; k < n; k++) {
    let [pc, px, py] = [0, 0, 0];
    for (let d = 0, rest = k; d < dims.length; d++) {
      const i = Math.floor(rest / step[d]);
      rest -= i * step[d];
      pc += i * sc[d];
      px += i * sx[d];
      py += i * sy[d];
    }
    out[k] = cond.data[pc] ? xd[px] : yd[py];
  }
  return [{ type: x.type, dims, data: out as Data } as Tensor];
}

export const ELEMENTWISE: Record<string, Kernel> = {
  Add: arithmetic(addRow, () => (x, y) => x + y),
  Sub: arithmetic(subRow, () => (x, y) => x - y),
  Mul: arithmetic(mulRow, (_node, type) => (type === "int32" ? Math.imul : (x, y) => x * y)),
  Div: arithmetic(divRow, (node) => (x, y) => intDiv(node, x, y)),
  Mod: mod,
  Less: compare((x, y) => x < y),
  LessOrEqual: compare((x, y) => x <= y),
  Greater: compare((x, y) => x > y),
  GreaterOrEqual: compare((x, y) => x >= y),
  Equal: compare((x, y) => x === y, [...NUMERIC, "bool"]),
  Not: unary(["bool"], (x) => (x ? 0 : 1)),
  IsNaN: unary(FLOAT, (x) => (Number.isNaN(x) ? 1 : 0), "bool"),
  Where: where,
  Neg: unary(NUMERIC, (x) => -x),
  Abs: unary(NUMERIC, Math.abs),
  Relu: unary(FLOAT, (x) => (x > 0 ? x : 0)),
  Sigmoid: unary(FLOAT, (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : 1 - 1 / (1 + Math.exp(x)))),
  Tanh: unary(FLOAT, Math.tanh),
  Exp: unary(FLOAT, Math.exp),
  Log: unary(FLOAT, Math.log),
  Sqrt: unary(FLOAT, Math.sqrt),
};
