// A tabular model (a scikit-learn pipeline exported whole by skl2onnx) on the compact engine, on
// the page's own thread: no worker, no WASM. The model file is downloaded and checked by sha256
// as everywhere; one input per feature ([n, 1] float32 or string, rows.ts builds them as Python's
// staticml.tabular.feeds does), the "probabilities" output as the scores, checked and turned into
// predictions by rows.ts as on onnxruntime-web (runtime.ts, which this file must not import:
// onnxruntime-web stays out of the page's bundle).
import { downloadChecked, type OnProgress } from "../../download";
import { Engine } from "../../engine/engine";
import type { Tensor } from "../../engine/onnx";
import type { Model } from "../../host";
import { checkedFile, variantFile } from "../../model_files";
import type { Feature, InitRequest, InitResult, Manifest, Prediction } from "../../types";
import { checkRows, checkTabularGraph, columns, featuresOf, OUTPUT, recordOf, toPredictions, typicalRow } from "./rows";

export class CompactTabularRuntime implements Model {
  private constructor(
    private readonly engine: Engine,
    private readonly manifest: Manifest,
    readonly features: Feature[],
    readonly result: InitResult,
  ) {}

  static async load(request: InitRequest, onProgress: OnProgress): Promise<CompactTabularRuntime> {
    const { manifest, variant } = request;
    const features = featuresOf(manifest);
    const modelFile = variantFile(manifest, variant);
    const [model] = await downloadChecked([checkedFile(manifest, request.modelUrl, modelFile)], onProgress, request.keepDownloads);
    const engine = Engine.load(model, modelFile);
    checkTabularGraph(engine.inputNames, engine.outputNames, features, modelFile);
    const runtime = new CompactTabularRuntime(engine, manifest, features, {
      engine: "compact",
      backend: "js",
      threads: 1,
      bytes_downloaded: model.byteLength,
      model_bytes: model.byteLength,
      wasm_bytes: 0,
    });
    await runtime.predictRows([typicalRow(features)]); // fails here, before "ready", if the graph cannot run
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
    const feeds = recordOf([...columns(this.features, rows)].map(([name, column]) =>
      [name, { type: column.type, dims: [rows.length, 1], data: column.data } as Tensor] as const));
    const [probabilities] = this.engine.run(feeds, [OUTPUT]);
    if (probabilities.type !== "float32") throw new Error(`the model's ${OUTPUT} are ${probabilities.type}, not float32`);
    return toPredictions(probabilities.data as Float32Array, this.manifest.labels, rows.length);
  }
}
