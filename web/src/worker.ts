// Web Worker: a thin message shell around runtime.ts. Tokenization and inference run here,
// so the page never freezes. Every request carries an id; the reply carries it back.
import { FileScorer } from "./file_scorer";
import { Runtime } from "./runtime";
import type { InitRequest, ProgressMessage, WorkerMessage, WorkerRequest } from "./types";

let runtime: Promise<Runtime> | null = null;
// ORT-web cannot run one session concurrently: chain runs one after another.
let queue: Promise<unknown> = Promise.resolve();
const files = new FileScorer(
  (texts) => enqueue(async () => (await loaded()).predict(texts)),
  (done, total) => send({ type: "batch-progress", done, total }),
);

function send(message: WorkerMessage): void {
  self.postMessage(message);
}

function enqueue<T>(run: () => Promise<T>): Promise<T> {
  const next = queue.then(run);
  queue = next.catch(() => undefined);
  return next;
}

function init(request: InitRequest): Promise<Runtime> {
  const onProgress = (loaded: number, total: number): void =>
    send({ type: "progress", loaded, total } satisfies ProgressMessage);
  runtime ??= Runtime.load(request, onProgress);
  return runtime;
}

function loaded(): Promise<Runtime> {
  if (!runtime) throw new Error("the model is not loaded");
  return runtime;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case "init":
      return (await init(request)).result;
    case "tokenize":
      return (await loaded()).tokenize(request.texts);
    case "predict": {
      const rt = await loaded();
      return enqueue(async () => {
        const start = performance.now();
        const predictions = await rt.predict(request.texts);
        return { predictions, ms: performance.now() - start };
      });
    }
    case "open-file":
      return files.open(request.name, request.file);
    case "score-file":
      await loaded();
      return files.score(request.column);
    case "cancel":
      files.cancel();
      return null;
  }
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
