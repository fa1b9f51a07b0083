// The landmark pages' worker (landmarks-worker.js): onnxruntime-web runs the pipeline's models here,
// one after the other, on frames the page transfers, step by step as staticml/tasks/face_landmarks/
// runner.py does: detector → turned crop → landmarks (→ a crop per eye → iris). Frames are dropped
// after use: nothing is kept, stored or sent.
import * as ort from "onnxruntime-web/wasm";
import { loadOrtModel } from "../../ort_session";
import { send, serve } from "../../worker_shell";
import { anchors, decode, inputTensor, placement, suppress, toFrame, type Detection, type Placement } from "../camera/decode";
import type { FrameRequest, FrameResult, InitLandmarksRequest, InitLandmarksResult, LandmarksRequest } from "./protocol";
import { boundingBox, crop, fromBox, fromPoints, project, sigmoid, type Rect } from "./roi";
import type { FaceResult, HandResult, LandmarkResult, ModelSpec, PipelineSpec } from "./spec";

let pipeline: PipelineSpec | null = null;
let sessions: ort.InferenceSession[] = [];
let centres: Float64Array = new Float64Array(0);
let detectorContext: OffscreenCanvasRenderingContext2D | null = null;
/** The regions the last tracked frame's landmarks give, for the next tracked frame. */
let tracked: Rect[] = [];

async function init(request: InitLandmarksRequest): Promise<InitLandmarksResult> {
  const files = request.files.map((f) => ({ url: request.modelUrl + f.name, name: f.name, entry: f.entry }));
  const loaded = await loadOrtModel(request, files, (done, total) => send({ type: "progress", loaded: done, total }));
  sessions = [loaded.session];
  for (let i = 1; i < loaded.files.length; i++) {
    sessions.push(await ort.InferenceSession.create(loaded.files[i], { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
  }
  pipeline = request.pipeline;
  centres = anchors(pipeline.detector);
  const { width, height } = pipeline.detector.input;
  detectorContext = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  // The first run of each session is several times slower: pay for it before "ready".
  await frame({ id: 0, type: "frame", width, height, pixels: new Uint8ClampedArray(width * height * 4).buffer });
  const modelBytes = loaded.files.reduce((sum, f) => sum + f.byteLength, 0);
  return { threads: loaded.threads, bytes_downloaded: loaded.bytesDownloaded, model_bytes: modelBytes, wasm_bytes: loaded.wasmBytes };
}

async function runModel(session: ort.InferenceSession, model: ModelSpec, data: Float32Array): Promise<Record<string, Float32Array>> {
  const input = new ort.Tensor("float32", data, [1, model.input.height, model.input.width, 3]);
  const names = Object.values(model.outputs).filter((n): n is string => typeof n === "string");
  let outputs: ort.InferenceSession.OnnxValueMapType | undefined;
  try {
    outputs = await session.run({ [model.input.name]: input }, names);
    const result: Record<string, Float32Array> = {};
    for (const [key, name] of Object.entries(model.outputs)) if (name) result[key] = (outputs[name].data as Float32Array).slice();
    return result;
  } finally {
    input.dispose();
    for (const tensor of Object.values(outputs ?? {})) tensor.dispose();
  }
}

/** The whole frame's RGBA pixels (the crops sample them). */
function framePixels(request: FrameRequest): Uint8ClampedArray {
  if (request.pixels) return new Uint8ClampedArray(request.pixels);
  const canvas = new OffscreenCanvas(request.width, request.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context || !request.bitmap) throw new Error("no frame to read");
  context.drawImage(request.bitmap, 0, 0);
  return context.getImageData(0, 0, request.width, request.height).data;
}

/** The detector's input: the frame as it is when the sizes match, else drawn letterboxed. */
function detectorPixels(request: FrameRequest, rgba: Uint8ClampedArray): { rgba: Uint8ClampedArray; place?: Placement } {
  if (!pipeline || !detectorContext) throw new Error("the pipeline is not loaded");
  const spec = pipeline.detector;
  const { width, height } = spec.input;
  if (request.width === width && request.height === height) return { rgba };
  const source = new OffscreenCanvas(request.width, request.height);
  source.getContext("2d")?.putImageData(new ImageData(new Uint8ClampedArray(rgba), request.width, request.height), 0, 0);
  const place = placement(request.width, request.height, spec);
  detectorContext.fillStyle = "#000";
  detectorContext.fillRect(0, 0, width, height);
  detectorContext.drawImage(source, place.left, place.top, place.width, place.height);
  return { rgba: detectorContext.getImageData(0, 0, width, height).data, place };
}

async function detect(request: FrameRequest, rgba: Uint8ClampedArray): Promise<Detection[]> {
  if (!pipeline) throw new Error("the pipeline is not loaded");
  const spec = pipeline.detector;
  const input = detectorPixels(request, rgba);
  const data = inputTensor(input.rgba, spec);
  const raw = await runModel(sessions[0], { ...spec, file: spec.file, count: 0, outputs: { points: spec.outputs.boxes, scores: spec.outputs.scores } }, data);
  return suppress(decode(raw.points, raw.scores, spec, centres), spec).map((c) => toFrame(c, spec, input.place));
}

async function onCrop(session: ort.InferenceSession, model: ModelSpec, rgba: Uint8ClampedArray, width: number, height: number, rect: Rect, flip = false) {
  return runModel(session, model, crop(rgba, width, height, rect, model.input.width, model.input.height, model.input.range, flip));
}

function presence(model: ModelSpec, raw: number): number {
  return model.score === "logit" ? sigmoid(raw) : raw;
}

function detectionRect(detection: Detection, width: number, height: number): Rect {
  if (!pipeline) throw new Error("the pipeline is not loaded");
  const [start, end] = pipeline.roi.keypoints.map((i) => detection.keypoints[i]);
  return fromBox(detection.box, start, end, width, height, pipeline.roi);
}

/** The next frame's region from a result's points (pipeline.tracking), or none without a tracking description. */
function trackingRect(result: LandmarkResult, width: number, height: number): Rect | null {
  const spec = pipeline?.tracking;
  if (!spec) return null;
  const points = "face" in result ? result.face : result.landmarks;
  const [start, end] = spec.keypoints.map((i) => points[i]);
  return fromBox(boundingBox(points), start, end, width, height, spec);
}

async function landmarksIn(rect: Rect, rgba: Uint8ClampedArray, width: number, height: number): Promise<LandmarkResult | null> {
  if (!pipeline) throw new Error("the pipeline is not loaded");
  const model = pipeline.landmarks;
  const out = await onCrop(sessions[1], model, rgba, width, height, rect);
  const score = presence(model, out.score[0]);
  if (score < (model.threshold ?? 0.5)) return null;
  const points = project(out.points, 3, model.count, rect, model.input.width, model.input.height, width, height);
  if (!pipeline.iris) {
    const handedness = out.handedness[0] > 0.5 ? "right" : "left";
    return { score, handedness, box: boundingBox(points), landmarks: points } satisfies HandResult;
  }
  const iris = pipeline.iris;
  const irises: number[][][] = [];
  for (let i = 0; i < iris.corners.length; i++) {
    const [a, b] = iris.corners[i];
    const eye = fromPoints(points[a], points[b], width, height, iris.roi);
    const flip = iris.flip[i];
    const found = await onCrop(sessions[2], iris, rgba, width, height, eye, flip);
    irises.push(project(found.points, 3, iris.count, eye, iris.input.width, iris.input.height, width, height, flip).map((p) => p.slice(0, 2)));
  }
  return { score, box: boundingBox(points), face: points, irises } satisfies FaceResult;
}

async function frame(request: FrameRequest): Promise<FrameResult> {
  if (!pipeline) throw new Error("the pipeline is not loaded");
  const started = performance.now();
  const rgba = framePixels(request);
  request.bitmap?.close();
  const { width, height } = request;
  const most = pipeline.max_faces ?? pipeline.max_hands ?? 1;
  let results = request.track ? await landmarksInAll(tracked, rgba, width, height) : [];
  let detections: Detection[] = [];
  const detected = results.length === 0;
  if (detected) {
    detections = await detect(request, rgba);
    results = await landmarksInAll(detections.slice(0, most).map((d) => detectionRect(d, width, height)), rgba, width, height);
  }
  if (request.track) tracked = results.map((r) => trackingRect(r, width, height)).filter((r): r is Rect => r !== null);
  return { results, detections, detected, ms: performance.now() - started };
}

async function landmarksInAll(rects: Rect[], rgba: Uint8ClampedArray, width: number, height: number): Promise<LandmarkResult[]> {
  const results: LandmarkResult[] = [];
  for (const rect of rects) {
    const result = await landmarksIn(rect, rgba, width, height);
    if (result) results.push(result);
  }
  return results;
}

serve<LandmarksRequest>(
  (request) => (request.type === "init" ? init(request) : frame(request)),
  (request) => {
    if (request.type === "frame") request.bitmap?.close();
  },
);
