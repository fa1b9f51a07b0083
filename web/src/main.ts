// Page entry: reads site.json and the manifest, loads the model on its engine (the compact one in
// the page, or onnxruntime-web in the worker), exposes window.staticml, and drives the UI.
import { FileScoring } from "./file_scoring";
import { registerServiceWorker } from "./offline";
import { pageKeepsDownloads } from "./offline_copy";
import { ServerMode } from "./server_mode";
import { featuresOf, positiveLabel } from "./tabular";
import { TabularForm } from "./tabular_form";
import type { FileScores, Info, Manifest, Prediction, PredictResult, Row, SiteConfig } from "./types";
import { $, Ui } from "./ui";
import { engineOf } from "./local_client";
import { backendLabel, connectModel, type BackendChoice, type InitCall } from "./backend";
import { debounce } from "./debounce";
import { chooseThreads, DEBOUNCE_MS, fromQuery } from "./settings";
import { fetchJson, type ModelClient, type ProgressHandlers } from "./worker_client";

const DEFAULT_EXAMPLES = [
  "I love this, it made my day!",
  "This is the worst service I have ever had.",
  "The meeting is at 3 pm tomorrow.",
  "Not bad at all, better than I expected.",
];

function assertStrings(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) {
    throw new TypeError("expected an array of strings");
  }
}

const ui = new Ui();
const settings = fromQuery(location.search);
const handlers: ProgressHandlers = {
  onDownload(loaded, total) {
    ui.showProgress(loaded, total);
    if (loaded >= total) ui.showPreparing();
  },
  onFileProgress: (done, total) => fileScoring.onProgress(done, total),
};
// Chosen once the manifest says which engine runs the variant (the card is enabled only after ready).
let model: ModelClient | null = null;
const client: ModelClient = {
  call: (request) => (model ? model.call(request) : Promise.reject(new Error("the model is not loaded"))),
};
const fileScoring = new FileScoring(client);
const info: Info = {
  model: "",
  variant: "",
  engine: "onnxruntime-web",
  backend: "wasm",
  adapter: null,
  backend_reason: "",
  threads: 0,
  bytes_downloaded: 0,
  load_ms: 0,
  model_bytes: 0,
  wasm_bytes: 0,
  cross_origin_isolated: self.crossOriginIsolated,
  last_inference_ms: null,
};
let manifest: Manifest | null = null;
let backendChoice: BackendChoice | null = null;
let serverMode: ServerMode | null = null;
// A tabular model's page: the form instead of the text box (tabular_form.ts).
let tabularForm: TabularForm | null = null;
const TABULAR = "tabular-classification";

async function load(): Promise<void> {
  const site = await fetchJson<SiteConfig>("site.json");
  const name = settings.model ?? site.default_model;
  const entry = site.models.find((m) => m.name === name);
  if (!entry) {
    const known = site.models.map((m) => m.name).join(", ");
    throw new Error(`unknown model "${name}" (available: ${known})`);
  }
  ui.setTitle(site.title ?? "Text classifier");
  ui.showModelPicker(site.models, entry.name, (picked) => {
    location.search = `?model=${encodeURIComponent(picked)}`;
  });
  serverMode = ServerMode.offer(site, entry.name);
  const modelUrl = new URL(entry.path.endsWith("/") ? entry.path : `${entry.path}/`, location.href).href;
  manifest = await fetchJson<Manifest>(`${modelUrl}manifest.json`);
  const variant = settings.variant ?? manifest.default_variant;
  info.model = manifest.name;
  info.variant = variant;
  ui.showModelName(manifest.name, variant);
  if (manifest.task === TABULAR) {
    if (!site.title) ui.setTitle("Check your answers privately");
    tabularForm = new TabularForm(featuresOf(manifest), positiveLabel(manifest), predictRowsWithTime, (ms) => {
      $("d-infer").textContent = `${ms.toFixed(1)} ms`;
    });
    tabularForm.mount();
  }

  const request: InitCall = {
    type: "init",
    manifest,
    modelUrl,
    variant,
    ortUrl: new URL("assets/ort/", location.href).href,
    threads: chooseThreads(settings.threads),
    keepDownloads: pageKeepsDownloads(),
  };
  info.engine = engineOf(manifest, variant);
  const connected = await connectModel(manifest, variant, request, new URL("./", import.meta.url), handlers, settings.backend);
  model = connected.client;
  backendChoice = connected.choice;
  Object.assign(info, connected.result, { load_ms: performance.now(), adapter: backendChoice?.adapter ?? null,
                                          backend_reason: backendChoice?.reason ?? "the compact engine runs in the page" });
}

const ready: Promise<void> = load();

async function predictWithTime(texts: string[]): Promise<PredictResult> {
  if (await isTabular()) return predictRowsWithTime(texts as unknown as Row[]);
  assertStrings(texts);
  await ready;
  const result = await client.call<PredictResult>({ type: "predict", texts });
  info.last_inference_ms = result.ms;
  return result;
}

/** Known once the page is ready (or failed): a manifest with task "tabular-classification". */
function isTabular(): Promise<boolean> {
  const tabular = (): boolean => manifest?.task === TABULAR;
  return ready.then(tabular, tabular);
}

/** Rows of form data ([{column: value}]), checked in the worker (each error names the row and field). */
async function predictRowsWithTime(rows: Row[]): Promise<PredictResult> {
  await ready;
  const result = await client.call<PredictResult>({ type: "predict-rows", rows });
  info.last_inference_ms = result.ms;
  return result;
}

async function predict(texts: string[]): Promise<Prediction[]> {
  return (await predictWithTime(texts)).predictions;
}

/** Scores one column of a file (CSV/TSV/TXT/JSONL) in the worker, like the "Score a file" card. */
async function scoreFile(file: File, column?: string): Promise<FileScores> {
  await ready;
  const summary = await fileScoring.open(file);
  return fileScoring.score(column ?? summary.suggested);
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
      /** Texts, or for a tabular model rows of form data: [{column: value}]. */
      predict(input: string[] | Row[]): Promise<Prediction[]>;
      tokenize(texts: string[]): Promise<number[][]>;
      scoreFile(file: File, column?: string): Promise<FileScores>;
      info(): Info;
    };
  }
}
window.staticml = { ready, predict, tokenize, scoreFile, info: () => ({ ...info }) };

// ---- UI wiring ----

let latest = 0;
async function score(text: string): Promise<void> {
  const ticket = ++latest;
  if (text.trim() === "") return ui.showPrediction(null, null);
  const result = serverMode?.enabled ? await serverMode.predict([text]) : await predictWithTime([text]);
  if (ticket === latest) ui.showPrediction(result.predictions[0], result.ms);
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
      backend: backendLabel(info.engine, backendChoice),
      threads: info.threads,
    });
    if (tabularForm && manifest) {
      tabularForm.enable();
      fileScoring.view.scoreWholeRows(featuresOf(manifest).map((f) => f.name));
    } else {
      ui.uncertainBelow = manifest?.uncertain_below ?? 0;
      ui.showExamples(manifest?.examples ?? DEFAULT_EXAMPLES, (text) => score(text).catch(report));
    }
    fileScoring.enable(manifest?.labels ?? []);
    // After ready, so that installing it (which downloads the site once more, from the HTTP
    // cache when the host allows) never competes with the first load.
    // Several threads help onnxruntime-web only: a page on the compact engine never reloads for them.
    registerServiceWorker(info.engine !== "compact" && navigator.hardwareConcurrency > 1).catch(report);
  },
  (error: unknown) => {
    ui.showError(error instanceof Error ? error.message : String(error));
    fileScoring.view.disable("Scoring a file needs the model, which could not be loaded.");
  },
);
