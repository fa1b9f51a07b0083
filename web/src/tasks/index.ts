// The page's task registry, one entry per manifest "task", mirroring Python's staticml.tasks.TASKS
// (test/tasks.test.ts checks they name the same tasks). An entry says which page the task runs on
// ("classifier": index.html, a text box or a form; "video": camera.html, a camera loop), as
// `Task.page` does in Python. Its code is in its folder (tasks/text/, tasks/tabular/, tasks/camera/),
// and is registered by where it runs, since each bundle carries only its own code (onnxruntime-web
// stays out of the page, the tokenizer out of the camera page):
//   classifier.ts  the classifier page's view and window.staticml members   (assets/staticml.js)
//   compact.ts     the runtime on the compact engine, in the page            (staticml.js, staticml-element.js)
//   onnxruntime.ts the runtime on onnxruntime-web, in the worker             (worker.js, worker-webgpu.js)
//   video.ts       the video page: view, loop, its own worker                (camera.js; camera-worker.js)
// TypeScript checks that each of those files has a part for every task of its page.
import type { Manifest } from "../types";

export type PageName = "classifier" | "video" | "qa";

export interface TaskEntry {
  page: PageName;
  /** The task's folder under web/src/tasks/. */
  folder: string;
}

export const TASKS = {
  "text-classification": { page: "classifier", folder: "text" },
  "tabular-classification": { page: "classifier", folder: "tabular" },
  "face-detection": { page: "video", folder: "camera" },
  "question-answering": { page: "qa", folder: "qa" },
  "face-landmarks": { page: "video", folder: "eyes" },
  "hand-landmarks": { page: "video", folder: "hands" },
} as const satisfies Record<string, TaskEntry>;

export type TaskName = keyof typeof TASKS;
/** The tasks that run on one page. */
export type TaskOn<P extends PageName> = { [K in TaskName]: (typeof TASKS)[K]["page"] extends P ? K : never }[TaskName];

/** The part `parts` (one of the registries above) holds for the manifest's task; throws a sentence
 * naming the model, its task and the page it belongs on when there is none. */
export function partFor<T>(parts: Partial<Record<string, T>>, manifest: Manifest, page: PageName): T {
  const part = Object.hasOwn(parts, manifest.task) ? parts[manifest.task] : undefined;
  if (part) return part;
  const entry: TaskEntry | undefined = Object.hasOwn(TASKS, manifest.task) ? TASKS[manifest.task as TaskName] : undefined;
  if (!entry) {
    throw new Error(`model ${manifest.name} has task "${manifest.task}", which this page does not know (known: ${Object.keys(TASKS).join(", ")})`);
  }
  throw new Error(`model ${manifest.name} is a ${manifest.task} model: it runs on the ${entry.page} page, not on the ${page} page`);
}
