// Web Worker for models on onnxruntime-web: a thin message shell (worker_shell.ts) around host.ts
// and the task's runtime (tasks/onnxruntime.ts). Tokenization and inference run here, so the page
// never freezes. (Models on the compact engine run in the page: local_client.ts.)
import { ModelHost } from "./host";
import { partFor } from "./tasks/index";
import { ONNXRUNTIME } from "./tasks/onnxruntime";
import type { WorkerRequest } from "./types";
import { send, serve } from "./worker_shell";

const host = new ModelHost((request, onProgress) => partFor(ONNXRUNTIME, request.manifest, "classifier")(request, onProgress), send);

serve<WorkerRequest>((request) => host.handle(request));
