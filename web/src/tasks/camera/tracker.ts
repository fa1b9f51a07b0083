// Head movement → navigation. The followed face is the largest; its box centre, relative to a
// calibrated centre, must stay past ENTER for DWELL_MS to fire one event, and come back inside
// EXIT before the next one (hysteresis: no jitter around a threshold). Horizontal movement is in
// the preview's mirrored view: moving to your own left (right in the camera's frame) is "previous".
import { largest, type Detection } from "./decode";

export type Direction = "next" | "previous" | "up" | "down";

export interface TrackerOptions {
  /** Offset from the centre (fraction of the frame) that starts a movement. */
  enter: number;
  /** Offset under which a movement is over and the next can start. */
  exit: number;
  /** How long the offset must hold past `enter` before the event fires. */
  dwellMs: number;
  /** Frames with a face averaged to find the centre. */
  calibrationFrames: number;
}

export const DEFAULT_TRACKER: TrackerOptions = { enter: 0.12, exit: 0.06, dwellMs: 300, calibrationFrames: 8 };

export type TrackerState = "calibrating" | "tracking" | "no-face";

export class Tracker {
  private centre: [number, number] | null = null;
  private samples: [number, number][] = [];
  private pending: { direction: Direction; since: number } | null = null;
  private armed = true;
  state: TrackerState = "calibrating";
  /** The followed face's offset from the centre, in the mirrored view (x right, y down). */
  offset: [number, number] = [0, 0];

  constructor(private readonly options: TrackerOptions = DEFAULT_TRACKER) {}

  /** Starts over: the next frames with a face set the centre ("look at the centre"). */
  calibrate(): void {
    this.centre = null;
    this.samples = [];
    this.pending = null;
    this.armed = true;
    this.state = "calibrating";
  }

  get calibrated(): boolean {
    return this.centre !== null;
  }

  /** One frame's detections at time `now` (ms); returns the direction to go, if any. */
  update(detections: Detection[], now: number): Direction | null {
    const face = largest(detections);
    if (!face) {
      this.pending = null;
      if (this.centre) this.state = "no-face";
      return null;
    }
    const centre: [number, number] = [face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2];
    if (!this.centre) return this.calibrateWith(centre);
    this.state = "tracking";
    // Mirrored: the camera sees the visitor's left on its right.
    this.offset = [this.centre[0] - centre[0], centre[1] - this.centre[1]];
    return this.step(now);
  }

  private calibrateWith(centre: [number, number]): null {
    this.samples.push(centre);
    if (this.samples.length >= this.options.calibrationFrames) {
      const n = this.samples.length;
      this.centre = [this.samples.reduce((s, c) => s + c[0], 0) / n, this.samples.reduce((s, c) => s + c[1], 0) / n];
      this.state = "tracking";
    }
    return null;
  }

  private step(now: number): Direction | null {
    const [dx, dy] = this.offset;
    const distance = Math.max(Math.abs(dx), Math.abs(dy));
    if (!this.armed) {
      if (distance < this.options.exit) this.armed = true;
      return null;
    }
    const direction = distance > this.options.enter ? directionOf(dx, dy) : null;
    if (!direction) {
      this.pending = null;
      return null;
    }
    if (!this.pending || this.pending.direction !== direction) {
      this.pending = { direction, since: now };
      return null;
    }
    if (now - this.pending.since < this.options.dwellMs) return null;
    this.pending = null;
    this.armed = false;
    return direction;
  }
}

function directionOf(dx: number, dy: number): Direction {
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? "next" : "previous";
  return dy > 0 ? "down" : "up";
}
