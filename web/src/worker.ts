// Web Worker: a thin message shell around runtime.ts. Tokenization and inference run here,
// so the page never freezes. Every request carries an id; the reply carries it back.
import { Runtime } from "./runtime";
import type { InitRequest, ProgressMessage, WorkerMessage, WorkerRequest } from "./types";

let runtime: Promise<Runtime> | null = null;
// ORT-web cannot run one session concurrently: chain runs one after another.
let queue: Promise<unknown> = Promise.resolve();

function send(message: WorkerMessage): void {
  self.postMessage(message);
}

function init(request: InitRequest): Promise<Runtime> {
  const onProgress = (loaded: number, total: number): void =>
    send({ type: "progress", loaded, total } satisfies ProgressMessage);
  runtime ??= Runtime.load(request, onProgress);
  return runtime;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  if (request.type === "init") return (await init(request)).result;
  if (!runtime) throw new Error("the model is not loaded");
  const rt = await runtime;
  if (request.type === "tokenize") return rt.tokenize(request.texts);
  const run = queue.then(async () => {
    const start = performance.now();
    const predictions = await rt.predict(request.texts);
    return { predictions, ms: performance.now() - start };
  });
  queue = run.catch(() => undefined);
  return run;
}

self.onmessage = async (event: MessageEvent<WorkerRequest>): Promise<void> => {
  const request = event.data;
  try {
    const result = await handle(request);
    send({ type: "reply", id: request.id, ok: true, result } as WorkerMessage);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    send({ type: "reply", id: request.id, ok: false, error: message });
  }
};
