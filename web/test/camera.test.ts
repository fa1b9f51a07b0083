// The camera page's pure parts: anchors as MediaPipe lays them out, letterbox placement as Python
// computes it, and the tracker's rules (calibration, dwell, hysteresis, the largest face followed,
// no face → no move).
import assert from "node:assert/strict";
import { test } from "node:test";
import { anchors, largest, placement, type Detection } from "../src/tasks/camera/decode";
import { Tracker } from "../src/tasks/camera/tracker";
import type { DetectorSpec } from "../src/types";

const SPEC: DetectorSpec = {
  input: { name: "input", width: 128, height: 128, layout: "NHWC", channels: "RGB", range: [-1, 1], resize: "letterbox" },
  outputs: { boxes: "regressors", scores: "classificators" },
  anchors: { num_layers: 4, strides: [8, 16, 16, 16], offset_x: 0.5, offset_y: 0.5, interpolated_scale_aspect_ratio: 1, count: 896 },
  keypoints: 6,
  raw_score_limit: 80,
  score_threshold: 0.5,
  nms: { iou_threshold: 0.3, weighted: true },
};

const face = (cx: number, cy: number, size = 0.3, score = 0.9): Detection => ({
  score, box: [cx - size / 2, cy - size / 2, size, size], keypoints: [],
});

test("anchors: 896 centres, 2 per cell on the 16x16 grid, then 6 per cell on 8x8", () => {
  const centres = anchors(SPEC);
  assert.equal(centres.length, 896 * 2);
  assert.deepEqual([centres[0], centres[1], centres[2], centres[4]], [0.5 / 16, 0.5 / 16, 0.5 / 16, 1.5 / 16]);
  assert.deepEqual([centres[1024], centres[1025], centres[1036]], [0.5 / 8, 0.5 / 8, 1.5 / 8]);
});

test("placement: letterboxed as staticml.detect.placement", () => {
  assert.deepEqual(placement(640, 480, SPEC), { left: 0, top: 16, width: 128, height: 96 });
  assert.deepEqual(placement(480, 640, SPEC), { left: 16, top: 0, width: 96, height: 128 });
});

test("largest: several faces, the largest is followed", () => {
  const small = face(0.2, 0.5, 0.1, 0.99);
  const big = face(0.7, 0.5, 0.4, 0.6);
  assert.equal(largest([small, big]), big);
  assert.equal(largest([]), null);
});

function run(tracker: Tracker, xs: number[], stepMs = 50, start = 0): string[] {
  const moves: string[] = [];
  xs.forEach((x, i) => {
    const move = tracker.update([face(x, 0.5)], start + i * stepMs);
    if (move) moves.push(move);
  });
  return moves;
}

test("tracker: calibrates, then one move per excursion after the dwell time (mirrored view)", () => {
  const tracker = new Tracker();
  const still = Array(10).fill(0.5);
  assert.deepEqual(run(tracker, still), []);
  assert.equal(tracker.calibrated, true);
  // The face moves right in the camera's frame (the visitor's left): previous, once, however long it stays.
  assert.deepEqual(run(tracker, [...Array(20).fill(0.7), ...Array(10).fill(0.5), ...Array(20).fill(0.3)], 50, 1000), ["previous", "next"]);
});

test("tracker: a glance shorter than the dwell time, and jitter around the threshold, do nothing", () => {
  const tracker = new Tracker();
  run(tracker, Array(10).fill(0.5));
  assert.deepEqual(run(tracker, [0.7, 0.7, 0.7, 0.5, 0.5], 50, 1000), []); // 150 ms < 300 ms
  assert.deepEqual(run(tracker, Array.from({ length: 40 }, (_, i) => 0.5 + (i % 2 ? 0.11 : 0.09)), 50, 2000), []);
});

test("tracker: hysteresis, a second move needs a return near the centre first", () => {
  const tracker = new Tracker();
  run(tracker, Array(10).fill(0.5));
  // Back to 0.58 (offset 0.08: inside enter, outside exit) and out again: no second move.
  assert.deepEqual(run(tracker, [...Array(10).fill(0.7), ...Array(5).fill(0.58), ...Array(10).fill(0.7)], 50, 1000), ["previous"]);
  assert.deepEqual(run(tracker, [...Array(5).fill(0.5), ...Array(10).fill(0.7)], 50, 3000), ["previous"]);
});

test("tracker: no face, no move; up and down from vertical movement", () => {
  const tracker = new Tracker();
  run(tracker, Array(10).fill(0.5));
  for (let i = 0; i < 20; i++) assert.equal(tracker.update([], 1000 + i * 50), null);
  assert.equal(tracker.state, "no-face");
  const moves: string[] = [];
  for (let i = 0; i < 10; i++) {
    const move = tracker.update([face(0.5, 0.7)], 2000 + i * 50);
    if (move) moves.push(move);
  }
  assert.deepEqual(moves, ["down"]);
});
