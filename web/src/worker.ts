// Web Worker for models on onnxruntime-web: a thin message shell around host.ts + runtime.ts.
// Tokenization and inference run here, so the page never freezes. Every request carries an id;
// the reply carries it back. (Models on the compact engine run in the page: local_client.ts.)
import { ModelHost } from "./host";
import { Runtime } from "./runtime";
import { TabularRuntime } from "./tabular_runtime";
import type { WorkerMessage, WorkerRequest } from "./types";

function send(message: WorkerMessage): void {
  self.postMessage(message);
}

const host = new ModelHost(
  (request, onProgress) =>
    request.manifest.task === "tabular-classification" ? TabularRuntime.load(request, onProgress) : Runtime.load(request, onProgress),
  send,
);

self.onmessage = async (event: MessageEvent<WorkerRequest>): Promise<void> => {
  const request = event.data;
  try {
    const result = await host.handle(request);
    send({ type: "reply", id: request.id, ok: true, result } as WorkerMessage);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    send({ type: "reply", id: request.id, ok: false, error: message });
  }
};
