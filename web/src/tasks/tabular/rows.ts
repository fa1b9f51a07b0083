// Rows of form data ({column: value}) for a tabular model: the checks (each error names the row
// and the field) and the graph's inputs, one [n, 1] column per feature: float32 for numbers and
// yes/no (yes = 1, no = 0, missing = NaN), string for categories (missing = ""), as
// staticml.tabular.feeds builds them in Python. Pure: no DOM, no onnxruntime (runtime.ts, compact_runtime.ts).
import type { Feature, Manifest, Prediction, Row, RowValue } from "../../types";

export type Column = { type: "float32"; data: Float32Array } | { type: "string"; data: string[] };

/** Words a CSV uses for "no value" (as pandas reads them by default, the common ones). */
const MISSING_WORDS = new Set(["", "na", "n/a", "nan", "null", "none", "-"]);
/** A yes/no value as the training data may have it, as staticml.tasks.tabular.features.yes_no reads it
 * (predict(rows) here, Python's predict(rows), the API and `staticml predict` alike). */
const YES_WORDS = new Set(["yes", "y", "true", "t", "1"]);
const NO_WORDS = new Set(["no", "n", "false", "f", "0"]);
const YES_NO_VALUES = 'true, false, 0, 1 or null (or "yes", "no", "y", "n")';

export function featuresOf(manifest: Manifest): Feature[] {
  const features = manifest.features;
  if (!Array.isArray(features) || features.length === 0) {
    throw new Error(`manifest.json of model ${manifest.name} has no "features" list`);
  }
  return features;
}

/** The label whose probability the form's headline shows: the manifest's positive_label (the favourable
 * outcome, `named`), else the last label (build warns that it had to guess). */
export function positiveLabel(manifest: Manifest): { label: string; named: boolean } {
  const named = manifest.positive_label;
  return typeof named === "string" && manifest.labels.includes(named)
    ? { label: named, named: true }
    : { label: manifest.labels[manifest.labels.length - 1], named: false };
}

/** Throws, naming the row and the field (in staticml.tabular.row_problem's words), unless `rows`
 * is a list of rows with exactly the features. */
export function checkRows(features: Feature[], rows: unknown): asserts rows is Row[] {
  if (!Array.isArray(rows)) throw new TypeError(`rows must be a list of {column: value} objects, not ${jsonType(rows)}`);
  const names = features.map((f) => f.name);
  rows.forEach((row: unknown, i) => {
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw new TypeError(`rows[${i}] must be an object {column: value}, not ${jsonType(row)}`);
    }
    const unknown = Object.keys(row).filter((k) => !names.includes(k));
    if (unknown.length > 0) throw new TypeError(`rows[${i}].${unknown[0]} is not a feature of this model (features: ${names.join(", ")})`);
    const missing = names.filter((name) => !Object.hasOwn(row, name)); // not `in`: "constructor" is in every object
    if (missing.length > 0) throw new TypeError(`rows[${i}].${missing[0]} is missing (every feature must be present; null when unknown)`);
    for (const feature of features) {
      const problem = valueProblem(feature, (row as Row)[feature.name]);
      if (problem) throw new TypeError(`rows[${i}].${feature.name} ${problem}`);
    }
  });
}

function valueProblem(feature: Feature, value: unknown): string | null {
  if (value === null) return null;
  switch (feature.type) {
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? null : `must be a number or null, not ${jsonType(value)}`;
    case "category":
      return typeof value === "string" ? null : `must be a string or null, not ${jsonType(value)}`;
    case "yes-no":
      return yesNo(value) !== null ? null : `must be ${YES_NO_VALUES}, not ${shown(value)}`;
  }
}

/** true or false for a yes/no value (a boolean, 0 or 1, or one of the words in any case); null when it is none. */
export function yesNo(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== "string") return null;
  const word = value.trim().toLowerCase();
  return YES_WORDS.has(word) ? true : NO_WORDS.has(word) ? false : null;
}

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  return typeof value === "number" && Number.isFinite(value) ? String(value) : jsonType(value);
}

function jsonType(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number" && !Number.isFinite(value)) return "infinity";
  return { boolean: "a boolean", number: "a number", string: "a string", object: "an object" }[typeof value as string] ?? typeof value;
}

/** The graph's inputs for checked rows: feature name → its [n, 1] column. A Map, since a feature
 * may be named `__proto__` (assigning that key on a plain object sets its prototype instead). */
export function columns(features: Feature[], rows: Row[]): Map<string, Column> {
  const out = new Map<string, Column>();
  for (const f of features) {
    const values = rows.map((row) => row[f.name]);
    out.set(f.name,
      f.type === "category"
        ? { type: "string", data: values.map((v) => (v === null ? "" : String(v))) }
        : { type: "float32", data: Float32Array.from(values, (v) => (v === null ? NaN : f.type === "yes-no" ? Number(yesNo(v)) : Number(v))) });
  }
  return out;
}

/** A plain object whose own properties are `entries`, whatever their names (`__proto__` included:
 * Object.fromEntries defines properties, it does not assign them). */
export function recordOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries(entries) as Record<string, T>;
}

/** Every feature at its typical value (median, most frequent category, most frequent yes/no). */
export function typicalRow(features: Feature[]): Row {
  return Object.fromEntries(features.map((f) => [f.name, f.typical ?? null]));
}

/** One cell of a CSV/TSV/JSONL file as a feature's value; throws a message naming the row and column. */
export function cellValue(feature: Feature, cell: string | undefined, row: number): RowValue {
  const text = (cell ?? "").trim();
  if (MISSING_WORDS.has(text.toLowerCase())) return null;
  if (feature.type === "category") return text;
  if (feature.type === "yes-no") {
    const value = yesNo(text);
    if (value !== null) return value;
    throw new Error(`Row ${row}, column "${feature.name}": "${text}" is not yes or no.`);
  }
  const number = Number(text);
  if (!Number.isFinite(number)) throw new Error(`Row ${row}, column "${feature.name}": "${text}" is not a number.`);
  return number;
}

/** The file's columns for the features, matched by name; throws naming the first missing one. */
export function matchColumns(features: Feature[], header: string[]): number[] {
  return features.map((f) => {
    const at = header.indexOf(f.name);
    if (at < 0) throw new Error(`The file has no column "${f.name}" (the model needs: ${features.map((x) => x.name).join(", ")}).`);
    return at;
  });
}

/** A short description of a row for the results table ("Seniority 5 · Home owner · Records no"). */
export function describeRow(features: Feature[], row: Row): string {
  return features.map((f) => `${f.name} ${formatValue(f, row[f.name])}`).join(" · ");
}

export function formatValue(feature: Feature, value: RowValue): string {
  if (value === null) return "not given";
  if (feature.type === "yes-no") return yesNo(value) ? "yes" : "no";
  return String(value);
}

/** The output a tabular graph answers with: one probability per label per row. */
export const OUTPUT = "probabilities";

/** The graph's inputs are exactly the features, and it answers "probabilities" (either engine). */
export function checkTabularGraph(inputs: readonly string[], outputs: readonly string[], features: Feature[], modelFile: string): void {
  const names = new Set(features.map((f) => f.name));
  const extra = inputs.filter((n) => !names.has(n));
  const missing = features.filter((f) => !inputs.includes(f.name)).map((f) => f.name);
  if (extra.length || missing.length) {
    throw new Error(`${modelFile}: its inputs do not match manifest.json "features"` +
      (extra.length ? ` (not in features: ${extra.join(", ")})` : "") + (missing.length ? ` (no input for: ${missing.join(", ")})` : ""));
  }
  if (!outputs.includes(OUTPUT)) {
    throw new Error(`${modelFile}: the graph has no output named '${OUTPUT}' (its outputs: ${outputs.join(", ")})`);
  }
}

/** Rows of probabilities (rows × labels) as predictions: the most probable label and every score. */
export function toPredictions(probs: Float32Array, labels: string[], rows: number): Prediction[] {
  if (probs.length !== rows * labels.length) {
    throw new Error(`model returned ${probs.length} probabilities for ${rows} rows and ${labels.length} labels`);
  }
  return Array.from({ length: rows }, (_, r) => {
    const scores = recordOf(labels.map((label, i) => [label, probs[r * labels.length + i]] as const));
    const best = labels.reduce((a, b) => (scores[b] > scores[a] ? b : a));
    return { label: best, scores };
  });
}
