// The camera page of a face detector: loads it into its worker (camera-worker.js), runs the camera
// loop (one frame in flight, transferred as an ImageBitmap) and turns head movement into
// `staticml:navigate` events on document; window.staticml gains detect, start, stop, calibrate.
import { registerServiceWorker } from "../../offline";
import { pageKeepsDownloads } from "../../offline_copy";
import { variantFile } from "../../model_files";
import { WorkerClient, type WithoutId } from "../../worker_client";
import type { VideoPage, VideoRun } from "../task";
import { Camera, navigate, obeyNavigation, type CameraOwner, type CameraTexts } from "./controls";
import { largest, type Detection } from "./decode";
import { transferOf, type CameraRequest, type DetectResult, type InitCameraResult } from "./protocol";
import { Tracker, type Direction } from "./tracker";
import { CameraView } from "./view";

// One WASM thread unless ?threads= says otherwise: BlazeFace is too small to gain from a second one
// (bench on 2 busy cores: 35-40 fps on 1 thread, 19-22 fps on 2; native onnxruntime 1 thread faster too).
const CAMERA_THREADS = 1;

export type Image = ImageData | ImageBitmap | HTMLVideoElement | HTMLCanvasElement | HTMLImageElement | OffscreenCanvas;

const KEYS: Record<string, Direction> = { ArrowLeft: "previous", ArrowRight: "next", ArrowUp: "up", ArrowDown: "down" };

const TEXTS: CameraTexts = {
  off: "The camera is off. The arrow keys work without it.",
  denied: "The camera was not allowed, so head movement is off. The arrow keys still work: ← → for cards, ↑ ↓ for the text.",
  missing: "No camera is available here. The arrow keys still work: ← → for cards, ↑ ↓ for the text.",
  failed: (message) => `The camera could not start (${message}). The arrow keys still work.`,
};

/** The camera page for one face detector. */
export class CameraPage implements VideoRun, CameraOwner<DetectResult> {
  readonly ready: Promise<void>;
  readonly texts = TEXTS;
  private readonly view = new CameraView();
  private readonly tracker = new Tracker();
  private readonly camera = new Camera<DetectResult>(this.view, this);
  private readonly client: WorkerClient<WithoutId<CameraRequest>>;
  private readonly state = {
    model: "",
    variant: "",
    engine: "onnxruntime-web",
    backend: "wasm",
    threads: 0,
    bytes_downloaded: 0,
    bytes_uncompressed: 0,
    load_ms: 0,
    model_bytes: 0,
    wasm_bytes: 0,
    cross_origin_isolated: self.crossOriginIsolated,
    last_inference_ms: null as number | null,
    frames: 0,
    first_detection_ms: null as number | null,
    face: false,
  };

  constructor(private readonly page: VideoPage) {
    this.client = new WorkerClient(new URL("camera-worker.js", page.assets), { onDownload: (loaded, total) => this.view.showProgress(loaded, total) },
                                   "the detector's worker");
    obeyNavigation((direction, source) => this.view.apply(direction, source), KEYS, "input, textarea, select");
    this.ready = this.load();
    // ?camera=on starts the camera without a click (verify and bench use it; the browser still asks).
    const autostart = new URLSearchParams(location.search).get("camera") === "on";
    this.ready.then(
      () => {
        const threads = `${this.state.threads} thread${this.state.threads === 1 ? "" : "s"}`;
        this.view.showReady(this.state.model, this.state.model_bytes, `onnxruntime-web (WASM, ${threads})`);
        registerServiceWorker().catch((error: unknown) => console.error(error));
        if (autostart) void this.start();
      },
      (error: unknown) => this.view.showError(error instanceof Error ? error.message : String(error)),
    );
  }

  private async load(): Promise<void> {
    const { manifest, modelUrl, variant, settings, assets } = this.page;
    if (!manifest.detector) throw new Error(`model ${manifest.name} has no "detector" in manifest.json`);
    const modelFile = variantFile(manifest, variant);
    const result = await this.client.call<InitCameraResult>({
      type: "init",
      spec: manifest.detector,
      modelUrl,
      modelFile,
      modelEntry: manifest.files[modelFile],
      ortUrl: new URL("ort/", assets).href,
      threads: settings.threads ?? CAMERA_THREADS,
      keepDownloads: pageKeepsDownloads(),
    });
    Object.assign(this.state, result, { model: manifest.name, variant, load_ms: performance.now() });
  }

  info(): Record<string, unknown> {
    return { ...this.state, ...this.camera.state, tracker: this.tracker.state, offset: this.tracker.offset };
  }

  /** Detections of one image, normalised to it; the caller's image stays usable (a copy is sent). */
  async detect(image: Image): Promise<Detection[]> {
    await this.ready;
    const result = await this.detectFrame(image);
    this.state.last_inference_ms = result.ms;
    return result.detections;
  }

  calibrate(): void {
    this.tracker.calibrate();
  }

  private async detectFrame(image: Image): Promise<DetectResult> {
    if (image instanceof ImageData) {
      const pixels = image.data.slice().buffer;
      return this.frame({ type: "detect", width: image.width, height: image.height, pixels });
    }
    const bitmap = await createImageBitmap(image);
    return this.frame({ type: "detect", width: bitmap.width, height: bitmap.height, bitmap });
  }

  /** One frame; its bitmap or pixel buffer is transferred to the worker (and unusable here after). */
  private frame(request: WithoutId<Extract<CameraRequest, { type: "detect" }>>): Promise<DetectResult> {
    return this.client.call<DetectResult>(request, transferOf(request));
  }

  // ---- the camera ----

  start(): Promise<void> {
    return this.camera.start();
  }

  stop(): void {
    this.camera.stop();
  }

  recalibrate(): void {
    this.tracker.calibrate();
    this.view.face("calibrating");
  }

  showOff(): void {
    this.view.face("off");
  }

  process(bitmap: ImageBitmap): Promise<DetectResult> {
    return this.frame({ type: "detect", width: bitmap.width, height: bitmap.height, bitmap });
  }

  show(result: DetectResult, now: number): void {
    const { view, state, tracker } = this;
    state.frames++;
    state.last_inference_ms = result.ms;
    state.first_detection_ms ??= now;
    const followed = largest(result.detections);
    state.face = followed !== null;
    const direction = tracker.update(result.detections, now);
    view.draw(result.detections, followed);
    view.face(!followed ? "no-face" : tracker.calibrated ? "face" : "calibrating", followed?.score);
    view.showTiming(this.camera.state.fps, result.ms);
    if (direction) navigate({ direction, source: "camera" });
  }
}
