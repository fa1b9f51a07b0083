// Which onnxruntime-web backend runs a model, and the fallback: WebGPU when the site ships it for
// the model (manifest "backends", transformer-size models) and the browser gives a real adapter,
// not a fallback (software) one; WASM otherwise. ?backend= / backend="…" override the choice. If
// WebGPU fails at session creation or on the first run, the model loads again on WASM and
// info() and the model panel say why.
import { connect, engineOf } from "./local_client";
import type { BackendName, InitRequest, InitResult, Manifest } from "./types";
import { WorkerClient, type ModelClient, type ProgressHandlers } from "./worker_client";

/** An init request before the client numbers it. */
export type InitCall = Omit<InitRequest, "id">;

export interface BackendChoice {
  backend: BackendName;
  /** The adapter navigator.gpu gave, e.g. "google swiftshader (fallback adapter)"; null: none asked or none given. */
  adapter: string | null;
  reason: string;
  /** True when WebGPU was chosen but failed, and WASM runs instead. */
  fellBack: boolean;
}

interface Adapter {
  name: string;
  fallback: boolean;
}

// The few WebGPU members read here (the DOM lib has no WebGPU types).
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

/** navigator.gpu's default adapter, named; null when the browser has no WebGPU or no adapter. */
export async function findAdapter(gpu: GpuLike | undefined = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu): Promise<Adapter | null> {
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unnamed adapter";
    return { name: fallback ? `${name} (fallback adapter)` : name, fallback };
  } catch {
    return null;
  }
}

/** The backend for a model on onnxruntime-web: `asked` (null: choose), what the site ships, the adapter. */
export async function chooseBackend(asked: BackendName | null, manifest: Manifest,
                                    adapterOf: () => Promise<Adapter | null> = findAdapter): Promise<BackendChoice> {
  const wasm = (reason: string, adapter: string | null = null): BackendChoice => ({ backend: "wasm", adapter, reason, fellBack: false });
  if (asked === "wasm") return wasm("asked for (backend=wasm)");
  if (!(manifest.backends ?? ["wasm"]).includes("webgpu")) {
    return wasm(asked ? "WebGPU was asked for, but the site ships only WASM for this model: WASM instead" : "the site ships only WASM for this model");
  }
  const adapter = await adapterOf();
  if (!adapter) {
    return wasm(asked ? "WebGPU was asked for, but this browser gives no WebGPU adapter: WASM instead" : "this browser gives no WebGPU adapter");
  }
  if (asked === "webgpu") return { backend: "webgpu", adapter: adapter.name, reason: "asked for (backend=webgpu)", fellBack: false };
  if (adapter.fallback) return wasm("the only WebGPU adapter is a fallback (software) one, slower than WASM", adapter.name);
  return { backend: "webgpu", adapter: adapter.name, reason: "a WebGPU adapter (not a fallback one) is available", fellBack: false };
}

export interface Connected {
  client: ModelClient;
  result: InitResult;
  /** null for a model on the compact engine. */
  choice: BackendChoice | null;
}

/**
 * Loads one model variant: on the compact engine in the page, else in the onnxruntime-web worker of
 * the chosen backend (`assets`: the site's assets/ folder). A WebGPU worker that fails to load the
 * model or to run it once (Runtime.load warms up) is stopped and the model loads on WASM.
 */
export async function connectModel(manifest: Manifest, variant: string, init: InitCall, assets: URL,
                                   handlers: ProgressHandlers, asked: BackendName | null): Promise<Connected> {
  if (engineOf(manifest, variant) === "compact") {
    const client = connect(manifest, variant, new URL("worker.js", assets), handlers);
    return { client, result: await client.call<InitResult>(init), choice: null };
  }
  let choice = await chooseBackend(asked, manifest);
  if (choice.backend === "webgpu") {
    const client = new WorkerClient(new URL("worker-webgpu.js", assets), handlers);
    try {
      const result = await client.call<InitResult>({ ...init, ortUrl: new URL("ort-webgpu/", assets).href, backend: "webgpu" });
      return { client, result, choice };
    } catch (error) {
      client.terminate();
      const cause = (error instanceof Error ? error.message : String(error)).slice(0, 200);
      choice = { backend: "wasm", adapter: choice.adapter, reason: `WebGPU failed (${cause}); fell back to WASM`, fellBack: true };
    }
  }
  const client = new WorkerClient(new URL("worker.js", assets), handlers);
  return { client, result: await client.call<InitResult>({ ...init, ortUrl: new URL("ort/", assets).href, backend: "wasm" }), choice };
}

/** The model panel's backend line: "onnxruntime-web (WebGPU: google swiftshader (fallback adapter))". */
export function backendLabel(engine: string, choice: BackendChoice | null): string {
  if (engine === "compact" || !choice) return engine === "compact" ? "compact engine (JS)" : "onnxruntime-web (WASM)";
  if (choice.backend === "webgpu") return `onnxruntime-web (WebGPU: ${choice.adapter ?? "adapter"})`;
  return choice.fellBack || choice.reason.includes("instead") ? `onnxruntime-web (WASM) — ${choice.reason}` : "onnxruntime-web (WASM)";
}
