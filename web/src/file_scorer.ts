// Private file scoring (in the worker, or in the page for the compact engine): holds the opened
// file and scores one column in chunks, reporting progress and stopping between chunks when cancelled.
import { columnTexts, MAX_FILE_BYTES, parseTable, suggestColumn, tooLarge, type Table } from "./table";
import { cellValue, describeRow, matchColumns } from "./tasks/tabular/rows";
import type { Feature, FileScores, FileSummary, Prediction, Row } from "./types";
import { nextTask } from "./yield";

/** Rows per chunk: progress and cancel granularity; each chunk is queued on its own so a
 * prediction typed meanwhile runs between two chunks. */
const CHUNK = 256;

export class FileScorer {
  private table: Table | null = null;
  private cancelled = false;

  constructor(
    private readonly predict: (texts: string[]) => Promise<Prediction[]>,
    private readonly onProgress: (done: number, total: number) => void,
  ) {}

  async open(name: string, file: Blob): Promise<FileSummary> {
    this.table = null;
    if (file.size > MAX_FILE_BYTES) throw new Error(tooLarge(file.size));
    const table = parseTable(name, new Uint8Array(await file.arrayBuffer()));
    this.table = table;
    return { name, format: table.format, columns: table.columns, rows: table.rows.length, suggested: suggestColumn(table) };
  }

  async score(column: string): Promise<FileScores> {
    if (!this.table) throw new Error("Choose a file first.");
    const { rows, texts, skipped } = columnTexts(this.table, column);
    return this.inChunks(column, rows, texts, texts, this.predict, skipped);
  }

  /** A tabular model's file: one row per applicant, the features' columns matched by name. */
  async scoreRows(features: Feature[], predictRows: (rows: Row[]) => Promise<Prediction[]>): Promise<FileScores> {
    if (!this.table) throw new Error("Choose a file first.");
    const at = matchColumns(features, this.table.columns);
    const rows = this.table.rows.map((cells, r) =>
      Object.fromEntries(features.map((f, i) => [f.name, cellValue(f, cells[at[i]], r + 1)])) as Row,
    );
    const numbers = rows.map((_, r) => r + 1);
    return this.inChunks("", numbers, rows.map((row) => describeRow(features, row)), rows, predictRows, 0);
  }

  private async inChunks<T>(column: string, rows: number[], texts: string[], items: T[],
    predict: (items: T[]) => Promise<Prediction[]>, skipped: number): Promise<FileScores> {
    const started = performance.now();
    const predictions: Prediction[] = [];
    this.cancelled = false;
    this.onProgress(0, items.length);
    for (let start = 0; start < items.length && !this.cancelled; start += CHUNK) {
      predictions.push(...(await predict(items.slice(start, start + CHUNK))));
      this.onProgress(predictions.length, items.length);
      // Runs may settle as microtasks only: yield a task so "cancel" (and texts typed meanwhile)
      // are received between chunks (in the page too, for models on the compact engine).
      await nextTask();
    }
    const done = predictions.length;
    const table = this.table as Table;
    return {
      column,
      columns: table.columns,
      cells: rows.slice(0, done).map((r) => table.rows[r - 1]),
      rows: rows.slice(0, done),
      texts: texts.slice(0, done),
      predictions,
      skipped,
      cancelled: done < items.length,
      ms: performance.now() - started,
    };
  }

  cancel(): void {
    this.cancelled = true;
  }
}
