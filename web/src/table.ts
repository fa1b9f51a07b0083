// Reads a visitor's file of texts (CSV, TSV, TXT, JSONL) into columns of strings. Pure: no DOM,
// no model; runs in the worker so a large file never blocks the page.
import type { FileFormat } from "./types";

/** Larger files are refused before they are read (the page checks too, to say so at once). */
export const MAX_FILE_BYTES = 20_000_000;
const LIKELY_TEXT_COLUMNS = ["text", "sentence", "review", "content", "comment", "message", "tweet", "body"];

export interface Table {
  format: FileFormat;
  columns: string[];
  /** rows[r][c]: undefined when row r has no cell for column c. */
  rows: (string | undefined)[][];
}

export function formatOf(name: string): FileFormat {
  const ext = name.toLowerCase().split(".").pop() ?? "";
  if (ext === "csv" || ext === "tsv" || ext === "txt") return ext;
  if (ext === "jsonl" || ext === "ndjson") return "jsonl";
  throw new Error(`"${name}" is not a file type the page reads: use a .csv, .tsv, .txt or .jsonl file.`);
}

export function parseTable(name: string, bytes: Uint8Array): Table {
  const format = formatOf(name);
  if (bytes.byteLength > MAX_FILE_BYTES) throw new Error(tooLarge(bytes.byteLength));
  const text = decodeText(bytes);
  const table =
    format === "txt" ? lines(text) : format === "jsonl" ? jsonLines(text) : delimited(text, format === "tsv" ? "\t" : ",");
  if (table.rows.length === 0) throw new Error(`"${name}" has no rows to score: the file is empty.`);
  return { format, ...table };
}

export function tooLarge(bytes: number): string {
  return `This file is ${(bytes / 1e6).toFixed(1)} MB; the page scores files up to ${MAX_FILE_BYTES / 1e6} MB. Split it into smaller files.`;
}

/** UTF-8 text (a BOM is dropped); a file of NUL bytes or mostly undecodable bytes is binary. */
function decodeText(bytes: Uint8Array): string {
  const text = new TextDecoder("utf-8").decode(bytes);
  const sample = text.slice(0, 65_536);
  const broken = (sample.match(/\uFFFD/g) ?? []).length;
  if (sample.includes("\u0000") || broken > sample.length * 0.05) {
    throw new Error("This file is not text (it looks like binary data): use a CSV, TSV, TXT or JSONL file.");
  }
  return text;
}

function lines(text: string): Omit<Table, "format"> {
  const rows = text.split(/\r?\n/).filter((line) => line.trim() !== "").map((line) => [line]);
  return { columns: ["text"], rows };
}

function jsonLines(text: string): Omit<Table, "format"> {
  const records: Record<string, unknown>[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`Line ${i + 1} of the JSONL file is not valid JSON.`);
    }
    if (typeof value === "string") records.push({ text: value });
    else if (value && typeof value === "object" && !Array.isArray(value)) records.push(value as Record<string, unknown>);
    else throw new Error(`Line ${i + 1} of the JSONL file is not an object or a string.`);
  });
  const columns = [...new Set(records.flatMap((record) => Object.keys(record)))];
  const rows = records.map((record) => columns.map((c) => cell(record[c])));
  return { columns, rows };
}

function cell(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** RFC 4180: quoted fields may hold the delimiter, newlines and doubled quotes. First row = header. */
function delimited(text: string, delimiter: string): Omit<Table, "format"> {
  const plain = new RegExp(`[^${delimiter === "\t" ? "\\t" : delimiter}\\r\\n]*`, "y");
  const rest = (at: number): string => {
    plain.lastIndex = at;
    return plain.exec(text)?.[0] ?? "";
  };
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let value = "";
    if (text[i] === '"') {
      let j = i + 1;
      for (;;) {
        const quote = text.indexOf('"', j);
        if (quote < 0) {
          value += text.slice(j);
          j = text.length;
          break;
        }
        value += text.slice(j, quote);
        if (text[quote + 1] !== '"') {
          j = quote + 1;
          break;
        }
        value += '"';
        j = quote + 2;
      }
      const tail = rest(j); // stray characters after a closing quote belong to the field
      value += tail;
      i = j + tail.length;
    } else {
      value = rest(i);
      i += value.length;
    }
    record.push(value);
    if (i < text.length && text[i] === delimiter) {
      i++;
      continue;
    }
    if (record.length > 1 || record[0] !== "") records.push(record);
    record = [];
    i += text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
  }
  const [header = [], ...rows] = records;
  const columns = header.map((name, c) => name.trim() || `column ${c + 1}`);
  return { columns, rows: rows.map((row) => columns.map((_, c) => row[c])) };
}

/** The column most likely to hold the texts: a well-known name, else the longest cells. */
export function suggestColumn(table: Table): string {
  const known = table.columns.find((c) => LIKELY_TEXT_COLUMNS.includes(c.toLowerCase()));
  if (known) return known;
  const sample = table.rows.slice(0, 50);
  const length = (c: number): number => sample.reduce((sum, row) => sum + (row[c]?.length ?? 0), 0);
  let best = 0;
  table.columns.forEach((_, c) => {
    if (length(c) > length(best)) best = c;
  });
  return table.columns[best];
}

/** The texts of one column, with their 1-based row numbers; rows without a value are skipped. */
export function columnTexts(table: Table, column: string): { rows: number[]; texts: string[]; skipped: number } {
  const c = table.columns.indexOf(column);
  if (c < 0) {
    throw new Error(`The file has no column "${column}" (its columns: ${table.columns.join(", ")}).`);
  }
  const rows: number[] = [];
  const texts: string[] = [];
  table.rows.forEach((row, r) => {
    const value = row[c];
    if (value === undefined || value.trim() === "") return;
    rows.push(r + 1);
    texts.push(value);
  });
  if (texts.length === 0) throw new Error(`Column "${column}" has no text in any row: nothing to score.`);
  return { rows, texts, skipped: table.rows.length - texts.length };
}
