// The classifier page's entry: reads site.json and the manifest, looks the model's task up in the
// registry (tasks/classifier.ts) and mounts its view, loads the model on its engine (the compact
// one in the page, or onnxruntime-web in the worker), and exposes window.staticml: ready, info,
// scoreFile, and the members the task offers (tasks/api.ts).
import { FileScoring } from "./file_scoring";
import { registerServiceWorker } from "./offline";
import { pageKeepsDownloads } from "./offline_copy";
import { checkProvenance, showProvenance } from "./provenance";
import { ServerMode } from "./server_mode";
import type { FileScores, Info, Manifest, PredictResult, SiteConfig } from "./types";
import { Ui } from "./ui";
import { engineOf } from "./local_client";
import { backendLabel, connectModel, type BackendChoice, type InitCall } from "./backend";
import { chooseThreads, fromQuery } from "./settings";
import { lateApi, type Loaded } from "./tasks/api";
import { CLASSIFIER_PAGE } from "./tasks/classifier";
import { partFor } from "./tasks/index";
import type { ClassifierPage, ClassifierView } from "./tasks/task";
import { fetchJson, type ModelClient, type ProgressHandlers, type Request } from "./worker_client";

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
  bytes_uncompressed: 0,
  load_ms: 0,
  model_bytes: 0,
  wasm_bytes: 0,
  cross_origin_isolated: self.crossOriginIsolated,
  last_inference_ms: null,
};
let manifest: Manifest | null = null;
let backendChoice: BackendChoice | null = null;
let view: ClassifierView | null = null;
let resolveTask: (task: Loaded<ClassifierPage>) => void = () => undefined;
let rejectTask: (error: unknown) => void = () => undefined;
const task = new Promise<Loaded<ClassifierPage>>((resolve, reject) => {
  resolveTask = resolve;
  rejectTask = reject;
});

async function load(): Promise<void> {
  const site = await fetchJson<SiteConfig>("site.json");
  const name = settings.model ?? site.default_model;
  const entry = site.models.find((m) => m.name === name);
  if (!entry) {
    const known = site.models.map((m) => m.name).join(", ");
    throw new Error(`unknown model "${name}" (available: ${known})`);
  }
  ui.showModelPicker(site.models, entry.name, (picked) => {
    location.search = `?model=${encodeURIComponent(picked)}`;
  });
  const serverMode = ServerMode.offer(site, entry.name);
  const modelUrl = new URL(entry.path.endsWith("/") ? entry.path : `${entry.path}/`, location.href).href;
  manifest = await fetchJson<Manifest>(`${modelUrl}manifest.json`);
  const variant = settings.variant ?? manifest.default_variant;
  info.model = manifest.name;
  info.variant = variant;
  info.provenance = await checkProvenance(manifest, modelUrl);
  showProvenance(info.provenance, document.querySelector(".details dl"));
  ui.showModelName(manifest.name, variant);
  const classifier = partFor(CLASSIFIER_PAGE, manifest, "classifier");
  ui.setTitle(site.title ?? classifier.title);
  const page: ClassifierPage = { manifest, ui, fileScoring, serverMode, client, run };
  view = classifier.mount(page);
  resolveTask({ api: classifier.api, context: page, label: `model ${manifest.name} (${manifest.task})` });

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
ready.catch(rejectTask);

/** A prediction request (texts, rows) once the model is ready; its time goes to info(). */
async function run(request: Request): Promise<PredictResult> {
  await ready;
  const result = await client.call<PredictResult>(request);
  info.last_inference_ms = result.ms;
  return result;
}

/** Scores one column of a file (CSV/TSV/TXT/JSONL) in the worker, like the "Score a file" card. */
async function scoreFile(file: File, column?: string): Promise<FileScores> {
  await ready;
  const summary = await fileScoring.open(file);
  return fileScoring.score(column ?? summary.suggested);
}

// The members the task offers (predict, tokenize, …) wait for the task; a model whose load failed
// rejects them with the reason, as `ready` does.
const taskApi = lateApi(CLASSIFIER_PAGE, task.then(async (loaded) => (await ready, loaded)));
(window as unknown as { staticml: object }).staticml = { ready, ...taskApi, scoreFile, info: () => ({ ...info }) };

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
    view?.ready();
    fileScoring.enable(manifest?.labels ?? []);
    // After ready, so that installing it (which downloads the site once more, from the HTTP
    // cache when the host allows) never competes with the first load.
    // Several threads help onnxruntime-web only: a page on the compact engine never reloads for them.
    registerServiceWorker(info.engine !== "compact" && navigator.hardwareConcurrency > 1).catch((error: unknown) => console.error(error));
  },
  (error: unknown) => {
    ui.showError(error instanceof Error ? error.message : String(error));
    fileScoring.view.disable("Scoring a file needs the model, which could not be loaded.");
  },
);
