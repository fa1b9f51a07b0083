// Private file scoring on the page ("Score a file"): the file goes to the worker (never to the network), is
// scored there in chunks, and comes back as a table and a CSV download.
import { FileScoringView, type Row } from "./file_scoring_view";
import { MAX_FILE_BYTES, tooLarge } from "./table";
import type { FileScores, FileSummary } from "./types";
import type { ModelClient } from "./worker_client";

export class FileScoring {
  readonly view: FileScoringView;
  private last: FileScores | null = null;
  private labels: string[] = [];

  constructor(private readonly client: ModelClient) {
    this.view = new FileScoringView({
      open: (file) => void this.open(file).catch(() => undefined), // shown in the card
      score: (column) => void this.score(column).catch(() => undefined),
      cancel: () => void this.client.call({ type: "cancel" }),
      download: () => this.download(),
    });
  }

  /** Called once the model is ready. */
  enable(labels: string[]): void {
    this.labels = labels;
    this.view.enable();
  }

  onProgress(done: number, total: number): void {
    this.view.showScoringProgress(done, total);
  }

  /** Reads a file in the worker; refuses too large files at once, without reading them. */
  open(file: File): Promise<FileSummary> {
    return this.shown(async () => {
      this.view.showReading(file.name);
      if (file.size > MAX_FILE_BYTES) throw new Error(tooLarge(file.size));
      const summary = await this.client.call<FileSummary>({ type: "open-file", file, name: file.name });
      this.view.showFile(summary);
      return summary;
    });
  }

  score(column: string): Promise<FileScores> {
    return this.shown(async () => {
      this.view.showScoring(0);
      const scores = await this.client.call<FileScores>({ type: "score-file", column });
      this.last = scores;
      this.view.showScores(scores, this.rows(scores));
      return scores;
    });
  }

  private rows(scores: FileScores): Row[] {
    const two = this.labels.length === 2;
    return scores.predictions.map((p, i) => ({
      row: scores.rows[i],
      text: scores.texts[i],
      label: p.label,
      score: two ? p.scores[this.labels[1]] : p.scores[p.label],
    }));
  }

  private download(): void {
    if (!this.last) return;
    const { columns, cells, predictions } = this.last;
    // A model with prediction sets adds `set` after the label, a JSON list as `staticml predict` writes it.
    const withSet = predictions.some((p) => p.set !== undefined);
    const header = [...columns, ...modelColumns(columns, ["label", ...(withSet ? ["set"] : []), ...this.labels.map((l) => `p_${l}`)])];
    const lines = [header.map(csvField).join(",")];
    predictions.forEach((p, i) => {
      const probs = this.labels.map((l) => p.scores[l].toFixed(6));
      const set = withSet ? [csvField(JSON.stringify(p.set ?? []))] : [];
      const kept = columns.map((_, c) => csvField(cells[i][c] ?? ""));
      lines.push([...kept, csvField(p.label), ...set, ...probs].join(","));
    });
    const url = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "scores.csv";
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Runs a step; a failure is shown in the card in plain words (the card stays usable) and rethrown. */
  private async shown<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.view.showError(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }
}

/** The model's columns after the file's own, each renamed predicted_<name> when the file already has
 * a column of that name (as `staticml predict` names them). */
function modelColumns(columns: string[], names: string[]): string[] {
  const taken = new Set(columns);
  return names.map((name) => {
    while (taken.has(name)) name = `predicted_${name}`;
    taken.add(name);
    return name;
  });
}

/** One CSV field: quoted when it holds a quote, comma or line break (RFC 4180), and, as OWASP
 * recommends against CSV injection, prefixed with ' when it starts with = + - @ tab or carriage
 * return, which a spreadsheet would run as a formula (with the ' it reads the cell as text). */
function csvField(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
