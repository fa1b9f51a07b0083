// Owns onnxruntime-web: WASM setup, threads, model download + integrity, one session, predict.
// Runs in the worker (worker.ts), for the models the compact engine cannot run.
import * as ort from "onnxruntime-web/wasm";
import { checkGraph, fetchModel, inBatches, inputData, toPredictions, type ExtraFile, type OnProgress } from "./classify";
import type { Model } from "./host";
import type { TextTokenizer } from "./tokenize";
import type { BackendName, InitRequest, InitResult, Manifest, Prediction } from "./types";

// Written by build.mjs: worker.js runs the CPU build ("wasm"), worker-webgpu.js the same code on
// onnxruntime-web's WebGPU build ("webgpu", with its own, larger WASM file).
declare const __ORT_BACKEND__: BackendName;
declare const __ORT_WASM_FILE__: string;
declare const __ORT_WASM_BYTES__: number;
declare const __ORT_WASM_SHA256__: string;
const WASM_FILE = __ORT_WASM_FILE__;

/** Sets onnxruntime-web up for this request (before the first session) and names its WASM file,
 * to be downloaded and checked with the model's files. */
export function setUpOrt(request: InitRequest): ExtraFile {
  ort.env.wasm.wasmPaths = request.ortUrl;
  ort.env.wasm.numThreads = request.threads;
  ort.env.wasm.proxy = false; // we already are in a worker
  return { url: request.ortUrl + WASM_FILE, name: WASM_FILE, entry: { bytes: __ORT_WASM_BYTES__, sha256: __ORT_WASM_SHA256__ } };
}

/** One session on the checked model bytes, with the checked WASM; a graph ORT cannot load names the file. */
export async function openSession(model: Uint8Array, wasm: Uint8Array, modelFile: string): Promise<ort.InferenceSession> {
  ort.env.wasm.wasmBinary = wasm;
  try {
    return await ort.InferenceSession.create(model, { executionProviders: [__ORT_BACKEND__], graphOptimizationLevel: "all" });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${modelFile}: onnxruntime-web cannot load it (${reason.slice(0, 300)})`);
  }
}

export class Runtime implements Model {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: TextTokenizer,
    private readonly manifest: Manifest,
    readonly result: InitResult,
  ) {}

  /** Downloads the WASM, the tokenizer and the model variant, checks them, opens the session. */
  static async load(request: InitRequest, onProgress: OnProgress): Promise<Runtime> {
    const { manifest } = request;
    const files = await fetchModel(request, onProgress, [setUpOrt(request)]);
    const [wasm] = files.extra;
    const session = await openSession(files.model, wasm, files.modelFile);
    checkGraph(session.inputNames, session.outputNames, manifest, files.modelFile);
    const runtime = new Runtime(session, files.tokenizer, manifest, {
      engine: "onnxruntime-web",
      backend: __ORT_BACKEND__,
      threads: ort.env.wasm.numThreads ?? 1, // ORT lowers it to 1 without cross-origin isolation
      bytes_downloaded: files.bytes,
      model_bytes: files.model.byteLength,
      wasm_bytes: wasm.byteLength,
    });
    // The first run of a session is several times slower: pay for it before "ready".
    await runtime.predict(["warm up"]);
    return runtime;
  }

  tokenize(texts: string[]): number[][] {
    return texts.map((text) => this.tokenizer.encode(text));
  }

  /**
   * Runs texts in consecutive batches of 64, each padded to its longest text, exactly as the
   * Python side does. The batches must be the same on both sides: int8 graphs quantize
   * activations per batch, so the batch a text shares changes its probabilities slightly.
   */
  predict(texts: string[]): Promise<Prediction[]> {
    return inBatches(texts, (batch) => this.predictBatch(batch));
  }

  private async predictBatch(texts: string[]): Promise<Prediction[]> {
    const batch = this.tokenizer.batch(texts);
    const feeds: Record<string, ort.Tensor> = {};
    let outputs: ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      for (const name of this.session.inputNames) {
        const data = inputData(name, batch.inputIds, batch.attentionMask, (n) => new BigInt64Array(n));
        feeds[name] = new ort.Tensor("int64", data, batch.dims);
      }
      outputs = await this.session.run(feeds, ["logits"]);
      return toPredictions(outputs.logits.data as Float32Array, this.manifest.labels, texts.length);
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
      for (const tensor of Object.values(outputs ?? {})) tensor.dispose();
    }
  }
}
