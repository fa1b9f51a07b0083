// The camera page of a face detector: loads it into its worker (camera-worker.js), runs the camera
// loop (one frame in flight, transferred as an ImageBitmap) and turns head movement into
// `staticml:navigate` events on document; window.staticml gains detect, start, stop, calibrate.
import { registerServiceWorker } from "../../offline";
import { pageKeepsDownloads } from "../../offline_copy";
import { variantFile } from "../../model_files";
import { WorkerClient, type WithoutId } from "../../worker_client";
import type { VideoPage, VideoRun } from "../task";
import { largest, type Detection } from "./decode";
import { transferOf, type CameraRequest, type DetectResult, type InitCameraResult } from "./protocol";
import { Tracker, type Direction } from "./tracker";
import { CameraView } from "./view";

// One WASM thread unless ?threads= says otherwise: BlazeFace is too small to gain from a second one
// (bench on 2 busy cores: 35-40 fps on 1 thread, 19-22 fps on 2; native onnxruntime 1 thread faster too).
const CAMERA_THREADS = 1;

export type Image = ImageData | ImageBitmap | HTMLVideoElement | HTMLCanvasElement | HTMLImageElement | OffscreenCanvas;

/** The camera page for one face detector. */
export class CameraPage implements VideoRun {
  readonly ready: Promise<void>;
  private readonly view = new CameraView();
  private readonly tracker = new Tracker();
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
    fps: 0,
    frames: 0,
    first_detection_ms: null as number | null,
    camera: "off" as "off" | "starting" | "on" | "denied" | "unavailable",
    camera_error: null as string | null,
    face: false,
  };
  private stream: MediaStream | null = null;
  private running = false;
  private readonly finished: number[] = [];

  constructor(private readonly page: VideoPage) {
    this.client = new WorkerClient(new URL("camera-worker.js", page.assets), { onDownload: (loaded, total) => this.view.showProgress(loaded, total) },
                                   "the detector's worker");
    this.listen();
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
    return { ...this.state, tracker: this.tracker.state, offset: this.tracker.offset };
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

  // ---- navigation ----

  private listen(): void {
    document.addEventListener("staticml:navigate", (event) => {
      const { direction, source } = (event as CustomEvent<{ direction: Direction; source?: string }>).detail;
      this.view.apply(direction, source ?? "page");
    });
    const keys: Record<string, Direction> = { ArrowLeft: "previous", ArrowRight: "next", ArrowUp: "up", ArrowDown: "down" };
    document.addEventListener("keydown", (event) => {
      const direction = keys[event.key];
      const target = event.target as HTMLElement | null;
      if (!direction || event.altKey || event.ctrlKey || event.metaKey || target?.closest("input, textarea, select")) return;
      event.preventDefault();
      navigate(direction, "keyboard");
    });
    this.view.switchButton.addEventListener("click", () => (this.running ? this.stop() : void this.start()));
    this.view.calibrateButton.addEventListener("click", () => {
      this.tracker.calibrate();
      this.view.face("calibrating");
    });
  }

  // ---- the camera ----

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
    this.tracker.calibrate();
    view.setSwitch(true);
    view.face("calibrating");
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
    view.face("off");
    view.status("The camera is off. The arrow keys work without it.");
  }

  private cameraFailed(error: unknown): void {
    const { view, state } = this;
    const name = error instanceof Error ? error.name : "";
    const denied = name === "NotAllowedError" || name === "SecurityError";
    state.camera = denied ? "denied" : "unavailable";
    state.camera_error = error instanceof Error ? error.message : String(error);
    view.setSwitch(false);
    view.face("off");
    view.status(denied
      ? "The camera was not allowed, so head movement is off. The arrow keys still work: ← → for cards, ↑ ↓ for the text."
      : name === "NotFoundError" || name === "NotSupportedError"
        ? "No camera is available here. The arrow keys still work: ← → for cards, ↑ ↓ for the text."
        : `The camera could not start (${state.camera_error}). The arrow keys still work.`);
  }

  private async loop(): Promise<void> {
    const { video } = this.view;
    while (this.running) {
      await nextFrame(video);
      if (!this.running || video.videoWidth === 0) continue;
      try {
        const bitmap = await createImageBitmap(video);
        const result = await this.frame({ type: "detect", width: bitmap.width, height: bitmap.height, bitmap });
        if (this.running) this.onFrame(result);
      } catch (error) {
        console.error(error);
      }
    }
  }

  private onFrame(result: DetectResult): void {
    const { view, state, tracker, finished } = this;
    const now = performance.now();
    state.frames++;
    state.last_inference_ms = result.ms;
    state.first_detection_ms ??= now;
    finished.push(now);
    while (finished.length > 0 && finished[0] < now - 1000) finished.shift();
    state.fps = finished.length;
    const followed = largest(result.detections);
    state.face = followed !== null;
    const direction = tracker.update(result.detections, now);
    view.draw(result.detections, followed);
    view.face(!followed ? "no-face" : tracker.calibrated ? "face" : "calibrating", followed?.score);
    view.showTiming(state.fps, result.ms);
    if (direction) navigate(direction, "camera");
  }
}

/** The one way anything navigates here: a `staticml:navigate` event on document, which the page obeys. */
function navigate(direction: Direction, source: "camera" | "keyboard"): void {
  document.dispatchEvent(new CustomEvent("staticml:navigate", { detail: { direction, source } }));
}

function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}
