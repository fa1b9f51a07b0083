// Face detection from the manifest's one description: MediaPipe SSD anchors, box and keypoint
// decoding, (weighted) non-maximum suppression and letterboxing. The same steps, in the same
// order and in float64, as src/staticml/detect.py, so that the page's detections equal Python's.
import type { DetectorSpec } from "../../types";

/** `window.staticml.detect` result: coordinates normalised to the frame (0..1). */
export interface Detection {
  score: number;
  box: [number, number, number, number];
  keypoints: [number, number][];
}

/** A candidate in the input square: corners xmin, ymin, xmax, ymax and keypoints x0, y0, x1, ... */
interface Candidate {
  score: number;
  corners: number[];
  keypoints: number[];
}

/** Anchor centres (x, y) interleaved, of MediaPipe's SsdAnchorsCalculator with fixed anchor size. */
export function anchors(spec: DetectorSpec): Float64Array {
  const { strides, offset_x, offset_y, interpolated_scale_aspect_ratio } = spec.anchors;
  const perStride = interpolated_scale_aspect_ratio === 1.0 ? 2 : 1;
  const centres: number[] = [];
  let layer = 0;
  while (layer < strides.length) {
    let same = layer;
    while (same < strides.length && strides[same] === strides[layer]) same++;
    const repeats = perStride * (same - layer);
    const rows = Math.floor(spec.input.height / strides[layer]);
    const cols = Math.floor(spec.input.width / strides[layer]);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        for (let r = 0; r < repeats; r++) centres.push((x + offset_x) / cols, (y + offset_y) / rows);
      }
    }
    layer = same;
  }
  return Float64Array.from(centres);
}

/** The model's outputs for one frame → candidates in the input square (before NMS). */
export function decode(rawBoxes: Float32Array, rawScores: Float32Array, spec: DetectorSpec, centres: Float64Array): Candidate[] {
  const count = centres.length / 2;
  const width = rawBoxes.length / count;
  const limit = spec.raw_score_limit;
  const found: Candidate[] = [];
  for (let i = 0; i < count; i++) {
    const logit = Math.min(Math.max(rawScores[i], -limit), limit);
    const score = 1 / (1 + Math.exp(-logit));
    if (!(score > spec.score_threshold)) continue;
    const row = i * width;
    const ax = centres[2 * i];
    const ay = centres[2 * i + 1];
    const cx = rawBoxes[row] / spec.input.width + ax;
    const cy = rawBoxes[row + 1] / spec.input.height + ay;
    const hw = rawBoxes[row + 2] / spec.input.width / 2;
    const hh = rawBoxes[row + 3] / spec.input.height / 2;
    if (hw <= 0 || hh <= 0) continue;
    const keypoints: number[] = [];
    for (let k = 4; k < width; k += 2) {
      keypoints.push(rawBoxes[row + k] / spec.input.width + ax, rawBoxes[row + k + 1] / spec.input.height + ay);
    }
    found.push({ score, corners: [cx - hw, cy - hh, cx + hw, cy + hh], keypoints });
  }
  return found;
}

export function iou(a: number[], b: number[]): number {
  const width = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return 0;
  const inter = width * height;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Non-maximum suppression by descending score (ties: anchor order); weighted: the score-weighted
 * mean of the overlapping boxes and keypoints, with the best one's score. */
export function suppress(candidates: Candidate[], spec: DetectorSpec): Candidate[] {
  const threshold = spec.nms.iou_threshold;
  let remaining = [...candidates].sort((a, b) => b.score - a.score); // Array.prototype.sort is stable
  const kept: Candidate[] = [];
  while (remaining.length > 0) {
    let best = remaining[0];
    const close = remaining.filter((d) => iou(d.corners, best.corners) > threshold);
    remaining = remaining.filter((d) => iou(d.corners, best.corners) <= threshold);
    if (spec.nms.weighted) best = weightedMean(close, best.score);
    kept.push(best);
  }
  return kept;
}

function weightedMean(close: Candidate[], score: number): Candidate {
  const total = close.reduce((sum, d) => sum + d.score, 0);
  const mean = (pick: (d: Candidate) => number[]): number[] =>
    pick(close[0]).map((_, j) => close.reduce((sum, d) => sum + pick(d)[j] * d.score, 0) / total);
  return { score, corners: mean((d) => d.corners), keypoints: mean((d) => d.keypoints) };
}

/** Where a frame goes in the input square, in input pixels: scaled to fit keeping its aspect
 * ratio, centred, black around ("letterbox"), or stretched. */
export interface Placement {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function placement(frameWidth: number, frameHeight: number, spec: DetectorSpec): Placement {
  const { width, height } = spec.input;
  if (spec.input.resize !== "letterbox") return { left: 0, top: 0, width, height };
  const scale = Math.min(width / frameWidth, height / frameHeight);
  // Python's round() rounds halves to even; frame sizes that hit a half exactly are rare, but match it.
  const innerW = Math.max(1, roundHalfEven(frameWidth * scale));
  const innerH = Math.max(1, roundHalfEven(frameHeight * scale));
  return { left: Math.floor((width - innerW) / 2), top: Math.floor((height - innerH) / 2), width: innerW, height: innerH };
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Input-square coordinates → the frame's, as the page API reports them. */
export function toFrame(candidate: Candidate, spec: DetectorSpec, place?: Placement): Detection {
  const p = place ?? { left: 0, top: 0, width: spec.input.width, height: spec.input.height };
  const ox = p.left / spec.input.width;
  const oy = p.top / spec.input.height;
  const sx = p.width / spec.input.width;
  const sy = p.height / spec.input.height;
  const [x0, y0, x1, y1] = candidate.corners;
  const fx0 = (x0 - ox) / sx;
  const fy0 = (y0 - oy) / sy;
  const keypoints: [number, number][] = [];
  for (let k = 0; k < candidate.keypoints.length; k += 2) {
    keypoints.push([(candidate.keypoints[k] - ox) / sx, (candidate.keypoints[k + 1] - oy) / sy]);
  }
  return { score: candidate.score, box: [fx0, fy0, (x1 - ox) / sx - fx0, (y1 - oy) / sy - fy0], keypoints };
}

/** The face the page follows: the largest box (ties: the higher score, then the first). */
export function largest(detections: Detection[]): Detection | null {
  let best: Detection | null = null;
  for (const d of detections) {
    if (!best) best = d;
    else {
      const area = d.box[2] * d.box[3];
      const bestArea = best.box[2] * best.box[3];
      if (area > bestArea || (area === bestArea && d.score > best.score)) best = d;
    }
  }
  return best;
}

/** RGBA pixels of the input's size → the model's input [1, h, w, 3] in `range` (float32, as numpy). */
export function inputTensor(rgba: Uint8ClampedArray, spec: DetectorSpec): Float32Array {
  const [low, high] = spec.input.range;
  const scale = Math.fround((high - low) / 255);
  const out = new Float32Array(spec.input.width * spec.input.height * 3);
  for (let p = 0, q = 0; q < out.length; p += 4, q += 3) {
    // Math.fround at each step: numpy computes x * scale then + low, each rounded to float32.
    out[q] = Math.fround(rgba[p] * scale) + low;
    out[q + 1] = Math.fround(rgba[p + 1] * scale) + low;
    out[q + 2] = Math.fround(rgba[p + 2] * scale) + low;
  }
  return out;
}
