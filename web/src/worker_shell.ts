// The worker's side of worker_client.ts: every request carries an id, its reply carries it back,
// ok with the result or not with the error's message. Each worker (worker.ts, the camera's) passes
// the function that answers one request.
import type { WorkerReply } from "./worker_client";

export function send(message: WorkerReply): void {
  self.postMessage(message);
}

/** Answers each message with `handle`; `onFailure` releases what a failed request holds (a frame). */
export function serve<R extends { id: number }>(handle: (request: R) => Promise<unknown>, onFailure?: (request: R) => void): void {
  self.onmessage = async (event: MessageEvent<R>): Promise<void> => {
    const request = event.data;
    try {
      send({ type: "reply", id: request.id, ok: true, result: await handle(request) });
    } catch (error) {
      onFailure?.(request);
      send({ type: "reply", id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  };
}
