// Camera page entry: loads the face detector into its worker, exposes window.staticml (detect,
// info, camera control), runs the camera loop (one frame in flight, transferred as an
// ImageBitmap) and turns head movement into `staticml:navigate` events on document.
import { registerServiceWorker } from "../offline";
import { pageKeepsDownloads } from "../offline_copy";
import { fromQuery } from "../settings";
import type { Manifest, SiteConfig } from "../types";
import { fetchJson } from "../worker_client";
import { DetectorClient } from "./client";
import { largest, type Detection } from "./decode";
import type { DetectResult } from "./protocol";
import { Tracker, type Direction } from "./tracker";
import { CameraView } from "./view";

const settings = fromQuery(location.search);
// One WASM thread unless ?threads= says otherwise: BlazeFace is too small to gain from a second one
// (bench on 2 busy cores: 35-40 fps on 1 thread, 19-22 fps on 2; native onnxruntime 1 thread faster too).
const CAMERA_THREADS = 1;
// ?camera=on starts the camera without a click (verify and bench use it; the browser still asks).
const autostart = new URLSearchParams(location.search).get("camera") === "on";
const view = new CameraView();
const tracker = new Tracker();
const client = new DetectorClient(new URL("./camera-worker.js", import.meta.url), (loaded, total) => view.showProgress(loaded, total));

const info = {
  model: "",
  variant: "",
  engine: "onnxruntime-web",
  backend: "wasm",
  threads: 0,
  bytes_downloaded: 0,
  load_ms: 0,
  model_bytes: 0,
  wasm_bytes: 0,
  cross_origin_isolated: self.crossOriginIsolated,
  last_inference_ms: null as number | null,
  fps: 0,
  frames: 0,
  first_detection_ms: null as number | null,
  camera: "off" as "off" | "starting" | "on" | "denied" | "unavailable",
  camera_error: null as string | null,
  face: false,
};

async function load(): Promise<void> {
  const site = await fetchJson<SiteConfig>("site.json");
  const entry = site.models.find((m) => m.name === (settings.model ?? site.default_model));
  if (!entry) throw new Error(`unknown model "${settings.model}" (available: ${site.models.map((m) => m.name).join(", ")})`);
  const modelUrl = new URL(entry.path.endsWith("/") ? entry.path : `${entry.path}/`, location.href).href;
  const manifest = await fetchJson<Manifest>(`${modelUrl}manifest.json`);
  if (manifest.task !== "face-detection" || !manifest.detector) {
    throw new Error(`model ${manifest.name} is a ${manifest.task} model, not a face detector`);
  }
  const variant = settings.variant ?? manifest.default_variant;
  const modelFile = manifest.variants[variant];
  if (!modelFile) throw new Error(`model ${manifest.name} has no variant "${variant}"`);
  const result = await client.init({
    type: "init",
    spec: manifest.detector,
    modelUrl,
    modelFile,
    modelEntry: manifest.files[modelFile],
    ortUrl: new URL("assets/ort/", location.href).href,
    threads: settings.threads ?? CAMERA_THREADS,
    keepDownloads: pageKeepsDownloads(),
  });
  Object.assign(info, result, { model: manifest.name, variant, load_ms: performance.now() });
}

const ready: Promise<void> = load();

// ---- the page API ----

type Image = ImageData | ImageBitmap | HTMLVideoElement | HTMLCanvasElement | HTMLImageElement | OffscreenCanvas;

/** Detections of one image, normalised to it; the caller's image stays usable (a copy is sent). */
async function detect(image: Image): Promise<Detection[]> {
  await ready;
  const result = await detectFrame(image);
  info.last_inference_ms = result.ms;
  return result.detections;
}

async function detectFrame(image: Image): Promise<DetectResult> {
  if (image instanceof ImageData) {
    const pixels = image.data.slice().buffer;
    return client.detect({ type: "detect", width: image.width, height: image.height, pixels });
  }
  const bitmap = await createImageBitmap(image);
  return client.detect({ type: "detect", width: bitmap.width, height: bitmap.height, bitmap });
}

// ---- navigation ----

/** The one way anything navigates here: a `staticml:navigate` event on document, which the page obeys. */
function navigate(direction: Direction, source: "camera" | "keyboard"): void {
  document.dispatchEvent(new CustomEvent("staticml:navigate", { detail: { direction, source } }));
}

document.addEventListener("staticml:navigate", (event) => {
  const { direction, source } = (event as CustomEvent<{ direction: Direction; source?: string }>).detail;
  view.apply(direction, source ?? "page");
});

const KEYS: Record<string, Direction> = { ArrowLeft: "previous", ArrowRight: "next", ArrowUp: "up", ArrowDown: "down" };
document.addEventListener("keydown", (event) => {
  const direction = KEYS[event.key];
  const target = event.target as HTMLElement | null;
  if (!direction || event.altKey || event.ctrlKey || event.metaKey || target?.closest("input, textarea, select")) return;
  event.preventDefault();
  navigate(direction, "keyboard");
});

// ---- the camera ----

let stream: MediaStream | null = null;
let running = false;
const finished: number[] = [];

async function startCamera(): Promise<void> {
  if (running || info.camera === "starting") return;
  info.camera = "starting";
  view.status("Asking for the camera…");
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error("no camera API"), { name: "NotSupportedError" });
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, facingMode: "user" }, audio: false });
  } catch (error) {
    return cameraFailed(error);
  }
  view.video.srcObject = stream;
  await view.video.play();
  running = true;
  info.camera = "on";
  tracker.calibrate();
  view.setSwitch(true);
  view.face("calibrating");
  view.status("The camera is on. Frames are processed on this device and dropped.");
  void loop();
}

function cameraFailed(error: unknown): void {
  const name = error instanceof Error ? error.name : "";
  const denied = name === "NotAllowedError" || name === "SecurityError";
  info.camera = denied ? "denied" : "unavailable";
  info.camera_error = error instanceof Error ? error.message : String(error);
  view.setSwitch(false);
  view.face("off");
  view.status(denied
    ? "The camera was not allowed, so head movement is off. The arrow keys still work: ← → for cards, ↑ ↓ for the text."
    : name === "NotFoundError" || name === "NotSupportedError"
      ? "No camera is available here. The arrow keys still work: ← → for cards, ↑ ↓ for the text."
      : `The camera could not start (${info.camera_error}). The arrow keys still work.`);
}

function stopCamera(): void {
  running = false;
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  view.video.srcObject = null;
  info.camera = "off";
  info.fps = 0;
  view.setSwitch(false);
  view.face("off");
  view.status("The camera is off. The arrow keys work without it.");
}

function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

async function loop(): Promise<void> {
  while (running) {
    await nextFrame(view.video);
    if (!running || view.video.videoWidth === 0) continue;
    try {
      const bitmap = await createImageBitmap(view.video);
      const result = await client.detect({ type: "detect", width: bitmap.width, height: bitmap.height, bitmap });
      if (running) onFrame(result);
    } catch (error) {
      console.error(error);
    }
  }
}

function onFrame(result: DetectResult): void {
  const now = performance.now();
  info.frames++;
  info.last_inference_ms = result.ms;
  info.first_detection_ms ??= now;
  finished.push(now);
  while (finished.length > 0 && finished[0] < now - 1000) finished.shift();
  info.fps = finished.length;
  const followed = largest(result.detections);
  info.face = followed !== null;
  const direction = tracker.update(result.detections, now);
  view.draw(result.detections, followed);
  view.face(!followed ? "no-face" : tracker.calibrated ? "face" : "calibrating", followed?.score);
  view.showTiming(info.fps, result.ms);
  if (direction) navigate(direction, "camera");
}

view.switchButton.addEventListener("click", () => (running ? stopCamera() : void startCamera()));
view.calibrateButton.addEventListener("click", () => {
  tracker.calibrate();
  view.face("calibrating");
});

/** window.staticml on the camera page (the text page's Window type declares its own shape). */
interface CameraApi {
  ready: Promise<void>;
  detect(image: Image): Promise<Detection[]>;
  info(): typeof info & { tracker: string; offset: [number, number] };
  start(): Promise<void>;
  stop(): void;
  calibrate(): void;
}
const api: CameraApi = {
  ready,
  detect,
  info: () => ({ ...info, tracker: tracker.state, offset: tracker.offset }),
  start: startCamera,
  stop: stopCamera,
  calibrate: () => tracker.calibrate(),
};
(window as unknown as { staticml: CameraApi }).staticml = api;

ready.then(
  () => {
    view.showReady(info.model, info.model_bytes, `onnxruntime-web (WASM, ${info.threads} thread${info.threads === 1 ? "" : "s"})`);
    registerServiceWorker().catch((error: unknown) => console.error(error));
    if (autostart) void startCamera();
  },
  (error: unknown) => view.showError(error instanceof Error ? error.message : String(error)),
);
