// Reads what tests/engine_fixtures.py wrote (ENGINE_FIXTURES): cases with inputs and the outputs of
// Python onnxruntime, and compares tensors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DType, Tensor } from "../src/engine/onnx";

export interface TensorJson {
  type: DType;
  dims: number[];
  data: number[];
}

export interface Case {
  name: string;
  op?: string;
  file: string;
  inputs: Record<string, TensorJson>;
  outputs: Record<string, TensorJson>;
}

const folder = process.env.ENGINE_FIXTURES ?? "";
if (!folder) throw new Error("ENGINE_FIXTURES is not set: run the tests with `npm test`");

export const cases: Case[] = JSON.parse(readFileSync(join(folder, "cases.json"), "utf-8"));

export function bytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(folder, file)));
}

export function json<T>(file: string): T {
  return JSON.parse(readFileSync(join(folder, file), "utf-8")) as T;
}

export function tensor(t: TensorJson): Tensor {
  const data =
    t.type === "float32" ? Float32Array.from(t.data)
    : t.type === "int64" ? Float64Array.from(t.data)
    : t.type === "int8" ? Int8Array.from(t.data)
    : Uint8Array.from(t.data);
  return { type: t.type, dims: t.dims, data };
}

/** Same type and shape; floats within `tolerance` (absolute + relative), integers equal. */
export function assertClose(actual: Tensor, expected: TensorJson, tolerance: number, what: string): number {
  assert.equal(actual.type, expected.type, `${what}: type`);
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  let worst = 0;
  expected.data.forEach((e, i) => {
    const a = actual.data[i];
    const diff = Math.abs(a - e);
    worst = Math.max(worst, diff);
    if (expected.type === "float32") assert.ok(diff <= tolerance * (1 + Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
    else assert.equal(a, e, `${what}[${i}]`);
  });
  return worst;
}
