// Request/reply over postMessage to a model worker (the classifier page's onnxruntime-web worker,
// the camera page's detector worker): each request gets an id, each reply settles that id, progress
// messages go to the handlers, and a worker that dies fails every pending and later call. Shared by
// the pages and the <staticml-classifier> element; models on the compact engine answer the same
// requests in the page (local_client.ts). The worker's side is worker_shell.ts.
import type { FileProgressMessage, ProgressMessage, WorkerRequest } from "./types";

/** A request before the client numbers it (Omit applied to each member of the union). */
export type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
export type Request = WithoutId<WorkerRequest>;

/** What the page and the element talk to, whichever engine runs the model. */
export interface ModelClient {
  call<T>(request: Request): Promise<T>;
}

export interface ProgressHandlers {
  onDownload?(loaded: number, total: number): void;
  onFileProgress?(done: number, total: number): void;
}

/** What a worker sends back: progress, or the reply to one request. */
export type WorkerReply =
  | ProgressMessage
  | FileProgressMessage
  | { type: "reply"; id: number; ok: true; result: unknown }
  | { type: "reply"; id: number; ok: false; error: string };

export class WorkerClient<R extends { type: string } = Request> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private failure: Error | null = null;

  /** `what` names the worker in errors ("the model worker failed: …"). */
  constructor(workerUrl: URL, handlers: ProgressHandlers, private readonly what = "the model worker") {
    this.worker = new Worker(workerUrl, { type: "module" });
    this.worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const message = event.data;
      if (message.type === "progress") return handlers.onDownload?.(message.loaded, message.total);
      if (message.type === "file-progress") return handlers.onFileProgress?.(message.done, message.total);
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error));
    };
    // A worker that fails to start (404, blocked by CSP, script error) fails every call,
    // also the ones made later.
    this.worker.onerror = (event: ErrorEvent) => this.fail(new Error(`${this.what} failed: ${event.message || "it could not start"}`));
  }

  /** Stops the worker (a WebGPU worker that failed, before the WASM one starts); later calls fail. */
  terminate(): void {
    this.worker.terminate();
    this.fail(new Error(`${this.what} was stopped`));
  }

  /** One request; `transfer` moves buffers or bitmaps to the worker instead of copying them. */
  call<T>(request: R, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  private fail(failure: Error): void {
    this.failure = failure;
    for (const waiter of this.pending.values()) waiter.reject(failure);
    this.pending.clear();
  }
}

export async function fetchJson<T>(url: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new Error(`could not load ${url}: the network is unreachable`);
  }
  if (response.status === 404) throw new Error(`${url} is missing from the site (HTTP 404)`);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  try {
    return (await response.json()) as T;
  } catch {
    throw new Error(`${url} is not valid JSON`);
  }
}
