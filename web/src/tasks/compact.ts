// Each classifier task's runtime on the compact engine (engine/), on the page's own thread
// (local_client.ts): no worker, no WASM. build chooses this engine only for graphs it can run.
import type { TaskOn } from "./index";
import { CompactTabularRuntime } from "./tabular/compact_runtime";
import type { TaskRuntime } from "./task";
import { CompactRuntime } from "./text/compact_runtime";

export const COMPACT: Record<TaskOn<"classifier">, TaskRuntime> = {
  "text-classification": CompactRuntime.load,
  "tabular-classification": CompactTabularRuntime.load,
};
