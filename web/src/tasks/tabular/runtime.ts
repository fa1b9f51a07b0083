// A tabular model (a scikit-learn pipeline exported whole by skl2onnx) on onnxruntime-web, in the
// worker: the model file and the WASM downloaded and checked by sha256 like a text model's, one
// input per feature ([n, 1] float32 or string), the "probabilities" output as the scores.
import * as ort from "onnxruntime-web/wasm";
import { fileEntry, type ExtraFile, type OnProgress } from "./classify";
import { downloadChecked } from "./download";
import type { Model } from "./host";
import { openSession, setUpOrt } from "./runtime";
import { checkRows, columns, featuresOf, recordOf, typicalRow } from "./tabular";
import type { Feature, InitRequest, InitResult, Manifest, Prediction } from "./types";

const OUTPUT = "probabilities";

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
    const modelFile = manifest.variants[variant];
    if (!modelFile) throw new Error(`model ${manifest.name} has no variant "${variant}" (available: ${Object.keys(manifest.variants).join(", ")})`);
    const files: ExtraFile[] = [
      { url: request.modelUrl + modelFile, name: modelFile, entry: fileEntry(manifest, modelFile) },
      setUpOrt(request),
    ];
    const [model, wasm] = await downloadChecked(files, onProgress, request.keepDownloads);
    const session = await openSession(model, wasm, modelFile);
    checkInputs(session, features, modelFile);
    const runtime = new TabularRuntime(session, manifest, features, {
      engine: "onnxruntime-web",
      backend: "wasm",
      threads: ort.env.wasm.numThreads ?? 1,
      bytes_downloaded: model.byteLength + wasm.byteLength,
      model_bytes: model.byteLength,
      wasm_bytes: wasm.byteLength,
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

/** The graph's inputs are exactly the features, and it answers "probabilities". */
function checkInputs(session: ort.InferenceSession, features: Feature[], modelFile: string): void {
  const names = new Set(features.map((f) => f.name));
  const extra = session.inputNames.filter((n) => !names.has(n));
  const missing = features.filter((f) => !session.inputNames.includes(f.name)).map((f) => f.name);
  if (extra.length || missing.length) {
    throw new Error(`${modelFile}: its inputs do not match manifest.json "features"` +
      (extra.length ? ` (not in features: ${extra.join(", ")})` : "") + (missing.length ? ` (no input for: ${missing.join(", ")})` : ""));
  }
  if (!session.outputNames.includes(OUTPUT)) {
    throw new Error(`${modelFile}: the graph has no output named '${OUTPUT}' (its outputs: ${session.outputNames.join(", ")})`);
  }
}

function toPredictions(probs: Float32Array, labels: string[], rows: number): Prediction[] {
  if (probs.length !== rows * labels.length) {
    throw new Error(`model returned ${probs.length} probabilities for ${rows} rows and ${labels.length} labels`);
  }
  return Array.from({ length: rows }, (_, r) => {
    const scores = recordOf(labels.map((label, i) => [label, probs[r * labels.length + i]] as const));
    const best = labels.reduce((a, b) => (scores[b] > scores[a] ? b : a));
    return { label: best, scores };
  });
}
