// What a task's parts look like, per place they run (see index.ts). A task offers the members of
// window.staticml it gains as functions of its running page; api.ts puts them on window.staticml
// before the model (and so the task) is known.
import type { FileScoring } from "../file_scoring";
import type { Loader } from "../host";
import type { ServerMode } from "../server_mode";
import type { Settings } from "../settings";
import type { Manifest, PredictResult } from "../types";
import type { Ui } from "../ui";
import type { ModelClient, Request } from "../worker_client";

// Each member takes its own arguments (texts, rows, an image).
export type ApiMember<C> = (context: C, ...args: any[]) => unknown;

/** A task's members of window.staticml (on top of the page's own: ready, info, …). */
export type Api<C> = Record<string, ApiMember<C>>;

/** What a task's view gets from the classifier page (main.ts). */
export interface ClassifierPage {
  manifest: Manifest;
  ui: Ui;
  fileScoring: FileScoring;
  /** The site's API server, when the site has one and the visitor turned it on. */
  serverMode: ServerMode | null;
  client: ModelClient;
  /** Runs a prediction request once the model is ready, and records its time in info(). */
  run(request: Request): Promise<PredictResult>;
}

export interface ClassifierView {
  /** The model is ready: enable the inputs. */
  ready(): void;
}

/** A task on the classifier page: its view and what window.staticml gains for it. */
export interface ClassifierTask {
  /** The page's title when site.json names none. */
  title: string;
  /** Sets the task's inputs up on the page (disabled until `ready`). */
  mount(page: ClassifierPage): ClassifierView;
  api: Api<ClassifierPage>;
}

/** The runtime of a task on one engine (compact.ts, onnxruntime.ts). */
export type TaskRuntime = Loader;

/** What a task on the video page gets: the model, the site's settings. */
export interface VideoPage {
  manifest: Manifest;
  /** Absolute URL of the model folder, ending in "/". */
  modelUrl: string;
  variant: string;
  settings: Settings;
  /** The site's assets/ folder (the task's worker and onnxruntime-web's files are there). */
  assets: URL;
}

/** A task's video page once started: loaded when `ready`, described by `info()`. */
export interface VideoRun {
  ready: Promise<void>;
  info(): Record<string, unknown>;
}

export interface VideoTask {
  /** Runs the page for one model: its view, its worker, its loop. */
  start(page: VideoPage): VideoRun;
  api: Api<VideoRun>;
}
