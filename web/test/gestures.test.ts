// The eye and hand controls' rules (tasks/landmarks/gestures.ts) on landmark sequences made frame by
// frame at 20 frames/s: a face whose irises move between the eye corners and whose lids close, and a
// 21-point hand that swipes, lifts, pinches and holds an open palm still. Only the points the rules
// read are placed like a real face's or hand's; the rest sit at the face's or palm's centre.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EyeControl, HandControl, gaze, isOpenPalm, pinchDistance, type Action, type FacePoints, type HandPoints } from "../src/tasks/landmarks/gestures";

const FRAME_MS = 50;

/** A face at the frame's centre; `look` moves both irises (fraction of the eye's width), `open` the lids. */
function face(lookX = 0, lookY = 0, open = 1): FacePoints {
  const points = Array.from({ length: 468 }, () => [0.5, 0.5, 0]);
  const eyes = [{ corners: [33, 133], lids: [159, 145], x: 0.4 }, { corners: [362, 263], lids: [386, 374], x: 0.6 }];
  const irises: number[][][] = [];
  for (const eye of eyes) {
    const width = 0.08;
    // Both eyes' first corner is the one on the frame's left (33: outer corner of one eye, 362: inner corner of the other).
    points[eye.corners[0]] = [eye.x - width / 2, 0.45, 0];
    points[eye.corners[1]] = [eye.x + width / 2, 0.45, 0];
    points[eye.lids[0]] = [eye.x, 0.45 - 0.012 * open, 0];
    points[eye.lids[1]] = [eye.x, 0.45 + 0.012 * open, 0];
    const centre = [eye.x + lookX * width, 0.45 + lookY * width];
    irises.push([centre, ...[[1, 0], [0, 1], [-1, 0], [0, -1]].map(([dx, dy]) => [centre[0] + dx * 0.01, centre[1] + dy * 0.01])]);
  }
  return { face: points, irises };
}

function play<T>(control: { update(items: T[], now: number): Action | null }, frames: T[][]): Action[] {
  const actions: Action[] = [];
  frames.forEach((items, i) => {
    const action = control.update(items, i * FRAME_MS);
    if (action) actions.push(action);
  });
  return actions;
}

const repeat = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

test("gaze: the iris centre between the corners (0.5 at the middle), lid distance per eye width", () => {
  assert.ok(Math.abs(gaze(face()).x - 0.5) < 1e-9);
  assert.ok(Math.abs(gaze(face(0.2)).x - 0.7) < 1e-9);
  assert.ok(Math.abs(gaze(face(0, 0, 1)).openness - 0.3) < 1e-9);
  assert.ok(gaze(face(0, 0.2)).y > 0.19);
});

test("eyes: calibration, then a look to the frame's right is previous, to its left next, down and up scroll", () => {
  const still = repeat(10, () => [face()]);
  const look = (x: number, y: number) => [...repeat(10, () => [face(x, y)]), ...repeat(6, () => [face()])];
  const actions = play(new EyeControl(), [...still, ...look(0.25, 0), ...look(-0.25, 0), ...look(0, 0.35), ...look(0, -0.35)]);
  assert.deepEqual(actions, ["previous", "next", "down", "up"]);
});

test("eyes: a glance shorter than the dwell and a small drift do nothing", () => {
  const frames = [...repeat(10, () => [face()]), ...repeat(4, () => [face(0.25)]), ...repeat(10, () => [face()]), ...repeat(30, () => [face(0.08)])];
  assert.deepEqual(play(new EyeControl(), frames), []);
});

test("eyes: one look held long gives one event (hysteresis), the next needs the eyes back at the centre", () => {
  const frames = [...repeat(10, () => [face()]), ...repeat(60, () => [face(0.25)])];
  assert.deepEqual(play(new EyeControl(), frames), ["previous"]);
});

test("eyes: both eyes closed for 0.6 s or more is select, once; an ordinary 0.3 s blink is nothing", () => {
  const open = repeat(10, () => [face()]);
  const blink = repeat(6, () => [face(0, 0, 0.1)]); // 0.3 s
  const long = repeat(20, () => [face(0, 0, 0.1)]); // 1 s
  assert.deepEqual(play(new EyeControl(), [...open, ...blink, ...open]), []);
  assert.deepEqual(play(new EyeControl(), [...open, ...long, ...open, ...long]), ["select", "select"]);
});

test("eyes: no face, no event", () => {
  const control = new EyeControl();
  assert.deepEqual(play(control, [...repeat(10, () => [face()]), ...repeat(30, () => [])]), []);
  assert.equal(control.state, "no-face");
});

/** A right hand seen from the front, palm centre at (x, y), `size` the palm length; `pinch` brings thumb and index tips together, `fist` curls the fingers. */
function hand(x: number, y: number, { pinch = false, fist = false, size = 0.15 } = {}): HandPoints {
  const at = (dx: number, dy: number) => [x + dx * size, y + dy * size, 0];
  const points = Array.from({ length: 21 }, () => at(0, 0));
  points[0] = at(0, 0.55); // wrist
  const bases: Record<number, number> = { 5: -0.35, 9: -0.1, 13: 0.12, 17: 0.32 };
  for (const [base, dx] of Object.entries(bases)) {
    const b = Number(base);
    points[b] = at(dx, -0.45);
    points[b + 1] = at(dx, fist ? -0.2 : -0.8); // middle joint
    points[b + 2] = at(dx, fist ? -0.1 : -1.05);
    points[b + 3] = at(dx, fist ? 0.05 : -1.3); // tip
  }
  points[1] = at(-0.45, 0.3);
  points[2] = at(-0.65, 0.05);
  points[3] = at(-0.8, -0.2);
  points[4] = pinch ? at(-0.35, -1.25) : at(-0.95, -0.4); // thumb tip: at the index tip when pinching
  if (pinch) points[8] = at(-0.35, -1.3);
  return { landmarks: points };
}

test("hands: the shape rules: an open palm is open, a pinch is a pinch, a fist neither", () => {
  assert.ok(isOpenPalm(hand(0.5, 0.5).landmarks));
  assert.ok(!isOpenPalm(hand(0.5, 0.5, { fist: true }).landmarks));
  assert.ok(pinchDistance(hand(0.5, 0.5, { pinch: true }).landmarks) < 0.3);
  assert.ok(pinchDistance(hand(0.5, 0.5).landmarks) > 0.5);
});

test("hands: a swipe to the frame's right then to its left gives previous then next", () => {
  const sweep = (from: number, to: number) => repeat(8, (i) => [hand(from + (to - from) * (i + 1) / 8, 0.5, { fist: true })]);
  const rest = (x: number) => repeat(16, () => [hand(x, 0.5, { fist: true })]);
  const actions = play(new HandControl(), [...rest(0.3), ...sweep(0.3, 0.7), ...rest(0.7), ...sweep(0.7, 0.3), ...rest(0.3)]);
  assert.deepEqual(actions, ["previous", "next"]);
});

test("hands: the hand moved down then up scrolls down then up; slow drift does nothing", () => {
  const move = (from: number, to: number, n = 8) => repeat(n, (i) => [hand(0.5, from + (to - from) * (i + 1) / n, { fist: true })]);
  const rest = (y: number) => repeat(16, () => [hand(0.5, y, { fist: true })]);
  assert.deepEqual(play(new HandControl(), [...rest(0.3), ...move(0.3, 0.6), ...rest(0.6), ...move(0.6, 0.3), ...rest(0.3)]), ["down", "up"]);
  assert.deepEqual(play(new HandControl(), [...rest(0.3), ...move(0.3, 0.6, 80)]), []);
});

test("hands: a pinch selects once until the fingers open again", () => {
  const open = repeat(5, () => [hand(0.5, 0.5, { fist: true })]);
  const pinched = repeat(10, () => [hand(0.5, 0.5, { pinch: true })]);
  assert.deepEqual(play(new HandControl(), [...open, ...pinched, ...open, ...pinched]), ["select", "select"]);
});

test("hands: an open palm held still for 1 s pauses (and stops other gestures), held again resumes", () => {
  const control = new HandControl();
  const palm = repeat(25, () => [hand(0.5, 0.5)]);
  const fist = repeat(5, () => [hand(0.5, 0.5, { fist: true })]);
  const pinched = repeat(5, () => [hand(0.5, 0.5, { pinch: true })]);
  const actions = play(control, [...palm, ...fist, ...pinched]);
  assert.deepEqual(actions, ["pause"]);
  assert.ok(control.paused);
  assert.deepEqual(play(control, [...fist, ...palm]).slice(-1), ["pause"]);
  assert.ok(!control.paused);
});

test("hands: two hands, the first is followed; no hand, no event", () => {
  const control = new HandControl();
  const sweep = repeat(8, (i) => [hand(0.3 + 0.4 * (i + 1) / 8, 0.5, { fist: true }), hand(0.8, 0.5, { fist: true })]);
  assert.deepEqual(play(control, [...repeat(4, () => [hand(0.3, 0.5, { fist: true }), hand(0.8, 0.5, { fist: true })]), ...sweep]), ["previous"]);
  assert.deepEqual(play(new HandControl(), repeat(30, () => [])), []);
});
