// Each classifier task's runtime on onnxruntime-web, in the worker (worker.ts). Only the workers
// import this file: onnxruntime-web stays out of the page's bundle.
import type { TaskOn } from "./index";
import { TabularRuntime } from "./tabular/runtime";
import type { TaskRuntime } from "./task";
import { Runtime } from "./text/runtime";

export const ONNXRUNTIME: Record<TaskOn<"classifier">, TaskRuntime> = {
  "text-classification": Runtime.load,
  "tabular-classification": TabularRuntime.load,
};
