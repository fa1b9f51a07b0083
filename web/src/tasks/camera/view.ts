// The camera page's DOM: the switch, the status lines, the preview's overlay, the deck and the
// long text. Text goes in with textContent only.
import type { Detection } from "./decode";
import type { Direction } from "./tracker";

function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** How far one "up" / "down" scrolls the long text, as a share of its visible height. */
const SCROLL_SHARE = 0.8;

export type FaceState = "off" | "calibrating" | "face" | "no-face";

export class CameraView {
  readonly video = $<HTMLVideoElement>("preview");
  readonly switchButton = $<HTMLButtonElement>("camera-switch");
  readonly calibrateButton = $<HTMLButtonElement>("calibrate");
  private readonly overlay = $<HTMLCanvasElement>("overlay");
  private readonly slides = Array.from($("deck").querySelectorAll<HTMLElement>(".slide"));
  private readonly reading = $("reading");
  private card = 0;

  showProgress(loaded: number, total: number): void {
    const progress = $<HTMLProgressElement>("progress");
    progress.max = total || 1;
    progress.value = loaded;
    $("progress-text").textContent = `${(loaded / 1e6).toFixed(2)} of ${(total / 1e6).toFixed(2)} MB`;
  }

  showReady(model: string, modelBytes: number, backend: string): void {
    $("loading").hidden = true;
    $("d-model").textContent = model;
    $("d-size").textContent = `${(modelBytes / 1e6).toFixed(2)} MB`;
    $("d-backend").textContent = backend;
    this.switchButton.disabled = false;
  }

  showError(message: string): void {
    $("loading").hidden = true;
    $("error").hidden = false;
    $("error-text").textContent = message;
  }

  setSwitch(on: boolean): void {
    this.switchButton.setAttribute("aria-checked", String(on));
    $("camera-switch-label").textContent = on ? "Camera on" : "Camera off";
    this.calibrateButton.disabled = !on;
    if (!on) this.clearOverlay();
  }

  status(text: string): void {
    $("camera-status").textContent = text;
  }

  face(state: FaceState, score?: number): void {
    const indicator = $("face-indicator");
    indicator.dataset.state = state;
    indicator.textContent = {
      off: "No camera",
      calibrating: "Look at the centre of the screen…",
      face: `Face found${score === undefined ? "" : ` (${(score * 100).toFixed(0)} %)`}`,
      "no-face": "No face in view",
    }[state];
  }

  showTiming(fps: number, ms: number): void {
    $("d-fps").textContent = fps.toFixed(1);
    $("d-infer").textContent = `${ms.toFixed(1)} ms`;
  }

  /** The followed face's box and keypoints over the preview (both mirrored by CSS). */
  draw(detections: Detection[], followed: Detection | null): void {
    const context = this.clearOverlay();
    if (!context) return;
    const { width, height } = this.overlay;
    for (const d of detections) {
      context.strokeStyle = d === followed ? "#22c55e" : "#f59e0b";
      context.lineWidth = 3;
      context.strokeRect(d.box[0] * width, d.box[1] * height, d.box[2] * width, d.box[3] * height);
      context.fillStyle = context.strokeStyle;
      for (const [x, y] of d.keypoints) context.fillRect(x * width - 2, y * height - 2, 4, 4);
    }
  }

  private clearOverlay(): CanvasRenderingContext2D | null {
    const context = this.overlay.getContext("2d");
    context?.clearRect(0, 0, this.overlay.width, this.overlay.height);
    return context;
  }

  /** What a navigation event does on this page. */
  apply(direction: Direction, source: string): void {
    if (direction === "next" || direction === "previous") this.turn(direction === "next" ? 1 : -1);
    else this.reading.scrollBy({ top: (direction === "down" ? 1 : -1) * this.reading.clientHeight * SCROLL_SHARE });
    $("last-move").textContent = `Last move: ${direction} (${source})`;
  }

  private turn(step: number): void {
    this.card = Math.min(this.slides.length - 1, Math.max(0, this.card + step));
    this.slides.forEach((slide, i) => (slide.hidden = i !== this.card));
    $("deck-position").textContent = `Card ${this.card + 1} of ${this.slides.length}`;
  }
}
