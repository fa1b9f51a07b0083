// A tabular model (a scikit-learn pipeline exported whole by skl2onnx) on the compact engine, on
// the page's own thread: no worker, no WASM. The model file is downloaded and checked by sha256
// as everywhere; one input per feature ([n, 1] float32 or string, tabular.ts builds them as
// Python's staticml.tabular.feeds does), the "probabilities" output as the scores, checked and
// turned into predictions in tabular_runtime.ts's words (that file imports onnxruntime-web, which
// must stay out of the page's bundle, so nothing here comes from it).
import { fileEntry, type OnProgress } from "./classify";
import { downloadChecked } from "./download";
import { Engine } from "./engine/engine";
import type { Tensor } from "./engine/onnx";
import type { Model } from "./host";
import { checkRows, columns, featuresOf, recordOf, typicalRow } from "./tabular";
import type { Feature, InitRequest, InitResult, Manifest, Prediction } from "./types";

const OUTPUT = "probabilities";

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
    const modelFile = manifest.variants[variant];
    if (!modelFile) throw new Error(`model ${manifest.name} has no variant "${variant}" (available: ${Object.keys(manifest.variants).join(", ")})`);
    const file = { url: request.modelUrl + modelFile, name: modelFile, entry: fileEntry(manifest, modelFile) };
    const [model] = await downloadChecked([file], onProgress, request.keepDownloads);
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

/** The graph's inputs are exactly the features, and it answers "probabilities". */
function checkTabularGraph(inputs: readonly string[], outputs: readonly string[], features: Feature[], modelFile: string): void {
  const names = new Set(features.map((f) => f.name));
  const extra = inputs.filter((n) => !names.has(n));
  const missing = features.filter((f) => !inputs.includes(f.name)).map((f) => f.name);
  if (extra.length || missing.length) {
    throw new Error(`${modelFile}: its inputs do not match manifest.json "features"` +
      (extra.length ? ` (not in features: ${extra.join(", ")})` : "") + (missing.length ? ` (no input for: ${missing.join(", ")})` : ""));
  }
  if (!outputs.includes(OUTPUT)) {
    throw new Error(`${modelFile}: the graph has no output named '${OUTPUT}' (its outputs: ${outputs.join(", ")})`);
  }
}

function toPredictions(probs: Float32Array, labels: string[], rows: number): Prediction[] {
  if (probs.length !== rows * labels.length) {
    throw new Error(`model returned ${probs.length} probabilities for ${rows} rows and ${labels.length} labels`);
  }
  return Array.from({ length: rows }, (_, r) => {
    const scores: Record<string, number> = {};
    labels.forEach((label, i) => (scores[label] = probs[r * labels.length + i]));
    const best = labels.reduce((a, b) => (scores[b] > scores[a] ? b : a));
    return { label: best, scores };
  });
}
