// What the camera pages share (head movement here, the eye and hand controls in tasks/landmarks/):
// the camera switch, starting and stopping the camera with its plain messages, the frame loop (one
// frame in flight, a fresh ImageBitmap each, which the page transfers to its worker), the frames per
// second, and the keys, which navigate through the same `staticml:navigate` event as the camera.
import type { CameraView } from "./view";

export type CameraStatus = "off" | "starting" | "on" | "denied" | "unavailable";

/** The status line when the camera is off, and when it cannot start. */
export interface CameraTexts {
  off: string;
  denied: string;
  missing: string;
  failed: (message: string) => string;
}

/** What a page does with the camera: its control's calibration, and each frame. */
export interface CameraOwner<Result> {
  readonly texts: CameraTexts;
  /** Start the control's calibration afresh and show it (the camera came on, or the visitor asked). */
  recalibrate(): void;
  /** Show that the camera is off. */
  showOff(): void;
  /** One video frame: the bitmap is the owner's (to transfer). */
  process(bitmap: ImageBitmap): Promise<Result>;
  /** A processed frame while the camera is still on, at `now` (performance.now()). */
  show(result: Result, now: number): void;
}

/** The camera of one page: window.staticml's start() and stop(), and the fields info() reports. */
export class Camera<Result> {
  readonly state = {
    camera: "off" as CameraStatus,
    camera_error: null as string | null,
    camera_started_ms: null as number | null,
    /** Frames finished in the last second. */
    fps: 0,
  };
  private stream: MediaStream | null = null;
  private running = false;
  private readonly finished: number[] = [];

  constructor(private readonly view: CameraView, private readonly owner: CameraOwner<Result>) {
    view.switchButton.addEventListener("click", () => (this.running ? this.stop() : void this.start()));
    view.calibrateButton.addEventListener("click", () => owner.recalibrate());
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
      return this.failed(error);
    }
    view.video.srcObject = this.stream;
    await view.video.play();
    this.running = true;
    state.camera = "on";
    state.camera_started_ms = performance.now();
    view.setSwitch(true);
    this.owner.recalibrate();
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
    this.owner.showOff();
    view.status(this.owner.texts.off);
  }

  private failed(error: unknown): void {
    const { view, state } = this;
    const { texts } = this.owner;
    const name = error instanceof Error ? error.name : "";
    const denied = name === "NotAllowedError" || name === "SecurityError";
    state.camera = denied ? "denied" : "unavailable";
    state.camera_error = error instanceof Error ? error.message : String(error);
    view.setSwitch(false);
    this.owner.showOff();
    view.status(denied ? texts.denied : name === "NotFoundError" || name === "NotSupportedError" ? texts.missing : texts.failed(state.camera_error));
  }

  private async loop(): Promise<void> {
    const { video } = this.view;
    while (this.running) {
      await nextFrame(video);
      if (!this.running || video.videoWidth === 0) continue;
      try {
        const result = await this.owner.process(await createImageBitmap(video));
        if (this.running) this.shown(result);
      } catch (error) {
        console.error(error);
      }
    }
  }

  private shown(result: Result): void {
    const now = performance.now();
    this.finished.push(now);
    while (this.finished.length > 0 && this.finished[0] < now - 1000) this.finished.shift();
    this.state.fps = this.finished.length;
    this.owner.show(result, now);
  }
}

export interface Navigation<Direction extends string> {
  direction: Direction;
  source: string;
  /** Which control produced it (the eye and hand pages say; the head page names only the source). */
  control?: string;
}

/** The one way anything navigates on a camera page: a `staticml:navigate` event on document, which the page obeys. */
export function navigate<Direction extends string>(detail: Navigation<Direction>): void {
  document.dispatchEvent(new CustomEvent("staticml:navigate", { detail }));
}

/**
 * The page obeys every `staticml:navigate` event (`apply`), and `keys` send them, except from the
 * form elements `ignoreIn` names (where the key does its own job); `control`, if given, is the key
 * events' detail.control.
 */
export function obeyNavigation<Direction extends string>(apply: (direction: Direction, source: string) => void,
                                                         keys: Record<string, Direction>, ignoreIn: string, control?: string): void {
  document.addEventListener("staticml:navigate", (event) => {
    const { direction, source } = (event as CustomEvent<{ direction: Direction; source?: string }>).detail;
    apply(direction, source ?? "page");
  });
  document.addEventListener("keydown", (event) => {
    const direction = keys[event.key];
    const target = event.target as HTMLElement | null;
    if (!direction || event.altKey || event.ctrlKey || event.metaKey || target?.closest(ignoreIn)) return;
    event.preventDefault();
    navigate(control === undefined ? { direction, source: "keyboard" } : { direction, control, source: "keyboard" });
  });
}

function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}
