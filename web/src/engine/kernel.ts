// What every operator family (ops/*.ts) shares: reading inputs and attributes with errors that
// name the node, typed arrays per data type, reused output buffers, axes, and the int64 rule.
// float32 results are rounded to float32 after each operator, as onnxruntime stores them; int64
// values are held as doubles and any result past 2^53 is an error, not a guess.
import type { Attribute, Data, DType, Node, NumData, NumTensor, Tensor } from "./onnx";

export type Inputs = (Tensor | undefined)[];
/** One operator's computation: its outputs, in the node's output order. */
export type Kernel = (inputs: Inputs, node: Node) => Tensor[];

export class OpError extends Error {}

export const FLOAT: readonly DType[] = ["float32"];
export const NUMERIC: readonly DType[] = ["float32", "int64", "int32"];
export const SAFE = 2 ** 53;

export function size(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

type NumType = Exclude<DType, "string">;
const ARRAYS = { float32: Float32Array, int64: Float64Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

function make(type: DType, n: number): Data {
  return type === "string" ? new Array<string>(n).fill("") : new ARRAYS[type](n);
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
export function alloc(type: NumType, n: number, zero?: boolean): NumData;
export function alloc(type: DType, n: number, zero?: boolean): Data;
export function alloc(type: DType, n: number, zero = false): Data {
  if (type === "string" || !buffers || n > REUSE_MAX) return make(type, n);
  const i = buffers.next++;
  const old = buffers.list[i];
  if (old && old.length >= n && old instanceof ARRAYS[type]) {
    const view = (old.length === n ? old : old.subarray(0, n)) as NumData;
    return zero ? view.fill(0) : view;
  }
  return (buffers.list[i] = make(type, n));
}

export function fail(node: Node, why: string): never {
  throw new OpError(`${node.op} node ${node.name}: ${why}`);
}

export function input(node: Node, inputs: Inputs, i: number, types?: readonly DType[]): Tensor {
  const t = inputs[i];
  if (!t) fail(node, `input ${i + 1} is missing`);
  if (types && !types.includes(t.type)) fail(node, `input ${i + 1} is ${t.type}, which the compact engine does not implement here`);
  return t;
}

/** An input of a numeric (or bool) type: never a string tensor. */
export function num(node: Node, inputs: Inputs, i: number, types: readonly DType[]): NumTensor {
  const t = input(node, inputs, i, types);
  if (t.type === "string") fail(node, `input ${i + 1} is a string tensor`);
  return t as NumTensor;
}

export function attr(node: Node, name: string, fallback: number): number {
  const value: Attribute | undefined = node.attrs.get(name);
  if (value === undefined) return fallback;
  if (typeof value !== "number") fail(node, `attribute ${name} is not a number`);
  return value;
}

export function text(node: Node, name: string, fallback: string): string {
  const value = node.attrs.get(name);
  if (value === undefined) return fallback;
  if (typeof value !== "string") fail(node, `attribute ${name} is not a string`);
  return value;
}

/** A list attribute (ints, floats or strings); `fallback` when absent. */
export function list<T extends number | string>(node: Node, name: string, fallback: T[] = []): T[] {
  const value = node.attrs.get(name);
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) fail(node, `attribute ${name} is not a list`);
  return value as T[];
}

/** Values of a small int64 tensor (axes, starts, a shape, …) as plain numbers. */
export function ints(node: Node, t: Tensor | undefined, what: string): number[] {
  if (!t) return [];
  if (t.type !== "int64") fail(node, `${what} must be int64`);
  const values: number[] = [];
  for (let i = 0; i < t.data.length; i++) values.push(t.data[i] as number); // Array.from is slower on typed arrays
  return values;
}

export function axis(node: Node, a: number, rank: number): number {
  if (!Number.isInteger(a) || a < -rank || a >= rank) fail(node, `axis ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

export function checkInt(node: Node, x: number): number {
  if (!(Math.abs(x) <= SAFE)) fail(node, `an int64 result (${x}) is beyond 2^53, which the compact engine cannot hold exactly`);
  return x + 0; // no -0 among integers
}

/** Row-major strides of `dims`. */
export function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let i = dims.length - 1, s = 1; i >= 0; i--) (out[i] = s), (s *= dims[i]);
  return out;
}

/** A new tensor of `x`'s values with other dims (no copy: values are never written in place). */
export function reshaped(x: Tensor, dims: number[]): Tensor {
  return { type: x.type, dims, data: x.data } as Tensor;
}

/** Copies `x`'s values picked by `from(k)` (the source index of output value k) into a new tensor. */
export function gatherValues(x: Tensor, dims: number[], from: (k: number) => number): Tensor {
  const n = size(dims);
  const out = alloc(x.type, n) as { [i: number]: unknown };
  const xd = x.data as { [i: number]: unknown };
  for (let k = 0; k < n; k++) out[k] = xd[from(k)];
  return { type: x.type, dims, data: out } as Tensor;
}
