// The question-answering page (qa.html, assets/qa.js; its entry, web/build.mjs): a passage (typed, pasted or a dropped .txt
// file), a question, the answer highlighted in the passage with its score and the next-best answers,
// "No answer found" below the model's threshold. The model runs in qa-worker.js on onnxruntime-web.
// window.staticml: ready, info(), answer(question, context) → {answer, score, start, end, …}.
import { registerServiceWorker } from "../../offline";
import { showModelProvenance } from "../../provenance";
import { fromQuery } from "../../settings";
import type { FileEntry, Manifest, SiteConfig } from "../../types";
import { fetchJson, WorkerClient, type WithoutId } from "../../worker_client";
import type { QaInitResult, QaRequest, QaResult, QaSpan } from "./protocol";
import type { PairLayout } from "./windows";

interface QaManifest extends Manifest {
  stride: number;
  max_answer_tokens: number;
  no_answer_below: number;
  pair: PairLayout;
}

export interface Answer {
  answer: string;
  score: number;
  start: number;
  end: number;
  no_answer: boolean;
  alternatives: Array<{ answer: string; score: number; start: number; end: number }>;
}

const MAX_CONTEXT_CHARS = 200_000; // as Python's windows.MAX_CONTEXT_CHARS
const MAX_THREADS = 2;
const settings = fromQuery(location.search);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const state: Record<string, unknown> = { model: "", variant: "", backend: "wasm", threads: 0, bytes_downloaded: 0, load_ms: 0, cross_origin_isolated: self.crossOriginIsolated, provenance: null };
let client: WorkerClient<WithoutId<QaRequest>> | null = null;
let manifest: QaManifest | null = null;

async function start(): Promise<void> {
  const began = performance.now();
  const site = await fetchJson<SiteConfig>("site.json");
  const name = settings.model ?? site.default_model;
  const entry = site.models.find((m) => m.name === name);
  if (!entry) throw new Error(`unknown model "${name}" (available: ${site.models.map((m) => m.name).join(", ")})`);
  const modelUrl = new URL(entry.path.endsWith("/") ? entry.path : `${entry.path}/`, location.href).href;
  manifest = await fetchJson<QaManifest>(`${modelUrl}manifest.json`);
  if (manifest.task !== "question-answering") throw new Error(`model ${manifest.name} is a ${manifest.task} model, not a question-answering one`);
  state.provenance = await showModelProvenance(manifest, modelUrl);
  const variant = settings.variant ?? manifest.default_variant;
  const modelFile = manifest.variants[variant];
  if (!modelFile) throw new Error(`model ${manifest.name} has no variant "${variant}"`);
  const assets = new URL("./", import.meta.url);
  client = new WorkerClient(new URL("qa-worker.js", assets), { onDownload: (loaded, total) => showProgress(loaded, total) });
  const threads = settings.threads ?? (self.crossOriginIsolated ? Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1) : 1);
  const loaded = await client.call<QaInitResult>({
    type: "init", modelUrl, modelFile, modelEntry: manifest.files[modelFile] as FileEntry,
    tokenizerFile: manifest.tokenizer.file, tokenizerEntry: manifest.files[manifest.tokenizer.file] as FileEntry,
    unkToken: manifest.tokenizer.unk_token ?? null, layout: manifest.pair, maxLength: manifest.max_length, stride: manifest.stride,
    maxAnswerTokens: manifest.max_answer_tokens, padId: manifest.tokenizer.pad_id, ortUrl: new URL("ort/", assets).href, threads,
  });
  Object.assign(state, loaded, { model: manifest.name, variant, load_ms: Math.round(performance.now() - began) });
  showReady();
  registerServiceWorker().catch((error: unknown) => console.error(error)); // the offline copy, as the other pages
}

function check(question: string, context: string): void {
  if (typeof question !== "string" || !question.trim()) throw new Error("question is empty");
  if (typeof context !== "string" || !context.trim()) throw new Error("context is empty");
  if (context.length > MAX_CONTEXT_CHARS) {
    throw new Error(`context has ${context.length.toLocaleString("en")} characters; the limit is ${MAX_CONTEXT_CHARS.toLocaleString("en")} (split the passage and ask each part)`);
  }
}

async function ask(question: string, context: string, details = false): Promise<QaResult> {
  await ready;
  check(question, context);
  const result = await (client as WorkerClient<WithoutId<QaRequest>>).call<QaResult>({ type: "answer", question, context, details });
  state.last_ms = result.ms;
  state.last_windows = result.windows;
  return result;
}

function answerOf(spans: QaSpan[], context: string): Answer {
  const below = manifest?.no_answer_below ?? 0;
  if (!spans.length) return { answer: "", score: 0, start: 0, end: 0, no_answer: true, alternatives: [] };
  const [best, ...rest] = spans;
  return {
    answer: context.slice(best.start, best.end), score: best.score, start: best.start, end: best.end, no_answer: best.score < below,
    alternatives: rest.map((s) => ({ answer: context.slice(s.start, s.end), score: s.score, start: s.start, end: s.end })),
  };
}

async function answer(question: string, context: string): Promise<Answer> {
  return answerOf((await ask(question, context)).spans, context);
}

// ---- the view

function showProgress(loaded: number, total: number): void {
  const bar = $<HTMLProgressElement>("progress");
  bar.value = total ? loaded / total : 0;
  $("progress-text").textContent = `${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`;
}

function showReady(): void {
  $("loading").hidden = true;
  for (const id of ["question", "passage", "ask", "passage-file"]) ($(id) as HTMLInputElement).disabled = false;
  $("d-model").textContent = `${state.model} (${state.variant})`;
  $("d-size").textContent = `${(Number(state.model_bytes) / 1e6).toFixed(2)} MB`;
  $("d-backend").textContent = `onnxruntime-web (WASM, ${state.threads} thread${state.threads === 1 ? "" : "s"})`;
}

function showError(message: string): void {
  $("loading").hidden = true;
  $("error").hidden = false;
  $("error-text").textContent = message;
}

function percent(score: number): string {
  return `${(score * 100).toFixed(1)}%`;
}

function render(result: Answer, context: string): void {
  const view = $("answer");
  view.hidden = false;
  $("answer-text").textContent = result.no_answer ? "No answer found" : result.answer;
  $("answer-score").textContent = result.no_answer ? `best guess "${result.answer}" scored only ${percent(result.score)}` : `score ${percent(result.score)}`;
  const highlighted = $("highlighted");
  highlighted.replaceChildren();
  if (!result.no_answer) {
    const mark = document.createElement("mark");
    mark.textContent = context.slice(result.start, result.end);
    highlighted.append(context.slice(Math.max(0, result.start - 300), result.start), mark, context.slice(result.end, result.end + 300));
  }
  const list = $("alternatives");
  list.replaceChildren(...result.alternatives.map((a) => {
    const item = document.createElement("li");
    item.textContent = `${a.answer} (${percent(a.score)})`;
    return item;
  }));
  $("timing").textContent = `${state.last_windows} window${state.last_windows === 1 ? "" : "s"}, ${Math.round(Number(state.last_ms))} ms`;
}

function mountView(): void {
  const form = $<HTMLFormElement>("qa-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $<HTMLInputElement>("question").value;
    const context = $<HTMLTextAreaElement>("passage").value;
    $("form-error").textContent = "";
    answer(question, context).then((result) => render(result, context), (error: unknown) => {
      $("form-error").textContent = error instanceof Error ? error.message : String(error);
    });
  });
  const passage = $<HTMLTextAreaElement>("passage");
  const readFile = (file: File | undefined): void => {
    if (!file) return;
    file.text().then((text) => (passage.value = text), () => ($("form-error").textContent = `${file.name}: cannot read it`));
  };
  $<HTMLInputElement>("passage-file").addEventListener("change", (event) => readFile((event.target as HTMLInputElement).files?.[0]));
  passage.addEventListener("dragover", (event) => event.preventDefault());
  passage.addEventListener("drop", (event) => {
    event.preventDefault();
    readFile(event.dataTransfer?.files[0]);
  });
}

mountView();
const ready: Promise<void> = start();
ready.catch((error: unknown) => showError(error instanceof Error ? error.message : String(error)));
(window as unknown as { staticml: object }).staticml = {
  ready,
  info: () => ({ ...state }),
  answer,
  /** The windows, logits and spans of one pair (verify compares them with Python's). */
  details: async (question: string, context: string) => (await ask(question, context, true)),
};
