// The model on the compact engine (engine/), on the page's own thread: downloads and checks the
// variant's ONNX file and the tokenizer, then predicts in batches like runtime.ts does with
// onnxruntime-web. Long batches give the event loop a turn every few milliseconds.
import type { OnProgress } from "../../download";
import { Engine } from "../../engine/engine";
import type { Tensor } from "../../engine/onnx";
import type { Model } from "../../host";
import type { InitRequest, InitResult, Manifest, Prediction } from "../../types";
import { nextTask } from "../../yield";
import { checkGraph, fetchModel, inBatches, inputData, toPredictions } from "./classify";
import type { TextTokenizer } from "./tokenize";

const INT64 = 7;
/** Work between two turns of the event loop, so that a page running a long batch stays responsive. */
const SLICE_MS = 8;

export class CompactRuntime implements Model {
  private constructor(
    private readonly engine: Engine,
    private readonly tokenizer: TextTokenizer,
    private readonly manifest: Manifest,
    readonly result: InitResult,
  ) {}

  static async load(request: InitRequest, onProgress: OnProgress): Promise<CompactRuntime> {
    const { manifest } = request;
    const files = await fetchModel(request, onProgress);
    const engine = Engine.load(files.model, files.modelFile);
    checkGraph(engine.inputNames, engine.outputNames, manifest, files.modelFile);
    for (const name of engine.inputNames) {
      const type = engine.inputTypes.get(name);
      if (type && type !== INT64) throw new Error(`${files.modelFile}: input ${name} is not int64 (type ${type})`);
    }
    const runtime = new CompactRuntime(engine, files.tokenizer, manifest, {
      engine: "compact",
      backend: "js",
      threads: 1,
      bytes_downloaded: files.bytes,
      model_bytes: files.model.byteLength,
      wasm_bytes: 0,
    });
    await runtime.predict(["warm up"]); // fails here, before "ready", if the graph cannot run
    return runtime;
  }

  tokenize(texts: string[]): number[][] {
    return texts.map((text) => this.tokenizer.encode(text));
  }

  predict(texts: string[]): Promise<Prediction[]> {
    let since = performance.now();
    return inBatches(texts, (batch) => this.predictBatch(batch), () => {
      if (performance.now() - since < SLICE_MS) return undefined;
      return nextTask().then(() => void (since = performance.now()));
    });
  }

  private predictBatch(texts: string[]): Prediction[] {
    const batch = this.tokenizer.numbers(texts);
    const feeds: Record<string, Tensor> = {};
    for (const name of this.engine.inputNames) {
      const data = inputData(name, batch.inputIds, batch.attentionMask, (n) => new Float64Array(n));
      feeds[name] = { type: "int64", dims: batch.dims, data };
    }
    const [logits] = this.engine.run(feeds, ["logits"]);
    if (logits.type !== "float32") throw new Error(`the model's logits are ${logits.type}, not float32`);
    return toPredictions(logits.data as Float32Array, this.manifest.labels, texts.length, this.manifest.conformal?.threshold);
  }
}
