// Shapes shared by the page and the worker: the model folder's manifest, site.json,
// the page API's results, and the page <-> worker message protocol.

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
  metrics?: unknown;
  /** The architecture the model folder was trained or imported as (informative). */
  arch?: string;
  /** Tabular models: one entry per input column. */
  features?: Record<string, unknown>;
  /** What `staticml import` read and measured (informative). */
  import?: unknown;
}

/** "compact": the small in-bundle engine (engine/), on the page's thread; else onnxruntime-web in a worker. */
export type EngineName = "compact" | "onnxruntime-web";

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
}

export interface Info {
  model: string;
  variant: string;
  engine: EngineName;
  /** "js" for the compact engine, "wasm" for onnxruntime-web. */
  backend: "js" | "wasm";
  threads: number;
  bytes_downloaded: number;
  load_ms: number;
  model_bytes: number;
  wasm_bytes: number;
  cross_origin_isolated: boolean;
  last_inference_ms: number | null;
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

export type WorkerRequest = InitRequest | TextsRequest | OpenFileRequest | ScoreFileRequest | CancelRequest;

// ---- worker -> page ----

export interface InitResult {
  engine: EngineName;
  backend: "js" | "wasm";
  threads: number;
  bytes_downloaded: number;
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
