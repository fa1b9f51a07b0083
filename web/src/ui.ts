// DOM only: reads and writes the elements of index.html, knows nothing about the model.
import type { Prediction, SiteModel } from "./types";

const MB = 1_000_000; // decimal megabytes, as hosts and browsers report sizes

export function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

export function formatMB(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

export function formatSize(bytes: number): string {
  return bytes < 100_000 ? `${(bytes / 1000).toFixed(1)} kB` : formatMB(bytes);
}

export interface Details {
  model: string;
  variant: string;
  modelBytes: number;
  loadMs: number;
  backend: string;
  threads: number;
}

export class Ui {
  private readonly text = $<HTMLTextAreaElement>("text");
  private readonly bars = $<HTMLUListElement>("bars");
  /** Below this top probability the result sentence says "not sure" (manifest.uncertain_below). */
  uncertainBelow = 0;
  /** A prediction's own words (a prediction set: "positive or neutral", "not sure"); null: the label. */
  describe: (prediction: Prediction) => { label: string; note: string } | null = () => null;

  setTitle(title: string): void {
    $("title").textContent = title;
    document.title = `${title} · runs in your browser`;
  }

  showModelPicker(models: SiteModel[], current: string, onChange: (name: string) => void): void {
    if (models.length < 2) return;
    const select = $<HTMLSelectElement>("model-select");
    select.replaceChildren(
      ...models.map((m) => new Option(m.name, m.name, m.name === current, m.name === current)),
    );
    select.addEventListener("change", () => onChange(select.value));
    $("picker").hidden = false;
  }

  showProgress(loaded: number, total: number): void {
    const progress = $<HTMLProgressElement>("progress");
    progress.max = Math.max(total, 1);
    progress.value = loaded;
    $("loading-text").textContent = "Downloading the model and the WebAssembly runtime…";
    $("progress-text").textContent = `${formatMB(loaded)} / ${formatMB(total)}`;
  }

  showPreparing(): void {
    $("loading-text").textContent = "Preparing the model…";
  }

  showError(message: string): void {
    $("loading").hidden = true;
    $("error-text").textContent = message;
    $("error").hidden = false;
  }

  showReady(details: Details): void {
    $("loading").hidden = true;
    $("d-model").textContent = details.model;
    $("d-variant").textContent = details.variant;
    $("d-size").textContent = formatSize(details.modelBytes);
    $("d-load").textContent = `${(details.loadMs / 1000).toFixed(2)} s`;
    const threads = details.threads === 1 ? "1 thread" : `${details.threads} threads`;
    $("d-backend").textContent = `${details.backend} · ${threads}`;
    this.text.disabled = false;
  }

  showModelName(name: string, variant: string): void {
    $("d-model").textContent = name;
    $("d-variant").textContent = variant;
  }

  showExamples(examples: string[], onPick: (text: string) => void): void {
    const buttons = examples.map((example) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "example";
      button.textContent = example;
      button.addEventListener("click", () => {
        this.text.value = example;
        onPick(example);
      });
      return button;
    });
    $("examples").replaceChildren(...buttons);
  }

  onInput(callback: (text: string) => void): void {
    this.text.addEventListener("input", () => callback(this.text.value));
  }

  showPrediction(prediction: Prediction | null, ms: number | null): void {
    const label = $("label");
    const score = $("score");
    if (ms !== null) $("d-infer").textContent = `${ms.toFixed(1)} ms`;
    if (!prediction) {
      label.textContent = "—";
      score.textContent = "";
      this.bars.replaceChildren();
      return;
    }
    const labels = Object.keys(prediction.scores);
    const described = this.describe(prediction);
    const unsure = !described && prediction.scores[prediction.label] < this.uncertainBelow;
    label.textContent = described?.label ?? (unsure ? `not sure (leans ${prediction.label})` : prediction.label);
    // Two labels (negative/positive): one 0..1 score, the probability of the last label.
    const sentence =
      labels.length === 2
        ? `score ${prediction.scores[labels[1]].toFixed(2)} (0 = ${labels[0]}, 1 = ${labels[1]})`
        : "";
    const doubt = `the model is not sure: below ${(this.uncertainBelow * 100).toFixed(0)}% it is wrong about as often as right`;
    score.textContent = [sentence, described?.note || (unsure ? doubt : "")].filter(Boolean).join("; ");
    this.bars.replaceChildren(
      ...labels.map((name) => bar(name, prediction.scores[name], name === prediction.label)),
    );
  }
}

function bar(name: string, probability: number, top: boolean): HTMLLIElement {
  const item = document.createElement("li");
  item.className = top ? "bar top" : "bar";
  const nameEl = document.createElement("span");
  nameEl.className = "bar-name";
  nameEl.textContent = name;
  const track = document.createElement("span");
  track.className = "bar-track";
  track.setAttribute("aria-hidden", "true");
  const fill = document.createElement("span");
  fill.className = "bar-fill";
  fill.style.width = `${(probability * 100).toFixed(1)}%`; // CSSOM: allowed by style-src 'self'
  track.append(fill);
  const value = document.createElement("span");
  value.className = "bar-value";
  value.textContent = `${(probability * 100).toFixed(1)}%`;
  item.append(nameEl, track, value);
  return item;
}
