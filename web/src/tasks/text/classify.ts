// What both engines share: the variant's files (downloaded with progress, checked against the
// manifest's sha256 with the same words), the graph's inputs and its `logits` output, batching
// as the Python side does, and logits → predictions.
import { downloadChecked, type CheckedFile, type OnProgress } from "../../download";
import { checkedFile, variantFile } from "../../model_files";
import type { InitRequest, Manifest, Prediction } from "../../types";
import { predictionSet } from "./sets";
import { TextTokenizer } from "./tokenize";

/** Same as the Python side's batch size (staticml.runtime.Classifier.probabilities). */
export const BATCH_SIZE = 64;

export interface Fetched {
  modelFile: string;
  model: Uint8Array;
  /** Built from the checked tokenizer.json, with the page's tokenization rule. */
  tokenizer: TextTokenizer;
  bytes: number;
}

/** The variant's graph and the tokenizer, to be downloaded and checked by sha256 (in this order). */
export function textFiles(request: InitRequest): CheckedFile[] {
  const { manifest, variant, modelUrl } = request;
  return [checkedFile(manifest, modelUrl, variantFile(manifest, variant)), checkedFile(manifest, modelUrl, manifest.tokenizer.file)];
}

/** The page's tokenizer from the checked bytes of tokenizer.json. */
export function readTokenizer(manifest: Manifest, bytes: Uint8Array): TextTokenizer {
  return new TextTokenizer(JSON.parse(new TextDecoder().decode(bytes)), manifest.tokenizer, manifest.max_length);
}

/** Downloads the variant's model file and the tokenizer, both checked by sha256. */
export async function fetchModel(request: InitRequest, onProgress: OnProgress): Promise<Fetched> {
  const files = textFiles(request);
  const [model, tokenizer] = await downloadChecked(files, onProgress, request.keepDownloads);
  return { modelFile: files[0].name, model, tokenizer: readTokenizer(request.manifest, tokenizer), bytes: model.length + tokenizer.length };
}

/** Fails at load time, with a clear message, if the graph wants an input we cannot feed or has no logits. */
export function checkGraph(inputs: readonly string[], outputs: readonly string[], manifest: Manifest, modelFile: string): void {
  const known = new Set(["input_ids", "attention_mask", ...Object.keys(manifest.extra_inputs ?? {})]);
  const missing = inputs.filter((name) => !known.has(name));
  if (missing.length > 0) {
    throw new Error(
      `model ${manifest.name} needs inputs the page cannot feed: ${missing.join(", ")} ` +
        `(declare them in manifest.json "extra_inputs", e.g. {"token_type_ids": "zeros"})`,
    );
  }
  if (!outputs.includes("logits")) {
    throw new Error(`${modelFile}: the graph has no output named 'logits' (its outputs: ${outputs.join(", ") || "none"})`);
  }
}

/** Runs texts in consecutive batches of BATCH_SIZE, as the Python side does (int8 graphs may
 * depend on the batch a text shares, so the batches must be the same on both sides). */
export async function inBatches(
  texts: string[],
  run: (batch: string[]) => Prediction[] | Promise<Prediction[]>,
  between?: () => Promise<void> | undefined,
): Promise<Prediction[]> {
  const predictions: Prediction[] = [];
  for (let start = 0; start < texts.length; start += BATCH_SIZE) {
    if (start > 0) await between?.();
    const batch = await run(texts.slice(start, start + BATCH_SIZE));
    for (const p of batch) predictions.push(p);
  }
  return predictions;
}

/** The feeding rule (as staticml.runtime.model_feeds): ids, mask, and zeros for any declared extra
 * input (token_type_ids), in the array type the engine takes. */
export function inputData<T extends { length: number }>(name: string, ids: T, mask: T, zeros: (length: number) => T): T {
  if (name === "input_ids") return ids;
  if (name === "attention_mask") return mask;
  return zeros(ids.length);
}

/** Probabilities per label; with `setThreshold` (manifest conformal.threshold) each prediction's set too. */
export function toPredictions(logits: Float32Array, labels: string[], rows: number, setThreshold?: number): Prediction[] {
  const width = labels.length;
  if (logits.length !== rows * width) {
    throw new Error(`model returned ${logits.length} logits for ${rows} texts and ${width} labels`);
  }
  const predictions: Prediction[] = [];
  for (let r = 0; r < rows; r++) {
    const probs = softmax(logits.subarray(r * width, (r + 1) * width));
    // fromEntries defines properties: a label named __proto__ stays a label, not a prototype.
    const scores: Record<string, number> = Object.fromEntries(labels.map((label, i) => [label, probs[i]]));
    const prediction: Prediction = { label: labels[argmax(probs)], scores };
    if (setThreshold !== undefined) prediction.set = predictionSet(probs, labels, setThreshold);
    predictions.push(prediction);
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
