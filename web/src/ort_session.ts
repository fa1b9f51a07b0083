// onnxruntime-web, set up once for every worker that runs it (the classifier page's worker.js and
// worker-webgpu.js, the camera page's camera-worker.js): the WASM's folder and threads, its file
// downloaded and checked by sha256 with the model's files, and one session on the checked bytes.
import * as ort from "onnxruntime-web/wasm";
import { downloadChecked, type CheckedFile, type OnProgress } from "./download";
import type { BackendName } from "./types";

// Written by build.mjs: worker.js runs the CPU build ("wasm"), worker-webgpu.js the same code on
// onnxruntime-web's WebGPU build ("webgpu", with its own, larger WASM file).
declare const __ORT_BACKEND__: BackendName;
declare const __ORT_WASM_FILE__: string;
declare const __ORT_WASM_BYTES__: number;
declare const __ORT_WASM_SHA256__: string;

/** This bundle's onnxruntime-web execution provider. */
export const ORT_BACKEND: BackendName = __ORT_BACKEND__;

/** Where onnxruntime-web's files are and how many threads it may use (from the page's init request). */
export interface OrtSetup {
  /** Absolute URL of the folder holding the ort-wasm-simd-threaded files, ending in "/". */
  ortUrl: string;
  threads: number;
  /** A first visit: keep the checked downloads for the service worker (offline_copy.ts). */
  keepDownloads?: boolean;
}

/** A session on checked bytes, with what the page reports about it. */
export interface OrtModel {
  session: ort.InferenceSession;
  /** The files asked for, checked, in the order asked (the graph first). */
  files: Uint8Array[];
  modelBytes: number;
  wasmBytes: number;
  /** The files and the WASM. */
  bytesDownloaded: number;
  /** What onnxruntime-web runs on: it lowers the threads asked to 1 without cross-origin isolation. */
  threads: number;
}

/** Sets onnxruntime-web up (before the first session) and names its WASM file, to be checked like a model file. */
function setUp(setup: OrtSetup): CheckedFile {
  ort.env.wasm.wasmPaths = setup.ortUrl;
  ort.env.wasm.numThreads = setup.threads;
  ort.env.wasm.proxy = false; // we already are in a worker
  return { url: setup.ortUrl + __ORT_WASM_FILE__, name: __ORT_WASM_FILE__, entry: { bytes: __ORT_WASM_BYTES__, sha256: __ORT_WASM_SHA256__ } };
}

/** Downloads `files` (the graph first) and the WASM, checks them all, and opens one session on the
 * graph; a graph onnxruntime-web cannot load names its file. */
export async function loadOrtModel(setup: OrtSetup, files: CheckedFile[], onProgress: OnProgress): Promise<OrtModel> {
  const data = await downloadChecked([...files, setUp(setup)], onProgress, setup.keepDownloads);
  const wasm = data[data.length - 1];
  const checked = data.slice(0, -1);
  ort.env.wasm.wasmBinary = wasm;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(checked[0], { executionProviders: [ORT_BACKEND], graphOptimizationLevel: "all" });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${files[0].name}: onnxruntime-web cannot load it (${reason.slice(0, 300)})`);
  }
  return {
    session,
    files: checked,
    modelBytes: checked[0].byteLength,
    wasmBytes: wasm.byteLength,
    bytesDownloaded: data.reduce((sum, d) => sum + d.byteLength, 0),
    threads: ort.env.wasm.numThreads ?? 1,
  };
}
