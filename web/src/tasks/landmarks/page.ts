// The landmark pages (eyes, hands) on camera.html: the pipeline runs in landmarks-worker.js, the camera
// loop sends one frame at a time (transferred, never stored), and the control (gestures.ts) turns
// each frame's landmarks into `staticml:navigate` events on document, whose detail says which
// control produced them. window.staticml gains landmarks(image) or hands(image), start, stop, calibrate.
import { registerServiceWorker } from "../../offline";
import { pageKeepsDownloads } from "../../offline_copy";
import { fileEntry } from "../../model_files";
import { WorkerClient, type WithoutId } from "../../worker_client";
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

export class LandmarksPage implements VideoRun {
  readonly ready: Promise<void>;
  private readonly view: LandmarksView;
  private readonly control: EyeControl | HandControl;
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
    fps: 0,
    frames: 0,
    /** Live-loop frames on which the detector ran (the others followed the previous frame's landmarks). */
    detector_frames: 0,
    camera_started_ms: null as number | null,
    first_landmarks_ms: null as number | null,
    camera: "off" as "off" | "starting" | "on" | "denied" | "unavailable",
    camera_error: null as string | null,
    found: 0,
    paused: false,
  };
  private stream: MediaStream | null = null;
  private running = false;
  private readonly finished: number[] = [];

  constructor(private readonly page: VideoPage, readonly kind: Control) {
    this.view = new LandmarksView(kind);
    this.control = kind === "eyes" ? new EyeControl() : new HandControl();
    this.state.control = kind;
    this.client = new WorkerClient(new URL("landmarks-worker.js", page.assets), { onDownload: (loaded, total) => this.view.showProgress(loaded, total) },
                                   "the landmark models' worker");
    this.listen();
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
    return { ...this.state, tracker: this.control.state, paused: this.control instanceof HandControl && this.control.paused };
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

  private listen(): void {
    document.addEventListener("staticml:navigate", (event) => {
      const { direction, source } = (event as CustomEvent<{ direction: Action; source?: string }>).detail;
      this.view.apply(direction, source ?? "page");
    });
    const keys: Record<string, Action> = { ArrowLeft: "previous", ArrowRight: "next", ArrowUp: "up", ArrowDown: "down", Enter: "select" };
    document.addEventListener("keydown", (event) => {
      const direction = keys[event.key];
      const target = event.target as HTMLElement | null;
      if (!direction || event.altKey || event.ctrlKey || event.metaKey || target?.closest("input, textarea, select, button")) return;
      event.preventDefault();
      navigate(direction, "keyboard");
    });
    this.view.switchButton.addEventListener("click", () => (this.running ? this.stop() : void this.start()));
    this.view.calibrateButton.addEventListener("click", () => {
      this.control.calibrate();
      this.view.indicator("calibrating");
    });
  }

  async start(): Promise<void> {
    const { view, state } = this;
    if (this.running || state.camera === "starting") return;
    state.camera = "starting";
    view.status("Asking for the camera…");
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error("no camera API"), { name: "NotSupportedError" });
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, facingMode: "user" }, audio: false });
    } catch (error) {
      return this.cameraFailed(error);
    }
    view.video.srcObject = this.stream;
    await view.video.play();
    this.running = true;
    state.camera = "on";
    state.camera_started_ms = performance.now();
    this.control.calibrate();
    view.setSwitch(true);
    view.indicator("calibrating");
    view.status("The camera is on. Frames are processed on this device and dropped.");
    void this.loop();
  }

  stop(): void {
    const { view, state } = this;
    this.running = false;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    view.video.srcObject = null;
    state.camera = "off";
    state.fps = 0;
    view.setSwitch(false);
    view.indicator("off");
    view.status("The camera is off. The arrow keys and Enter work without it.");
  }

  private cameraFailed(error: unknown): void {
    const { view, state } = this;
    const name = error instanceof Error ? error.name : "";
    const denied = name === "NotAllowedError" || name === "SecurityError";
    state.camera = denied ? "denied" : "unavailable";
    state.camera_error = error instanceof Error ? error.message : String(error);
    view.setSwitch(false);
    view.indicator("off");
    const keys = "The keys still work: ← → for cards, ↑ ↓ for the text, Enter to select.";
    view.status(denied ? `The camera was not allowed, so ${this.kind === "eyes" ? "eye" : "hand"} control is off. ${keys}`
      : name === "NotFoundError" || name === "NotSupportedError" ? `No camera is available here. ${keys}`
        : `The camera could not start (${state.camera_error}). ${keys}`);
  }

  private async loop(): Promise<void> {
    const { video } = this.view;
    while (this.running) {
      await nextFrame(video);
      if (!this.running || video.videoWidth === 0) continue;
      try {
        const bitmap = await createImageBitmap(video);
        const result = await this.frame({ type: "frame", width: bitmap.width, height: bitmap.height, bitmap, track: true });
        if (this.running) this.onFrame(result);
      } catch (error) {
        console.error(error);
      }
    }
  }

  private onFrame(result: FrameResult): void {
    const { view, state, finished } = this;
    const now = performance.now();
    state.frames++;
    if (result.detected) state.detector_frames++;
    state.last_inference_ms = result.ms;
    if (result.results.length > 0) state.first_landmarks_ms ??= now - (state.camera_started_ms ?? now);
    finished.push(now);
    while (finished.length > 0 && finished[0] < now - 1000) finished.shift();
    state.fps = finished.length;
    state.found = result.results.length;
    const action = this.kind === "eyes"
      ? (this.control as EyeControl).update(result.results as FaceResult[] as FacePoints[], now)
      : (this.control as HandControl).update(result.results as HandResult[] as HandPoints[], now);
    view.drawLandmarks(result.results, result.detections);
    view.indicator(this.control.state, result.results.length);
    view.showTiming(state.fps, result.ms);
    if (action === "pause") view.paused(this.control instanceof HandControl && this.control.paused);
    else if (action) navigate(action, this.kind);
  }
}

/** The one way anything navigates here: a `staticml:navigate` event on document, naming the control. */
function navigate(direction: Action, control: Control | "keyboard"): void {
  document.dispatchEvent(new CustomEvent("staticml:navigate", { detail: { direction, control, source: control } }));
}

function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

export type { Detection };
