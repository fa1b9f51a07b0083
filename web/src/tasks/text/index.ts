// Text classification on the classifier page: the text box scored as one types (through the site's
// API server when the visitor turned it on), the examples, the prediction set's words ("positive or
// neutral", "not sure"; older models: "not sure" under the manifest's threshold); window.staticml
// gains predict(texts) and tokenize(texts).
import { debounce } from "../../debounce";
import { DEBOUNCE_MS } from "../../settings";
import type { Prediction } from "../../types";
import type { ClassifierPage, ClassifierTask, ClassifierView } from "../task";
import { setWording } from "./sets";

const DEFAULT_EXAMPLES = [
  "I love this, it made my day!",
  "This is the worst service I have ever had.",
  "The meeting is at 3 pm tomorrow.",
  "Not bad at all, better than I expected.",
];

function assertStrings(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) {
    throw new TypeError("expected an array of strings");
  }
}

function mount(page: ClassifierPage): ClassifierView {
  const { ui, manifest } = page;
  let latest = 0;
  const score = async (text: string): Promise<void> => {
    const ticket = ++latest;
    if (text.trim() === "") return ui.showPrediction(null, null);
    const result = page.serverMode?.enabled ? await page.serverMode.predict([text]) : await page.run({ type: "predict", texts: [text] });
    if (ticket === latest) ui.showPrediction(result.predictions[0], result.ms);
  };
  const report = (error: unknown): void => console.error(error);
  ui.onInput(debounce((text) => score(text).catch(report), DEBOUNCE_MS));
  return {
    ready() {
      ui.uncertainBelow = manifest.uncertain_below ?? 0; // models without prediction sets
      ui.describe = (prediction) => setWording(prediction, manifest.conformal?.coverage);
      ui.showExamples(manifest.examples ?? DEFAULT_EXAMPLES, (text) => score(text).catch(report));
    },
  };
}

export const text: ClassifierTask = {
  title: "Text classifier",
  mount,
  api: {
    async predict(page: ClassifierPage, texts: unknown): Promise<Prediction[]> {
      assertStrings(texts);
      return (await page.run({ type: "predict", texts })).predictions;
    },
    tokenize(page: ClassifierPage, texts: unknown): Promise<number[][]> {
      assertStrings(texts);
      return page.client.call<number[][]>({ type: "tokenize", texts });
    },
  },
};
