// The video page's entry (camera.html, assets/camera.js): reads site.json and the manifest, looks
// the model's task up in the registry (tasks/video.ts) and starts its page, and exposes
// window.staticml: ready, info, and the members the task offers (tasks/api.ts).
import { showModelProvenance, type ProvenanceInfo } from "./provenance";
import { fromQuery } from "./settings";
import { lateApi, type Loaded } from "./tasks/api";
import { partFor } from "./tasks/index";
import type { VideoRun } from "./tasks/task";
import { VIDEO_PAGE } from "./tasks/video";
import type { Manifest, SiteConfig } from "./types";
import { fetchJson } from "./worker_client";

const settings = fromQuery(location.search);
let running: VideoRun | null = null;
let provenance: ProvenanceInfo | null = null;

async function start(): Promise<Loaded<VideoRun>> {
  const site = await fetchJson<SiteConfig>("site.json");
  const name = settings.model ?? site.default_model;
  const entry = site.models.find((m) => m.name === name);
  if (!entry) throw new Error(`unknown model "${name}" (available: ${site.models.map((m) => m.name).join(", ")})`);
  const modelUrl = new URL(entry.path.endsWith("/") ? entry.path : `${entry.path}/`, location.href).href;
  const manifest = await fetchJson<Manifest>(`${modelUrl}manifest.json`);
  const task = partFor(VIDEO_PAGE, manifest, "video");
  provenance = await showModelProvenance(manifest, modelUrl);
  const variant = settings.variant ?? manifest.default_variant;
  running = task.start({ manifest, modelUrl, variant, settings, assets: new URL("./", import.meta.url) });
  return { api: task.api, context: running, label: `model ${manifest.name} (${manifest.task})` };
}

const started = start();
const ready: Promise<void> = started.then((loaded) => loaded.context.ready);
ready.catch((error: unknown) => {
  // A task's page shows its own errors; before one runs (no site.json, a model of another page), say it here.
  if (!running) showError(error instanceof Error ? error.message : String(error));
});
const info = (): Record<string, unknown> => ({ ...(running?.info() ?? { model: "", variant: "", cross_origin_isolated: self.crossOriginIsolated }), provenance });
(window as unknown as { staticml: object }).staticml = { ready, info, ...lateApi(VIDEO_PAGE, started.then(async (loaded) => (await loaded.context.ready, loaded))) };

/** The page's error card (#loading, #error, #error-text: camera.html has them, as index.html does). */
function showError(message: string): void {
  const loading = document.getElementById("loading");
  const card = document.getElementById("error");
  const text = document.getElementById("error-text");
  if (loading) loading.hidden = true;
  if (card) card.hidden = false;
  if (text) text.textContent = message;
}
