// Page entry: reads site.json and the manifest, starts the worker, exposes window.staticml,
// and drives the UI.
import { ServerMode } from "./server_mode";
import { Ui } from "./ui";
import type {
  Info,
  InitResult,
  Manifest,
  Prediction,
  PredictResult,
  SiteConfig,
  WorkerMessage,
  WorkerRequest,
} from "./types";

const DEFAULT_EXAMPLES = [
  "I love this, it made my day!",
  "This is the worst service I have ever had.",
  "The meeting is at 3 pm tomorrow.",
  "Not bad at all, better than I expected.",
];
const DEBOUNCE_MS = 150;

/** A request before the client numbers it (Omit applied to each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Request = WithoutId<WorkerRequest>;

/** Request/reply over postMessage: each request gets an id, each reply settles that id. */
class WorkerClient {
  private readonly worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(onProgress: (loaded: number, total: number) => void) {
    this.worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === "progress") return onProgress(message.loaded, message.total);
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error));
    };
    // A worker that fails to start (404, blocked by CSP, script error) fails every call,
    // also the ones made later.
    this.worker.onerror = (event: ErrorEvent) => {
      this.failure = new Error(`the model worker failed: ${event.message || "it could not start"}`);
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
  }

  call<T>(request: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id });
    });
  }
}

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  try {
    return (await response.json()) as T;
  } catch {
    throw new Error(`${url} is not valid JSON`);
  }
}

/** ?threads=N wins; otherwise up to 4 threads when cross-origin isolated, else 1. */
function chooseThreads(params: URLSearchParams): number {
  const asked = Number(params.get("threads"));
  if (Number.isInteger(asked) && asked > 0) return asked;
  return self.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1;
}

function assertStrings(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) {
    throw new TypeError("expected an array of strings");
  }
}

const ui = new Ui();
const params = new URLSearchParams(location.search);
const client = new WorkerClient((loaded, total) => {
  ui.showProgress(loaded, total);
  if (loaded >= total) ui.showPreparing();
});
const info: Info = {
  model: "",
  variant: "",
  backend: "wasm",
  threads: 0,
  bytes_downloaded: 0,
  load_ms: 0,
  model_bytes: 0,
  wasm_bytes: 0,
  cross_origin_isolated: self.crossOriginIsolated,
  last_inference_ms: null,
};
let manifest: Manifest | null = null;
let serverMode: ServerMode | null = null;

async function load(): Promise<void> {
  const site = await fetchJson<SiteConfig>("site.json");
  const name = params.get("model") ?? site.default_model;
  const model = site.models.find((m) => m.name === name);
  if (!model) {
    const known = site.models.map((m) => m.name).join(", ");
    throw new Error(`unknown model "${name}" (available: ${known})`);
  }
  ui.setTitle(site.title ?? "Text classifier");
  ui.showModelPicker(site.models, model.name, (picked) => {
    location.search = `?model=${encodeURIComponent(picked)}`;
  });
  serverMode = ServerMode.offer(site, model.name);
  const modelUrl = new URL(model.path.endsWith("/") ? model.path : `${model.path}/`, location.href).href;
  manifest = await fetchJson<Manifest>(`${modelUrl}manifest.json`);
  const variant = params.get("variant") ?? manifest.default_variant;
  info.model = manifest.name;
  info.variant = variant;
  ui.showModelName(manifest.name, variant);

  const request: Request = {
    type: "init",
    manifest,
    modelUrl,
    variant,
    ortUrl: new URL("assets/ort/", location.href).href,
    threads: chooseThreads(params),
  };
  const result = await client.call<InitResult>(request);
  Object.assign(info, result, { load_ms: performance.now() });
}

const ready: Promise<void> = load();

async function predictWithTime(texts: string[]): Promise<PredictResult> {
  assertStrings(texts);
  await ready;
  const result = await client.call<PredictResult>({ type: "predict", texts });
  info.last_inference_ms = result.ms;
  return result;
}

async function predict(texts: string[]): Promise<Prediction[]> {
  return (await predictWithTime(texts)).predictions;
}

async function tokenize(texts: string[]): Promise<number[][]> {
  assertStrings(texts);
  await ready;
  return client.call<number[][]>({ type: "tokenize", texts });
}

declare global {
  interface Window {
    staticml: {
      ready: Promise<void>;
      predict(texts: string[]): Promise<Prediction[]>;
      tokenize(texts: string[]): Promise<number[][]>;
      info(): Info;
    };
  }
}
window.staticml = { ready, predict, tokenize, info: () => ({ ...info }) };

// ---- UI wiring ----

let latest = 0;
async function score(text: string): Promise<void> {
  const ticket = ++latest;
  if (text.trim() === "") return ui.showPrediction(null, null);
  const result = serverMode?.enabled ? await serverMode.predict([text]) : await predictWithTime([text]);
  if (ticket === latest) ui.showPrediction(result.predictions[0], result.ms);
}

function debounce(fn: (text: string) => void, ms: number): (text: string) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (text) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(text), ms);
  };
}

const report = (error: unknown): void => console.error(error);
ui.onInput(debounce((text) => score(text).catch(report), DEBOUNCE_MS));

ready.then(
  () => {
    ui.showReady({
      model: info.model,
      variant: info.variant,
      modelBytes: info.model_bytes,
      loadMs: info.load_ms,
      backend: info.backend,
      threads: info.threads,
    });
    ui.showExamples(manifest?.examples ?? DEFAULT_EXAMPLES, (text) => score(text).catch(report));
  },
  (error: unknown) => ui.showError(error instanceof Error ? error.message : String(error)),
);
