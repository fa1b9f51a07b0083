// The question-answering page's worker (qa-worker.js): onnxruntime-web (ort_session.ts) runs the
// span model here on the windows of each question and passage, so that the page never freezes.
import * as ort from "onnxruntime-web/wasm";
import { downloadChecked, downloadTally } from "../../download";
import { loadOrtModel } from "../../ort_session";
import { send, serve } from "../../worker_shell";
import type { QaAsk, QaInit, QaInitResult, QaRequest, QaResult } from "./protocol";
import { bestSpans } from "./spans";
import { QaTokenizer, type Window } from "./windows";

const WINDOW_BATCH = 8; // as Python's runner.WINDOW_BATCH
const TOP = 4; // the answer and three next-best

let session: ort.InferenceSession | null = null;
let tokenizer: QaTokenizer | null = null;
let spec: QaInit | null = null;
let tokenTypes = false;

async function init(request: QaInit): Promise<QaInitResult> {
  const tokenizerFile = { url: request.modelUrl + request.tokenizerFile, name: request.tokenizerFile, entry: request.tokenizerEntry };
  const [tokenizerBytes] = await downloadChecked([tokenizerFile], () => undefined);
  const file = { url: request.modelUrl + request.modelFile, name: request.modelFile, entry: request.modelEntry };
  const loaded = await loadOrtModel(request, [file], (done, total) => send({ type: "progress", loaded: done, total }));
  session = loaded.session;
  tokenTypes = session.inputNames.includes("token_type_ids");
  tokenizer = new QaTokenizer(JSON.parse(new TextDecoder().decode(tokenizerBytes)), request.unkToken, request.layout);
  spec = request;
  const { wire } = downloadTally();
  return { threads: loaded.threads, bytes_downloaded: wire, model_bytes: loaded.modelBytes, wasm_bytes: loaded.wasmBytes };
}

function tensor(rows: number[][], width: number, pad: number): ort.Tensor {
  const data = new BigInt64Array(rows.length * width).fill(BigInt(pad));
  rows.forEach((row, r) => row.forEach((v, k) => (data[r * width + k] = BigInt(v))));
  return new ort.Tensor("int64", data, [rows.length, width]);
}

async function logits(windows: Window[], padId: number): Promise<{ starts: Float32Array[]; ends: Float32Array[] }> {
  if (!session) throw new Error("the model is not loaded");
  const starts: Float32Array[] = [];
  const ends: Float32Array[] = [];
  for (let i = 0; i < windows.length; i += WINDOW_BATCH) {
    const batch = windows.slice(i, i + WINDOW_BATCH);
    const width = Math.max(...batch.map((w) => w.ids.length));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: tensor(batch.map((w) => w.ids), width, padId),
      attention_mask: tensor(batch.map((w) => w.ids.map(() => 1)), width, 0),
    };
    if (tokenTypes) feeds.token_type_ids = tensor(batch.map((w) => w.typeIds), width, 0);
    const out = await session.run(feeds, ["start_logits", "end_logits"]);
    const start = out.start_logits.data as Float32Array;
    const end = out.end_logits.data as Float32Array;
    batch.forEach((w, r) => {
      starts.push(start.slice(r * width, r * width + w.ids.length));
      ends.push(end.slice(r * width, r * width + w.ids.length));
    });
    for (const t of [...Object.values(feeds), ...Object.values(out)]) t.dispose();
  }
  return { starts, ends };
}

async function answer(request: QaAsk): Promise<QaResult> {
  if (!tokenizer || !spec) throw new Error("the model is not loaded");
  const began = performance.now();
  const windows = tokenizer.windows(request.question, request.context, spec.maxLength, spec.stride);
  const { starts, ends } = await logits(windows, spec.padId);
  const spans = bestSpans(windows, starts, ends, spec.maxAnswerTokens, TOP);
  const result: QaResult = { spans, windows: windows.length, ms: performance.now() - began };
  if (request.details) result.details = { windows, start_logits: starts.map((s) => [...s]), end_logits: ends.map((e) => [...e]) };
  return result;
}

serve<QaRequest & { id: number }>(async (request) => (request.type === "init" ? init(request) : answer(request)));
