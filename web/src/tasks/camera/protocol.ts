// The camera page <-> its worker (camera-worker.js): a request carries an id, the reply carries it
// back (worker_client.ts, worker_shell.ts).
import type { DetectorSpec, FileEntry } from "../../types";
import type { Detection } from "./decode";

export interface InitCameraRequest {
  id: number;
  type: "init";
  spec: DetectorSpec;
  /** Absolute URL of the model folder, ending in "/". */
  modelUrl: string;
  modelFile: string;
  modelEntry: FileEntry;
  /** Absolute URL of the folder holding ort-wasm-simd-threaded.{mjs,wasm}, ending in "/". */
  ortUrl: string;
  threads: number;
  /** A first visit (no service worker serves the page yet): keep the checked downloads for it (offline_copy.ts). */
  keepDownloads?: boolean;
}

/** One frame: a transferred ImageBitmap (camera, video), or the transferred pixels of an ImageData. */
export interface DetectRequest {
  id: number;
  type: "detect";
  width: number;
  height: number;
  bitmap?: ImageBitmap;
  pixels?: ArrayBuffer;
}

export type CameraRequest = InitCameraRequest | DetectRequest;

export interface InitCameraResult {
  threads: number;
  /** On the wire (compressed, 0 from a cache), and as held uncompressed: download.ts's tally. */
  bytes_downloaded: number;
  bytes_uncompressed: number;
  model_bytes: number;
  wasm_bytes: number;
}

export interface DetectResult {
  detections: Detection[];
  /** Drawing + inference + decoding inside the worker. */
  ms: number;
}

/** What a frame request moves to the worker rather than copying: its bitmap or its pixel buffer. */
export function transferOf(request: Omit<DetectRequest, "id">): Transferable[] {
  return request.bitmap ? [request.bitmap] : request.pixels ? [request.pixels] : [];
}
