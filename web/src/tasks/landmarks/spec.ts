// The manifest's `pipeline` (staticml/tasks/face_landmarks/description.py, hand_landmarks/description.py):
// the detector, the region of interest, the landmark model(s); read by the worker and the page.
import type { DetectorSpec, Manifest } from "../../types";
import type { RoiSpec } from "./roi";

export interface ModelSpec {
  file: string;
  input: { name: string; width: number; height: number; range: [number, number] };
  outputs: { points: string; score?: string; handedness?: string; [name: string]: string | undefined };
  count: number;
  /** "logit": the score goes through a sigmoid; "probability": it is one already. */
  score?: "logit" | "probability";
  threshold?: number;
}

export interface IrisSpec extends ModelSpec {
  corners: [number, number][];
  flip: boolean[];
  roi: RoiSpec;
}

export interface PipelineSpec {
  detector: DetectorSpec & { file: string };
  roi: RoiSpec & { keypoints: [number, number] };
  /** The next frame's region from this frame's points (the live loop skips the detector while it holds). */
  tracking?: RoiSpec & { keypoints: [number, number] };
  landmarks: ModelSpec;
  iris?: IrisSpec;
  max_faces?: number;
  max_hands?: number;
}

/** A face as landmarks() answers. */
export interface FaceResult {
  score: number;
  box: [number, number, number, number];
  face: number[][];
  irises: number[][][];
}

/** A hand as hands() answers. */
export interface HandResult {
  score: number;
  handedness: "left" | "right";
  box: [number, number, number, number];
  landmarks: number[][];
}

export type LandmarkResult = FaceResult | HandResult;

export function pipelineOf(manifest: Manifest): PipelineSpec {
  const pipeline = manifest.pipeline as PipelineSpec | undefined;
  if (!pipeline) throw new Error(`model ${manifest.name} has no "pipeline" in manifest.json`);
  return pipeline;
}

/** The pipeline's files, the detector first, in the order the worker opens them. */
export function pipelineFiles(pipeline: PipelineSpec): string[] {
  return [pipeline.detector.file, pipeline.landmarks.file, ...(pipeline.iris ? [pipeline.iris.file] : [])];
}
