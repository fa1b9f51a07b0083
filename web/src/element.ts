// <staticml-classifier model="models/sentiment/">: the classifier as a custom element for any
// page (and React). Its own bundle (assets/staticml-element.js) holds the compact engine; a model
// that needs onnxruntime-web starts the same worker as the page, next to this script. Elements
// naming the same model and variant share one loaded model.
import type { BackendName, Manifest, Prediction, PredictResult } from "./types";
import { connectModel } from "./backend";
import { chooseThreads, ELEMENT_MODEL, fromAttributes } from "./settings";
import { fetchJson, type ModelClient } from "./worker_client";

const STYLE = `
:host { display: block; font: inherit; color: inherit; }
.box { display: grid; gap: 8px; border: 1px solid #c5cad3; border-radius: 10px; padding: 12px; }
label { font-weight: 600; }
textarea { font: inherit; width: 100%; box-sizing: border-box; min-height: 4.5em; padding: 8px; border-radius: 6px; border: 1px solid #c5cad3; resize: vertical; }
textarea:focus-visible { outline: 3px solid #3558d6; outline-offset: 2px; }
.result { margin: 0; min-height: 1.5em; overflow-wrap: anywhere; }
.label { font-weight: 700; }
.error { color: #a3191c; }
progress { width: 100%; }
`;

interface Loaded {
  client: ModelClient;
  manifest: Manifest;
}

const loads = new Map<string, Promise<Loaded>>();

function load(modelUrl: string, variant: string | null, threads: number | null, backend: BackendName | null,
              progress: HTMLProgressElement): Promise<Loaded> {
  const key = `${modelUrl}#${variant ?? ""}#${backend ?? ""}`;
  let loaded = loads.get(key);
  if (!loaded) {
    loaded = (async () => {
      const manifest = await fetchJson<Manifest>(`${modelUrl}manifest.json`);
      const chosen = variant ?? manifest.default_variant;
      const handlers = {
        onDownload(done: number, total: number) {
          progress.max = Math.max(total, 1);
          progress.value = done;
        },
      };
      const init = { type: "init" as const, manifest, modelUrl, variant: chosen, ortUrl: new URL("./ort/", import.meta.url).href,
                     threads: chooseThreads(threads) };
      const { client } = await connectModel(manifest, chosen, init, new URL("./", import.meta.url), handlers, backend);
      return { client, manifest };
    })();
    loads.set(key, loaded);
  }
  return loaded;
}

export class StaticmlClassifier extends HTMLElement {
  static readonly tag = "staticml-classifier";
  /** Resolves when the model can predict; rejects with the reason shown in the element. */
  ready: Promise<void> = new Promise(() => undefined);
  private loaded: Promise<Loaded> | null = null;
  private readonly root = this.attachShadow({ mode: "open" });
  private ticket = 0;

  connectedCallback(): void {
    if (this.loaded) return;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE); // CSSOM, not an inline <style>: allowed by style-src 'self'
    this.root.adoptedStyleSheets = [sheet];
    const box = document.createElement("div");
    box.className = "box";
    const label = document.createElement("label");
    label.htmlFor = "text";
    const settings = fromAttributes(this);
    label.textContent = settings.label;
    const text = document.createElement("textarea");
    text.id = "text";
    text.disabled = true;
    text.placeholder = settings.placeholder;
    const progress = document.createElement("progress");
    progress.setAttribute("aria-label", "Loading the model");
    const result = document.createElement("p");
    result.className = "result";
    result.setAttribute("role", "status");
    result.setAttribute("aria-live", "polite");
    result.textContent = "Loading the model…";
    box.append(label, text, progress, result);
    this.root.replaceChildren(box);

    const model = settings.model ?? ELEMENT_MODEL;
    const modelUrl = new URL(model.endsWith("/") ? model : `${model}/`, document.baseURI).href;
    this.loaded = load(modelUrl, settings.variant, settings.threads, settings.backend, progress);
    this.ready = this.loaded.then(
      () => {
        progress.remove();
        text.disabled = false;
        result.textContent = "Runs on your device: the text never leaves this page.";
      },
      (error: unknown) => {
        progress.remove();
        result.className = "result error";
        result.textContent = `The model could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
        throw error;
      },
    );
    this.ready.catch(() => undefined); // shown in the element; callers may still await it
    let timer: ReturnType<typeof setTimeout> | undefined;
    text.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.show(text.value, result), 150);
    });
  }

  /** Same contract as window.staticml.predict. */
  async predict(texts: string[]): Promise<Prediction[]> {
    await this.ready;
    const { client } = await this.loaded!;
    return (await client.call<PredictResult>({ type: "predict", texts })).predictions;
  }

  private async show(text: string, result: HTMLElement): Promise<void> {
    const ticket = ++this.ticket;
    if (text.trim() === "") {
      result.textContent = "";
      return;
    }
    const [prediction] = await this.predict([text]);
    if (ticket !== this.ticket) return;
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = prediction.label;
    const percent = (prediction.scores[prediction.label] * 100).toFixed(1);
    result.replaceChildren(label, ` (${percent}%)`);
    this.dispatchEvent(new CustomEvent("prediction", { detail: { text, prediction }, bubbles: true, composed: true }));
  }
}

if (!customElements.get(StaticmlClassifier.tag)) customElements.define(StaticmlClassifier.tag, StaticmlClassifier);

declare global {
  interface HTMLElementTagNameMap {
    "staticml-classifier": StaticmlClassifier;
  }
}
