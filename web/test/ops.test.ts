// One test per operator case (and per graph of the load-time rewrites): the compact engine against
// Python onnxruntime on the same .onnx file.
import { test } from "node:test";
import { Engine } from "../src/engine/engine";
import { assertClose, bytes, cases, tensor } from "./fixtures";

for (const c of cases.filter((c) => c.op)) {
  test(`${c.op}: ${c.name}`, () => {
    const engine = Engine.load(bytes(c.file), c.file);
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([name, t]) => [name, tensor(t)]));
    const names = Object.keys(c.outputs);
    engine.run(feeds, names).forEach((value, i) => assertClose(value, c.outputs[names[i]], 1e-6, `${c.name}: ${names[i]}`));
  });
}
