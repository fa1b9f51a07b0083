// The page's side of the camera worker: numbered requests, replies matched by id, every pending
// call failed when the worker dies; frames are transferred, never copied into the page's memory twice.
import type { CameraReply, CameraRequest, DetectResult, InitCameraResult, ProgressMessage } from "./protocol";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export class DetectorClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(url: URL, onProgress: (loaded: number, total: number) => void) {
    this.worker = new Worker(url, { type: "module" });
    this.worker.onmessage = (event: MessageEvent<CameraReply | ProgressMessage>) => {
      const message = event.data;
      if (message.type === "progress") return onProgress(message.loaded, message.total);
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error));
    };
    this.worker.onerror = (event: ErrorEvent) => {
      this.failure = new Error(`the detector's worker failed: ${event.message || "it could not start"}`);
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
  }

  init(request: WithoutId<Extract<CameraRequest, { type: "init" }>>): Promise<InitCameraResult> {
    return this.call(request, []) as Promise<InitCameraResult>;
  }

  /** One frame; its bitmap or pixel buffer is transferred to the worker (and unusable here after). */
  detect(request: WithoutId<Extract<CameraRequest, { type: "detect" }>>): Promise<DetectResult> {
    const transfer: Transferable[] = request.bitmap ? [request.bitmap] : request.pixels ? [request.pixels] : [];
    return this.call(request, transfer) as Promise<DetectResult>;
  }

  private call(request: WithoutId<CameraRequest>, transfer: Transferable[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }
}
