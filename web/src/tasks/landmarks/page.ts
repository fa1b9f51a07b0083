// The landmark pages (eyes, hands) on camera.html: the pipeline runs in landmarks-worker.js, the camera
// loop sends one frame at a time (transferred, never stored), and the control (gestures.ts) turns
// each frame's landmarks into `staticml:navigate` events on document, whose detail says which
// control produced them. window.staticml gains landmarks(image) or hands(image), start, stop, calibrate.
import { registerServiceWorker } from "../../offline";
import { pageKeepsDownloads } from "../../offline_copy";
import { fileEntry } from "../../model_files";
import { WorkerClient, type WithoutId } from "../../worker_client";
import { Camera, navigate, obeyNavigation, type CameraOwner, type CameraTexts } from "../camera/controls";
import type { Detection } from "../camera/decode";
import type { VideoPage, VideoRun } from "../task";
import { EyeControl, HandControl, type Action, type FacePoints, type HandPoints } from "./gestures";
import type { FrameRequest, FrameResult, InitLandmarksResult, LandmarksRequest } from "./protocol";
import { pipelineFiles, pipelineOf, type FaceResult, type HandResult, type LandmarkResult } from "./spec";
import { LandmarksView, type Control } from "./view";

export type Image = ImageData | ImageBitmap | HTMLVideoElement | HTMLCanvasElement | HTMLImageElement | OffscreenCanvas;

// One WASM thread unless ?threads= says otherwise, as on the head-movement page: three small models in
// a row gain less from a second thread than they lose to the page's other work on 2 cores.
const THREADS = 1;

const KEYS: Record<string, Action> = { ArrowLeft: "previous", ArrowRight: "next", ArrowUp: "up", ArrowDown: "down", Enter: "select" };

function cameraTexts(kind: Control): CameraTexts {
  const keys = "The keys still work: ← → for cards, ↑ ↓ for the text, Enter to select.";
  return {
    off: "The camera is off. The arrow keys and Enter work without it.",
    denied: `The camera was not allowed, so ${kind === "eyes" ? "eye" : "hand"} control is off. ${keys}`,
    missing: `No camera is available here. ${keys}`,
    failed: (message) => `The camera could not start (${message}). ${keys}`,
  };
}

export class LandmarksPage implements VideoRun, CameraOwner<FrameResult> {
  readonly ready: Promise<void>;
  readonly texts: CameraTexts;
  private readonly view: LandmarksView;
  private readonly control: EyeControl | HandControl;
  private readonly camera: Camera<FrameResult>;
  private readonly client: WorkerClient<WithoutId<LandmarksRequest>>;
  private readonly state = {
    model: "",
    variant: "",
    control: "" as Control,
    engine: "onnxruntime-web",
    backend: "wasm",
    threads: 0,
    bytes_downloaded: 0,
    load_ms: 0,
    model_bytes: 0,
    wasm_bytes: 0,
    cross_origin_isolated: self.crossOriginIsolated,
    last_inference_ms: null as number | null,
    frames: 0,
    /** Live-loop frames on which the detector ran (the others followed the previous frame's landmarks). */
    detector_frames: 0,
    first_landmarks_ms: null as number | null,
    found: 0,
    paused: false,
  };

  constructor(private readonly page: VideoPage, readonly kind: Control) {
    this.view = new LandmarksView(kind);
    this.control = kind === "eyes" ? new EyeControl() : new HandControl();
    this.state.control = kind;
    this.texts = cameraTexts(kind);
    this.camera = new Camera(this.view, this);
    this.client = new WorkerClient(new URL("landmarks-worker.js", page.assets), { onDownload: (loaded, total) => this.view.showProgress(loaded, total) },
                                   "the landmark models' worker");
    obeyNavigation((direction, source) => this.view.apply(direction, source), KEYS, "input, textarea, select, button", "keyboard");
    this.ready = this.load();
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
    const pipeline = pipelineOf(manifest);
    const files = pipelineFiles(pipeline).map((name) => ({ name, entry: fileEntry(manifest, name) }));
    const result = await this.client.call<InitLandmarksResult>({
      type: "init", pipeline, modelUrl, files, ortUrl: new URL("ort/", assets).href,
      threads: settings.threads ?? THREADS, keepDownloads: pageKeepsDownloads(),
    });
    Object.assign(this.state, result, { model: manifest.name, variant, load_ms: performance.now() });
  }

  info(): Record<string, unknown> {
    return { ...this.state, ...this.camera.state, tracker: this.control.state, paused: this.control instanceof HandControl && this.control.paused };
  }

  /** The landmarks of one image (normalised to it); the caller's image stays usable. */
  async landmarks(image: Image): Promise<LandmarkResult[]> {
    await this.ready;
    const result = await this.frameOf(image);
    this.state.last_inference_ms = result.ms;
    return result.results;
  }

  calibrate(): void {
    this.control.calibrate();
  }

  private async frameOf(image: Image): Promise<FrameResult> {
    if (image instanceof ImageData) {
      return this.frame({ type: "frame", width: image.width, height: image.height, pixels: image.data.slice().buffer });
    }
    const bitmap = await createImageBitmap(image);
    return this.frame({ type: "frame", width: bitmap.width, height: bitmap.height, bitmap });
  }

  private frame(request: WithoutId<FrameRequest>): Promise<FrameResult> {
    const transfer: Transferable[] = request.bitmap ? [request.bitmap] : request.pixels ? [request.pixels] : [];
    return this.client.call<FrameResult>(request, transfer);
  }

  start(): Promise<void> {
    return this.camera.start();
  }

  stop(): void {
    this.camera.stop();
  }

  recalibrate(): void {
    this.control.calibrate();
    this.view.indicator("calibrating");
  }

  showOff(): void {
    this.view.indicator("off");
  }

  process(bitmap: ImageBitmap): Promise<FrameResult> {
    return this.frame({ type: "frame", width: bitmap.width, height: bitmap.height, bitmap, track: true });
  }

  show(result: FrameResult, now: number): void {
    const { view, state } = this;
    state.frames++;
    if (result.detected) state.detector_frames++;
    state.last_inference_ms = result.ms;
    if (result.results.length > 0) state.first_landmarks_ms ??= now - (this.camera.state.camera_started_ms ?? now);
    state.found = result.results.length;
    const action = this.kind === "eyes"
      ? (this.control as EyeControl).update(result.results as FaceResult[] as FacePoints[], now)
      : (this.control as HandControl).update(result.results as HandResult[] as HandPoints[], now);
    view.drawLandmarks(result.results, result.detections);
    view.indicator(this.control.state, result.results.length);
    view.showTiming(this.camera.state.fps, result.ms);
    if (action === "pause") view.paused(this.control instanceof HandControl && this.control.paused);
    else if (action) navigate({ direction: action, control: this.kind, source: this.kind });
  }
}

export type { Detection };
