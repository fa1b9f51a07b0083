// Models on the compact engine run on the page's own thread, behind the same requests as the
// worker answers: no worker, no WASM, no round trip. `connect` picks the client for a variant
// from manifest.json's "engines" (written by `staticml build`; absent means onnxruntime-web).
import { ModelHost } from "./host";
import { COMPACT } from "./tasks/compact";
import { partFor } from "./tasks/index";
import type { EngineName, Manifest } from "./types";
import { WorkerClient, type ModelClient, type ProgressHandlers, type Request } from "./worker_client";

export class LocalClient implements ModelClient {
  private readonly host: ModelHost;

  constructor(handlers: ProgressHandlers) {
    this.host = new ModelHost((request, onProgress) => partFor(COMPACT, request.manifest, "classifier")(request, onProgress), (message) => {
      if (message.type === "progress") handlers.onDownload?.(message.loaded, message.total);
      else handlers.onFileProgress?.(message.done, message.total);
    });
  }

  call<T>(request: Request): Promise<T> {
    return this.host.handle({ ...request, id: 0 }) as Promise<T>;
  }
}

export function engineOf(manifest: Manifest, variant: string): EngineName {
  return manifest.engines?.[variant] ?? "onnxruntime-web";
}

/** The client for one model variant; the worker (and onnxruntime-web) only when the variant needs it. */
export function connect(manifest: Manifest, variant: string, workerUrl: URL, handlers: ProgressHandlers): ModelClient {
  return engineOf(manifest, variant) === "compact" ? new LocalClient(handlers) : new WorkerClient(workerUrl, handlers);
}
