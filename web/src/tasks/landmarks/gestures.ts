// Landmarks → navigation, as small pure state machines fed one frame at a time (landmark sequences
// in, at most one action out per frame); web/test/gestures.test.ts runs them on recorded sequences.
// Coordinates are normalised to the camera's frame (x right, y down); the preview is mirrored, so
// a movement to the visitor's own left is a movement to the RIGHT of the camera's frame.

export type Action = "previous" | "next" | "up" | "down" | "select" | "pause";

// ---------------------------------------------------------------- eyes

/** One face's landmarks as landmarks() gives them. */
export interface FacePoints {
  face: number[][];
  irises: number[][][];
}

export interface EyeOptions {
  /** Gaze offset (fraction of the eye's width) that starts a look to one side, and its vertical twin. */
  enterX: number;
  enterY: number;
  /** Offset under which a look is over and the next can start (hysteresis). */
  exit: number;
  dwellMs: number;
  /** Openness under this fraction of the calibrated openness: the eye is closed. */
  closed: number;
  /** Both eyes closed this long: select (a deliberate blink; ordinary blinks last 0.1-0.4 s). */
  blinkMs: number;
  calibrationFrames: number;
}

export const DEFAULT_EYES: EyeOptions = { enterX: 0.12, enterY: 0.2, exit: 0.06, dwellMs: 300, closed: 0.45, blinkMs: 600, calibrationFrames: 8 };

// Face mesh points: each eye's corners (outer, inner) and its upper and lower lid, as the iris model's crops use them.
const EYE_POINTS = [
  { corners: [33, 133], lids: [159, 145] },
  { corners: [362, 263], lids: [386, 374] },
];

export interface Gaze {
  /** The iris centre along the corner-to-corner line, 0 at the first corner, 1 at the second (mean of both eyes). */
  x: number;
  /** Its height from the corners' line, per eye width (positive down). */
  y: number;
  /** Lid to lid, per eye width (the smaller eye's). */
  openness: number;
}

/** Where both irises look, and how open the eyes are, from one face's points. */
export function gaze(points: FacePoints): Gaze {
  let x = 0, y = 0, openness = Infinity;
  EYE_POINTS.forEach((eye, i) => {
    const a = points.face[eye.corners[0]], b = points.face[eye.corners[1]];
    const iris = points.irises[i][0];
    const dx = b[0] - a[0], dy = b[1] - a[1];
    const width2 = dx * dx + dy * dy;
    const width = Math.sqrt(width2) || 1e-9;
    // In eye 2 the corners run the other way (inner → outer): both measure towards the frame's right.
    const along = ((iris[0] - a[0]) * dx + (iris[1] - a[1]) * dy) / (width2 || 1e-9);
    x += dx >= 0 ? along : 1 - along;
    y += ((iris[1] - a[1]) * dx - (iris[0] - a[0]) * dy) / width / width * Math.sign(dx || 1);
    const up = points.face[eye.lids[0]], down = points.face[eye.lids[1]];
    openness = Math.min(openness, Math.hypot(down[0] - up[0], down[1] - up[1]) / width);
  });
  return { x: x / 2, y: y / 2, openness };
}

/** Dwell and hysteresis over an offset from a calibrated centre, as the head tracker does. */
class Dwell {
  private pending: { action: Action; since: number } | null = null;
  private armed = true;

  constructor(private readonly exit: number, private readonly dwellMs: number) {}

  reset(): void {
    this.pending = null;
    this.armed = true;
  }

  /** `action`: what the offset asks for now (null: inside the dead zone); `distance`: how far out it is. */
  step(action: Action | null, distance: number, now: number): Action | null {
    if (!this.armed) {
      if (distance < this.exit) this.armed = true;
      return null;
    }
    if (!action) {
      this.pending = null;
      return null;
    }
    if (!this.pending || this.pending.action !== action) {
      this.pending = { action, since: now };
      return null;
    }
    if (now - this.pending.since < this.dwellMs) return null;
    this.pending = null;
    this.armed = false;
    return action;
  }
}

export type ControlState = "calibrating" | "tracking" | "no-face" | "no-hand" | "paused";

/** Eye control: the iris position (after calibration) → previous/next, up/down; a long blink → select. */
export class EyeControl {
  private centre: Gaze | null = null;
  private samples: Gaze[] = [];
  private readonly dwell: Dwell;
  private closedSince: number | null = null;
  private blinkFired = false;
  state: ControlState = "calibrating";
  offset: [number, number] = [0, 0];

  constructor(private readonly options: EyeOptions = DEFAULT_EYES) {
    this.dwell = new Dwell(options.exit, options.dwellMs);
  }

  calibrate(): void {
    this.centre = null;
    this.samples = [];
    this.dwell.reset();
    this.closedSince = null;
    this.state = "calibrating";
  }

  get calibrated(): boolean {
    return this.centre !== null;
  }

  /** One frame's faces (the first is followed) at `now` ms; the action to take, if any. */
  update(faces: FacePoints[], now: number): Action | null {
    if (faces.length === 0) {
      this.closedSince = null;
      this.dwell.reset();
      if (this.centre) this.state = "no-face";
      return null;
    }
    const seen = gaze(faces[0]);
    if (!this.centre) return this.calibrateWith(seen);
    this.state = "tracking";
    if (seen.openness < this.centre.openness * this.options.closed) return this.closedEyes(now);
    this.closedSince = null;
    this.blinkFired = false;
    // The visitor's own left is the frame's right: a larger x is a look to their left.
    this.offset = [this.centre.x - seen.x, seen.y - this.centre.y];
    const [dx, dy] = this.offset;
    const sideways = Math.abs(dx) / this.options.enterX, vertical = Math.abs(dy) / this.options.enterY;
    const action: Action | null = Math.max(sideways, vertical) <= 1 ? null
      : sideways >= vertical ? (dx > 0 ? "next" : "previous") : (dy > 0 ? "down" : "up");
    return this.dwell.step(action, Math.max(Math.abs(dx), Math.abs(dy) * this.options.enterX / this.options.enterY), now);
  }

  private closedEyes(now: number): Action | null {
    this.dwell.reset();
    this.closedSince ??= now;
    if (this.blinkFired || now - this.closedSince < this.options.blinkMs) return null;
    this.blinkFired = true;
    return "select";
  }

  private calibrateWith(seen: Gaze): null {
    this.samples.push(seen);
    if (this.samples.length >= this.options.calibrationFrames) {
      const n = this.samples.length;
      const mean = (key: keyof Gaze): number => this.samples.reduce((s, g) => s + g[key], 0) / n;
      this.centre = { x: mean("x"), y: mean("y"), openness: mean("openness") };
      this.state = "tracking";
    }
    return null;
  }
}

// ---------------------------------------------------------------- hands

export interface HandPoints {
  landmarks: number[][];
}

export interface HandOptions {
  /** A swipe: the palm crosses this fraction of the frame sideways within `swipeMs`. */
  swipe: number;
  /** Up/down: this fraction of the frame vertically within `swipeMs`. */
  lift: number;
  swipeMs: number;
  /** After a move, nothing for this long (the hand coming back is not a move). */
  cooldownMs: number;
  /** Thumb tip to index tip, per palm length (wrist to middle finger's base): under `pinch` a pinch, over `release` open again. */
  pinch: number;
  release: number;
  /** An open palm whose centre stays within `still` of the frame for `holdMs`: pause (or resume). */
  still: number;
  holdMs: number;
}

export const DEFAULT_HANDS: HandOptions = { swipe: 0.22, lift: 0.18, swipeMs: 600, cooldownMs: 700, pinch: 0.3, release: 0.5, still: 0.03, holdMs: 1000 };

const WRIST = 0, THUMB_TIP = 4, INDEX_TIP = 8, MIDDLE_BASE = 9;
// Each finger's tip and its middle joint: a tip farther from the wrist than its joint is a straight finger.
const FINGERS = [[8, 6], [12, 10], [16, 14], [20, 18]];

/** The palm's centre: the mean of the wrist and the four finger bases. */
export function palmCentre(points: number[][]): [number, number] {
  const ids = [0, 5, 9, 13, 17];
  return [ids.reduce((s, i) => s + points[i][0], 0) / ids.length, ids.reduce((s, i) => s + points[i][1], 0) / ids.length];
}

export function palmLength(points: number[][]): number {
  return Math.hypot(points[MIDDLE_BASE][0] - points[WRIST][0], points[MIDDLE_BASE][1] - points[WRIST][1]) || 1e-9;
}

export function pinchDistance(points: number[][]): number {
  return Math.hypot(points[THUMB_TIP][0] - points[INDEX_TIP][0], points[THUMB_TIP][1] - points[INDEX_TIP][1]) / palmLength(points);
}

export function isOpenPalm(points: number[][]): boolean {
  const fromWrist = (i: number): number => Math.hypot(points[i][0] - points[WRIST][0], points[i][1] - points[WRIST][1]);
  return FINGERS.every(([tip, joint]) => fromWrist(tip) > fromWrist(joint) * 1.1) && pinchDistance(points) > 0.5;
}

/** Hand control: swipes, lifts, a pinch, an open palm held still. The first hand found is followed. */
export class HandControl {
  private track: { t: number; x: number; y: number }[] = [];
  private quietUntil = 0;
  private pinched = false;
  private stillSince: number | null = null;
  private palmFired = false;
  paused = false;
  state: ControlState = "tracking";

  constructor(private readonly options: HandOptions = DEFAULT_HANDS) {}

  calibrate(): void {
    this.track = [];
    this.stillSince = null;
  }

  get calibrated(): boolean {
    return true;
  }

  update(hands: HandPoints[], now: number): Action | null {
    if (hands.length === 0) {
      this.track = [];
      this.stillSince = null;
      this.palmFired = false;
      this.state = "no-hand";
      return null;
    }
    const points = hands[0].landmarks;
    this.state = this.paused ? "paused" : "tracking";
    const [x, y] = palmCentre(points);
    this.track.push({ t: now, x, y });
    while (this.track.length > 0 && this.track[0].t < now - this.options.swipeMs) this.track.shift();
    const palm = this.openPalm(points, x, y, now);
    if (palm || this.paused) return palm;
    return this.pinch(points) ?? this.move(now);
  }

  private openPalm(points: number[][], x: number, y: number, now: number): Action | null {
    const oldest = this.track[0];
    const still = isOpenPalm(points) && this.track.every((p) => Math.abs(p.x - x) < this.options.still && Math.abs(p.y - y) < this.options.still)
      && oldest !== undefined;
    if (!still) {
      this.stillSince = null;
      this.palmFired = false;
      return null;
    }
    this.stillSince ??= now;
    if (this.palmFired || now - this.stillSince < this.options.holdMs) return null;
    this.palmFired = true;
    this.paused = !this.paused;
    this.state = this.paused ? "paused" : "tracking";
    return "pause";
  }

  private pinch(points: number[][]): Action | null {
    const distance = pinchDistance(points);
    if (this.pinched) {
      if (distance > this.options.release) this.pinched = false;
      return null;
    }
    if (distance >= this.options.pinch) return null;
    this.pinched = true;
    return "select";
  }

  private move(now: number): Action | null {
    if (now < this.quietUntil || this.track.length < 2) return null;
    const first = this.track[0], last = this.track[this.track.length - 1];
    const dx = last.x - first.x, dy = last.y - first.y;
    let action: Action | null = null;
    // Mirrored: the hand moving to the frame's right moves to the visitor's left: "previous".
    if (Math.abs(dx) >= this.options.swipe && Math.abs(dx) >= Math.abs(dy)) action = dx > 0 ? "previous" : "next";
    else if (Math.abs(dy) >= this.options.lift) action = dy > 0 ? "down" : "up";
    if (!action) return null;
    this.quietUntil = now + this.options.cooldownMs;
    this.track = [];
    return action;
  }
}
