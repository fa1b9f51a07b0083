// Operators that move values without computing them (any data type, strings too), and Cast.
import {
  alloc, attr, axis, checkInt, fail, gatherValues, input, ints, num, reshaped, size, strides, type Kernel,
} from "../kernel";
import { ELEM_TYPES, type Data, type DType, type NumData, type Tensor } from "../onnx";

/** out[k..k+n) = src[from..from+n): typed arrays in bulk when the run is long, strings one by one. */
function copy(out: Data, k: number, src: Data, from: number, n: number): void {
  if (n > 64 && !Array.isArray(out)) (out as NumData).set((src as NumData).subarray(from, from + n) as never, k);
  else for (let j = 0; j < n; j++) (out as { [i: number]: unknown })[k + j] = src[from + j]; // subarray costs more for short runs
}

function tensor(type: DType, dims: number[], data: Data): Tensor {
  return { type, dims, data } as Tensor;
}

const CAST_TARGETS = ["float32", "int32", "int64", "bool"];

/** Cast between the numeric types and bool: float → int truncates (as C++), → bool is "not zero". */
const cast: Kernel = (inputs, node) => {
  const x = num(node, inputs, 0, ["float32", "int64", "int32", "int8", "uint8", "bool"]);
  const to = ELEM_TYPES[attr(node, "to", 0)];
  if (!to || !CAST_TARGETS.includes(to) || to === "string") fail(node, `cast to type ${attr(node, "to", 0)} is not implemented`);
  if (to === x.type) return [x];
  const out = alloc(to, x.data.length);
  const xd = x.data;
  if (to === "float32") out.set(xd as never);
  else if (to === "bool") for (let i = 0; i < out.length; i++) out[i] = xd[i] !== 0 ? 1 : 0;
  else {
    for (let i = 0; i < out.length; i++) {
      const v = Math.trunc(xd[i]);
      if (!Number.isFinite(v) || (to === "int32" && x.type !== "int64" && Math.abs(v) >= 2 ** 31)) fail(node, `cannot cast ${xd[i]} to ${to}`);
      out[i] = to === "int64" ? checkInt(node, v) : v; // int64 → int32 wraps (an Int32Array store), as C++ does
    }
  }
  return [{ type: to, dims: x.dims, data: out }];
};

const constant: Kernel = (_inputs, node) => {
  const value = node.attrs.get("value");
  if (!value || typeof value !== "object" || Array.isArray(value)) fail(node, "needs a tensor in its value attribute");
  return [value];
};

const constantOfShape: Kernel = (inputs, node) => {
  const dims = ints(node, input(node, inputs, 0), "shape");
  if (dims.some((d) => d < 0)) fail(node, `negative dimension in [${dims}]`);
  const value = node.attrs.get("value");
  const fill: Tensor = value && typeof value === "object" && !Array.isArray(value) ? value : { type: "float32", dims: [1], data: new Float32Array(1) };
  if (fill.data.length !== 1) fail(node, "its value must hold one element");
  const out = alloc(fill.type, size(dims)) as { fill(v: unknown): unknown };
  out.fill(fill.data[0]);
  return [tensor(fill.type, dims, out as Data)];
};

const shape: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const rank = x.dims.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const dims = x.dims.slice(clamp(attr(node, "start", 0)), clamp(attr(node, "end", rank)));
  return [{ type: "int64", dims: [dims.length], data: Float64Array.from(dims) }];
};

const reshape: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const asked = ints(node, input(node, inputs, 1), "shape");
  const allowZero = attr(node, "allowzero", 0) === 1;
  const dims = asked.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const unknown = dims.indexOf(-1);
  if (dims.some((d, i) => d === undefined || d < -1 || (d === -1 && i !== unknown))) fail(node, `cannot reshape [${x.dims}] to [${asked}]`);
  if (unknown >= 0) {
    const rest = size(dims.filter((_, i) => i !== unknown));
    dims[unknown] = rest === 0 ? 0 : x.data.length / rest;
  }
  if (size(dims) !== x.data.length || !Number.isInteger(dims[Math.max(unknown, 0)])) fail(node, `cannot reshape [${x.dims}] to [${asked}]`);
  return [reshaped(x, dims)];
};

const squeeze: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const rank = x.dims.length;
  const given = inputs[1] ? ints(node, inputs[1], "axes").map((a) => axis(node, a, rank)) : null;
  for (const a of given ?? []) if (x.dims[a] !== 1) fail(node, `axis ${a} of [${x.dims}] is not 1`);
  return [reshaped(x, x.dims.filter((d, i) => (given ? !given.includes(i) : d !== 1)))];
};

const unsqueeze: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const axes = ints(node, input(node, inputs, 1), "axes");
  const rank = x.dims.length + axes.length;
  const at = new Set(axes.map((a) => axis(node, a, rank)));
  if (at.size !== axes.length) fail(node, "repeated axes");
  const dims: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) dims.push(at.has(i) ? 1 : x.dims[j++]);
  return [reshaped(x, dims)];
};

const identity: Kernel = (inputs, node) => [input(node, inputs, 0)];

/** Output index k → the flat index of the same element in `dims` laid out with strides `from`. */
function sourceIndex(dims: number[], from: number[]): (k: number) => number {
  const step = strides(dims);
  return (k) => {
    let at = 0;
    for (let d = 0; d < dims.length; d++) {
      const i = Math.floor(k / step[d]);
      k -= i * step[d];
      at += i * from[d];
    }
    return at;
  };
}

const transpose: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const rank = x.dims.length;
  const perm = (node.attrs.get("perm") as number[] | undefined) ?? x.dims.map((_, i) => rank - 1 - i);
  if (perm.length !== rank || new Set(perm.map((p) => axis(node, p, rank))).size !== rank) fail(node, `perm [${perm}] for rank ${rank}`);
  const xs = strides(x.dims);
  const dims = perm.map((p) => x.dims[p]);
  return [gatherValues(x, dims, sourceIndex(dims, perm.map((p) => xs[p])))];
};

const concat: Kernel = (inputs, node) => {
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
      copy(out, k, p.data, o * chunk, chunk);
      k += chunk;
    }
  }
  return [tensor(first.type, dims, out)];
};

const gather: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const indices = num(node, inputs, 1, ["int64", "int32"]);
  const ax = axis(node, attr(node, "axis", 0), x.dims.length);
  const count = x.dims[ax];
  const outer = size(x.dims.slice(0, ax));
  const inner = size(x.dims.slice(ax + 1));
  const dims = [...x.dims.slice(0, ax), ...indices.dims, ...x.dims.slice(ax + 1)];
  const out = alloc(x.type, size(dims));
  const idx = indices.data;
  let k = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * count * inner;
    for (let i = 0; i < idx.length; i++) {
      let at = idx[i];
      if (at < -count || at >= count) fail(node, `index ${at} is out of range (${count} entries)`);
      if (at < 0) at += count;
      copy(out, k, x.data, base + at * inner, inner);
      k += inner;
    }
  }
  return [tensor(x.type, dims, out)];
};

const slice: Kernel = (inputs, node) => {
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
  const out = alloc(x.type, n) as { [i: number]: unknown };
  const xd = x.data as ArrayLike<unknown>;
  if (n > 0) {
    const xs = strides(x.dims);
    const index = dims.map(() => 0);
    const last = rank - 1;
    for (let k = 0; k < n; ) {
      let from = 0;
      for (let i = 0; i < last; i++) from += (first[i] + index[i] * step[i]) * xs[i];
      if (rank === 0) out[k++] = xd[0];
      else for (let j = 0; j < dims[last]; j++) out[k++] = xd[from + (first[last] + j * step[last]) * xs[last]];
      for (let d = last - 1; d >= 0 && ++index[d] >= dims[d]; d--) index[d] = 0;
    }
  }
  return [tensor(x.type, dims, out as Data)];
};

/** Pad, mode "constant": pads (negative ones crop) per axis, or per the `axes` input (opset 18). */
const pad: Kernel = (inputs, node) => {
  const x = input(node, inputs, 0);
  const rank = x.dims.length;
  const pads = ints(node, input(node, inputs, 1), "pads");
  const axes = inputs[3] ? ints(node, inputs[3], "axes").map((a) => axis(node, a, rank)) : x.dims.map((_, i) => i);
  if (pads.length !== 2 * axes.length) fail(node, `${pads.length} pads for ${axes.length} axes`);
  const before = x.dims.map(() => 0);
  const after = x.dims.map(() => 0);
  axes.forEach((a, i) => ((before[a] = pads[i]), (after[a] = pads[i + axes.length])));
  const dims = x.dims.map((d, i) => d + before[i] + after[i]);
  if (dims.some((d) => d < 0)) fail(node, `pads [${pads}] crop more than [${x.dims}] holds`);
  const value = inputs[2] && inputs[2].data.length > 0 ? inputs[2].data[0] : x.type === "string" ? "" : 0;
  const xs = strides(x.dims);
  const step = strides(dims);
  const n = size(dims);
  const out = alloc(x.type, n) as { [i: number]: unknown };
  const xd = x.data as ArrayLike<unknown>;
  for (let k = 0; k < n; k++) {
    let from = 0;
    let inside = true;
    for (let d = 0, rest = k; d < rank; d++) {
      const i = Math.floor(rest / step[d]) - before[d];
      rest %= step[d];
      if (i < 0 || i >= x.dims[d]) inside = false;
      from += i * xs[d];
    }
    out[k] = inside ? xd[from] : value;
  }
  return [tensor(x.type, dims, out as Data)];
};

export const SHAPE: Record<string, Kernel> = {
  Cast: cast,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Shape: shape,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Identity: identity,
  Transpose: transpose,
  Concat: concat,
  Gather: gather,
  Slice: slice,
  Pad: pad,
};

