// Every setting of the page and of <staticml-classifier> in one place (as transformers.js keeps
// its `env`): where each comes from (a URL parameter of the page, an attribute of the element)
// and its default. The rest of the page reads a Settings object, never location or attributes.
import type { BackendName } from "./types";

export interface Settings {
  /** ?model= / model="…": a model of the site (the page: its name; the element: its folder). */
  model: string | null;
  /** ?variant= / variant="…": null means the manifest's default_variant. */
  variant: string | null;
  /** ?threads= / threads="…": WASM threads for onnxruntime-web; null means chooseThreads' pick. */
  threads: number | null;
  /** ?backend= / backend="wasm|webgpu": onnxruntime-web's backend; null means backend.ts's choice. */
  backend: BackendName | null;
  /** label="…": the element's label above its text box. */
  label: string;
  /** placeholder="…": the element's placeholder text. */
  placeholder: string;
}

export const DEFAULTS: Settings = {
  model: null,
  variant: null,
  threads: null,
  backend: null,
  label: "Text to classify",
  placeholder: "Type a sentence…",
};

/** Wait after the last keystroke before predicting what was typed. */
export const DEBOUNCE_MS = 150;
/** The element's model folder when it names none. */
export const ELEMENT_MODEL = "models/";
/** onnxruntime-web gains little past 4 threads on small graphs. */
export const MAX_THREADS = 4;

type Source = (name: keyof Settings) => string | null;

function read(source: Source): Settings {
  const text = (name: "label" | "placeholder"): string => source(name) ?? DEFAULTS[name];
  return {
    model: source("model") ?? DEFAULTS.model,
    variant: source("variant") ?? DEFAULTS.variant,
    threads: positiveInteger(source("threads")),
    backend: backendName(source("backend")),
    label: text("label"),
    placeholder: text("placeholder"),
  };
}

/** The page's settings, from its URL's query string (e.g. "?model=sentiment&variant=fp32"). */
export function fromQuery(search: string): Settings {
  const params = new URLSearchParams(search);
  return read((name) => params.get(name));
}

/** The element's settings, from its attributes. */
export function fromAttributes(element: { getAttribute(name: string): string | null }): Settings {
  return read((name) => element.getAttribute(name));
}

function backendName(value: string | null): BackendName | null {
  const name = value?.trim().toLowerCase();
  return name === "wasm" || name === "webgpu" ? name : null;
}

function positiveInteger(value: string | null): number | null {
  const n = value === null || value.trim() === "" ? NaN : Number(value);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** The asked number of threads; otherwise up to MAX_THREADS when cross-origin isolated, else 1. */
export function chooseThreads(asked: number | null, isolated = self.crossOriginIsolated,
                              cores = navigator.hardwareConcurrency): number {
  if (asked !== null) return asked;
  return isolated ? Math.max(1, Math.min(cores || 1, MAX_THREADS)) : 1;
}
