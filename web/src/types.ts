// Shapes shared by the page and the worker: the model folder's manifest, site.json,
// the page API's results, and the page <-> worker message protocol.
import type { ProvenanceInfo } from "./provenance";

export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface TokenizerSpec {
  file: string;
  prefix_ids: number[];
  suffix_ids: number[];
  pad_id: number;
  unk_token?: string | null;
}

export interface Manifest {
  name: string;
  task: string;
  labels: string[];
  max_length: number;
  files: Record<string, FileEntry>;
  variants: Record<string, string>;
  default_variant: string;
  tokenizer: TokenizerSpec;
  /** Graph inputs fed as int64 zeros shaped like input_ids, e.g. {"token_type_ids": "zeros"}. */
  extra_inputs?: Record<string, "zeros">;
  /** Optional example sentences for the page. */
  examples?: string[];
  /** The page's engine per variant, written by `staticml build`; absent: onnxruntime-web. */
  engines?: Record<string, EngineName>;
  /** onnxruntime-web's backends the site ships for this model, written by `staticml build`; absent: ["wasm"]. */
  backends?: BackendName[];
  metrics?: unknown;
  /** The architecture the model folder was trained or imported as (informative). */
  arch?: string;
  /** Tabular models: one entry per input column, in the graph's input order. */
  features?: Feature[];
  /** Tabular models: the favourable outcome, whose probability the form's headline shows (absent: the last label). */
  positive_label?: string;
  /** What `staticml import` read and measured (informative). */
  import?: unknown;
  /** Licence, author, source, model card (staticml.provenance.terms); shown on the page. */
  provenance?: { license?: string; license_file?: string; author?: string; source_url?: string; card?: string };
  /** Ed25519 signature of the signed fields (staticml.provenance.signing); checked by provenance.ts. */
  signature?: { algorithm: string; public_key: string; key_id: string; signer: string; value: string };
  /** The page says "not sure" when the top probability is below this (trained models, from validation data). */
  uncertain_below?: number;
  /** Prediction sets: a label joins at probability >= threshold; they hold the true label `coverage` of the time. */
  conformal?: { coverage: number; threshold?: number; [figure: string]: unknown };
  /** Face-detection models: the one description Python (staticml.detect) and the page decode from. */
  detector?: DetectorSpec;
  /** Face- and hand-landmark models: their models' one description (tasks/landmarks/spec.ts reads it). */
  pipeline?: Record<string, unknown>;
  /** Question answering: tokens shared by consecutive windows of a long passage. */
  stride?: number;
  /** Question answering: the longest answer span, in tokens. */
  max_answer_tokens?: number;
  /** Question answering: the page says "no answer found" below this score. */
  no_answer_below?: number;
  /** Question answering: special token ids around a question and a passage (tasks/question_answering/windows.py). */
  pair?: object;
}

/** manifest "detector": MediaPipe SSD anchors, score and NMS settings (web/src/camera/decode.ts). */
export interface DetectorSpec {
  input: { name: string; width: number; height: number; layout: "NHWC"; channels: "RGB"; range: [number, number]; resize: "letterbox" | "stretch" };
  outputs: { boxes: string; scores: string };
  anchors: { num_layers: number; strides: number[]; offset_x: number; offset_y: number; interpolated_scale_aspect_ratio: number; count?: number };
  keypoints: number;
  keypoint_names?: string[];
  raw_score_limit: number;
  score_threshold: number;
  nms: { iou_threshold: number; weighted: boolean };
}

/** One input column of a tabular model (manifest "features"; staticml.tabular checks it). */
export interface Feature {
  name: string;
  type: "number" | "category" | "yes-no";
  min?: number;
  max?: number;
  step?: number;
  categories?: string[];
  optional: boolean;
  typical: number | string | boolean | null;
  /** What the form shows (`--feature-info`): a display name, a unit, a help line. */
  label?: string;
  unit?: string;
  help?: string;
}

/** A tabular model's input: every feature's value; null when missing. */
export type RowValue = number | string | boolean | null;
export type Row = Record<string, RowValue>;

/** "compact": the small in-bundle engine (engine/), on the page's thread; else onnxruntime-web in a worker. */
export type EngineName = "compact" | "onnxruntime-web";

/** onnxruntime-web's execution provider: WASM (CPU) or WebGPU. */
export type BackendName = "wasm" | "webgpu";

export interface SiteModel {
  name: string;
  path: string;
}

export interface SiteConfig {
  models: SiteModel[];
  default_model: string;
  api_url?: string | null;
  title?: string;
}

export interface Prediction {
  label: string;
  scores: Record<string, number>;
  /** The conformal prediction set (most probable first) when the manifest has "conformal". */
  set?: string[];
}

export interface Info {
  model: string;
  variant: string;
  engine: EngineName;
  /** "js" for the compact engine, "wasm" or "webgpu" for onnxruntime-web. */
  backend: "js" | BackendName;
  /** The WebGPU adapter asked for ("google swiftshader (fallback adapter)"), or null when none was. */
  adapter: string | null;
  /** Why this backend: asked for, chosen, or the fallback to WASM and its cause. */
  backend_reason: string;
  threads: number;
  /** Bytes of the model's files (and the WASM) as they crossed the network: compressed, 0 from a cache. */
  bytes_downloaded: number;
  /** The same files as the page holds them, uncompressed. */
  bytes_uncompressed: number;
  load_ms: number;
  model_bytes: number;
  wasm_bytes: number;
  cross_origin_isolated: boolean;
  last_inference_ms: number | null;
  /** The model's licence, author and signature check (provenance.ts); null until the manifest is read. */
  provenance?: ProvenanceInfo | null;
}

// ---- page -> worker ----

export interface InitRequest {
  id: number;
  type: "init";
  manifest: Manifest;
  /** Absolute URL of the model folder, ending in "/". */
  modelUrl: string;
  variant: string;
  /** Absolute URL of the folder holding ort-wasm-simd-threaded.{mjs,wasm}, ending in "/". */
  ortUrl: string;
  threads: number;
  /** onnxruntime-web's execution provider (the WebGPU worker runs "webgpu"); absent: "wasm". */
  backend?: BackendName;
  /** A first visit (no service worker serves the page yet): keep the checked downloads for it (offline_copy.ts). */
  keepDownloads?: boolean;
}

export interface TextsRequest {
  id: number;
  type: "predict" | "tokenize";
  texts: string[];
}

/** Reads a CSV/TSV/TXT/JSONL file into the worker (the file never leaves the device). */
export interface OpenFileRequest {
  id: number;
  type: "open-file";
  file: Blob;
  name: string;
}

/** Scores one column of the opened file; progress arrives as "file-progress" messages. */
export interface ScoreFileRequest {
  id: number;
  type: "score-file";
  column: string;
}

/** Stops the running "score-file" request; it then replies with the rows scored so far. */
export interface CancelRequest {
  id: number;
  type: "cancel";
}

/** Rows of form data for a tabular model. */
export interface RowsRequest {
  id: number;
  type: "predict-rows";
  rows: Row[];
}

export type WorkerRequest = InitRequest | TextsRequest | RowsRequest | OpenFileRequest | ScoreFileRequest | CancelRequest;

// ---- worker -> page ----

export interface InitResult {
  engine: EngineName;
  backend: "js" | BackendName;
  threads: number;
  /** Filled in by ModelHost (host.ts) from download.ts's tally: on the wire, and uncompressed. */
  bytes_downloaded: number;
  bytes_uncompressed?: number;
  model_bytes: number;
  wasm_bytes: number;
}

export interface PredictResult {
  predictions: Prediction[];
  /** Tokenization + inference time inside the worker. */
  ms: number;
}

export type FileFormat = "csv" | "tsv" | "txt" | "jsonl";

export interface FileSummary {
  name: string;
  format: FileFormat;
  columns: string[];
  rows: number;
  /** The column most likely to hold the texts. */
  suggested: string;
}

export interface FileScores {
  column: string;
  /** The file's columns, and each scored row's cells: the download keeps them, as `staticml predict` does. */
  columns: string[];
  cells: (string | undefined)[][];
  /** 1-based row numbers in the file (header excluded) of the scored rows. */
  rows: number[];
  texts: string[];
  predictions: Prediction[];
  /** Rows without a value in the column: not scored. */
  skipped: number;
  cancelled: boolean;
  ms: number;
}

export interface FileProgressMessage {
  type: "file-progress";
  done: number;
  total: number;
}

export interface ProgressMessage {
  type: "progress";
  loaded: number;
  total: number;
}

export interface ReplyOk {
  type: "reply";
  id: number;
  ok: true;
  result: InitResult | PredictResult | number[][] | FileSummary | FileScores | null;
}

export interface ReplyError {
  type: "reply";
  id: number;
  ok: false;
  error: string;
}

export type WorkerMessage = ProgressMessage | FileProgressMessage | ReplyOk | ReplyError;
