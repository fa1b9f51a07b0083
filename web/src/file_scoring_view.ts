// DOM only, for the "Score a file" card of index.html: file choice and drop, column picker,
// progress with cancel, the sortable results table. Knows nothing about the worker.
import type { FileScores, FileSummary } from "./types";
import { $ } from "./ui";

/** Rows drawn in the table, and characters of a text shown; the CSV download has everything. */
const TABLE_ROWS = 500;
const TEXT_CHARS = 280;

export interface FileScoringActions {
  open(file: File): void;
  score(column: string): void;
  cancel(): void;
  download(): void;
}

/** One scored row as the table shows it: score = probability of the last label (two labels)
 * or of the predicted label (more). */
export interface Row {
  row: number;
  text: string;
  label: string;
  score: number;
}

export class FileScoringView {
  private readonly input = $<HTMLInputElement>("file-input");
  private readonly drop = $<HTMLElement>("drop");
  private readonly column = $<HTMLSelectElement>("file-column");
  private readonly scoreButton = $<HTMLButtonElement>("file-score");
  private readonly cancelButton = $<HTMLButtonElement>("file-cancel");
  private readonly progress = $<HTMLProgressElement>("file-progress");
  private readonly status = $("file-status");
  private readonly error = $("file-error");
  private readonly sortButton = $<HTMLButtonElement>("file-sort");
  private rows: Row[] = [];
  private descending = true;
  /** A tabular model: the whole row is the input (no column to pick). */
  private byRow = false;

  constructor(actions: FileScoringActions) {
    this.input.addEventListener("change", () => {
      const file = this.input.files?.[0];
      if (file) actions.open(file);
    });
    this.drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      this.drop.classList.add("over");
    });
    this.drop.addEventListener("dragleave", () => this.drop.classList.remove("over"));
    this.drop.addEventListener("drop", (event) => {
      event.preventDefault();
      this.drop.classList.remove("over");
      const file = event.dataTransfer?.files[0];
      if (file && !this.input.disabled) actions.open(file);
    });
    this.scoreButton.addEventListener("click", () => actions.score(this.column.value));
    this.cancelButton.addEventListener("click", () => actions.cancel());
    $("file-download").addEventListener("click", () => actions.download());
    this.sortButton.addEventListener("click", () => {
      this.descending = !this.descending;
      this.drawTable();
    });
  }

  /** For a tabular model: one row per applicant, the model's fields matched by column name. */
  scoreWholeRows(fields: string[]): void {
    this.byRow = true;
    $("file-hint").textContent =
      `A CSV, TSV or JSONL file with one row per applicant and a column for each of: ${fields.join(", ")} ` +
      "(an empty cell, NA or n/a: not given), up to 20 MB. The file is read and scored on this device: nothing is uploaded.";
    $("file-input-label").textContent = "File of applicants";
    $("file-text-header").textContent = "Inputs";
  }

  enable(): void {
    this.input.disabled = false;
    this.status.textContent = "";
  }

  disable(reason: string): void {
    this.input.disabled = true;
    this.scoreButton.disabled = true;
    this.status.textContent = reason;
  }

  showReading(name: string): void {
    this.clearError();
    $("file-results").hidden = true;
    $("file-column-row").hidden = true;
    this.column.replaceChildren();
    this.scoreButton.disabled = true;
    this.status.textContent = `Reading ${name}…`;
  }

  showFile(summary: FileSummary): void {
    this.column.replaceChildren(
      ...summary.columns.map((c) => new Option(c, c, c === summary.suggested, c === summary.suggested)),
    );
    $("file-column-row").hidden = this.byRow || summary.columns.length < 2;
    this.scoreButton.disabled = false;
    const rows = summary.rows === 1 ? "1 row" : `${summary.rows.toLocaleString("en")} rows`;
    this.status.textContent = `${summary.name}: ${rows} (${summary.format.toUpperCase()}). Ready to score.`;
  }

  showScoring(total: number): void {
    this.clearError();
    $("file-results").hidden = true;
    this.scoreButton.disabled = true;
    this.input.disabled = true;
    this.cancelButton.hidden = false;
    this.progress.hidden = false;
    this.showScoringProgress(0, total);
  }

  showScoringProgress(done: number, total: number): void {
    this.progress.max = Math.max(total, 1);
    this.progress.value = done;
    this.status.textContent = `Scoring on this device: ${done.toLocaleString("en")} / ${total.toLocaleString("en")} rows`;
  }

  showScores(scores: FileScores, rows: Row[]): void {
    this.endScoring();
    const count = rows.length === 1 ? "1 row" : `${rows.length.toLocaleString("en")} rows`;
    const rate = scores.ms > 0 ? Math.round((rows.length / scores.ms) * 1000).toLocaleString("en") : "—";
    const skipped =
      scores.skipped === 0 ? "" : scores.skipped === 1 ? " 1 row without text was skipped." : ` ${scores.skipped} rows without text were skipped.`;
    this.status.textContent = scores.cancelled
      ? `Cancelled: ${count} scored before you stopped.${skipped}`
      : `Scored ${count} in ${(scores.ms / 1000).toFixed(1)} s (${rate} rows/s).${skipped}`;
    this.rows = rows;
    this.descending = true;
    $("file-results").hidden = rows.length === 0;
    this.drawTable();
  }

  showError(message: string): void {
    this.endScoring();
    this.error.textContent = message;
    this.error.hidden = false;
    this.status.textContent = "";
  }

  private clearError(): void {
    this.error.hidden = true;
    this.error.textContent = "";
  }

  private endScoring(): void {
    this.cancelButton.hidden = true;
    this.progress.hidden = true;
    this.input.disabled = false;
    this.scoreButton.disabled = this.column.options.length === 0;
  }

  private drawTable(): void {
    const sign = this.descending ? -1 : 1;
    const sorted = [...this.rows].sort((a, b) => sign * (a.score - b.score) || a.row - b.row);
    this.sortButton.textContent = `Score ${this.descending ? "▼" : "▲"}`;
    this.sortButton.setAttribute("aria-label", `Score, sorted ${this.descending ? "high to low" : "low to high"}; activate to reverse`);
    this.sortButton.parentElement?.setAttribute("aria-sort", this.descending ? "descending" : "ascending");
    $<HTMLTableSectionElement>("file-body").replaceChildren(...sorted.slice(0, TABLE_ROWS).map(tableRow));
    $("file-caption").textContent =
      sorted.length > TABLE_ROWS
        ? `The ${TABLE_ROWS} rows with the ${this.descending ? "highest" : "lowest"} scores of ${sorted.length.toLocaleString("en")} (the CSV has every row)`
        : `${sorted.length} scored rows`;
  }
}

function tableRow(row: Row): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const text = row.text.length > TEXT_CHARS ? `${row.text.slice(0, TEXT_CHARS)}…` : row.text;
  for (const value of [String(row.row), text, row.label, row.score.toFixed(3)]) {
    const td = document.createElement("td");
    td.textContent = value;
    tr.append(td);
  }
  return tr;
}
