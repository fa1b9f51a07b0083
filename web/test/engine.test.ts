// The engine as a whole: its table equals staticml/compact.py's, the tiny model (fp32 and int8, as
// `train` exports it) computes what Python onnxruntime computes, and bad files are refused with a
// message that names the problem.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkGraph } from "../src/tasks/text/classify";
import { checkSha256 } from "../src/download";
import { Engine, unsupported } from "../src/engine/engine";
import { parseModel } from "../src/engine/onnx";
import { KERNELS, lookup, registered } from "../src/engine/registry";
import type { Manifest } from "../src/types";
import { assertClose, bytes, cases, json, tensor } from "./fixtures";

interface Table {
  dtypes: string[];
  ops: Record<string, Record<string, { opsets: number[]; attrs: Record<string, (number | string)[] | null>; inputs: string[] | null }>>;
}

test("the registry implements exactly the table staticml/compact.py reads: every row has a kernel, every kernel a row", () => {
  const table = json<Table>("table.json"); // what Python's compact.table() returned
  const rows = Object.entries(table.ops).flatMap(([domain, ops]) => Object.keys(ops).map((op) => (domain ? `${domain}.${op}` : op)));
  const kernels = Object.entries(KERNELS).flatMap(([domain, ops]) => Object.keys(ops).map((op) => (domain ? `${domain}.${op}` : op)));
  assert.deepEqual(registered().sort(), rows.sort());
  assert.deepEqual(kernels.sort(), rows.sort());
  for (const [domain, ops] of Object.entries(table.ops)) {
    for (const [op, row] of Object.entries(ops)) {
      const spec = lookup(domain, op)!;
      const { opsets, attrs, inputs } = row; // "out" is a hint for Python's type inference only
      assert.deepEqual({ opsets: [...spec.opsets], attrs: spec.attrs, inputs: spec.inputs }, { opsets, attrs, inputs }, `${domain}.${op}`);
    }
  }
});

const tiny = cases.filter((c) => !c.op);

test("the tiny model's fixtures are there (torch is installed)", () => {
  assert.equal(tiny.length, 4);
});

for (const c of tiny) {
  test(`${c.name}: logits equal Python onnxruntime's within 1e-5`, () => {
    const engine = Engine.load(bytes(c.file), c.file);
    assert.deepEqual(engine.inputNames, ["input_ids", "attention_mask"]);
    assert.deepEqual(engine.outputNames, ["logits"]);
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([name, t]) => [name, tensor(t)]));
    const [logits] = engine.run(feeds, ["logits"]);
    const worst = assertClose(logits, c.outputs.logits, 1e-5, c.name);
    assert.ok(worst < 1e-5);
  });
}

test("at load, int8 tables are dequantized once and the pooling's Mul runs inside its ReduceSum", () => {
  const fp32 = Engine.load(bytes("tiny.onnx"), "tiny.onnx").steps;
  const int8 = Engine.load(bytes("tiny.int8.onnx"), "tiny.int8.onnx").steps;
  assert.ok(!int8.includes("DequantizeLinear"), int8.join(" "));
  for (const steps of [fp32, int8]) assert.equal(steps.filter((s) => s === "Mul+ReduceSum").length, 1, steps.join(" "));
  const graph = (name: string) => cases.find((c) => c.name.startsWith(name))!;
  const steps = (name: string) => Engine.load(bytes(graph(name).file), name).steps;
  assert.deepEqual(steps("Mul→ReduceSum fused (tiny"), ["Mul+ReduceSum"]);
  assert.deepEqual(steps("Mul→ReduceSum not fused"), ["Mul", "ReduceSum"]);
  assert.deepEqual(steps("Gather→DequantizeLinear per tensor"), ["Gather"]);
  assert.deepEqual(steps("Gather→DequantizeLinear per axis"), ["Gather", "DequantizeLinear"]);
  assert.deepEqual(steps("Gather→DequantizeLinear, the gathered"), ["Gather", "DequantizeLinear"]);
});

test("at load, a row-quantized table is dequantized once and an averaged Gather runs inside its ReduceMean", () => {
  const steps = (name: string) => Engine.load(bytes(cases.find((c) => c.name.startsWith(name))!.file), name).steps;
  assert.deepEqual(steps("Gather(int8)→Cast→Mul(Gather(row scales))→ReduceMean"), ["Gather+ReduceMean"]);
  assert.ok(steps("tf2onnx Keras text graph (replica)").includes("Gather+ReduceMean"));
});

test("shape arithmetic kept from the previous run is recomputed when the input's shape changes", () => {
  const [long, short] = ["tf2onnx Keras text graph (replica)", "tf2onnx Keras text graph (replica), shorter texts"]
    .map((name) => cases.find((c) => c.name === name)!);
  const engine = Engine.load(bytes(long.file), long.file);
  for (const c of [long, long, short, short, long]) {
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([name, t]) => [name, tensor(t)]));
    assertClose(engine.run(feeds, ["logits"])[0], c.outputs.logits, 1e-6, c.name);
  }
});

test("a truncated file fails to load with a message, wherever it is cut", () => {
  const whole = bytes("tiny.onnx");
  for (const at of [0, 5, 40, 1000, Math.floor(whole.length / 2), whole.length - 30, whole.length - 1]) {
    assert.throws(() => Engine.load(whole.subarray(0, at), "model.onnx"), (error: Error) => {
      assert.match(error.message, /^model\.onnx is not a complete ONNX model: .+; the file is truncated or damaged\.$/);
      return true;
    }, `cut at ${at}`);
  }
});

test("bytes that are no ONNX model at all are refused, not run", () => {
  const junk = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 256);
  assert.throws(() => Engine.load(junk, "junk.onnx"), /junk\.onnx/);
  assert.throws(() => Engine.load(new TextEncoder().encode("<html>404</html>"), "page.onnx"), /page\.onnx/);
});

test("graphs the engine does not implement are refused at load, naming what is missing (as Python says)", () => {
  for (const { file, python } of json<{ file: string; python: string[] }[]>("refusals.json")) {
    const missing = unsupported(parseModel(bytes(file)));
    assert.ok(missing.length > 0 && python.length > 0, file);
    // Python also infers the types of intermediate tensors; the names of ops, attributes, opsets
    // and initializer types are the same words on both sides.
    for (const item of python.filter((p) => !p.startsWith("data type") || file === "double_weight.onnx")) {
      assert.ok(missing.includes(item), `${file}: JS says ${missing.join(", ")}; Python says ${python.join(", ")}`);
    }
    assert.throws(() => Engine.load(bytes(file), file), new RegExp(`^Error: ${file} needs what the compact engine does not implement: `));
  }
});

test("an int64 result past 2^53 is an error, not a rounded number", () => {
  const c = cases.find((c) => c.name.startsWith("Mul int64"))!;
  const engine = Engine.load(bytes(c.file), c.file);
  assert.throws(() => engine.run({ a: { type: "int64", dims: [1], data: Float64Array.of(2 ** 52) } }, ["y"]), /beyond 2\^53/);
});

test("a graph without an output named logits is refused (Python requires it too)", () => {
  const manifest = { name: "m", extra_inputs: {} } as unknown as Manifest;
  assert.throws(() => checkGraph(["input_ids", "attention_mask"], ["scores"], manifest, "model.onnx"),
    /^Error: model\.onnx: the graph has no output named 'logits' \(its outputs: scores\)$/);
  assert.doesNotThrow(() => checkGraph(["input_ids"], ["scores", "logits"], manifest, "model.onnx"));
  assert.throws(() => checkGraph(["input_ids", "pixels"], ["logits"], manifest, "model.onnx"), /cannot feed: pixels/);
});

test("a file that does not match its sha256 is refused with the message both engines use", async () => {
  const data = bytes("tiny.onnx");
  await assert.rejects(checkSha256("model.onnx", data, "0".repeat(64)),
    /^Error: model\.onnx has been changed or damaged: it does not match the sha256 in manifest\.json, so the page refuses to run it/);
});
