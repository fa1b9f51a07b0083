// The camera page's worker (camera-worker.js): onnxruntime-web (set up by ort_session.ts) runs the
// face detector here, on frames the page transfers (an ImageBitmap from the camera, or the pixels
// of an ImageData), so that the page never freezes. Frames are drawn into the model's input square,
// run, decoded and dropped: nothing is kept, stored or sent.
import * as ort from "onnxruntime-web/wasm";
import { downloadTally } from "../../download";
import { loadOrtModel } from "../../ort_session";
import type { DetectorSpec } from "../../types";
import { send, serve } from "../../worker_shell";
import { anchors, decode, inputTensor, placement, suppress, toFrame, type Detection, type Placement } from "./decode";
import type { CameraRequest, DetectRequest, DetectResult, InitCameraRequest, InitCameraResult } from "./protocol";

let session: ort.InferenceSession | null = null;
let spec: DetectorSpec | null = null;
let centres: Float64Array = new Float64Array(0);
let context: OffscreenCanvasRenderingContext2D | null = null;

async function init(request: InitCameraRequest): Promise<InitCameraResult> {
  const file = { url: request.modelUrl + request.modelFile, name: request.modelFile, entry: request.modelEntry };
  const loaded = await loadOrtModel(request, [file], (done, total) => send({ type: "progress", loaded: done, total }));
  session = loaded.session;
  spec = request.spec;
  centres = anchors(spec);
  context = new OffscreenCanvas(spec.input.width, spec.input.height).getContext("2d", { willReadFrequently: true });
  // The first run of a session is several times slower: pay for it before "ready".
  await run(new Uint8ClampedArray(spec.input.width * spec.input.height * 4));
  const { wire, uncompressed } = downloadTally();
  return { threads: loaded.threads, bytes_downloaded: wire, bytes_uncompressed: uncompressed, model_bytes: loaded.modelBytes, wasm_bytes: loaded.wasmBytes };
}

async function run(rgba: Uint8ClampedArray, place?: Placement): Promise<Detection[]> {
  if (!session || !spec) throw new Error("the detector is not loaded");
  const input = new ort.Tensor("float32", inputTensor(rgba, spec), [1, spec.input.height, spec.input.width, 3]);
  let outputs: ort.InferenceSession.OnnxValueMapType | undefined;
  try {
    outputs = await session.run({ [spec.input.name]: input }, [spec.outputs.boxes, spec.outputs.scores]);
    const boxes = outputs[spec.outputs.boxes].data as Float32Array;
    const scores = outputs[spec.outputs.scores].data as Float32Array;
    return suppress(decode(boxes, scores, spec, centres), spec).map((c) => toFrame(c, spec as DetectorSpec, place));
  } finally {
    input.dispose();
    for (const tensor of Object.values(outputs ?? {})) tensor.dispose();
  }
}

/** The frame's pixels in the input square: as they are when the sizes match, else drawn letterboxed. */
function pixels(request: DetectRequest): { rgba: Uint8ClampedArray; place?: Placement } {
  if (!spec || !context) throw new Error("the detector is not loaded");
  const { width, height } = spec.input;
  if (request.pixels && request.width === width && request.height === height) return { rgba: new Uint8ClampedArray(request.pixels) };
  const source: CanvasImageSource = request.bitmap ?? pixelsBitmap(request);
  const place = placement(request.width, request.height, spec);
  context.fillStyle = "#000";
  context.fillRect(0, 0, width, height);
  context.drawImage(source, place.left, place.top, place.width, place.height);
  request.bitmap?.close();
  return { rgba: context.getImageData(0, 0, width, height).data, place };
}

function pixelsBitmap(request: DetectRequest): OffscreenCanvas {
  const frame = new OffscreenCanvas(request.width, request.height);
  const frameContext = frame.getContext("2d");
  if (!frameContext || !request.pixels) throw new Error("no frame to detect in");
  frameContext.putImageData(new ImageData(new Uint8ClampedArray(request.pixels), request.width, request.height), 0, 0);
  return frame;
}

async function detect(request: DetectRequest): Promise<DetectResult> {
  const started = performance.now();
  const { rgba, place } = pixels(request);
  const detections = await run(rgba, place);
  return { detections, ms: performance.now() - started };
}

serve<CameraRequest>(
  (request) => (request.type === "init" ? init(request) : detect(request)),
  (request) => {
    if (request.type === "detect") request.bitmap?.close();
  },
);
