// The landmark pages' DOM, on camera.html: the head-movement page's view (switch, status, preview,
// deck, long text) with the texts of the eye or hand control, the points drawn over the preview, a
// selected card, and the hand control's pause. Text goes in with textContent only.
import { CameraView } from "../camera/view";
import type { Detection } from "../camera/decode";
import type { Direction } from "../camera/tracker";
import type { Action, ControlState } from "./gestures";
import type { LandmarkResult } from "./spec";

export type Control = "eyes" | "hands";

const TEXTS: Record<Control, { title: string; card: string; what: string; how: string; loading: string; details: string }> = {
  eyes: {
    title: "Navigate with your eyes",
    card: "Look to navigate",
    what: "face and eye landmark models run",
    how: "Look left / right for the previous / next card, up / down to scroll the text, close both eyes for a second to select the card. The arrow keys and Enter do the same.",
    loading: "Loading the face and eye models…",
    details: "Face, mesh and iris models",
  },
  hands: {
    title: "Navigate with your hand",
    card: "Move your hand to navigate",
    what: "hand landmark models run",
    how: "Swipe left / right for the previous / next card, move your hand up / down to scroll, pinch thumb and index to select, hold an open palm still to pause. With two hands in view, the first one found is followed. The arrow keys and Enter do the same.",
    loading: "Loading the palm and hand models…",
    details: "Palm and hand models",
  },
};

function byId(id: string): HTMLElement | null {
  return document.getElementById(id);
}

export class LandmarksView extends CameraView {
  constructor(private readonly kind: Control) {
    super();
    const texts = TEXTS[kind];
    const set = (element: Element | null, text: string) => {
      if (element) element.textContent = text;
    };
    set(byId("title"), texts.title);
    set(byId("camera-title"), texts.card);
    set(byId("loading-text"), texts.loading);
    set(byId("details-title"), texts.details);
    set(document.querySelector(".privacy"), `Camera frames never leave this device: the ${texts.what} in this page, and the page sends nothing, to anyone. No frame is stored.`);
    set(byId("camera-title")?.nextElementSibling ?? null, texts.how);
    set(byId("calibrate"), kind === "eyes" ? "Look at the centre, then press here to recalibrate" : "Restart the hand tracking");
  }

  indicator(state: ControlState | "off", found = 0): void {
    const element = byId("face-indicator");
    if (!element) return;
    const thing = this.kind === "eyes" ? "face" : "hand";
    element.dataset.state = state === "tracking" ? "face" : state === "no-face" || state === "no-hand" ? "no-face" : state === "calibrating" ? "calibrating" : "off";
    element.textContent = {
      off: "No camera",
      calibrating: "Look at the centre of the screen…",
      tracking: this.kind === "hands" && found > 1 ? "Two hands: following the first one found" : `${thing === "face" ? "Face" : "Hand"} found`,
      "no-face": "No face in view",
      "no-hand": "No hand in view",
      paused: "Paused: hold an open palm still to resume",
    }[state];
  }

  paused(on: boolean): void {
    this.indicator(on ? "paused" : "tracking");
    const last = byId("last-move");
    if (last) last.textContent = on ? "Paused (open palm)" : "Resumed (open palm)";
  }

  /** The followed face's or hand's points over the preview (mirrored by CSS), other boxes in amber. */
  drawLandmarks(results: LandmarkResult[], detections: Detection[]): void {
    const overlay = byId("overlay") as HTMLCanvasElement | null;
    const context = overlay?.getContext("2d");
    if (!overlay || !context) return;
    context.clearRect(0, 0, overlay.width, overlay.height);
    const { width, height } = overlay;
    context.strokeStyle = "#f59e0b";
    context.lineWidth = 2;
    for (const d of detections) context.strokeRect(d.box[0] * width, d.box[1] * height, d.box[2] * width, d.box[3] * height);
    results.forEach((result, i) => {
      context.fillStyle = i === 0 ? "#22c55e" : "#f59e0b";
      const points = "face" in result ? [...result.face.filter((_, j) => j % 4 === 0), ...result.irises.flat()] : result.landmarks;
      for (const [x, y] of points) context.fillRect(x * width - 1, y * height - 1, 2, 2);
    });
  }

  /** What a navigation event does here: the head page's moves, and select marks the card shown. */
  apply(direction: Direction | Action, source: string): void {
    if (direction === "select") {
      const shown = document.querySelector<HTMLElement>("#deck .slide:not([hidden])");
      for (const slide of document.querySelectorAll<HTMLElement>("#deck .slide")) {
        slide.classList.toggle("selected", slide === shown);
        // Through the CSSOM (the page's CSP allows no inline style attribute): camera.css has no rule for it.
        slide.style.outline = slide === shown ? "3px solid #22c55e" : "";
      }
      shown?.setAttribute("aria-current", "true");
      const last = byId("last-move");
      if (last) last.textContent = `Last move: select (${source})`;
      return;
    }
    if (direction === "pause") return;
    super.apply(direction, source);
  }
}
