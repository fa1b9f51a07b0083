// Reads what tests/engine_fixtures.py wrote (ENGINE_FIXTURES): cases with inputs and the outputs of
// Python onnxruntime, and compares tensors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DType, NumData, Tensor } from "../src/engine/onnx";

export interface TensorJson {
  type: DType;
  dims: number[];
  data: (number | string | boolean | null)[]; // null: NaN (JSON has no NaN)
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

const ARRAYS = { float32: Float32Array, int64: Float64Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array, bool: Uint8Array };

export function tensor(t: TensorJson): Tensor {
  if (t.type === "string") return { type: "string", dims: t.dims, data: t.data.map(String) };
  const array = ARRAYS[t.type] as unknown as { from(values: number[]): NumData };
  return { type: t.type, dims: t.dims, data: array.from(t.data.map((v) => (v === null ? NaN : Number(v)))) };
}

/** Same type and shape; floats within `tolerance` (absolute + relative; NaN where NaN), the rest equal. */
export function assertClose(actual: Tensor, expected: TensorJson, tolerance: number, what: string): number {
  assert.equal(actual.type, expected.type, `${what}: type`);
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  let worst = 0;
  expected.data.forEach((e, i) => {
    const a = actual.data[i];
    if (expected.type === "string") return assert.equal(a, e, `${what}[${i}]`);
    const want = e === null ? NaN : Number(e);
    if (expected.type !== "float32") return assert.equal(a, want, `${what}[${i}]`);
    if (Number.isNaN(want)) return assert.ok(Number.isNaN(a), `${what}[${i}]: ${a} vs NaN`);
    const diff = Math.abs((a as number) - want);
    worst = Math.max(worst, diff);
    assert.ok(diff <= tolerance * (1 + Math.abs(want)), `${what}[${i}]: ${a} vs ${want}`);
  });
  return worst;
}
