// Which onnxruntime-web backend the page picks (backend.ts), and the ?backend= / backend="…" setting.
import assert from "node:assert/strict";
import { test } from "node:test";
import { backendLabel, chooseBackend, findAdapter } from "../src/backend";
import { fromAttributes, fromQuery } from "../src/settings";
import type { Manifest } from "../src/types";

const shipped = (backends?: ("wasm" | "webgpu")[]) => ({ backends }) as unknown as Manifest;
const real = async () => ({ name: "acme gpu", fallback: false });
const software = async () => ({ name: "google swiftshader (fallback adapter)", fallback: true });
const none = async () => null;

test("settings: backend from the URL or the attribute; anything else is no choice", () => {
  assert.equal(fromQuery("?backend=webgpu").backend, "webgpu");
  assert.equal(fromQuery("?backend=WASM").backend, "wasm");
  assert.equal(fromQuery("?backend=gpu").backend, null);
  assert.equal(fromQuery("").backend, null);
  assert.equal(fromAttributes({ getAttribute: (n) => (n === "backend" ? "webgpu" : null) }).backend, "webgpu");
});

test("chooseBackend: WebGPU only when the site ships it and the adapter is real", async () => {
  const both = shipped(["wasm", "webgpu"]);
  assert.equal((await chooseBackend(null, both, real)).backend, "webgpu");
  const soft = await chooseBackend(null, both, software);
  assert.equal(soft.backend, "wasm");
  assert.match(soft.reason, /fallback/);
  assert.equal(soft.adapter, "google swiftshader (fallback adapter)");
  assert.equal((await chooseBackend(null, both, none)).backend, "wasm");
  assert.equal((await chooseBackend(null, shipped(), real)).backend, "wasm");
  assert.equal((await chooseBackend(null, shipped(["wasm"]), real)).backend, "wasm");
});

test("chooseBackend: what was asked for wins where it can run, and says so where it cannot", async () => {
  const both = shipped(["wasm", "webgpu"]);
  assert.equal((await chooseBackend("webgpu", both, software)).backend, "webgpu");
  assert.equal((await chooseBackend("wasm", both, real)).backend, "wasm");
  const missing = await chooseBackend("webgpu", both, none);
  assert.equal(missing.backend, "wasm");
  assert.match(missing.reason, /asked for.*no WebGPU adapter/);
  assert.match(backendLabel("onnxruntime-web", missing), /WASM\) — WebGPU was asked for/);
  assert.match((await chooseBackend("webgpu", shipped(["wasm"]), real)).reason, /ships only WASM/);
});

test("findAdapter: names the adapter and flags a fallback one; no navigator.gpu or no adapter is null", async () => {
  assert.equal(await findAdapter(undefined), null);
  assert.equal(await findAdapter({ requestAdapter: async () => null }), null);
  assert.equal(await findAdapter({ requestAdapter: async () => { throw new Error("lost"); } }), null);
  const adapter = await findAdapter({ requestAdapter: async () => ({ info: { vendor: "google", architecture: "swiftshader", isFallbackAdapter: true } }) });
  assert.deepEqual(adapter, { name: "google swiftshader (fallback adapter)", fallback: true });
});
