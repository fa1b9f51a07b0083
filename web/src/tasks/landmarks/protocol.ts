// The landmark page <-> its worker (landmarks-worker.js), as the camera page's protocol.ts.
import type { FileEntry } from "../../types";
import type { Detection } from "../camera/decode";
import type { LandmarkResult, PipelineSpec } from "./spec";

export interface InitLandmarksRequest {
  id: number;
  type: "init";
  pipeline: PipelineSpec;
  modelUrl: string;
  /** The pipeline's files (detector first) and their manifest entries. */
  files: { name: string; entry: FileEntry }[];
  ortUrl: string;
  threads: number;
  keepDownloads?: boolean;
}

export interface FrameRequest {
  id: number;
  type: "frame";
  width: number;
  height: number;
  bitmap?: ImageBitmap;
  pixels?: ArrayBuffer;
  /** The live loop: start from the regions the previous tracked frame's landmarks give, run the detector only when they are lost. */
  track?: boolean;
}

export type LandmarksRequest = InitLandmarksRequest | FrameRequest;

export interface InitLandmarksResult {
  threads: number;
  bytes_downloaded: number;
  model_bytes: number;
  wasm_bytes: number;
}

export interface FrameResult {
  results: LandmarkResult[];
  /** The detector's boxes (before the landmark models' presence check), for the preview. */
  detections: Detection[];
  /** The detector ran on this frame (false: the regions came from the previous frame's landmarks). */
  detected: boolean;
  ms: number;
}
