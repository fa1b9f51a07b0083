// Owns onnxruntime-web: WASM setup, threads, model download + integrity, one session, predict.
import * as ort from "onnxruntime-web/wasm";
import { checkSha256, download } from "./download";
import { TextTokenizer } from "./tokenize";
import type { InitRequest, InitResult, Manifest, Prediction } from "./types";

// Written by build.mjs from the copied ort-wasm-simd-threaded.wasm.
declare const __ORT_WASM_BYTES__: number;
declare const __ORT_WASM_SHA256__: string;
const WASM_FILE = "ort-wasm-simd-threaded.wasm";
/** Same as the Python side's batch size (staticml.runtime.Classifier.probabilities). */
const BATCH_SIZE = 64;

export type OnProgress = (loaded: number, total: number) => void;

export class Runtime {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: TextTokenizer,
    private readonly manifest: Manifest,
    readonly result: InitResult,
  ) {}

  /** Downloads the WASM, the tokenizer and the model variant, checks them, opens the session. */
  static async load(request: InitRequest, onProgress: OnProgress): Promise<Runtime> {
    const { manifest, variant } = request;
    const modelFile = manifest.variants[variant];
    if (!modelFile) {
      const known = Object.keys(manifest.variants).join(", ");
      throw new Error(`model ${manifest.name} has no variant "${variant}" (available: ${known})`);
    }
    const tokenizerFile = manifest.tokenizer.file;
    const modelEntry = fileEntry(manifest, modelFile);
    const tokenizerEntry = fileEntry(manifest, tokenizerFile);

    // ORT reads these once, at the first session: set them before creating it.
    ort.env.wasm.wasmPaths = request.ortUrl;
    ort.env.wasm.numThreads = request.threads;
    ort.env.wasm.proxy = false; // we already are in a worker

    const total = __ORT_WASM_BYTES__ + modelEntry.bytes + tokenizerEntry.bytes;
    let loaded = 0;
    const onBytes = (n: number): void => {
      loaded += n;
      onProgress(loaded, Math.max(total, loaded));
    };
    onProgress(0, total);
    const [wasm, model, tokenizerBytes] = await Promise.all([
      download(request.ortUrl + WASM_FILE, onBytes),
      download(request.modelUrl + modelFile, onBytes),
      download(request.modelUrl + tokenizerFile, onBytes),
    ]);
    await Promise.all([
      checkSha256(WASM_FILE, wasm, __ORT_WASM_SHA256__),
      checkSha256(modelFile, model, modelEntry.sha256),
      checkSha256(tokenizerFile, tokenizerBytes, tokenizerEntry.sha256),
    ]);

    const tokenizer = new TextTokenizer(
      JSON.parse(new TextDecoder().decode(tokenizerBytes)),
      manifest.tokenizer,
      manifest.max_length,
    );
    ort.env.wasm.wasmBinary = wasm;
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    checkInputs(session, manifest);
    const runtime = new Runtime(session, tokenizer, manifest, {
      threads: ort.env.wasm.numThreads ?? 1, // ORT lowers it to 1 without cross-origin isolation
      bytes_downloaded: loaded,
      model_bytes: model.byteLength,
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
   * Runs texts in consecutive batches of BATCH_SIZE, each padded to its longest text, exactly
   * as the Python side does. The batches must be the same on both sides: int8 graphs quantize
   * activations per batch, so the batch a text shares changes its probabilities slightly.
   */
  async predict(texts: string[]): Promise<Prediction[]> {
    const predictions: Prediction[] = [];
    for (let start = 0; start < texts.length; start += BATCH_SIZE) {
      predictions.push(...(await this.predictBatch(texts.slice(start, start + BATCH_SIZE))));
    }
    return predictions;
  }

  private async predictBatch(texts: string[]): Promise<Prediction[]> {
    const batch = this.tokenizer.batch(texts);
    const feeds: Record<string, ort.Tensor> = {};
    let outputs: ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      for (const name of this.session.inputNames) {
        const data =
          name === "input_ids"
            ? batch.inputIds
            : name === "attention_mask"
              ? batch.attentionMask
              : new BigInt64Array(batch.inputIds.length); // declared extra input: zeros
        feeds[name] = new ort.Tensor("int64", data, batch.dims);
      }
      outputs = await this.session.run(feeds);
      const logits = outputs[this.outputName()];
      return toPredictions(logits.data as Float32Array, this.manifest.labels, texts.length);
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
      for (const tensor of Object.values(outputs ?? {})) tensor.dispose();
    }
  }

  private outputName(): string {
    const names = this.session.outputNames;
    return names.includes("logits") ? "logits" : names[0];
  }
}

function fileEntry(manifest: Manifest, name: string): { sha256: string; bytes: number } {
  const entry = manifest.files[name];
  if (!entry || typeof entry.sha256 !== "string" || typeof entry.bytes !== "number") {
    throw new Error(`manifest.json of model ${manifest.name} has no sha256/bytes for ${name}`);
  }
  return entry;
}

/** Fails at load time, with a clear message, if the graph wants an input we cannot feed. */
function checkInputs(session: ort.InferenceSession, manifest: Manifest): void {
  const known = new Set(["input_ids", "attention_mask", ...Object.keys(manifest.extra_inputs ?? {})]);
  const missing = session.inputNames.filter((name) => !known.has(name));
  if (missing.length > 0) {
    throw new Error(
      `model ${manifest.name} needs inputs the page cannot feed: ${missing.join(", ")} ` +
        `(declare them in manifest.json "extra_inputs", e.g. {"token_type_ids": "zeros"})`,
    );
  }
}

function toPredictions(logits: Float32Array, labels: string[], rows: number): Prediction[] {
  const width = labels.length;
  if (logits.length !== rows * width) {
    throw new Error(`model returned ${logits.length} logits for ${rows} texts and ${width} labels`);
  }
  const predictions: Prediction[] = [];
  for (let r = 0; r < rows; r++) {
    const probs = softmax(logits.subarray(r * width, (r + 1) * width));
    const scores: Record<string, number> = {};
    labels.forEach((label, i) => (scores[label] = probs[i]));
    predictions.push({ label: labels[argmax(probs)], scores });
  }
  return predictions;
}

function softmax(row: Float32Array): number[] {
  const max = Math.max(...row);
  const exps = Array.from(row, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function argmax(values: number[]): number {
  return values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
}
