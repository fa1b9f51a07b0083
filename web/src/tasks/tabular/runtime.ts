// A tabular model (a scikit-learn pipeline exported whole by skl2onnx) on onnxruntime-web, in the
// worker: the model file and the WASM downloaded and checked by sha256 (ort_session.ts), one input
// per feature ([n, 1] float32 or string), the "probabilities" output as the scores.
import * as ort from "onnxruntime-web/wasm";
import type { OnProgress } from "../../download";
import type { Model } from "../../host";
import { checkedFile, variantFile } from "../../model_files";
import { loadOrtModel, ORT_BACKEND } from "../../ort_session";
import type { Feature, InitRequest, InitResult, Manifest, Prediction } from "../../types";
import { checkRows, checkTabularGraph, columns, featuresOf, OUTPUT, recordOf, toPredictions, typicalRow } from "./rows";

export class TabularRuntime implements Model {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly manifest: Manifest,
    readonly features: Feature[],
    readonly result: InitResult,
  ) {}

  static async load(request: InitRequest, onProgress: OnProgress): Promise<TabularRuntime> {
    const { manifest, variant } = request;
    const features = featuresOf(manifest);
    const modelFile = variantFile(manifest, variant);
    const loaded = await loadOrtModel(request, [checkedFile(manifest, request.modelUrl, modelFile)], onProgress);
    checkTabularGraph(loaded.session.inputNames, loaded.session.outputNames, features, modelFile);
    const runtime = new TabularRuntime(loaded.session, manifest, features, {
      engine: "onnxruntime-web",
      backend: ORT_BACKEND,
      threads: loaded.threads,
      bytes_downloaded: loaded.bytesDownloaded,
      model_bytes: loaded.modelBytes,
      wasm_bytes: loaded.wasmBytes,
    });
    await runtime.predictRows([typicalRow(features)]); // the first run is the slow one: before "ready"
    return runtime;
  }

  tokenize(): number[][] {
    throw new Error(`model ${this.manifest.name} takes rows of form data, not texts: it has no tokenizer`);
  }

  predict(): Promise<Prediction[]> {
    throw new Error(`model ${this.manifest.name} takes rows of form data ([{column: value}]), not texts`);
  }

  async predictRows(rows: unknown): Promise<Prediction[]> {
    checkRows(this.features, rows);
    if (rows.length === 0) return [];
    let feeds: Record<string, ort.Tensor> = {};
    let outputs: ort.InferenceSession.OnnxValueMapType | undefined;
    try {
      feeds = recordOf(Array.from(columns(this.features, rows), ([name, column]) => [name, new ort.Tensor(column.type, column.data, [rows.length, 1])] as const));
      outputs = await this.session.run(feeds, [OUTPUT]);
      return toPredictions(outputs[OUTPUT].data as Float32Array, this.manifest.labels, rows.length);
    } finally {
      for (const tensor of Object.values(feeds)) tensor.dispose();
      for (const tensor of Object.values(outputs ?? {})) tensor.dispose();
    }
  }
}
