// A text model on onnxruntime-web, in the worker (worker.ts), for the models the compact engine
// cannot run: the tokenizer and the variant downloaded and checked with the WASM (ort_session.ts),
// one session, predictions in the batches the Python side uses.
import * as ort from "onnxruntime-web/wasm";
import type { OnProgress } from "../../download";
import type { Model } from "../../host";
import { loadOrtModel, ORT_BACKEND } from "../../ort_session";
import type { InitRequest, InitResult, Manifest, Prediction } from "../../types";
import { checkGraph, inBatches, inputData, readTokenizer, textFiles, toPredictions } from "./classify";
import type { TextTokenizer } from "./tokenize";

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
    const files = textFiles(request);
    const loaded = await loadOrtModel(request, files, onProgress);
    checkGraph(loaded.session.inputNames, loaded.session.outputNames, manifest, files[0].name);
    const runtime = new Runtime(loaded.session, readTokenizer(manifest, loaded.files[1]), manifest, {
      engine: "onnxruntime-web",
      backend: ORT_BACKEND,
      threads: loaded.threads,
      bytes_downloaded: loaded.bytesDownloaded,
      model_bytes: loaded.modelBytes,
      wasm_bytes: loaded.wasmBytes,
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
      return toPredictions(outputs.logits.data as Float32Array, this.manifest.labels, texts.length, this.manifest.conformal?.threshold);
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
      for (const tensor of Object.values(outputs ?? {})) tensor.dispose();
    }
  }
}
