// The model behind the page's requests (init, predict, tokenize, open-file, score-file, cancel),
// whichever engine runs it: in the worker for onnxruntime-web (worker.ts), on the page's own thread
// for the compact engine (local_client.ts). Both answer the same messages with the same results.
import { downloadTally, type OnProgress } from "./download";
import { FileScorer } from "./file_scorer";
import type { Feature, FileProgressMessage, InitRequest, InitResult, Prediction, ProgressMessage, WorkerRequest } from "./types";

export interface Model {
  readonly result: InitResult;
  tokenize(texts: string[]): number[][];
  predict(texts: string[]): Promise<Prediction[]>;
  /** Tabular models: their features, and rows of form data in (checked, naming the field). */
  readonly features?: Feature[];
  predictRows?(rows: unknown): Promise<Prediction[]>;
}

export type Loader = (request: InitRequest, onProgress: OnProgress) => Promise<Model>;

export class ModelHost {
  private model: Promise<Model> | null = null;
  // One run at a time (an ORT session cannot run twice at once): runs are chained.
  private queue: Promise<unknown> = Promise.resolve();
  private readonly files: FileScorer;

  constructor(
    private readonly loader: Loader,
    private readonly send: (message: ProgressMessage | FileProgressMessage) => void,
  ) {
    this.files = new FileScorer(
      (texts) => this.enqueue(async () => (await this.loaded()).predict(texts)),
      (done, total) => send({ type: "file-progress", done, total }),
    );
  }

  /** Answers one request (its id is the caller's business). */
  async handle(request: WorkerRequest): Promise<unknown> {
    switch (request.type) {
      case "init":
        this.model ??= this.loader(request, (loaded, total) => this.send({ type: "progress", loaded, total }));
        return withDownloads((await this.model).result);
      case "tokenize":
        return (await this.loaded()).tokenize(request.texts);
      case "predict": {
        const model = await this.loaded();
        return this.enqueue(async () => {
          const start = performance.now();
          const predictions = await model.predict(request.texts);
          return { predictions, ms: performance.now() - start };
        });
      }
      case "predict-rows": {
        const model = await this.loaded();
        const { predictRows } = model;
        if (!predictRows) throw new Error("this model takes texts, not rows of form data");
        return this.enqueue(async () => {
          const start = performance.now();
          const predictions = await predictRows.call(model, request.rows);
          return { predictions, ms: performance.now() - start };
        });
      }
      case "open-file":
        return this.files.open(request.name, request.file);
      case "score-file": {
        const model = await this.loaded();
        const { features, predictRows } = model;
        if (features && predictRows) {
          return this.files.scoreRows(features, (rows) => this.enqueue(() => predictRows.call(model, rows)));
        }
        return this.files.score(request.column);
      }
      case "cancel":
        this.files.cancel();
        return null;
    }
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private loaded(): Promise<Model> {
    if (!this.model) throw new Error("the model is not loaded");
    return this.model;
  }
}

/** The result with what its downloads cost, whichever task loaded: bytes on the wire (compressed, as
 * counted by download.ts in this realm) and the same files uncompressed. */
function withDownloads(result: InitResult): InitResult {
  const { wire, uncompressed } = downloadTally();
  return { ...result, bytes_downloaded: wire, bytes_uncompressed: uncompressed };
}
