// Messages between the question-answering page (main.ts) and its worker (worker.ts).
import type { FileEntry } from "../../types";
import type { PairLayout, Window } from "./windows";

export interface QaInit {
  type: "init";
  modelUrl: string;
  modelFile: string;
  modelEntry: FileEntry;
  tokenizerEntry: FileEntry;
  tokenizerFile: string;
  unkToken: string | null;
  layout: PairLayout;
  maxLength: number;
  stride: number;
  maxAnswerTokens: number;
  padId: number;
  ortUrl: string;
  threads: number;
}

export interface QaAsk {
  type: "answer";
  question: string;
  context: string;
  /** Also return the windows and their logits (verify's parity check). */
  details?: boolean;
}

export type QaRequest = QaInit | QaAsk;

export interface QaInitResult {
  threads: number;
  bytes_downloaded: number;
  model_bytes: number;
  wasm_bytes: number;
}

export interface QaSpan {
  score: number;
  start: number;
  end: number;
}

export interface QaResult {
  spans: QaSpan[];
  windows: number;
  ms: number;
  details?: { windows: Window[]; start_logits: number[][]; end_logits: number[][] };
}
